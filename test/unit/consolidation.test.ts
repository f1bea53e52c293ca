import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG, capacityOf, findType } from '../../shared/capacity/catalog';
import { type ConsolidationHost, type ConsolidationPolicy, DEFAULT_CONSOLIDATION_POLICY, planConsolidation } from '../../shared/capacity/consolidation';
import { DEFAULT_CAPACITY_POLICY } from '../../shared/capacity/planner';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

const host = (hostId: string, tasks: ConsolidationHost['tasks'], over: Partial<ConsolidationHost> = {}): ConsolidationHost => ({
  hostId, status: 'ACTIVE', market: 'on-demand', cpu: 2048, memory: 7782, launchedAt: NOW - HOUR, hourlyPrice: 0.096, tasks, ...over,
});
const policy: ConsolidationPolicy = { minHostAgeSeconds: 600, maxDrainingHosts: 1 };

describe('Consolidation', () => {
  describe('planConsolidation', () => {
    it('cordons the host whose tasks fit on the others, and says where they would go', () => {
      const hosts = [
        host('h1', [{ taskId: 'a', cpu: 1024, memory: 2048 }]),
        host('h2', [{ taskId: 'b', cpu: 512, memory: 1024, group: 'service:web' }]),
      ];
      expect(planConsolidation({ hosts, policy, now: NOW })).toEqual({ cordons: ['h2'], moves: { b: 'h1' } });
    });

    it('leaves alone a host whose tasks do not fit elsewhere, a young host, and empty hosts as destinations', () => {
      const full = [
        host('h1', [{ taskId: 'a', cpu: 1536, memory: 2048 }]),
        host('h2', [{ taskId: 'b', cpu: 1024, memory: 1024 }]),
        host('idle', []),
      ];
      expect(planConsolidation({ hosts: full, policy, now: NOW }).cordons).toEqual([]);
      const young = [host('h1', [{ taskId: 'a', cpu: 256, memory: 512 }], { launchedAt: NOW - 60_000 }), host('h2', [{ taskId: 'b', cpu: 256, memory: 512 }], { launchedAt: NOW - 60_000 })];
      expect(planConsolidation({ hosts: young, policy, now: NOW }).cordons).toEqual([]);
    });

    it('keeps within the budget, counting hosts already draining', () => {
      const hosts = [
        host('h0', [{ taskId: 'z', cpu: 256, memory: 256 }], { status: 'DRAINING' }),
        host('h1', [{ taskId: 'a', cpu: 256, memory: 256 }]),
        host('h2', [{ taskId: 'b', cpu: 256, memory: 256 }]),
      ];
      expect(planConsolidation({ hosts, policy, now: NOW }).cordons).toEqual([]);
      expect(planConsolidation({ hosts, policy: { ...policy, maxDrainingHosts: 2 }, now: NOW }).cordons).toEqual(['h1']);
    });

    it('moves tasks only within their market and pool, and never onto a taken host port', () => {
      const split = [
        host('h1', [{ taskId: 'a', cpu: 256, memory: 256 }]),
        host('h2', [{ taskId: 'b', cpu: 256, memory: 256 }], { market: 'spot' }),
        host('h3', [{ taskId: 'c', cpu: 256, memory: 256 }], { pool: 'gpu' }),
      ];
      expect(planConsolidation({ hosts: split, policy, now: NOW }).cordons).toEqual([]);
      const ports = [
        host('h1', [{ taskId: 'a', cpu: 256, memory: 256, ports: ['80/tcp'] }]),
        host('h2', [{ taskId: 'b', cpu: 256, memory: 256, ports: ['80/tcp'] }]),
      ];
      expect(planConsolidation({ hosts: ports, policy, now: NOW }).cordons).toEqual([]);
    });

    const taskArb = fc.record({
      cpu: fc.constantFrom(256, 512, 1024, 2048),
      memory: fc.constantFrom(512, 1024, 2048, 4096),
      service: fc.option(fc.constantFrom('web', 'api'), { nil: undefined }),
      port: fc.option(fc.constantFrom('80/tcp', '443/tcp'), { freq: 4, nil: undefined }),
    });
    const hostArb = fc.record({
      status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING', 'LAUNCHING') as fc.Arbitrary<ConsolidationHost['status']>,
      market: fc.constantFrom('on-demand', 'spot') as fc.Arbitrary<ConsolidationHost['market']>,
      pool: fc.option(fc.constant('batch'), { freq: 5, nil: undefined }),
      size: fc.constantFrom(1, 2, 4),
      architecture: fc.option(fc.constantFrom('x86_64', 'arm64') as fc.Arbitrary<'x86_64' | 'arm64'>, { freq: 3, nil: undefined }),
      ageMinutes: fc.integer({ min: 0, max: 120 }),
      tasks: fc.array(taskArb, { maxLength: 6 }),
    });
    /** Random fleets, each host's tasks trimmed to what it can hold (the store never overcommits). */
    const fleetArb = fc.array(hostArb, { maxLength: 10 }).map((specs) => specs.map((s, i): ConsolidationHost => {
      const cpu = 2048 * s.size;
      const memory = 7782 * s.size;
      let usedCpu = 0;
      let usedMemory = 0;
      const taken = new Set<string>();
      const tasks: ConsolidationHost['tasks'][number][] = [];
      s.tasks.forEach((t, k) => {
        if (usedCpu + t.cpu > cpu || usedMemory + t.memory > memory || (t.port && taken.has(t.port))) return;
        usedCpu += t.cpu;
        usedMemory += t.memory;
        if (t.port) taken.add(t.port);
        tasks.push({ taskId: `t${i}-${k}`, cpu: t.cpu, memory: t.memory, ...(t.port ? { ports: [t.port] } : {}), ...(t.service ? { group: `service:${t.service}` } : {}) });
      });
      return { hostId: `h${i}`, status: s.status, market: s.market, ...(s.pool ? { pool: s.pool } : {}), ...(s.architecture ? { architecture: s.architecture } : {}), cpu, memory, launchedAt: NOW - s.ageMinutes * 60_000, hourlyPrice: 0.096 * s.size, tasks };
    }));
    const policyArb = fc.record({ minHostAgeSeconds: fc.constantFrom(0, 600, 1800), maxDrainingHosts: fc.integer({ min: 0, max: 4 }) });

    it('never overcommits: every task of every cordoned host fits, all at once, on hosts that stay, in its market, pool and architecture', () => {
      fc.assert(fc.property(fleetArb, policyArb, (hosts, p) => {
        const plan = planConsolidation({ hosts, policy: p, now: NOW });
        const byId = new Map(hosts.map((h) => [h.hostId, h]));
        const cordoned = new Set(plan.cordons);
        const load = new Map(hosts.map((h) => [h.hostId, {
          cpu: h.tasks.reduce((s, t) => s + t.cpu, 0), memory: h.tasks.reduce((s, t) => s + t.memory, 0), ports: h.tasks.flatMap((t) => t.ports ?? []),
        }]));
        for (const hostId of plan.cordons) {
          const h = byId.get(hostId)!;
          // Only ACTIVE busy hosts old enough are cordoned.
          expect(h.status).toBe('ACTIVE');
          expect(h.tasks.length).toBeGreaterThan(0);
          expect(NOW - h.launchedAt).toBeGreaterThanOrEqual(p.minHostAgeSeconds * 1000);
          for (const t of h.tasks) {
            const to = byId.get(plan.moves[t.taskId])!;
            expect(to).toBeDefined();
            expect(cordoned.has(to.hostId)).toBe(false);
            expect(to.status).toBe('ACTIVE');
            expect(to.tasks.length).toBeGreaterThan(0);
            expect([to.market, to.pool]).toEqual([h.market, h.pool]);
            // Never an x86_64 task onto an arm64 host, nor the reverse (a host without one is x86_64).
            expect(to.architecture ?? 'x86_64').toBe(h.architecture ?? 'x86_64');
            const l = load.get(to.hostId)!;
            l.cpu += t.cpu;
            l.memory += t.memory;
            for (const port of t.ports ?? []) {
              expect(l.ports).not.toContain(port);
              l.ports.push(port);
            }
          }
        }
        for (const h of hosts) {
          expect(load.get(h.hostId)!.cpu).toBeLessThanOrEqual(h.cpu);
          expect(load.get(h.hostId)!.memory).toBeLessThanOrEqual(h.memory);
        }
        // Nothing but the cordoned hosts' tasks moves.
        expect(Object.keys(plan.moves).sort()).toEqual(plan.cordons.flatMap((id) => byId.get(id)!.tasks.map((t) => t.taskId)).sort());
      }), { numRuns: 300 });
    });

    it('keeps within the disruption budget', () => {
      fc.assert(fc.property(fleetArb, policyArb, (hosts, p) => {
        const plan = planConsolidation({ hosts, policy: p, now: NOW });
        const draining = hosts.filter((h) => h.status === 'DRAINING' && h.tasks.length > 0).length;
        expect(plan.cordons.length).toBeLessThanOrEqual(Math.max(0, p.maxDrainingHosts - draining));
        expect(new Set(plan.cordons).size).toBe(plan.cordons.length);
      }), { numRuns: 300 });
    });

    describe('replacement', () => {
      const capacity = { catalog: DEFAULT_CATALOG, policy: DEFAULT_CAPACITY_POLICY };
      const replacing: ConsolidationPolicy = { ...policy, maxDrainingHosts: 4, replaceAtMostShare: 0.75 };
      const typed = (hostId: string, instanceType: string, tasks: ConsolidationHost['tasks']): ConsolidationHost => {
        const type = findType(DEFAULT_CATALOG, instanceType)!;
        return host(hostId, tasks, { instanceType, ...capacityOf(type), hourlyPrice: type.onDemandPrice });
      };
      const web = (taskId: string, cpu: number, memory: number) => ({ taskId, cpu, memory, group: 'service:web' });

      it('cordons hosts whose service tasks the capacity planner would put on fewer, cheaper hosts, and prices the swap', () => {
        // Three m6i.large hosts whose tasks fit on none of the others, but all together on one r6i.large.
        const hosts = ['h1', 'h2', 'h3'].map((id) => typed(id, 'm6i.large', [web(`${id}-a`, 256, 5000)]));
        const plan = planConsolidation({ hosts, policy: replacing, now: NOW, capacity });
        expect(plan.cordons).toEqual(['h1', 'h2', 'h3']);
        expect(plan.moves).toEqual({});
        expect(plan.replacements).toEqual([{ hostIds: ['h1', 'h2', 'h3'], launches: ['r6i.large'], hourlyPrice: 0.096 * 3, newHourlyPrice: 0.126 }]);
        // The budget caps the set: two of them still make a saving.
        expect(planConsolidation({ hosts, policy: { ...replacing, maxDrainingHosts: 2 }, now: NOW, capacity }).replacements)
          .toEqual([{ hostIds: ['h1', 'h2'], launches: ['r6i.large'], hourlyPrice: 0.096 * 2, newHourlyPrice: 0.126 }]);
      });

      it('leaves alone hosts with one-off tasks or fixed host ports, and replaces nothing without the catalog or the share', () => {
        const oneOff = ['h1', 'h2', 'h3'].map((id) => typed(id, 'm6i.large', [{ taskId: `${id}-a`, cpu: 256, memory: 5000 }]));
        expect(planConsolidation({ hosts: oneOff, policy: replacing, now: NOW, capacity }).cordons).toEqual([]);
        const ported = ['h1', 'h2', 'h3'].map((id) => typed(id, 'm6i.large', [{ ...web(`${id}-a`, 256, 5000), ports: [`80${id}/tcp`] }]));
        expect(planConsolidation({ hosts: ported, policy: replacing, now: NOW, capacity }).cordons).toEqual([]);
        const web3 = ['h1', 'h2', 'h3'].map((id) => typed(id, 'm6i.large', [web(`${id}-a`, 256, 5000)]));
        expect(planConsolidation({ hosts: web3, policy: replacing, now: NOW, capacity }).cordons).toHaveLength(3);
        expect(planConsolidation({ hosts: web3, policy: { ...replacing, replaceAtMostShare: undefined }, now: NOW, capacity }).replacements).toBeUndefined();
        expect(planConsolidation({ hosts: web3, policy: replacing, now: NOW }).replacements).toBeUndefined();
      });

      it('does not swap a host for one that costs more than the share allows', () => {
        // Two m6i.large hosts, three quarters used: their tasks need a c6i.xlarge, 0.885 of the two.
        const hosts = ['h1', 'h2'].map((id) => typed(id, 'm6i.large', [web(`${id}-a`, 1536, 2048)]));
        expect(planConsolidation({ hosts, policy: replacing, now: NOW, capacity }).cordons).toEqual([]);
        // The default share (0.9) takes that swap (two c6i.large, the same price): 11.5% less an hour, for a boot and a short overlap.
        const byDefault = { ...DEFAULT_CONSOLIDATION_POLICY, minHostAgeSeconds: 600, maxDrainingHosts: 2 };
        expect(planConsolidation({ hosts, policy: byDefault, now: NOW, capacity }).replacements)
          .toEqual([{ hostIds: ['h1', 'h2'], launches: ['c6i.large', 'c6i.large'], hourlyPrice: 0.096 * 2, newHourlyPrice: 0.17 }]);
      });

      const serviceFleetArb = fc.array(fc.record({
        type: fc.constantFrom('c6i.large', 'm6i.large', 'm6i.xlarge', 'r6i.large', 'm7g.large'),
        status: fc.constantFrom('ACTIVE', 'ACTIVE', 'ACTIVE', 'DRAINING') as fc.Arbitrary<ConsolidationHost['status']>,
        market: fc.constantFrom('on-demand', 'on-demand', 'spot') as fc.Arbitrary<ConsolidationHost['market']>,
        ageMinutes: fc.integer({ min: 0, max: 120 }),
        tasks: fc.array(fc.record({
          cpu: fc.constantFrom(256, 512, 1024, 2048),
          memory: fc.constantFrom(512, 1024, 2048, 4096),
          service: fc.boolean(),
        }), { maxLength: 5 }),
      }), { maxLength: 10 }).map((specs) => specs.map((s, i): ConsolidationHost => {
        const type = findType(DEFAULT_CATALOG, s.type)!;
        const room = capacityOf(type);
        let cpu = 0;
        let memory = 0;
        const tasks: ConsolidationHost['tasks'][number][] = [];
        s.tasks.forEach((t, k) => {
          if (cpu + t.cpu > room.cpu || memory + t.memory > room.memory) return;
          cpu += t.cpu;
          memory += t.memory;
          tasks.push({ taskId: `t${i}-${k}`, cpu: t.cpu, memory: t.memory, ...(t.service ? { group: 'service:web' } : {}) });
        });
        return {
          hostId: `h${i}`, status: s.status, market: s.market, instanceType: s.type, architecture: s.type.startsWith('m7g') ? 'arm64' : 'x86_64',
          ...room, launchedAt: NOW - s.ageMinutes * 60_000, hourlyPrice: s.market === 'spot' ? type.spotPrice : type.onDemandPrice, tasks,
        };
      }));
      const replacingArb = fc.record({
        minHostAgeSeconds: fc.constantFrom(0, 600),
        maxDrainingHosts: fc.integer({ min: 0, max: 5 }),
        replaceAtMostShare: fc.constantFrom(0.5, 0.75, 1),
      });

      it('never breaks the invariants: budget, age, only service tasks replaced, stayers never overcommitted, and a real saving', () => {
        fc.assert(fc.property(serviceFleetArb, replacingArb, (hosts, p) => {
          const plan = planConsolidation({ hosts, policy: p, now: NOW, capacity: { catalog: DEFAULT_CATALOG, policy: { ...DEFAULT_CAPACITY_POLICY, graviton: 'arm64' } } });
          const byId = new Map(hosts.map((h) => [h.hostId, h]));
          const draining = hosts.filter((h) => h.status === 'DRAINING' && h.tasks.length > 0).length;
          expect(plan.cordons.length).toBeLessThanOrEqual(Math.max(0, p.maxDrainingHosts - draining));
          expect(new Set(plan.cordons).size).toBe(plan.cordons.length);
          const cordoned = new Set(plan.cordons);
          const load = new Map(hosts.map((h) => [h.hostId, { cpu: h.tasks.reduce((s, t) => s + t.cpu, 0), memory: h.tasks.reduce((s, t) => s + t.memory, 0) }]));
          for (const hostId of plan.cordons) {
            const h = byId.get(hostId)!;
            expect(h.status).toBe('ACTIVE');
            expect(h.tasks.length).toBeGreaterThan(0);
            expect(NOW - h.launchedAt).toBeGreaterThanOrEqual(p.minHostAgeSeconds * 1000);
          }
          for (const [taskId, to] of Object.entries(plan.moves)) {
            const from = hosts.find((h) => h.tasks.some((t) => t.taskId === taskId))!;
            const t = from.tasks.find((x) => x.taskId === taskId)!;
            const dest = byId.get(to)!;
            expect(cordoned.has(from.hostId)).toBe(true);
            expect(cordoned.has(to)).toBe(false);
            expect([dest.status, dest.market, dest.architecture]).toEqual(['ACTIVE', from.market, from.architecture]);
            load.get(to)!.cpu += t.cpu;
            load.get(to)!.memory += t.memory;
          }
          for (const h of hosts) {
            expect(load.get(h.hostId)!.cpu).toBeLessThanOrEqual(h.cpu);
            expect(load.get(h.hostId)!.memory).toBeLessThanOrEqual(h.memory);
          }
          for (const r of plan.replacements ?? []) {
            const set = r.hostIds.map((id) => byId.get(id)!);
            // Only hosts holding nothing but service tasks, of one market and architecture, all cordoned.
            for (const h of set) {
              expect(cordoned.has(h.hostId)).toBe(true);
              expect(h.tasks.every((t) => t.group === 'service:web')).toBe(true);
              expect([h.market, h.architecture]).toEqual([set[0].market, set[0].architecture]);
            }
            expect(r.hourlyPrice).toBeCloseTo(set.reduce((s, h) => s + h.hourlyPrice, 0), 9);
            expect(r.newHourlyPrice).toBeLessThanOrEqual(p.replaceAtMostShare * r.hourlyPrice + 1e-12);
            expect(r.newHourlyPrice).toBeLessThan(r.hourlyPrice);
            // What the new hosts hold is what the hosts that stay did not take, and it fits in them.
            const rest = set.flatMap((h) => h.tasks).filter((t) => plan.moves[t.taskId] === undefined);
            const types = r.launches.map((name) => capacityOf(findType(DEFAULT_CATALOG, name)!));
            expect(rest.reduce((s, t) => s + t.cpu, 0)).toBeLessThanOrEqual(types.reduce((s, c) => s + c.cpu, 0));
            expect(rest.reduce((s, t) => s + t.memory, 0)).toBeLessThanOrEqual(types.reduce((s, c) => s + c.memory, 0));
          }
        }), { numRuns: 300 });
      });
    });

    it('is deterministic: the same fleet in any order gives the same plan', () => {
      fc.assert(fc.property(fleetArb, policyArb, fc.integer(), (hosts, p, seed) => {
        const shuffled = [...hosts].sort((a, b) => ((a.hostId.length * seed) ^ a.hostId.charCodeAt(1)) - ((b.hostId.length * seed) ^ b.hostId.charCodeAt(1)));
        expect(planConsolidation({ hosts: shuffled, policy: p, now: NOW })).toEqual(planConsolidation({ hosts, policy: p, now: NOW }));
      }), { numRuns: 200 });
    });
  });
});
