import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { type ConsolidationHost, type ConsolidationPolicy, planConsolidation } from '../../shared/capacity/consolidation';

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

    it('is deterministic: the same fleet in any order gives the same plan', () => {
      fc.assert(fc.property(fleetArb, policyArb, fc.integer(), (hosts, p, seed) => {
        const shuffled = [...hosts].sort((a, b) => ((a.hostId.length * seed) ^ a.hostId.charCodeAt(1)) - ((b.hostId.length * seed) ^ b.hostId.charCodeAt(1)));
        expect(planConsolidation({ hosts: shuffled, policy: p, now: NOW })).toEqual(planConsolidation({ hosts, policy: p, now: NOW }));
      }), { numRuns: 200 });
    });
  });
});
