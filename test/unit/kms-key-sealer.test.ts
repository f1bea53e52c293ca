import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { KmsKeySealer } from '../../shared/cloud/aws/kms-key-sealer';

type Send = (command: unknown) => Promise<unknown>;

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CONTEXT = { purpose: 'berth-access-key', accessKeyId: 'BKAAAAAAAAAAAAAAAAAA' };

/** A KMS client whose `send` is the given function: KMS has no local stand-in here. */
function kmsWith(send: jest.Mock<ReturnType<Send>, Parameters<Send>>): KMSClient {
  const kms = new KMSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  kms.send = send as unknown as KMSClient['send'];
  return kms;
}

const kmsError = (name: string) => Object.assign(new Error(name), { name });

describe('KmsKeySealer', () => {
  describe('seal', () => {
    it("encrypts under the stack's key with the sealing context as encryption context", async () => {
      // Prepare
      const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({ CiphertextBlob: Uint8Array.from([1, 2, 3, 250]) });
      const sealer = new KmsKeySealer({ kms: kmsWith(send), keyId: KEY_ARN });

      // Act
      const sealed = await sealer.seal('s3cret/+=', CONTEXT);

      // Assess
      expect(sealed).toBe(`kms:${Buffer.from([1, 2, 3, 250]).toString('base64')}`);
      expect(send).toHaveBeenCalledTimes(1);
      const command = send.mock.calls[0][0];
      expect(command).toBeInstanceOf(EncryptCommand);
      const input = (command as EncryptCommand).input;
      expect(input.KeyId).toBe(KEY_ARN);
      expect(input.EncryptionContext).toEqual(CONTEXT);
      expect(Buffer.from(input.Plaintext!).toString('utf8')).toBe('s3cret/+=');
    });

    it('fails when KMS returns no ciphertext', async () => {
      const sealer = new KmsKeySealer({ kms: kmsWith(jest.fn().mockResolvedValue({})), keyId: KEY_ARN });
      await expect(sealer.seal('s', CONTEXT)).rejects.toMatchObject({ name: 'KeySealError' });
    });
  });

  describe('open', () => {
    it('decrypts with the same context, pinned to the key', async () => {
      // Prepare
      const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({ Plaintext: Buffer.from('s3cret') });
      const sealer = new KmsKeySealer({ kms: kmsWith(send), keyId: KEY_ARN });

      // Act
      const secret = await sealer.open(`kms:${Buffer.from([9, 8, 7]).toString('base64')}`, CONTEXT);

      // Assess
      expect(secret).toBe('s3cret');
      const command = send.mock.calls[0][0] as DecryptCommand;
      expect(command).toBeInstanceOf(DecryptCommand);
      expect(Buffer.from(command.input.CiphertextBlob!)).toEqual(Buffer.from([9, 8, 7]));
      expect(command.input.EncryptionContext).toEqual(CONTEXT);
      expect(command.input.KeyId).toBe(KEY_ARN);
    });

    it.each(['InvalidCiphertextException', 'IncorrectKeyException'])('turns KMS %s (another context or key) into KeySealError', async (name) => {
      const sealer = new KmsKeySealer({ kms: kmsWith(jest.fn().mockRejectedValue(kmsError(name))), keyId: KEY_ARN });
      await expect(sealer.open('kms:AAAA', CONTEXT)).rejects.toMatchObject({ name: 'KeySealError', cause: { name } });
    });

    it('lets KMS being unwell surface as itself, not as a bad secret', async () => {
      const sealer = new KmsKeySealer({ kms: kmsWith(jest.fn().mockRejectedValue(kmsError('ThrottlingException'))), keyId: KEY_ARN });
      await expect(sealer.open('kms:AAAA', CONTEXT)).rejects.toMatchObject({ name: 'ThrottlingException' });
    });

    it('refuses what another sealer sealed without calling KMS', async () => {
      // Prepare
      const send = jest.fn();
      const sealer = new KmsKeySealer({ kms: kmsWith(send), keyId: KEY_ARN });

      // Act + assess
      await expect(sealer.open('aes-256-gcm:AAAA', CONTEXT)).rejects.toMatchObject({ name: 'KeySealError' });
      expect(send).not.toHaveBeenCalled();
    });
  });
});
