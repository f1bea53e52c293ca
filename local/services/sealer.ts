import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEALING_KEY_FILE = 'secrets.key';

/**
 * Seals values at rest with AES-256-GCM, as Secrets Manager and Parameter Store do with KMS:
 * what dynalite writes to disk is ciphertext. `context` is bound in as additional data, so a
 * sealed value moved to another secret or version no longer opens.
 */
export class Sealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new Error(`A sealing key is ${KEY_BYTES} bytes, not ${key.length}`);
  }

  /** base64 of iv ‖ tag ‖ ciphertext. */
  seal(plaintext: Buffer, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Throws if the value was tampered with, sealed under another key, or for another context. */
  open(sealed: string, context: string): Buffer {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }
}

/**
 * The local mode's sealing key, in the data directory with mode 0600: read if it exists, else
 * made at first start. `wx` makes two starts racing on one directory agree on a single key.
 */
export function loadOrCreateSealer(dataDir: string): Sealer {
  const file = join(dataDir, SEALING_KEY_FILE);
  if (!existsSync(file)) {
    try {
      writeFileSync(file, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  // The mode is set again in case a umask or a copy widened it.
  chmodSync(file, 0o600);
  return new Sealer(readFileSync(file));
}
