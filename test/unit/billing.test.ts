import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { apportionHost, hostBillMicros, weightOf } from '../../shared/billing/apportion';
import {
  FARGATE_MINIMUM_SECONDS, fargateBilledSeconds, fargateChargeMicros, fargateRatePerHour1024, fargateRates, fargateSizeFor,
} from '../../shared/billing/fargate';
import { costMetrics } from '../../shared/billing/metrics';
import { chargeMicros, formatUsd, nanoUsd, splitExactly } from '../../shared/billing/money';
import { formatEmf } from '../../shared/metrics/emf';
import { DEFAULT_PRICES, PriceCatalogError, loadPriceCatalog } from '../../shared/billing/prices';
import { costReport } from '../../shared/billing/report';
import type { HostUsage, TaskUsage } from '../../shared/billing/usage';
import { FARGATE_SIZES, fargateMemoryChoices, isFargateSize } from '../../shared/domain/sizes';

const VALID_SIZES = FARGATE_SIZES.flatMap((r) => fargateMemoryChoices(r.cpu).map((memory) => ({ cpu: r.cpu, memory })));
const T0 = Date.UTC(2026, 10, 1);

describe('Money', () => {
  describe('splitExactly', () => {
    it('splits a total into integers that add up to it exactly, each within one unit of its proportion', () => {
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 1e12 }), fc.array(fc.bigInt({ min: 0n, max: 10n ** 15n }), { minLength: 1, maxLength: 20 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const parts = splitExactly(total, weights);
          const sum = weights.reduce((a, w) => a + w, 0n);
          expect(parts.reduce((a, p) => a + p, 0)).toBe(total);
          parts.forEach((p, i) => {
            const exact = (BigInt(total) * weights[i]) / sum;
            expect(BigInt(p) - exact).toBeGreaterThanOrEqual(0n);
            expect(BigInt(p) - exact).toBeLessThanOrEqual(1n);
          });
        },
      ));
    });
  });

  it('charges a rate over consecutive stretches exactly as over their whole', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.array(fc.integer({ min: 0, max: 10 * 86_400_000 }), { minLength: 2, maxLength: 10 }),
      (rate, times) => {
        const sorted = [...times].sort((a, b) => a - b);
        let pieces = 0;
        for (let i = 0; i + 1 < sorted.length; i++) pieces += chargeMicros(rate, sorted[i + 1]) - chargeMicros(rate, sorted[i]);
        expect(pieces).toBe(chargeMicros(rate, sorted.at(-1)!) - chargeMicros(rate, sorted[0]));
      },
    ));
  });

  it.each([
    [0.085, 3_600_000, 85_000], [0.085, 1000, 24], [0.04048, 3_600_000, 40_480], [0, 3_600_000, 0], [0.000001, 1800_000, 1],
  ])('charges $%p an hour over %p ms as %p micro-dollars', (usd, ms, micros) => {
    expect(chargeMicros(nanoUsd(usd), ms)).toBe(micros);
  });

  it('writes micro-dollars as exact dollars', () => {
    expect(formatUsd(1_234_567)).toBe('1.234567');
    expect(formatUsd(-5)).toBe('-0.000005');
    expect(formatUsd(0)).toBe('0.000000');
  });
});

describe('Fargate billing', () => {
  describe('fargateBilledSeconds', () => {
    it.each([
      [0, 60], [1, 60], [59_999, 60], [60_000, 60], [60_001, 61], [61_000, 61], [61_001, 62], [3_600_000, 3600],
    ])('bills %p ms as %p s', (ms, seconds) => {
      expect(fargateBilledSeconds(T0, T0 + ms)).toBe(seconds);
    });

    it('bills every started second, never less than a minute', () => {
      fc.assert(fc.property(fc.integer({ min: 0, max: 30 * 86_400_000 }), (ms) => {
        const s = fargateBilledSeconds(T0, T0 + ms);
        expect(s).toBeGreaterThanOrEqual(FARGATE_MINIMUM_SECONDS);
        expect(s * 1000).toBeGreaterThanOrEqual(ms);
        if (ms > 60_000) expect((s - 1) * 1000).toBeLessThan(ms);
      }));
    });
  });

  describe('fargateSizeFor', () => {
    it('picks the cheapest Fargate size that holds the task, at any positive rates', () => {
      fc.assert(fc.property(
        fc.integer({ min: 1, max: 16384 }), fc.integer({ min: 1, max: 122880 }),
        fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }),
        (cpu, memory, cpuRate, memRate) => {
          const fit = fargateSizeFor({ cpu, memory });
          if (!fit.fits) throw new Error(`${cpu}/${memory}: ${fit.reason}`);
          expect(isFargateSize(fit.cpu, fit.memory)).toBe(true);
          expect(fit.cpu).toBeGreaterThanOrEqual(cpu);
          expect(fit.memory).toBeGreaterThanOrEqual(memory);
          const price = (s: { cpu: number; memory: number }) => s.cpu * cpuRate + s.memory * memRate;
          for (const s of VALID_SIZES) if (s.cpu >= cpu && s.memory >= memory) expect(price(s)).toBeGreaterThanOrEqual(price(fit));
        },
      ));
    });

    it('keeps every Fargate size as it is, and rounds one unit past it up', () => {
      for (const s of VALID_SIZES) {
        expect(fargateSizeFor(s)).toEqual({ fits: true, ...s });
        const up = fargateSizeFor({ cpu: s.cpu, memory: s.memory + 1 });
        if (up.fits) expect(up.memory > s.memory || up.cpu > s.cpu).toBe(true);
      }
    });

    it.each([
      [{ cpu: 256, memory: 2049 }, { cpu: 512, memory: 3072 }],
      [{ cpu: 257, memory: 512 }, { cpu: 512, memory: 1024 }],
      [{ cpu: 4096, memory: 30721 }, { cpu: 8192, memory: 32768 }],
      [{ cpu: 100, memory: 100 }, { cpu: 256, memory: 512 }],
    ])('rounds %p up to %p', (task, size) => {
      expect(fargateSizeFor(task)).toEqual({ fits: true, ...size });
    });

    it.each([
      [{ cpu: 16385, memory: 1024 }, /largest task is 16 vCPU and 120 GB/],
      [{ cpu: 1024, memory: 122881 }, /largest task/],
      [{ cpu: 1024, memory: 2048, gpus: 1 }, /no GPUs/],
      [{ cpu: 1024, memory: 2048, ephemeralStorageGiB: 201 }, /200 GiB/],
    ])('says Fargate cannot hold %p', (task, reason) => {
      const fit = fargateSizeFor(task);
      expect(fit.fits).toBe(false);
      expect(!fit.fits && fit.reason).toMatch(reason);
    });
  });

  describe('prices', () => {
    it('prices 1 vCPU and 2 GB on-demand x86 for an hour at the list rates', () => {
      const { rates } = fargateRates(DEFAULT_PRICES, 'x86_64', 'on-demand');
      const rate = fargateRatePerHour1024({ cpu: 1024, memory: 2048 }, rates, DEFAULT_PRICES.fargate.ephemeralStorageGbHour);
      expect(fargateChargeMicros(rate, 3_600_000)).toBe(40_480 + 2 * 4_445);
    });

    it('bills ephemeral storage above 20 GiB only', () => {
      const { rates } = fargateRates(DEFAULT_PRICES, 'x86_64', 'on-demand');
      const at = (gib: number) => fargateChargeMicros(fargateRatePerHour1024({ cpu: 1024, memory: 2048 }, rates, 0.000111, gib), 3_600_000);
      expect(at(20)).toBe(at(0));
      expect(at(21) - at(20)).toBe(111);
      expect(at(200) - at(20)).toBe(180 * 111);
    });

    it('prices spot tasks at Fargate Spot, but arm64 ones at on-demand, which Fargate Spot does not run', () => {
      expect(fargateRates(DEFAULT_PRICES, 'x86_64', 'spot')).toEqual({ rates: DEFAULT_PRICES.fargate.x86_64.spot, market: 'spot' });
      expect(fargateRates(DEFAULT_PRICES, 'arm64', 'spot')).toEqual({ rates: DEFAULT_PRICES.fargate.arm64.onDemand, market: 'on-demand' });
    });

    it('takes the operator\'s prices from BERTH_PRICES or BERTH_PRICES_FILE, over the defaults', () => {
      const p = loadPriceCatalog({ BERTH_PRICES: JSON.stringify({ takenAt: '2027-01-01', instances: { 'c6i.large': { onDemand: 0.1, spot: 0.03 } } }) });
      expect(p.takenAt).toBe('2027-01-01');
      expect(p.source).toBe('BERTH_PRICES');
      expect(p.instances['c6i.large']).toEqual({ onDemand: 0.1, spot: 0.03 });
      expect(p.instances['m6i.large']).toEqual(DEFAULT_PRICES.instances['m6i.large']);
      expect(p.fargate).toEqual(DEFAULT_PRICES.fargate);
      expect(loadPriceCatalog({})).toBe(DEFAULT_PRICES);
    });

    it.each([
      [{ BERTH_PRICES: '{' }, /BERTH_PRICES: not JSON/],
      [{ BERTH_PRICES: '{"fargate":{"x86_64":{"onDemand":{"vcpuHour":-1,"gbHour":0}}}}' }, /fargate.x86_64.onDemand.vcpuHour/],
      [{ BERTH_PRICES: '{"instance":{}}' }, /Unrecognized key/],
      [{ BERTH_PRICES_FILE: '/nonexistent/prices.json' }, /cannot read/],
    ])('refuses bad prices %p', (env, message) => {
      expect(() => loadPriceCatalog(env)).toThrow(PriceCatalogError);
      expect(() => loadPriceCatalog(env)).toThrow(message);
    });
  });
});

const hostArb = fc.record({
  start: fc.integer({ min: T0, max: T0 + 3_600_000 }),
  length: fc.integer({ min: 1, max: 3 * 3_600_000 }),
  cpu: fc.integer({ min: 1, max: 65_536 }),
  memory: fc.integer({ min: 1, max: 262_144 }),
  nanoPerHour: fc.bigInt({ min: 0n, max: 10n ** 11n }),
}).map(({ length, ...h }) => ({ ...h, end: h.start + length }));

const tasksArb = (host: { start: number; end: number; cpu: number; memory: number }) => fc.array(fc.record({
  a: fc.integer({ min: host.start - 600_000, max: host.end + 600_000 }),
  b: fc.integer({ min: host.start - 600_000, max: host.end + 600_000 }),
  cpu: fc.integer({ min: 1, max: host.cpu }),
  memory: fc.integer({ min: 1, max: host.memory }),
}), { maxLength: 12 }).map((ts) => ts.map((t, i) => ({ id: `t${i}`, start: Math.min(t.a, t.b), end: Math.max(t.a, t.b), cpu: t.cpu, memory: t.memory })));

describe('apportionHost', () => {
  it('splits the host\'s bill into task shares and overhead that add up to it exactly', () => {
    fc.assert(fc.property(
      hostArb.chain((h) => fc.tuple(fc.constant(h), tasksArb(h), fc.array(fc.integer({ min: h.start, max: h.end }), { maxLength: 5 }))),
      ([host, tasks, cuts]) => {
        const segments = apportionHost(host, tasks, cuts);
        let sum = 0;
        for (const s of segments) {
          const parts = Object.values(s.shares).reduce((a, v) => a + v, 0) + s.overhead;
          expect(parts).toBe(s.total);
          expect(s.overhead).toBeGreaterThanOrEqual(0);
          sum += parts;
        }
        expect(sum).toBe(hostBillMicros(host));
        // The stretches tile the host's life.
        expect(segments[0].start).toBe(host.start);
        expect(segments.at(-1)!.end).toBe(host.end);
        segments.slice(1).forEach((s, i) => expect(s.start).toBe(segments[i].end));
      },
    ));
  });

  it('charges a task alone on its host the larger of its cpu and memory shares, and leaves the rest as overhead', () => {
    fc.assert(fc.property(hostArb.chain((h) => fc.tuple(fc.constant(h), tasksArb(h).filter((ts) => ts.length > 0))), ([host, [task]]) => {
      const segments = apportionHost(host, [task]);
      for (const s of segments) {
        const share = s.shares[task.id];
        if (share === undefined) continue;
        const exact = (BigInt(s.total) * weightOf(task, host)) / (BigInt(host.cpu) * BigInt(host.memory));
        expect(BigInt(share) - exact).toBeGreaterThanOrEqual(0n);
        expect(BigInt(share) - exact).toBeLessThanOrEqual(1n);
      }
      const held = segments.filter((s) => task.start <= s.start && task.end >= s.end);
      const notHeld = segments.filter((s) => !held.includes(s));
      for (const s of notHeld) expect(s.overhead).toBe(s.total);
    }));
  });

  it('leaves no overhead while the tasks hold the whole host, and splits it by their shares', () => {
    const host = { start: T0, end: T0 + 3_600_000, cpu: 2048, memory: 4096, nanoPerHour: nanoUsd(0.1) };
    const segments = apportionHost(host, [
      { id: 'cpu-heavy', start: T0, end: T0 + 3_600_000, cpu: 2048, memory: 1024 },
      { id: 'memory-heavy', start: T0, end: T0 + 3_600_000, cpu: 512, memory: 4096 },
    ]);
    expect(segments).toEqual([{ start: T0, end: T0 + 3_600_000, total: 100_000, shares: { 'cpu-heavy': 50_000, 'memory-heavy': 50_000 }, overhead: 0 }]);
  });

  it('makes the whole bill overhead when no task is on the host', () => {
    const host = { start: T0, end: T0 + 1_800_000, cpu: 2048, memory: 4096, nanoPerHour: nanoUsd(0.085) };
    expect(apportionHost(host, [])).toEqual([{ start: T0, end: T0 + 1_800_000, total: 42_500, shares: {}, overhead: 42_500 }]);
  });
});

describe('costReport', () => {
  const usageArb = fc.record({
    hostCount: fc.integer({ min: 1, max: 3 }),
    tasks: fc.array(fc.record({
      host: fc.integer({ min: 0, max: 2 }),
      placedAfter: fc.integer({ min: 0, max: 7_200_000 }),
      pullAfter: fc.integer({ min: 0, max: 5_000 }),
      runFor: fc.option(fc.integer({ min: 0, max: 7_200_000 }), { nil: undefined }),
      size: fc.constantFrom({ cpu: 256, memory: 512 }, { cpu: 1024, memory: 2048 }, { cpu: 300, memory: 3000 }, { cpu: 2048, memory: 1024 }),
      team: fc.constantFrom('a', 'b'),
      spot: fc.boolean(),
    }), { maxLength: 15 }),
  });

  const build = (g: typeof usageArb extends fc.Arbitrary<infer T> ? T : never) => {
    const hosts: HostUsage[] = Array.from({ length: g.hostCount }, (_, i) => ({
      hostId: `h${i}`, instanceType: i === 2 ? 'm6i.large' : 'c6i.large', market: i === 1 ? 'spot' : 'on-demand',
      cpu: 2048, memory: 3840, launchedAt: T0 - 60_000, endedAt: i === 0 ? undefined : T0 + 10_000_000,
    }));
    const tasks: TaskUsage[] = g.tasks.map((t, i) => {
      const host = hosts[t.host % hosts.length];
      const placedAt = T0 + t.placedAfter;
      return {
        cluster: 'default', taskId: `t${i}`, family: 'f', revision: 1, tags: { team: t.team }, ...t.size,
        hostId: host.hostId, instanceType: host.instanceType, market: host.market, architecture: 'x86_64',
        placedAt, pullStartedAt: placedAt + t.pullAfter,
        stoppedAt: t.runFor === undefined ? undefined : Math.min(placedAt + t.pullAfter + t.runFor, host.endedAt ?? Infinity),
      };
    });
    return { hosts, tasks };
  };

  it('adds up: Berth\'s cost plus overhead is the fleet\'s bill, groups and buckets add up to the totals', () => {
    fc.assert(fc.property(usageArb, fc.constantFrom<('task' | 'tag:team' | 'market')[]>([], ['tag:team'], ['task'], ['market', 'tag:team']), (g, groupBy) => {
      const { hosts, tasks } = build(g);
      const now = T0 + 12_000_000;
      const r = costReport({ tasks, hosts, prices: DEFAULT_PRICES, from: T0 - 3_600_000, to: now, now, groupBy });
      expect(r.totals.berthCostMicroUsd + r.totals.overheadMicroUsd).toBe(r.totals.fleetBillMicroUsd);
      const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
      expect(sum(r.groups.map((x) => x.berthCostMicroUsd))).toBe(r.totals.berthCostMicroUsd);
      expect(sum(r.groups.map((x) => x.fargatePriceMicroUsd))).toBe(r.totals.fargatePriceMicroUsd);
      expect(sum(r.tasks.map((x) => x.berthCostMicroUsd))).toBe(r.totals.berthCostMicroUsd);
      const buckets = r.series.buckets;
      expect(sum(buckets.flatMap((b) => Object.values(b.groups).map((c) => c.berth)))).toBe(r.totals.berthCostMicroUsd);
      expect(sum(buckets.flatMap((b) => Object.values(b.groups).map((c) => c.fargate)))).toBe(r.totals.fargatePriceMicroUsd);
      expect(sum(buckets.map((b) => b.overhead))).toBe(r.totals.overheadMicroUsd);
      expect(r.totals.fleetBillMicroUsd).toBe(sum(hosts.map((h) => hostBillMicros({
        start: Math.max(h.launchedAt, T0 - 3_600_000), end: Math.min(h.endedAt ?? now, now),
        nanoPerHour: nanoUsd(h.market === 'spot' ? DEFAULT_PRICES.instances[h.instanceType!].spot : DEFAULT_PRICES.instances[h.instanceType!].onDemand),
      }))));
    }));
  });

  it('reports a period split in two as the sum of its halves', () => {
    fc.assert(fc.property(usageArb, fc.integer({ min: T0, max: T0 + 9_000_000 }), (g, mid) => {
      const { hosts, tasks } = build(g);
      const now = T0 + 12_000_000;
      const whole = costReport({ tasks, hosts, prices: DEFAULT_PRICES, from: T0 - 3_600_000, to: now, now, groupBy: [] });
      const halves = [costReport({ tasks, hosts, prices: DEFAULT_PRICES, from: T0 - 3_600_000, to: mid, now, groupBy: [] }),
        costReport({ tasks, hosts, prices: DEFAULT_PRICES, from: mid, to: now, now, groupBy: [] })];
      for (const k of ['fargatePriceMicroUsd', 'fleetBillMicroUsd'] as const) {
        expect(halves[0].totals[k] + halves[1].totals[k]).toBe(whole.totals[k]);
      }
    }));
  });

  it('prices a stopped task at Fargate\'s rate for its billed seconds, with the minute\'s minimum', () => {
    const task: TaskUsage = {
      cluster: 'default', taskId: 'short', family: 'f', revision: 1, tags: {}, cpu: 256, memory: 512, hostId: 'h', market: 'on-demand',
      instanceType: 'c6i.large', architecture: 'x86_64', placedAt: T0, pullStartedAt: T0, stoppedAt: T0 + 5_000,
    };
    const host: HostUsage = { hostId: 'h', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840, launchedAt: T0, endedAt: T0 + 3_600_000 };
    const r = costReport({ tasks: [task], hosts: [host], prices: DEFAULT_PRICES, from: T0, to: T0 + 3_600_000, now: T0 + 3_600_000, groupBy: ['task'] });
    const [row] = r.tasks;
    expect(row.fargateSize).toEqual({ cpu: 256, memory: 512 });
    expect(row.fargateBilledSeconds).toBe(60);
    // 0.25 vCPU × $0.04048 + 0.5 GB × $0.004445, for a minute.
    expect(row.fargatePriceMicroUsd).toBe(Math.round(((0.25 * 40_480 + 0.5 * 4_445) * 60) / 3600));
    // 5 s of a c6i.large ($0.085/h) at its memory share (512/3840), larger than its cpu share (256/2048).
    expect(row.berthCostMicroUsd).toBe(Math.round((85_000 * (512 / 3840) * 5) / 3600));
    expect(r.totals.overheadMicroUsd + row.berthCostMicroUsd).toBe(85_000);
    expect(r.prices).toEqual({ region: DEFAULT_PRICES.region, takenAt: DEFAULT_PRICES.takenAt, source: DEFAULT_PRICES.source });

    // A report made seconds after the stop still sees the whole minute Fargate would bill.
    const soon = costReport({ tasks: [task], hosts: [host], prices: DEFAULT_PRICES, from: T0 - 60_000, to: T0 + 10_000, now: T0 + 10_000, groupBy: [] });
    expect(soon.totals.fargatePriceMicroUsd).toBe(row.fargatePriceMicroUsd);
  });
});

describe('costMetrics', () => {
  it('gives each cluster and service its hourly cost as EMF, adding up to the report', () => {
    const host: HostUsage = { hostId: 'h', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840, launchedAt: T0 };
    const tasks: TaskUsage[] = ['web', 'web', undefined].map((service, i) => ({
      cluster: 'prod', taskId: `t${i}`, family: 'f', revision: 1, tags: {}, cpu: 256, memory: 512, service, hostId: 'h', market: 'on-demand',
      instanceType: 'c6i.large', architecture: 'x86_64', placedAt: T0 + i * 1_800_000, pullStartedAt: T0 + i * 1_800_000, stoppedAt: T0 + i * 1_800_000 + 2_400_000,
    }));
    const r = costReport({ tasks, hosts: [host], prices: DEFAULT_PRICES, from: T0, to: T0 + 3 * 3_600_000, now: T0 + 3 * 3_600_000, groupBy: ['cluster', 'service'] });

    const data = costMetrics(r);
    const records = formatEmf(data);

    const total = (name: string, service?: string) => data.filter((d) => d.name === name && (service === undefined || d.dimensions.ServiceName === service))
      .reduce((a, d) => a + Math.round(d.values[0] * 1e6), 0);
    expect(total('BerthCost')).toBe(r.totals.berthCostMicroUsd);
    expect(total('FargatePrice')).toBe(r.totals.fargatePriceMicroUsd);
    expect(total('FleetOverhead')).toBe(r.totals.overheadMicroUsd);
    expect(total('BerthCost', 'web')).toBe(r.groups.find((g) => g.key.service === 'web')!.berthCostMicroUsd);
    expect(new Set(data.map((d) => d.timestamp % 3_600_000))).toEqual(new Set([0]));
    expect(records.some((x) => x._aws.CloudWatchMetrics[0].Dimensions.some((d) => d.join() === 'ClusterName,ServiceName'))).toBe(true);
    expect(() => costMetrics({ ...r, groupBy: ['task'] })).toThrow(RangeError);
  });
});
