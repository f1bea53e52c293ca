import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DemandHistory } from '../../shared/capacity/demand-history';
import { idleTimeoutsByRank, timeoutCost } from '../../shared/capacity/idle-timeout';
import type { FleetHost } from '../../shared/capacity/types';

const NOW = Date.UTC(2025, 0, 1, 12);
const SECOND = 1000;

/** Seconds between consecutive arrivals and from the last to now, computed apart from the module. */
/** The timeout of the first idle host in line. */
const adaptiveIdleTimeoutSeconds = (o: { arrivals: readonly number[]; now: number; relaunchSeconds: number; maxSeconds: number }): number =>
  idleTimeoutsByRank({ ...o, firstRank: 1, count: 1 })[0];

const gapsOf = (at: readonly number[], now: number): number[] => {
  const s = [...at].sort((a, b) => a - b);
  return [...s.slice(1).map((t, i) => (t - s[i]) / 1000), (now - s[s.length - 1]) / 1000];
};

describe('Idle timeout', () => {
  const arrivalsArb = fc.array(fc.integer({ min: 0, max: 7200 }), { minLength: 0, maxLength: 60 }).map((ago) => ago.map((s) => NOW - s * SECOND));
  const relaunchArb = fc.integer({ min: 0, max: 180 });
  const maxArb = fc.integer({ min: 0, max: 1800 });

  describe('idleTimeoutsByRank, first in line', () => {
    it('stays within 0 and the operator timeout, and keeps the operator timeout without a pattern', () => {
      fc.assert(fc.property(arrivalsArb, relaunchArb, maxArb, (arrivals, relaunchSeconds, maxSeconds) => {
        const tau = adaptiveIdleTimeoutSeconds({ arrivals, now: NOW, relaunchSeconds, maxSeconds });
        expect(tau).toBeGreaterThanOrEqual(0);
        expect(tau).toBeLessThanOrEqual(maxSeconds);
        if (arrivals.length < 3) expect(tau).toBe(maxSeconds);
      }));
    });

    it('is the cheapest timeout for the gaps seen: no other timeout up to the operator one costs less', () => {
      fc.assert(fc.property(arrivalsArb, relaunchArb, maxArb, fc.double({ min: 0, max: 1, noNaN: true }), (arrivals, relaunchSeconds, maxSeconds, f) => {
        fc.pre(arrivals.length >= 3);
        const tau = adaptiveIdleTimeoutSeconds({ arrivals, now: NOW, relaunchSeconds, maxSeconds });
        const gaps = gapsOf(arrivals, NOW);
        const other = f * maxSeconds;
        expect(timeoutCost(gaps, tau, relaunchSeconds)).toBeLessThanOrEqual(timeoutCost(gaps, other, relaunchSeconds) + 1e-6);
      }));
    });

    it('keeps hosts through the gaps of steady arrivals, and lets them go soon after a burst', () => {
      const steady = Array.from({ length: 120 }, (_, i) => NOW - (5 + 30 * i) * SECOND);
      expect(adaptiveIdleTimeoutSeconds({ arrivals: steady, now: NOW, relaunchSeconds: 40, maxSeconds: 600 })).toBeGreaterThanOrEqual(30);
      // Bursts of 50 within a minute every 20 minutes; the last ended 5 minutes ago.
      const bursts = [0, 1, 2].flatMap((b) => Array.from({ length: 50 }, (_, i) => NOW - (300 + 1200 * b + i) * SECOND));
      expect(adaptiveIdleTimeoutSeconds({ arrivals: bursts, now: NOW, relaunchSeconds: 40, maxSeconds: 600 })).toBeLessThan(40);
    });
  });

  describe('idleTimeoutsByRank, from the moments hosts went idle', () => {
    /** Seconds from each idle start to the first demand after it, the censored ones past the operator timeout included; computed apart from the module. */
    const idleGapsOf = (arrivals: readonly number[], starts: readonly number[], now: number, maxSeconds: number): number[] =>
      starts.flatMap((s) => {
        const next = arrivals.filter((a) => a > s).sort((a, b) => a - b)[0];
        if (next !== undefined) return [(next - s) / 1000];
        return (now - s) / 1000 > maxSeconds ? [(now - s) / 1000] : [];
      });

    it('is the cheapest timeout for what idle hosts waited, when enough of them are known', () => {
      fc.assert(fc.property(arrivalsArb, arrivalsArb, relaunchArb, maxArb, fc.double({ min: 0, max: 1, noNaN: true }),
        (arrivals, idleStarts, relaunchSeconds, maxSeconds, f) => {
          const gaps = idleGapsOf(arrivals, idleStarts, NOW, maxSeconds);
          fc.pre(gaps.length >= 3);
          const [tau] = idleTimeoutsByRank({ arrivals, idleStarts, now: NOW, relaunchSeconds, maxSeconds, firstRank: 1, count: 1 });
          expect(tau).toBeGreaterThanOrEqual(0);
          expect(tau).toBeLessThanOrEqual(maxSeconds);
          expect(timeoutCost(gaps, tau, relaunchSeconds)).toBeLessThanOrEqual(timeoutCost(gaps, f * maxSeconds, relaunchSeconds) + 1e-6);
        }));
    });

    it('falls back to the gaps between demands while fewer than three idle starts are known', () => {
      fc.assert(fc.property(arrivalsArb, relaunchArb, maxArb, fc.integer({ min: 0, max: 2 }), (arrivals, relaunchSeconds, maxSeconds, n) => {
        const o = { arrivals, now: NOW, relaunchSeconds, maxSeconds, firstRank: 1, count: 3 };
        const idleStarts = arrivals.slice(0, n);
        expect(idleTimeoutsByRank({ ...o, idleStarts })).toEqual(idleTimeoutsByRank(o));
      }));
    });

    it('lets a host go at once when hosts go idle between bursts, though arrivals within a burst come seconds apart', () => {
      // Bursts of 50 within a minute every 20 minutes; hosts went idle 10 minutes after each burst.
      const bursts = [0, 1, 2, 3].flatMap((b) => Array.from({ length: 50 }, (_, i) => NOW - (60 + 1200 * b + i) * SECOND));
      const idleStarts = [1, 2, 3].flatMap((b) => Array.from({ length: 10 }, (_, i) => NOW - (1200 * b - 540 + i) * SECOND));
      const o = { arrivals: bursts, now: NOW, relaunchSeconds: 40, maxSeconds: 600, firstRank: 1, count: 1 };
      expect(idleTimeoutsByRank({ ...o, idleStarts })[0]).toBe(0);
      // The gaps between arrivals alone would keep it through a few seconds of a burst.
      expect(idleTimeoutsByRank(o)[0]).toBeGreaterThan(0);
    });

    it('keeps a host when demand came soon after hosts went idle', () => {
      const arrivals = Array.from({ length: 120 }, (_, i) => NOW - (5 + 30 * i) * SECOND);
      const idleStarts = Array.from({ length: 20 }, (_, i) => NOW - (20 + 90 * i) * SECOND);
      expect(idleTimeoutsByRank({ arrivals, idleStarts, now: NOW, relaunchSeconds: 40, maxSeconds: 600, firstRank: 1, count: 1 })[0]).toBeGreaterThanOrEqual(15);
    });
  });

  describe('idleTimeoutsByRank', () => {
    it('never keeps a host further back in line longer than one ahead of it, nor past the operator timeout', () => {
      fc.assert(fc.property(arrivalsArb, relaunchArb, maxArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 40 }),
        (arrivals, relaunchSeconds, maxSeconds, firstRank, count) => {
          const taus = idleTimeoutsByRank({ arrivals, now: NOW, relaunchSeconds, maxSeconds, firstRank, count });
          expect(taus).toHaveLength(count);
          for (let i = 0; i < taus.length; i++) {
            expect(taus[i]).toBeGreaterThanOrEqual(0);
            expect(taus[i]).toBeLessThanOrEqual(i === 0 ? maxSeconds : taus[i - 1]);
          }
        }));
    });
  });
});

describe('DemandHistory', () => {
  const host = (hostId: string, taskCount: number, status: FleetHost['status'] = 'ACTIVE'): FleetHost => ({
    hostId, instanceType: 'm6i.large', market: 'on-demand', status, cpu: 2048, memory: 7782,
    reservedCpu: taskCount * 512, reservedMemory: taskCount * 1024, taskCount, launchedAt: NOW - 3600 * SECOND,
  });
  const waiting = (taskId: string, sinceSecondsAgo: number) => ({ taskId, cluster: 'default', cpu: 512, memory: 1024, since: NOW - sinceSecondsAgo * SECOND });

  it('counts a waiting task once, however many cycles see it, and an idle host that took work', () => {
    const h = new DemandHistory(3600 * SECOND);
    h.observe(NOW - 20 * SECOND, [host('a', 0), host('b', 1)], [waiting('t1', 25)]);
    h.observe(NOW - 10 * SECOND, [host('a', 2), host('b', 1)], [waiting('t1', 25), waiting('t2', 12)]);
    h.observe(NOW, [host('a', 2), host('b', 0)], []);
    const recent = h.recent(NOW);
    expect(recent.map((e) => [e.kind, (NOW - e.at) / SECOND])).toEqual([['waited', 25], ['waited', 12], ['took-idle-host', 10]]);
    expect(recent[2]).toMatchObject({ cpu: 1024, memory: 2048 });
  });

  it('records when a host went idle, once per idle spell, by its idleSince', () => {
    const h = new DemandHistory(3600 * SECOND);
    const idle = (hostId: string, idleSecondsAgo: number): FleetHost => ({ ...host(hostId, 0), idleSince: NOW - idleSecondsAgo * SECOND });
    h.observe(NOW - 20 * SECOND, [idle('a', 30), host('b', 1)], []);
    h.observe(NOW - 10 * SECOND, [idle('a', 30), idle('b', 15)], []);
    h.observe(NOW - 5 * SECOND, [host('a', 1), idle('b', 15)], []);
    h.observe(NOW, [idle('a', 2), idle('b', 15), host('c', 0, 'LAUNCHING')], []);
    expect(h.idleStarts(NOW).map((t) => (NOW - t) / SECOND)).toEqual([30, 15, 2]);
  });

  it('forgets what is older than its window', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 7200 }), { maxLength: 30 }), (ago) => {
      const h = new DemandHistory(600 * SECOND);
      h.observe(NOW, [], ago.map((s, i) => waiting(`t${i}`, s)));
      const recent = h.recent(NOW);
      expect(recent).toHaveLength(ago.filter((s) => s <= 600).length);
      for (let i = 1; i < recent.length; i++) expect(recent[i].at).toBeGreaterThanOrEqual(recent[i - 1].at);
    }));
  });
});
