import { InvalidParameterException } from '../domain/errors';
import { type Json, optInt, optString } from '../domain/fields';

/**
 * ECS list paging: `maxResults` (1–100, default 100; some lists stop at less) and an opaque `nextToken`. The token names
 * the next item to serve, the last one served, and the position, tried in that order: a page
 * boundary survives items added or removed on either side of it.
 */
export function page<T>(items: readonly T[], body: Json, keyOf: (item: T) => string, pageLimit = 100): { items: T[]; nextToken?: string } {
  const maxResults = optInt(body, 'maxResults', 'maxResults', { min: 1, max: pageLimit }) ?? pageLimit;
  const token = optString(body, 'nextToken');
  let start = 0;
  if (token !== undefined) {
    let parsed: { next?: unknown; after?: unknown; at?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      // reported below
    }
    const { next, after, at } = parsed ?? {};
    if (typeof next !== 'string' || typeof after !== 'string' || typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
      throw new InvalidParameterException('Invalid nextToken.');
    }
    const nextIndex = items.findIndex((i) => keyOf(i) === next);
    const afterIndex = items.findIndex((i) => keyOf(i) === after);
    start = nextIndex >= 0 ? nextIndex : afterIndex >= 0 ? afterIndex + 1 : Math.min(at, items.length);
  }
  const slice = items.slice(start, start + maxResults);
  const end = start + slice.length;
  return {
    items: slice,
    nextToken: end < items.length
      ? Buffer.from(JSON.stringify({ next: keyOf(items[end]), after: keyOf(slice[slice.length - 1]), at: end })).toString('base64url')
      : undefined,
  };
}
