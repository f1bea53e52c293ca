import { createHash, createHmac } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  url: URL;
  /** Every header sent besides those the signature adds; each is signed. */
  headers: Record<string, string>;
  body: Buffer;
  service: string;
  region: string;
  credentials: SigningCredentials;
  signedAt: Date;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Signs a request with AWS Signature Version 4 as @smithy/signature-v4 signs it by default
 * (every header signed, the payload's hash sent as x-amz-content-sha256, the path normalised and
 * encoded twice), and returns the headers to send. For the agent's calls to its control plane:
 * @smithy/signature-v4 and its hashing ran a quarter MiB of @smithy/core in every agent at start
 * (about 1 MiB of an idle agent's memory), for what node:crypto does in these lines. The server
 * verifies with @smithy's signer (shared/auth/sigv4.ts); test/unit/signed-call.test.ts checks
 * that it takes whatever this signs.
 */
export function signRequest(r: RequestToSign): Record<string, string> {
  const amzDate = r.signedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(r.body);
  const headers: Record<string, string> = {
    ...lowerCased(r.headers),
    'x-amz-date': amzDate,
    'x-amz-content-sha256': payloadHash,
    ...(r.credentials.sessionToken ? { 'x-amz-security-token': r.credentials.sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    r.method.toUpperCase(),
    canonicalPath(r.url.pathname),
    canonicalQuery(r.url.searchParams),
    names.map((n) => `${n}:${headers[n].trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(Buffer.from(canonicalRequest))].join('\n');
  let key: Buffer = Buffer.from(`AWS4${r.credentials.secretAccessKey}`);
  for (const part of [date, r.region, r.service, 'aws4_request']) key = hmac(key, part);
  const signature = hmac(key, stringToSign).toString('hex');
  return {
    ...headers,
    authorization: `${ALGORITHM} Credential=${r.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** RFC 3986 encoding, as AWS wants it: encodeURIComponent leaves !'()* as they are. */
function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The path without empty, `.` and `..` segments, encoded once more (every service but S3). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segments.pop();
    else segments.push(s);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escape(normalised).replace(/%2F/g, '/');
}

/** By name, then by value, each encoded. */
function canonicalQuery(params: URLSearchParams): string {
  const byName = (a: [string, string], b: [string, string]) => compare(a[0], b[0]) || compare(a[1], b[1]);
  return [...params].sort(byName).map(([k, v]) => `${escape(k)}=${escape(v)}`).join('&');
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
