import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG, capacityOf, hourlyPrice } from '../../shared/capacity/catalog';
import { FARGATE_SIZES, fargateMemoryChoices } from '../../shared/domain/sizes';
import { type ClairvoyantType, clairvoyantFleet, clairvoyantVariants } from '../bench/support/clairvoyant';
import { floorWithBoots, taskFloor, taskFloorDual } from '../bench/support/floor';

const types: ClairvoyantType[] = DEFAULT_CATALOG
  .filter((t) => t.gpus === 0 && !/^[cmr]7g\./.test(t.name))
  .map((t) => ({ name: t.name, ...capacityOf(t), pricePerSecond: hourlyPrice(t, 'on-demand') / 3600, spotPricePerSecond: hourlyPrice(t, 'spot') / 3600 }));

const shapes = FARGATE_SIZES.filter((r) => r.cpu <= 8192).flatMap((r) => fargateMemoryChoices(r.cpu).map((memory) => ({ cpu: r.cpu, memory })));
const tasksArb = fc.array(
  fc.record({ shape: fc.constantFrom(...shapes), arrival: fc.integer({ min: 0, max: 3_600 }), duration: fc.integer({ min: 1, max: 1_800 }) })
    .map(({ shape, arrival, duration }) => ({ ...shape, arrival, duration })),
  { minLength: 1, maxLength: 40 },
);
const BOOT = 40;

describe('bench:fleet clairvoyant reference', () => {
  it('never costs less than the floor with boots, which never exceeds the floor plus a boot per task', () => {
    fc.assert(fc.property(tasksArb, fc.constantFrom('large', 'xlarge', '2xlarge', '4xlarge'), fc.constantFrom('fit' as const, 'end' as const, 'binpack' as const),
      (tasks, size, tieBreak) => {
        const work = tasks.map((t) => ({ cpu: t.cpu, memory: t.memory, seconds: t.duration, start: t.arrival }));
        const withBoots = floorWithBoots(work, types, BOOT);
        const fleet = clairvoyantFleet(tasks, { bootSeconds: BOOT, minimumSeconds: 60, types, size, tieBreak });
        expect(fleet.costUsd).toBeGreaterThanOrEqual(withBoots * (1 - 1e-9));
        expect(fleet.costUsd).toBeGreaterThanOrEqual(taskFloor(work, types) * (1 - 1e-9));
        const { term } = taskFloorDual(work, types);
        expect(withBoots).toBeLessThanOrEqual(tasks.reduce((s, t) => s + term(t.cpu, t.memory) * (t.duration + BOOT), 0) * (1 + 1e-9));
        expect(fleet.packingCpu).toBeLessThanOrEqual(1 + 1e-9);
        expect(fleet.packingMemory).toBeLessThanOrEqual(1 + 1e-9);
        expect(fleet.bootingUsd + fleet.idleUsd + fleet.busyUsd + fleet.minimumExtraUsd).toBeCloseTo(fleet.costUsd, 9);
      }), { numRuns: 12 });
  });

  it('prices one lone task at its host for its run and one boot, and bounds it by its term for the same time', () => {
    const task = { cpu: 1024, memory: 2048, arrival: 100, duration: 600 };
    const fleet = clairvoyantFleet([task], { bootSeconds: BOOT, minimumSeconds: 60, types, size: 'large', tieBreak: 'fit' });
    const c6iLarge = types.find((t) => t.name === 'c6i.large')!;
    expect(fleet.launched).toBe(1);
    expect(fleet.costUsd).toBeCloseTo(c6iLarge.pricePerSecond * (600 + BOOT), 9);
    const work = [{ cpu: 1024, memory: 2048, seconds: 600, start: 100 }];
    const { term } = taskFloorDual(work, types);
    expect(floorWithBoots(work, types, BOOT)).toBeCloseTo(term(1024, 2048) * (600 + BOOT), 9);
  });

  it('keeps a host through a gap shorter than a boot rather than launching another', () => {
    const tasks = [{ cpu: 1024, memory: 2048, arrival: 0, duration: 100 }, { cpu: 1024, memory: 2048, arrival: 110, duration: 100 }];
    const fleet = clairvoyantFleet(tasks, { bootSeconds: BOOT, minimumSeconds: 60, types, size: 'large', tieBreak: 'fit' });
    expect(fleet.launched).toBe(1);
    expect(fleet.idleUsd).toBeGreaterThan(0);
  });

  it('lists its variants cheapest first', () => {
    const tasks = [{ cpu: 2048, memory: 4096, arrival: 0, duration: 300 }, { cpu: 512, memory: 1024, arrival: 5, duration: 30 }];
    const costs = clairvoyantVariants(tasks, { bootSeconds: BOOT, minimumSeconds: 60, types }).map((v) => v.result.costUsd);
    expect(costs).toEqual([...costs].sort((a, b) => a - b));
  });
});
