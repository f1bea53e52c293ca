import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Berth } from '../context';
import type { AccessKeyRecord } from '../store';
import { ExpiredTokenException, UnrecognizedClientException } from './errors';
import { KeySealError } from './key-sealer';
import { verifySignature } from './sigv4';

/** The caller's key, and the region its signature is scoped to (absent on an unsigned call). */
export type AuthenticatedEvent = APIGatewayProxyEventV2 & { principal?: AccessKeyRecord; region?: string };

export interface SigV4Options {
  berth: () => Berth | Promise<Berth>;
  /** The service names a signature may be scoped to, e.g. `ecs`. */
  services: readonly string[];
  /** Which kinds of key may call this API. */
  principal: AccessKeyRecord['principal'] | readonly AccessKeyRecord['principal'][];
  /** How long a key read from the store is trusted; a revoked key dies within this. */
  cacheMs?: number;
  /** Let a request with no Authorization header through, unauthenticated. */
  optional?: boolean;
}

/**
 * Authenticates every request with AWS Signature Version 4, before anything parses its body.
 * A missing, malformed, expired or wrong signature ends the request with AWS's error.
 */
export function sigv4Auth(o: SigV4Options): MiddlewareObj<AuthenticatedEvent, APIGatewayProxyStructuredResultV2> {
  const principals: readonly string[] = typeof o.principal === 'string' ? [o.principal] : o.principal;
  const cache = new Map<string, { key: AccessKeyRecord | undefined; at: number }>();
  const lookup = async (b: Berth, accessKeyId: string) => {
    const hit = cache.get(accessKeyId);
    if (hit && b.now() - hit.at < (o.cacheMs ?? 10_000)) return hit.key;
    const key = await b.store.accessKeys.get(accessKeyId).catch((e) => {
      // A secret that no longer opens (tampered, or sealed under another key) makes no key: a 4xx, not a 500.
      if (e instanceof KeySealError) return undefined;
      throw e;
    });
    if (cache.size > 10_000) cache.clear();
    cache.set(accessKeyId, { key, at: b.now() });
    return key;
  };
  return {
    name: 'sigv4Auth',
    before: async (request) => {
      const b = await o.berth();
      const { event } = request;
      const signed = Object.keys(event.headers ?? {}).some((k) => k.toLowerCase() === 'authorization');
      if (!signed && o.optional) return;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
      let key: AccessKeyRecord | undefined;
      const verified = await verifySignature(
        {
          method: event.requestContext?.http?.method ?? 'POST',
          path: event.rawPath ?? '/',
          query,
          headers,
          body: event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
        },
        async (id) => {
          key = await lookup(b, id);
          return key && key.status === 'Active' && principals.includes(key.principal) ? key.secretAccessKey : undefined;
        },
        { now: b.now(), services: o.services },
      );
      if (!key) throw new UnrecognizedClientException();
      if (key.expiresAt !== undefined && key.expiresAt <= b.now()) throw new ExpiredTokenException();
      event.principal = key;
      event.region = verified.region;
    },
  };
}
