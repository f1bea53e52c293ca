import { InvalidParameterException } from '../domain/errors';
import { type Json, optInt, optString } from '../domain/fields';

/**
 * ECS list paging: `maxResults` (1–100, default 100) and an opaque `nextToken`. The token names
 * the last item served (and its position, for when that item has since gone), so a page
 * boundary survives items added before it.
 */
export function page<T>(items: readonly T[], body: Json, keyOf: (item: T) => string): { items: T[]; nextToken?: string } {
  const maxResults = optInt(body, 'maxResults', 'maxResults', { min: 1, max: 100 }) ?? 100;
  const token = optString(body, 'nextToken');
  let start = 0;
  if (token !== undefined) {
    let parsed: { after?: unknown; at?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    } catch {
      // reported below
    }
    if (typeof parsed?.after !== 'string' || typeof parsed.at !== 'number') {
      throw new InvalidParameterException('Invalid nextToken.');
    }
    const after = items.findIndex((i) => keyOf(i) === parsed.after);
    start = after >= 0 ? after + 1 : Math.min(parsed.at, items.length);
  }
  const slice = items.slice(start, start + maxResults);
  const end = start + slice.length;
  return {
    items: slice,
    nextToken: end < items.length
      ? Buffer.from(JSON.stringify({ after: keyOf(slice[slice.length - 1]), at: end })).toString('base64url')
      : undefined,
  };
}
