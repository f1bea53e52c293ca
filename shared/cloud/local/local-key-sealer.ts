import { KeySealError, type KeySealer, type SealingContext, canonicalContext, sealedPayload } from '../../auth/key-sealer';
import { Sealer, sealerFromKeyFile } from './sealer';

const SCHEME = 'aes-256-gcm';

/**
 * The local mode's access-key sealer: AES-256-GCM (see sealer.ts) with the sealing context as
 * additional authenticated data, so a secret moved to another item or altered does not open.
 * The key lives in a file in the data directory (mode 0600), beside the dynalite data it
 * protects: a copy of the table alone, or the store's logs, reveal no secret.
 */
export class LocalKeySealer implements KeySealer {
  private constructor(private readonly sealer: Sealer) {}

  /** A key for this process only: for tests and an in-memory store that dies with it. */
  static ephemeral(): LocalKeySealer {
    return new LocalKeySealer(Sealer.ephemeral());
  }

  /** The key in `path`, created (0600) on first use; a key file others may read is refused. */
  static fromKeyFile(path: string): LocalKeySealer {
    try {
      return new LocalKeySealer(sealerFromKeyFile(path));
    } catch (e) {
      throw new KeySealError((e as Error).message, { cause: e });
    }
  }

  async seal(secret: string, context: SealingContext): Promise<string> {
    return `${SCHEME}:${this.sealer.seal(Buffer.from(secret, 'utf8'), canonicalContext(context))}`;
  }

  async open(sealed: string, context: SealingContext): Promise<string> {
    const payload = sealedPayload(sealed, SCHEME);
    try {
      return this.sealer.open(payload, canonicalContext(context)).toString('utf8');
    } catch (e) {
      throw new KeySealError('The sealed secret does not open under this key and context', { cause: e });
    }
  }
}
