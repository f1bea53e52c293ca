import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { KeySealError, type KeySealer, type SealingContext, canonicalContext, sealedPayload } from '../../auth/key-sealer';

const SCHEME = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The local mode's sealer: AES-256-GCM under a 256-bit key of its own, with the sealing context
 * as additional authenticated data, so a secret moved to another item or altered does not open.
 * The key lives in a file in the data directory (mode 0600), beside the dynalite data it protects:
 * a copy of the table alone, or the store's logs, reveal no secret.
 */
export class LocalKeySealer implements KeySealer {
  private constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new KeySealError(`A local sealing key is ${KEY_BYTES} bytes, not ${key.length}`);
  }

  /** A key for this process only: for tests and an in-memory store that dies with it. */
  static ephemeral(): LocalKeySealer {
    return new LocalKeySealer(randomBytes(KEY_BYTES));
  }

  /**
   * The key in `path`, created (0600) on first use. A key file others may read is refused, as ssh
   * refuses such a private key: it would make sealing pointless.
   */
  static fromKeyFile(path: string): LocalKeySealer {
    try {
      writeFileSync(path, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (statSync(path).mode & 0o077) {
      throw new KeySealError(`The sealing key ${path} is readable by others (chmod 600 it)`);
    }
    return new LocalKeySealer(readFileSync(path));
  }

  async seal(secret: string, context: SealingContext): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(canonicalContext(context));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${SCHEME}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  async open(sealed: string, context: SealingContext): Promise<string> {
    const raw = Buffer.from(sealedPayload(sealed, SCHEME), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new KeySealError('The sealed secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(canonicalContext(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new KeySealError('The sealed secret does not open under this key and context', { cause: e });
    }
  }
}
