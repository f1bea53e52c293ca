import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { KeySealError, type KeySealer, type SealingContext, sealedPayload } from '../../auth/key-sealer';

const SCHEME = 'kms';

/** KMS's answers that mean "this ciphertext does not open here", as opposed to KMS being unwell. */
const REFUSALS: ReadonlySet<string> = new Set(['InvalidCiphertextException', 'IncorrectKeyException']);

/**
 * Seals with AWS KMS: Encrypt under one symmetric key, with the sealing context as KMS's
 * encryption context. KMS binds the ciphertext to that context (Decrypt with another fails) and
 * records it in CloudTrail beside every Decrypt, so each use of a secret is audited by key id.
 * A secret is at most a few dozen bytes, well under Encrypt's 4 KiB, so no envelope is needed.
 */
export class KmsKeySealer implements KeySealer {
  constructor(private readonly o: { kms: KMSClient; keyId: string }) {}

  async seal(secret: string, context: SealingContext): Promise<string> {
    const out = await this.o.kms.send(new EncryptCommand({
      KeyId: this.o.keyId,
      Plaintext: Buffer.from(secret, 'utf8'),
      EncryptionContext: { ...context },
    }));
    if (!out.CiphertextBlob) throw new KeySealError('KMS returned no ciphertext');
    return `${SCHEME}:${Buffer.from(out.CiphertextBlob).toString('base64')}`;
  }

  async open(sealed: string, context: SealingContext): Promise<string> {
    const blob = Buffer.from(sealedPayload(sealed, SCHEME), 'base64');
    try {
      const out = await this.o.kms.send(new DecryptCommand({
        CiphertextBlob: blob,
        EncryptionContext: { ...context },
        // Pinned, so a ciphertext made under some other key in the account is refused.
        KeyId: this.o.keyId,
      }));
      if (!out.Plaintext) throw new KeySealError('KMS returned no plaintext');
      return Buffer.from(out.Plaintext).toString('utf8');
    } catch (e) {
      if (e instanceof Error && REFUSALS.has(e.name)) {
        throw new KeySealError('The sealed secret does not open under this key and context', { cause: e });
      }
      throw e;
    }
  }
}
