import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ClientException, InvalidParameterException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import { page } from '../../shared/ecs-api/paging';
import { caught } from '../support/caught';

const identity = (s: string): string => s;
const token = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `item-${String(i).padStart(3, '0')}`);

/** Follows nextToken until it runs out, as an SDK paginator does; gives up on a runaway loop. */
function walk(items: readonly string[], maxResults: number): { served: string[]; pages: number } {
  const served: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const body: Json = nextToken === undefined ? { maxResults } : { maxResults, nextToken };
    const result = page(items, body, identity);
    served.push(...result.items);
    nextToken = result.nextToken;
    pages += 1;
    if (pages > items.length + 2) throw new Error('paging did not terminate');
  } while (nextToken !== undefined);
  return { served, pages };
}


describe('paging', () => {
  describe('page', () => {
    it('serves every item exactly once, in order, whatever the page size', () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.string({ maxLength: 12 }), { maxLength: 25 }),
          fc.integer({ min: 1, max: 7 }),
          (items, maxResults) => {
            // Act
            const { served, pages } = walk(items, maxResults);

            // Assess
            expect(served).toEqual(items);
            expect(pages).toBe(Math.max(1, Math.ceil(items.length / maxResults)));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('serves every item exactly once, in order, when items already served disappear between pages', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 25 }),
          fc.integer({ min: 1, max: 7 }),
          fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
          (n, maxResults, goesAway) => {
            // Prepare: as a task listed on one page stops before the next page is asked for.
            const items = names(n);
            let current = [...items];
            const served: string[] = [];
            let nextToken: string | undefined;

            // Act
            for (let pages = 0; pages <= n + 1; pages++) {
              const body: Json = nextToken === undefined ? { maxResults } : { maxResults, nextToken };
              const result = page(current, body, identity);
              served.push(...result.items);
              nextToken = result.nextToken;
              if (nextToken === undefined) break;
              current = current.filter((item) => !(served.includes(item) && goesAway[items.indexOf(item)]));
            }

            // Assess
            expect(served).toEqual(items);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('never serves more than maxResults items on a page', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 1, max: 7 }), (n, maxResults) => {
          // Prepare
          const items = names(n);

          // Act
          const first = page(items, { maxResults }, identity);

          // Assess
          expect(first.items.length).toBe(Math.min(n, maxResults));
          expect(first.nextToken === undefined).toBe(n <= maxResults);
        }),
      );
    });

    it('serves 100 items when maxResults is not given', () => {
      // Prepare
      const items = names(150);

      // Act
      const first = page(items, {}, identity);

      // Assess
      expect(first.items).toEqual(items.slice(0, 100));
      expect(first.nextToken).toBeDefined();
    });

    it('serves an empty list as one page without a token', () => {
      // Act
      const result = page([], { maxResults: 5 }, identity);

      // Assess
      expect(result).toEqual({ items: [], nextToken: undefined });
    });

    it('continues after the last item served when items are added before the boundary', () => {
      // Prepare
      const items = names(6);
      const first = page(items, { maxResults: 3 }, identity);
      const grown = ['item-000a', 'item-000b', ...items];

      // Act
      const second = page(grown, { maxResults: 3, nextToken: first.nextToken }, identity);

      // Assess
      expect(second.items).toEqual(['item-003', 'item-004', 'item-005']);
    });

    it('continues with the next item when the last item served has gone', () => {
      // Prepare
      const items = names(6);
      const first = page(items, { maxResults: 3 }, identity);
      const shrunk = items.filter((i) => i !== 'item-002');

      // Act
      const second = page(shrunk, { maxResults: 3, nextToken: first.nextToken }, identity);

      // Assess
      expect(second.items).toEqual(['item-003', 'item-004', 'item-005']);
      expect(second.nextToken).toBeUndefined();
    });

    it.each<[string, string]>([
      ['not base64 JSON', 'garbage!'],
      ['JSON null', token(null)],
      ['a JSON list', token([])],
      ['a JSON string', token('item-001')],
      ['an object without after', token({ at: 1 })],
      ['an object without at', token({ after: 'item-001' })],
      ['an after that is not a string', token({ after: 1, at: 1 })],
      ['an at that is not a number', token({ after: 'item-001', at: '1' })],
      ['a negative at', token({ after: 'gone', at: -3 })],
      ['a fractional at', token({ after: 'gone', at: 1.5 })],
    ])('rejects a nextToken that is %s with InvalidParameterException', (_description, nextToken) => {
      // Act
      const error = caught(() => page(names(10), { nextToken }, identity));

      // Assess
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect((error as Error).message).toContain('nextToken');
    });

    it.each<[string, unknown]>([
      ['0', 0],
      ['101', 101],
      ['-1', -1],
      ['1.5', 1.5],
      ['"10" as a string', '10'],
    ])('rejects maxResults %s with ClientException naming maxResults', (_description, maxResults) => {
      // Act
      const error = caught(() => page(names(10), { maxResults }, identity));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain('maxResults');
    });

    it.each([1, 100])('accepts maxResults %i', (maxResults) => {
      // Act
      const result = page(names(150), { maxResults }, identity);

      // Assess
      expect(result.items).toHaveLength(maxResults);
    });
  });
});
