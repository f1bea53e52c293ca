/**
 * Raw ECS JSON 1.1 requests, signed with SigV4 as the AWS CLI and SDKs sign them, for tests
 * that must send what no SDK would: malformed bodies, wrong content types, unknown targets.
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface SignedFetchOptions {
  /** The whole `X-Amz-Target` value; undefined sends none. */
  target?: string;
  body: string | Buffer;
  /** Defaults to JSON 1.1; null sends no Content-Type at all. */
  contentType?: string | null;
  credentials: Credentials;
  /** Aborts the request, so that a server that hangs fails the test instead of stalling it. */
  signal?: AbortSignal;
  /** The service the signature is scoped to (default `ecs`). */
  service?: string;
  /** The region the signature is scoped to (default `us-east-1`). */
  region?: string;
  /** Sign as of this time, to send a stale signature. */
  signingDate?: Date;
  /** Changes the request after signing, to send a tampered one. */
  tamper?: (request: { headers: Record<string, string>; body: Buffer }) => void;
}

export const JSON_1_1 = 'application/x-amz-json-1.1';

/**
 * The harness's access key once it has one, else the key the local harness has always used.
 * Takes any object so that it compiles both before and after the harness exposes `credentials`.
 */
export function harnessCredentials(h: object): Credentials {
  const credentials = (h as { credentials?: Partial<Credentials> }).credentials;
  return {
    accessKeyId: credentials?.accessKeyId ?? 'AKIDLOCAL',
    secretAccessKey: credentials?.secretAccessKey ?? 'local-secret',
  };
}

/** POSTs `body` to `url` signed for service `ecs` in us-east-1, with exactly the signed headers. */
export async function signedFetch(url: string, options: SignedFetchOptions): Promise<Response> {
  const endpoint = new URL(url);
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  const headers: Record<string, string> = { host: endpoint.host };
  const contentType = options.contentType === undefined ? JSON_1_1 : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.target !== undefined) headers['x-amz-target'] = options.target;
  const signer = new SignatureV4({
    service: options.service ?? 'ecs',
    region: options.region ?? 'us-east-1',
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(new HttpRequest({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: endpoint.pathname,
    headers,
    body,
  }), { signingDate: options.signingDate });
  const sent = { headers: { ...(signed.headers as Record<string, string>) }, body };
  options.tamper?.(sent);
  // A Uint8Array, not a string: fetch would add `text/plain` to a string body that has no
  // Content-Type, and the "no Content-Type" cases must reach the server without one.
  return fetch(url, {
    method: 'POST',
    headers: sent.headers,
    body: new Uint8Array(sent.body.buffer, sent.body.byteOffset, sent.body.byteLength),
    signal: options.signal,
  });
}
