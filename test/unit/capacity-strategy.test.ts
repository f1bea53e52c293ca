import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  type CapacityProviderStrategyItem,
  CAPACITY_PROVIDER_NAMES,
  LAUNCH_TYPE_AND_STRATEGY,
  nextProvider,
  providerToStop,
  readCapacityProviderStrategy,
  refuseLaunchTypeWithStrategy,
  splitTasks,
} from '../../shared/domain/capacity-strategy';
import { ClientException, EcsError, InvalidParameterException } from '../../shared/domain/errors';

// ---------------------------------------------------------------------------------------------
// Generators

/** A strategy ECS accepts: distinct providers in any order, a base on at most one, some weight. */
const strategyArb: fc.Arbitrary<CapacityProviderStrategyItem[]> = fc
  .shuffledSubarray([...CAPACITY_PROVIDER_NAMES], { minLength: 1 })
  .chain((providers) => fc.record({
    providers: fc.constant(providers),
    weights: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1000 })), {
      minLength: providers.length, maxLength: providers.length,
    }),
    baseAt: fc.integer({ min: -1, max: providers.length - 1 }),
    base: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100_000 })),
  }))
  .filter(({ weights }) => weights.some((w) => w > 0))
  .map(({ providers, weights, baseAt, base }) => providers.map((capacityProvider, i) => ({
    capacityProvider, weight: weights[i], base: i === baseAt ? base : 0,
  })));

const countsOf = (providers: readonly string[]) => {
  const counts: Record<string, number> = {};
  for (const p of providers) counts[p] = (counts[p] ?? 0) + 1;
  return counts;
};

/**
 * The split ECS keeps: every base met as far as the tasks go, nothing beyond its base on a
 * weight-0 provider, and each weighted provider's tasks beyond its base within one task of its
 * share of all tasks beyond the bases.
 */
function assertSplit(strategy: CapacityProviderStrategyItem[], counts: Record<string, number>): void {
  const total = Object.values(counts).reduce((s, c) => s + c, 0);
  const base = strategy.find((i) => i.base > 0);
  if (base) expect(counts[base.capacityProvider] ?? 0).toBeGreaterThanOrEqual(Math.min(total, base.base));
  const beyond = (i: CapacityProviderStrategyItem) => Math.max(0, (counts[i.capacityProvider] ?? 0) - i.base);
  const weighted = strategy.filter((i) => i.weight > 0);
  const totalWeight = weighted.reduce((s, i) => s + i.weight, 0);
  const weightedTasks = strategy.reduce((s, i) => s + beyond(i), 0);
  for (const i of strategy) {
    if (i.weight === 0) expect(beyond(i)).toBe(0);
    else expect(Math.abs(beyond(i) - (weightedTasks * i.weight) / totalWeight)).toBeLessThan(1);
  }
  for (const p of Object.keys(counts)) expect(strategy.some((i) => i.capacityProvider === p)).toBe(true);
}

// ---------------------------------------------------------------------------------------------

describe('capacity provider strategy', () => {
  describe('splitTasks', () => {
    it('gives the base provider the first tasks, up to its base', () => {
      fc.assert(fc.property(strategyArb, fc.integer({ min: 0, max: 300 }), (strategy, n) => {
        const split = splitTasks(strategy, n);
        const base = strategy.find((i) => i.base > 0);
        if (!base) return;
        expect(split.slice(0, Math.min(n, base.base)).every((p) => p === base.capacityProvider)).toBe(true);
      }));
    });

    it('splits the rest by weight, never onto a weight-0 provider', () => {
      fc.assert(fc.property(strategyArb, fc.integer({ min: 0, max: 300 }), (strategy, n) => {
        const split = splitTasks(strategy, n);
        expect(split).toHaveLength(n);
        assertSplit(strategy, countsOf(split));
      }));
    });

    it.each([
      // ECS's own example: weights 1 and 4 put four tasks on B for every one on A.
      [[{ capacityProvider: 'FARGATE', base: 0, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 4 }], 10, { FARGATE: 2, FARGATE_SPOT: 8 }],
      // One on-demand task for the base, the other five split 1:2.
      [[{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 2 }], 6, { FARGATE: 3, FARGATE_SPOT: 3 }],
      [[{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 3 }, { capacityProvider: 'FARGATE', base: 2, weight: 0 }], 7, { FARGATE: 2, FARGATE_SPOT: 5 }],
      [[{ capacityProvider: 'FARGATE', base: 5, weight: 1 }], 3, { FARGATE: 3 }],
    ] as const)('splits %j over %i tasks as %j', (strategy, n, expected) => {
      expect(countsOf(splitTasks(strategy as unknown as CapacityProviderStrategyItem[], n))).toEqual(expected);
    });

    it('sends new tasks of a service first to what it lacks', () => {
      const strategy: CapacityProviderStrategyItem[] = [
        { capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 2 },
      ];
      // A spot interruption took all three spot tasks: their replacements go back to spot.
      expect(splitTasks(strategy, 3, { FARGATE: 3 })).toEqual(['FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT']);
      expect(nextProvider(strategy, { FARGATE_SPOT: 4 })).toBe('FARGATE');
    });
  });

  describe('as a service scales out and in', () => {
    it('keeps the split through any run of added and removed tasks', () => {
      fc.assert(fc.property(strategyArb, fc.array(fc.boolean(), { maxLength: 200 }), (strategy, steps) => {
        const counts: Record<string, number> = {};
        for (const add of steps) {
          if (add) {
            const p = nextProvider(strategy, counts);
            counts[p] = (counts[p] ?? 0) + 1;
          } else {
            const p = providerToStop(strategy, counts);
            if (p === undefined) continue;
            expect(counts[p]).toBeGreaterThan(0);
            counts[p] -= 1;
          }
          assertSplit(strategy, counts);
        }
      }));
    });

    it('stops tasks on providers the strategy no longer weighs first', () => {
      const strategy: CapacityProviderStrategyItem[] = [{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }];
      expect(providerToStop(strategy, { FARGATE: 1, FARGATE_SPOT: 5 })).toBe('FARGATE');
      expect(providerToStop(strategy, {})).toBeUndefined();
    });
  });

  describe('readCapacityProviderStrategy', () => {
    // A malformed member is the ClientException every Berth field reader gives; a rule of
    // strategies is ECS's InvalidParameterException.
    const read = (items: unknown, source: 'request' | 'default' = 'request') =>
      readCapacityProviderStrategy({ capacityProviderStrategy: items }, 'capacityProviderStrategy', source);

    it('fills in base and weight as ECS does', () => {
      expect(read([{ capacityProvider: 'FARGATE_SPOT', weight: 3 }, { capacityProvider: 'FARGATE', base: 1, weight: 1 }])).toEqual([
        { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 3 }, { capacityProvider: 'FARGATE', base: 1, weight: 1 },
      ]);
      expect(read(undefined)).toBeUndefined();
      expect(read([])).toEqual([]);
    });

    it.each([
      ['a name no provider can have', [{ capacityProvider: 'my provider!', weight: 1 }], /not associated with the cluster/, InvalidParameterException],
      ['weight 1001', [{ capacityProvider: 'FARGATE', weight: 1001 }], /weight.*at most 1000/, ClientException],
      ['a negative weight', [{ capacityProvider: 'FARGATE', weight: -1 }], /weight.*at least 0/, ClientException],
      ['base 100001', [{ capacityProvider: 'FARGATE', base: 100_001, weight: 1 }], /base.*at most 100000/, ClientException],
      ['a base on two providers', [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 2, weight: 1 }], /base value for more than one/, InvalidParameterException],
      ['a provider twice', [{ capacityProvider: 'FARGATE', weight: 1 }, { capacityProvider: 'FARGATE', weight: 2 }], /duplicate/, InvalidParameterException],
      ['no weight above zero', [{ capacityProvider: 'FARGATE', base: 1 }], /no capacity providers with a weight value greater than zero/, InvalidParameterException],
      ['seven items', Array.from({ length: 7 }, () => ({ capacityProvider: 'FARGATE', weight: 1 })), /more than 6/, InvalidParameterException],
      ['a missing name', [{ weight: 1 }], /capacityProvider/, ClientException],
      ['not a list', { capacityProvider: 'FARGATE' }, /must be a list/, InvalidParameterException],
    ] as [string, unknown, RegExp, typeof EcsError][])('refuses %s', (_, items, message, type) => {
      expect(() => read(items)).toThrow(type);
      expect(() => read(items)).toThrow(message);
    });

    it('names the default strategy when the default has no weight', () => {
      expect(() => read([{ capacityProvider: 'FARGATE' }], 'default')).toThrow(/default capacity provider strategy/);
    });

    it('never throws anything but ECS errors on random input', () => {
      fc.assert(fc.property(fc.anything(), (items) => {
        try {
          read(items);
        } catch (e) {
          expect([ClientException, InvalidParameterException].some((t) => e instanceof t)).toBe(true);
        }
      }));
    });
  });

  it('refuses a launch type together with a strategy', () => {
    const strategy: CapacityProviderStrategyItem[] = [{ capacityProvider: 'FARGATE', base: 0, weight: 1 }];
    expect(() => refuseLaunchTypeWithStrategy('FARGATE', strategy)).toThrow(LAUNCH_TYPE_AND_STRATEGY);
    expect(() => refuseLaunchTypeWithStrategy(undefined, strategy)).not.toThrow();
    expect(() => refuseLaunchTypeWithStrategy('FARGATE', undefined)).not.toThrow();
  });
});
