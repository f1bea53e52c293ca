import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG, capacityOf, hourlyPrice } from '../../shared/capacity/catalog';
import { FARGATE_SIZES, fargateMemoryChoices } from '../../shared/domain/sizes';
import { type FloorType, type FloorWork, assignmentCost, fluidFloor, taskFloor } from '../bench/support/floor';

const x86 = (market: 'on-demand' | 'spot'): FloorType[] => DEFAULT_CATALOG
  .filter((t) => t.gpus === 0 && !/^[cmr]7g\./.test(t.name))
  .map((t) => ({ ...capacityOf(t), pricePerSecond: hourlyPrice(t, market) / 3600 }));

const shapes = FARGATE_SIZES.flatMap((r) => fargateMemoryChoices(r.cpu).map((memory) => ({ cpu: r.cpu, memory })));
const workArb = fc.array(
  fc.record({ shape: fc.constantFrom(...shapes), seconds: fc.integer({ min: 1, max: 36_000 }) }).map(({ shape, seconds }) => ({ ...shape, seconds })),
  { minLength: 1, maxLength: 30 },
);
const marketArb = fc.constantFrom('on-demand' as const, 'spot' as const);

describe('bench:fleet floor', () => {
  describe('taskFloor', () => {
    it('is never above what any assignment of the tasks to types that hold them costs, perfectly packed', () => {
      fc.assert(fc.property(workArb, marketArb, fc.array(fc.nat(), { minLength: 30, maxLength: 30 }), (work, market, picks) => {
        const types = x86(market);
        const floor = taskFloor(work, types);
        // Each shape on some type that holds it, chosen at random (one type per shape, so equal shapes go together).
        const choice = new Map<string, number>();
        work.forEach((w, n) => {
          const key = `${w.cpu}/${w.memory}`;
          if (choice.has(key)) return;
          const holding = types.map((t, i) => (w.cpu <= t.cpu && w.memory <= t.memory ? i : -1)).filter((i) => i >= 0);
          choice.set(key, holding[picks[n] % holding.length]);
        });
        const cost = assignmentCost(work, types, (w) => choice.get(`${w.cpu}/${w.memory}`)!);
        expect(floor).toBeLessThanOrEqual(cost * (1 + 1e-9));
      }), { numRuns: 25 });
    });

    it('is never below the fluid floor', () => {
      fc.assert(fc.property(workArb, marketArb, (work, market) => {
        const types = x86(market);
        expect(taskFloor(work, types)).toBeGreaterThanOrEqual(fluidFloor(work, types) * (1 - 1e-9));
      }), { numRuns: 25 });
    });

    it('prices work of one shape at the cheapest type for it alone', () => {
      // 1 vCPU / 2 GiB for an hour: memory binds on c6i (1.9 GiB per vCPU registered), cpu on m6i.
      const work: FloorWork[] = [{ cpu: 1024, memory: 2048, seconds: 3600 }];
      const types = x86('on-demand');
      const alone = Math.min(...types.map((t) => t.pricePerSecond * 3600 * Math.max(1024 / t.cpu, 2048 / t.memory)));
      expect(taskFloor(work, types)).toBeCloseTo(alone, 9);
    });

    it('is above the fluid floor where the fluid floor fills compute hosts with memory no task brings', () => {
      // Half the cpu at 2 GiB per vCPU, half at 4: the fluid floor runs part of it on c6i hosts full
      // on cpu and memory at once, which tasks of at least 2 GiB per vCPU cannot do.
      const work: FloorWork[] = [{ cpu: 1024, memory: 2048, seconds: 3600 }, { cpu: 1024, memory: 4096, seconds: 3600 }];
      const types = x86('on-demand');
      expect(taskFloor(work, types)).toBeGreaterThan(fluidFloor(work, types) * 1.005);
    });

    it('is unbounded for a shape no type can hold', () => {
      expect(taskFloor([{ cpu: 1024 * 64, memory: 1024, seconds: 60 }], x86('on-demand'))).toBe(Infinity);
    });
  });
});
