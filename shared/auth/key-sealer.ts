/**
 * What a sealed secret is bound to: the sealer refuses to open it under any other context, so a
 * sealed secret copied onto another item (another access key id) does not open there.
 */
export type SealingContext = Readonly<Record<string, string>>;

/**
 * The port that keeps issued secrets out of the store in the clear: KMS on AWS, AES-256-GCM under
 * a key file locally. A sealed secret is text, `<scheme>:<payload>`, so a sealer recognises (and
 * refuses) what another one sealed.
 */
export interface KeySealer {
  seal(secret: string, context: SealingContext): Promise<string>;
  open(sealed: string, context: SealingContext): Promise<string>;
}

/** A sealed secret that does not open: another scheme or key, another context, or tampered. */
export class KeySealError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySealError';
  }
}

/** Splits `<scheme>:<payload>`, refusing another scheme. */
export function sealedPayload(sealed: string, scheme: string): string {
  const prefix = `${scheme}:`;
  if (!sealed.startsWith(prefix)) throw new KeySealError(`Not sealed with ${scheme}: ${sealed.split(':')[0]}`);
  return sealed.slice(prefix.length);
}

/** The context as bytes, independent of key order: AES-GCM's additional authenticated data. */
export const canonicalContext = (context: SealingContext): Buffer =>
  Buffer.from(JSON.stringify(Object.keys(context).sort().map((k) => [k, context[k]])));
