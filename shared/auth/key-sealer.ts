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

/**
 * A key file that opens none of what the data beside it holds sealed: it was replaced, or the data
 * came from another directory. Raised at start, so Berth never runs on secrets it cannot read.
 */
export class SealingKeyMismatchError extends Error {
  constructor(readonly keyFile: string, readonly sealed: string) {
    super(
      `${keyFile} does not open the ${sealed} sealed in this data directory: the key file was replaced, or the data ` +
      'was sealed under another one. Put the original key file back, or start with an empty BERTH_DATA_DIR.',
    );
    this.name = 'SealingKeyMismatchError';
  }
}

/** How many sealed items a start-up check tries: one that opens proves the key. */
export const SEALING_CHECK_SAMPLE = 25;

/**
 * Whether the key in use opens what is sealed: true when nothing is sealed yet or any sample
 * opens. One item that does not open is that item's fault (tampered), not the key's.
 */
export async function opensAnySealed(samples: readonly (() => Promise<unknown> | unknown)[]): Promise<boolean> {
  if (samples.length === 0) return true;
  for (const open of samples) {
    try {
      await open();
      return true;
    } catch {
      // try the next
    }
  }
  return false;
}
