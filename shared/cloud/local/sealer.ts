import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeySealError } from '../../auth/key-sealer';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The local Secrets Manager and Parameter Store slices' key, in the data directory. */
export const SEALING_KEY_FILE = 'secrets.key';

/**
 * AES-256-GCM, the local stand-in for KMS: what dynalite writes to disk is ciphertext. `context`
 * is bound in as additional data, so a sealed value moved to another item no longer opens.
 */
export class Sealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`A sealing key is ${KEY_BYTES} bytes, not ${key.length}`);
  }

  static ephemeral(): Sealer {
    return new Sealer(randomBytes(KEY_BYTES));
  }

  /** base64 of iv ‖ tag ‖ ciphertext. */
  seal(plaintext: Buffer, context: string | Buffer): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Throws KeySealError if the value is truncated, was tampered with, or was sealed under another key or context. */
  open(sealed: string, context: string | Buffer): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new KeySealError('The sealed value is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (e) {
      throw new KeySealError('The sealed value does not open under this key and context', { cause: e });
    }
  }
}

/**
 * The key in `path`, created (0600) on first use; `wx` makes two starts racing on one directory
 * agree on a single key. A key file others may read is refused, as ssh refuses such a private
 * key: it would make sealing pointless.
 */
export function sealerFromKeyFile(path: string): Sealer {
  try {
    writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (statSync(path).mode & 0o077) throw new Error(`The sealing key ${path} is readable by others (chmod 600 it)`);
  return new Sealer(readFileSync(path));
}

/** The secret slices' sealer, from the data directory's key file. */
export const loadOrCreateSealer = (dataDir: string): Sealer => sealerFromKeyFile(join(dataDir, SEALING_KEY_FILE));
