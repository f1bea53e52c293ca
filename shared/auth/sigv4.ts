import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
import { IncompleteSignature, InvalidSignatureException, MissingAuthenticationTokenException, UnrecognizedClientException } from './errors';

/** AWS refuses a request signed more than 15 minutes before or after it arrives. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface IncomingRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Verified {
  accessKeyId: string;
  region: string;
  service: string;
}

const AUTH = /^AWS4-HMAC-SHA256 (.+)$/;

function parseAuthorization(header: string) {
  const m = AUTH.exec(header.trim());
  if (!m) throw new IncompleteSignature(`Authorization header requires the AWS4-HMAC-SHA256 algorithm. Authorization=${header.split(' ')[0]}`);
  const parts = Object.fromEntries(m[1].split(',').map((p) => {
    const i = p.indexOf('=');
    return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
  }));
  for (const k of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!parts[k]) throw new IncompleteSignature(`Authorization header requires '${k}' parameter.`);
  }
  const scope = parts.Credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw new IncompleteSignature("Credential should be scoped to a valid region, like 'us-east-1', and to 'aws4_request'.");
  }
  const [accessKeyId, date, region, service] = scope;
  return { accessKeyId, date, region, service, signedHeaders: parts.SignedHeaders.split(';'), signature: parts.Signature };
}

/** `20261127T170000Z` → epoch ms. */
function parseAmzDate(v: string | undefined): number {
  const m = v && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m) throw new IncompleteSignature('Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/**
 * Verifies an AWS Signature Version 4 on a request, the way AWS does: the canonical request over
 * the headers the client signed and the payload's hash, the credential scope, and a signing
 * time within 15 minutes. The signature is recomputed with @smithy/signature-v4 (the SDKs' own
 * signer) and compared in constant time. Throws the error AWS gives.
 */
export async function verifySignature(
  req: IncomingRequest,
  secretOf: (accessKeyId: string) => Promise<string | undefined>,
  options: { now: number; services: readonly string[] },
): Promise<Verified> {
  const header = req.headers.authorization;
  if (!header) throw new MissingAuthenticationTokenException();
  const auth = parseAuthorization(header);
  if (!options.services.includes(auth.service)) {
    throw new InvalidSignatureException(`Credential should be scoped to correct service: '${options.services[0]}'.`);
  }
  const amzDate = req.headers['x-amz-date'];
  const signedAt = parseAmzDate(amzDate);
  if (Math.abs(options.now - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new InvalidSignatureException(`Signature expired: ${amzDate} is now earlier than ${new Date(options.now - MAX_CLOCK_SKEW_MS).toISOString()} (${new Date(options.now).toISOString()} - 15 min.)`);
  }
  if (amzDate!.slice(0, 8) !== auth.date) throw new InvalidSignatureException("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.");
  if (!auth.signedHeaders.includes('host')) throw new InvalidSignatureException("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const secret = await secretOf(auth.accessKeyId);
  if (secret === undefined) throw new UnrecognizedClientException();

  // The signer trusts an x-amz-content-sha256 header as the payload's hash: check it is.
  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(req.body).digest('hex')) {
    throw new InvalidSignatureException();
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = req.headers[name];
    if (v === undefined) throw new InvalidSignatureException();
    headers[name] = v;
  }
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret, sessionToken: req.headers['x-amz-security-token'] },
    sha256: Hash.bind(null, 'sha256'),
    // Only what the client signed: never add an x-amz-content-sha256 it did not send.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({ method: req.method, protocol: 'https:', hostname: headers.host, path: req.path, query: req.query, headers, body: req.body }),
    { signingDate: new Date(signedAt), signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))![1];
  const given = Buffer.from(auth.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    throw new InvalidSignatureException();
  }
  return { accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service };
}
