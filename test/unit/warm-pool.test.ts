import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG, findType } from '../../shared/capacity/catalog';
import { warmPoolTarget } from '../../shared/capacity/warm-pool';
import { DemandHistory, WARM_POOL_WINDOW_SECONDS, adaptToDemand } from '../../shared/capacity/demand-history';
import { DEFAULT_CAPACITY_POLICY } from '../../shared/capacity/planner';

const type = findType(DEFAULT_CATALOG, 'm6i.large')!;

describe('Warm pool', () => {
  describe('warmPoolTarget', () => {
    it('holds the work that arrives during a boot', () => {
      // m6i.large registers 2048 cpu: a 1024-cpu, 1024 MiB task is half a host (memory is the smaller share).
      const arrivals = Array.from({ length: 60 }, () => ({ cpu: 1024, memory: 1024 }));
      // 60 tasks a minute = 1 per second; 40 s of boot = 40 tasks = 20 hosts.
      expect(warmPoolTarget({ arrivals, windowSeconds: 60, bootSeconds: 40, type, floor: 1, maxHosts: 100 })).toBe(20);
      expect(warmPoolTarget({ arrivals, windowSeconds: 60, bootSeconds: 40, type, floor: 1, maxHosts: 8 })).toBe(8);
      expect(warmPoolTarget({ arrivals: [], windowSeconds: 60, bootSeconds: 40, type, floor: 2, maxHosts: 8 })).toBe(2);
    });

    const sizes = fc.array(fc.record({ cpu: fc.constantFrom(256, 1024, 4096), memory: fc.constantFrom(512, 2048, 8192) }), { maxLength: 200 });
    it('keeps the operator floor and maxHosts, and grows with the arrival rate', () => {
      fc.assert(fc.property(sizes, sizes, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 50 }), (a, more, floor, maxHosts) => {
        const base = { windowSeconds: 300, bootSeconds: 40, type, floor, maxHosts };
        const few = warmPoolTarget({ ...base, arrivals: a });
        const many = warmPoolTarget({ ...base, arrivals: [...a, ...more] });
        expect(few).toBeGreaterThanOrEqual(Math.min(floor, maxHosts));
        expect(many).toBeLessThanOrEqual(maxHosts);
        expect(many).toBeGreaterThanOrEqual(few);
      }));
    });
  });

  describe('adaptToDemand', () => {
    const NOW = Date.UTC(2025, 0, 1, 12);
    const policy = { ...DEFAULT_CAPACITY_POLICY, warmPoolHosts: 1 };
    const keepAfter = (burstEndedSecondsAgo: number): number | undefined => {
      const a = { history: new DemandHistory(3600 * 1000), relaunchSeconds: 40, warmPoolWindowSeconds: WARM_POOL_WINDOW_SECONDS };
      // A burst of 100 waiting tasks within 30 s, first seen by a cycle an hour earlier (so the history is long).
      a.history.observe(NOW - 3600 * 1000, [], []);
      const burst = Array.from({ length: 100 }, (_, i) => ({
        taskId: `t${i}`, cluster: 'default', cpu: 1024, memory: 2048, since: NOW - (burstEndedSecondsAgo + (i * 30) / 100) * 1000,
      }));
      return adaptToDemand(a, { now: NOW, hosts: [], pending: burst, policy, catalog: DEFAULT_CATALOG }).policy.warmPoolKeepHosts;
    };

    it('keeps idle hosts for a burst still arriving, and only the floor a boot and a half after it ended', () => {
      expect(keepAfter(0)).toBeGreaterThan(10);
      expect(keepAfter(WARM_POOL_WINDOW_SECONDS + 1)).toBe(1);
      expect(WARM_POOL_WINDOW_SECONDS).toBeLessThanOrEqual(90);
    });
  });
});
