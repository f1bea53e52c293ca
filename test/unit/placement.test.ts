import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PlacementStrategyType } from '../../shared/domain/task';
import {
  type Demand,
  type HostStatus,
  type Placement,
  type HostView,
  type Plan,
  applyToView,
  planBatch,
  planPlacement,
  score,
} from '../../shared/scheduler/placement';

// ---------------------------------------------------------------------------------------------
// Generators

const strategyArb = fc.constantFrom<PlacementStrategyType>('binpack', 'spread');

/** planBatch's tie salt: none (equals by id) or any, as concurrent placers pass. */
const saltArb = fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: undefined });

/** A service's placement: spread by instance over its group (the compiled, not the bare, path). */
const SERVICE_SPREAD = { strategies: [{ type: 'spread' as const, field: 'instanceId' }], constraints: [], group: 'service:web' };

const statusArb: fc.Arbitrary<HostStatus> = fc.oneof(
  { arbitrary: fc.constant<HostStatus>('ACTIVE'), weight: 6 },
  { arbitrary: fc.constantFrom<HostStatus>('LAUNCHING', 'DRAINING', 'TERMINATED', 'LOST'), weight: 2 },
);

/** Some amount already reserved out of `capacity`: often none, sometimes all of it. */
const reservedArb = (capacity: number): fc.Arbitrary<number> =>
  fc.oneof(fc.constant(0), fc.integer({ min: 0, max: capacity }), fc.constant(capacity));

const hostArb = (hostId: string): fc.Arbitrary<HostView> =>
  fc
    .record({
      status: statusArb,
      cpu: fc.integer({ min: 1024, max: 16384 }),
      memory: fc.integer({ min: 1024, max: 65536 }),
      taskCount: fc.integer({ min: 0, max: 20 }),
    })
    .chain((h) =>
      fc.record({ reservedCpu: reservedArb(h.cpu), reservedMemory: reservedArb(h.memory) }).map((r) => ({ hostId, ...h, ...r })),
    );

const hostsArb = (maxLength: number): fc.Arbitrary<HostView[]> =>
  fc
    .integer({ min: 0, max: maxLength })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(`host-${String(i).padStart(2, '0')}`))))
    .map((hosts) => [...hosts]);

const sizeArb = fc.record({
  cpu: fc.oneof(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 16384 })),
  memory: fc.oneof(fc.integer({ min: 1, max: 8192 }), fc.integer({ min: 1, max: 65536 })),
});

const demandsArb = (maxLength: number): fc.Arbitrary<Demand[]> =>
  fc.array(sizeArb, { maxLength }).map((sizes) => sizes.map((s, i) => ({ taskId: `task-${i}`, ...s })));

// ---------------------------------------------------------------------------------------------
// Independent checks

const fits = (h: HostView, d: { cpu: number; memory: number }): boolean =>
  h.status === 'ACTIVE' && h.reservedCpu + d.cpu <= h.cpu && h.reservedMemory + d.memory <= h.memory;

const withinCapacity = (h: HostView): boolean => h.reservedCpu <= h.cpu && h.reservedMemory <= h.memory;

const aHost = (hostId: string, h: Partial<HostView> = {}): HostView => ({
  hostId, status: 'ACTIVE', cpu: 4096, memory: 8192, reservedCpu: 0, reservedMemory: 0, taskCount: 0, ...h,
});

/**
 * The plan applier's conditional write, as HostStore.reserve words it, over an in-memory table:
 * the host must still be ACTIVE, must not hold the task yet, and must hold no more than the plan's
 * maxReserved amounts. Returns false where DynamoDB would fail the condition.
 */
type HostRow = { -readonly [K in keyof HostView]: HostView[K] } & { reservations: Set<string> };

class HostTable {
  private readonly rows = new Map<string, HostRow>();

  constructor(hosts: readonly HostView[]) {
    for (const h of hosts) this.rows.set(h.hostId, { ...h, reservations: new Set() });
  }

  snapshot(): HostView[] {
    return [...this.rows.values()].map(({ reservations: _, ...h }) => ({ ...h }));
  }

  reserve(plan: Plan): boolean {
    const row = this.rows.get(plan.hostId);
    if (
      !row ||
      row.status !== 'ACTIVE' ||
      row.reservations.has(plan.taskId) ||
      row.reservedCpu > plan.maxReservedCpu ||
      row.reservedMemory > plan.maxReservedMemory
    ) {
      return false;
    }
    row.reservations.add(plan.taskId);
    row.reservedCpu += plan.cpu;
    row.reservedMemory += plan.memory;
    row.taskCount += 1;
    return true;
  }

  setStatus(hostId: string, status: HostStatus): void {
    const row = this.rows.get(hostId);
    if (row) row.status = status;
  }
}

// ---------------------------------------------------------------------------------------------

describe('placement', () => {
  describe('planPlacement', () => {
    it('plans only on an ACTIVE host the demand fits, and the planned host stays within capacity', () => {
      fc.assert(
        fc.property(hostsArb(8), sizeArb, strategyArb, (hosts, size, strategy) => {
          // Prepare
          const demand: Demand = { taskId: 'task-1', ...size };

          // Act
          const plan = planPlacement(hosts, demand, strategy);

          // Assess
          if (plan === undefined) {
            expect(hosts.filter((h) => fits(h, demand))).toEqual([]);
            return;
          }
          const host = hosts.find((h) => h.hostId === plan.hostId)!;
          expect(host).toBeDefined();
          expect(fits(host, demand)).toBe(true);
          expect(plan).toEqual({
            hostId: host.hostId,
            taskId: demand.taskId,
            cpu: demand.cpu,
            memory: demand.memory,
            maxReservedCpu: host.cpu - demand.cpu,
            maxReservedMemory: host.memory - demand.memory,
          });
          const after = applyToView(host, plan);
          expect(withinCapacity(after)).toBe(true);
          expect(after.taskCount).toBe(host.taskCount + 1);
        }),
        { numRuns: 300 },
      );
    });

    it('picks a feasible host with the best (lowest) score', () => {
      fc.assert(
        fc.property(hostsArb(8), sizeArb, strategyArb, (hosts, size, strategy) => {
          // Prepare
          const demand: Demand = { taskId: 'task-1', ...size };

          // Act
          const plan = planPlacement(hosts, demand, strategy);

          // Assess
          fc.pre(plan !== undefined);
          const host = hosts.find((h) => h.hostId === plan!.hostId)!;
          const chosen = score(host, demand, strategy);
          // Under binpack the score ranks busy hosts among themselves, and empty ones among themselves.
          const rivals = strategy === 'binpack' ? hosts.filter((x) => (x.taskCount > 0) === (host.taskCount > 0)) : hosts;
          for (const h of rivals.filter((x) => fits(x, demand))) {
            expect(chosen).toBeLessThanOrEqual(score(h, demand, strategy));
          }
        }),
        { numRuns: 200 },
      );
    });

    it('binpack never takes an empty host while a busy one has room, in one placement or in a batch', () => {
      fc.assert(
        fc.property(hostsArb(8), fc.array(sizeArb, { minLength: 1, maxLength: 6 }), (hosts, sizes) => {
          const demands = sizes.map((size, i): Demand => ({ taskId: `task-${i}`, ...size }));
          const plan = planPlacement(hosts, demands[0], 'binpack');
          fc.pre(plan !== undefined);
          if (hosts.find((h) => h.hostId === plan!.hostId)!.taskCount === 0) {
            expect(hosts.some((h) => h.taskCount > 0 && fits(h, demands[0]))).toBe(false);
          }
          // Each batch step: the host the batch chose was empty only when no busy host (as the batch left it) had room.
          let view = [...hosts];
          for (const p of planBatch(hosts, demands, 'binpack').plans) {
            const d = demands.find((x) => x.taskId === p.taskId)!;
            const on = view.find((h) => h.hostId === p.hostId)!;
            if (on.taskCount === 0) expect(view.some((h) => h.taskCount > 0 && fits(h, d))).toBe(false);
            view = view.map((h) => (h.hostId === p.hostId ? applyToView(h, p) : h));
          }
        }),
        { numRuns: 200 },
      );
    });

    it('binpack fills a large busy host before a small empty one the task would fill', () => {
      // Prepare: the task fills all of the small host, a quarter of the large one.
      const hosts = [
        aHost('small-empty', { cpu: 1024, memory: 2048, taskCount: 0, reservedCpu: 0, reservedMemory: 0 }),
        aHost('large-busy', { cpu: 8192, memory: 16384, taskCount: 1, reservedCpu: 1024, reservedMemory: 2048 }),
      ];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 1024, memory: 2048 }, 'binpack');

      // Assess
      expect(plan?.hostId).toBe('large-busy');
      expect(score(hosts[0], { taskId: 't', cpu: 1024, memory: 2048 }, 'binpack')).toBeLessThan(score(hosts[1], { taskId: 't', cpu: 1024, memory: 2048 }, 'binpack'));
    });

    it('spread prefers the host with the fewest tasks, even when it is fuller', () => {
      // Prepare
      const hosts = [
        aHost('host-a', { taskCount: 3, reservedCpu: 0, reservedMemory: 0 }),
        aHost('host-b', { taskCount: 1, reservedCpu: 3072, reservedMemory: 6144 }),
        aHost('host-c', { taskCount: 2, reservedCpu: 1024, reservedMemory: 1024 }),
      ];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 512, memory: 1024 }, 'spread');

      // Assess
      expect(plan?.hostId).toBe('host-b');
    });

    it('spread prefers the freer host between hosts with as many tasks', () => {
      // Prepare
      const hosts = [
        aHost('host-a', { taskCount: 2, reservedCpu: 2048, reservedMemory: 4096 }),
        aHost('host-b', { taskCount: 2, reservedCpu: 512, reservedMemory: 1024 }),
      ];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 512, memory: 1024 }, 'spread');

      // Assess
      expect(plan?.hostId).toBe('host-b');
    });

    it('binpack prefers the fuller host that still fits', () => {
      // Prepare
      const hosts = [
        aHost('host-a', { taskCount: 0 }),
        aHost('host-b', { taskCount: 5, reservedCpu: 3072, reservedMemory: 6144 }),
        aHost('host-c', { taskCount: 6, reservedCpu: 4096, reservedMemory: 8192 }),
      ];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 512, memory: 1024 }, 'binpack');

      // Assess
      expect(plan?.hostId).toBe('host-b');
    });

    it.each<PlacementStrategyType>(['binpack', 'spread'])('%s breaks a tie with the lower host id', (strategy) => {
      // Prepare
      const hosts = [aHost('host-b'), aHost('host-a'), aHost('host-c')];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 256, memory: 512 }, strategy);

      // Assess
      expect(plan?.hostId).toBe('host-a');
    });

    it.each<HostStatus>(['LAUNCHING', 'DRAINING', 'TERMINATED', 'LOST'])('never plans on a %s host', (status) => {
      // Prepare
      const hosts = [aHost('host-a', { status })];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 256, memory: 512 }, 'binpack');

      // Assess
      expect(plan).toBeUndefined();
    });

    it('plans a task that exactly fills the host', () => {
      // Prepare
      const hosts = [aHost('host-a', { reservedCpu: 1024, reservedMemory: 2048 })];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', cpu: 3072, memory: 6144 }, 'binpack');

      // Assess
      expect(plan).toMatchObject({ hostId: 'host-a', maxReservedCpu: 1024, maxReservedMemory: 2048 });
    });

    it.each([
      ['one cpu unit', { cpu: 3073, memory: 6144 }],
      ['one MiB', { cpu: 3072, memory: 6145 }],
    ])('plans nothing for a task %s too large', (_description, size) => {
      // Prepare
      const hosts = [aHost('host-a', { reservedCpu: 1024, reservedMemory: 2048 })];

      // Act
      const plan = planPlacement(hosts, { taskId: 't', ...size }, 'binpack');

      // Assess
      expect(plan).toBeUndefined();
    });
  });

  describe('planBatch', () => {
    it('never plans past a host\'s capacity, and only on ACTIVE hosts', () => {
      fc.assert(
        fc.property(hostsArb(6), demandsArb(30), strategyArb, saltArb, (hosts, demands, strategy, salt) => {
          // Act
          const { plans } = planBatch(hosts, demands, strategy, salt);

          // Assess
          for (const h of hosts) {
            const mine = plans.filter((p) => p.hostId === h.hostId);
            if (mine.length === 0) continue;
            expect(h.status).toBe('ACTIVE');
            expect(h.reservedCpu + mine.reduce((s, p) => s + p.cpu, 0)).toBeLessThanOrEqual(h.cpu);
            expect(h.reservedMemory + mine.reduce((s, p) => s + p.memory, 0)).toBeLessThanOrEqual(h.memory);
          }
          expect(plans.every((p) => hosts.some((h) => h.hostId === p.hostId))).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    it('accounts for every demand exactly once, planned at its own size or unplaced', () => {
      fc.assert(
        fc.property(hostsArb(6), demandsArb(30), strategyArb, saltArb, (hosts, demands, strategy, salt) => {
          // Act
          const { plans, unplaced } = planBatch(hosts, demands, strategy, salt);

          // Assess
          const accounted = [...plans.map((p) => p.taskId), ...unplaced.map((d) => d.taskId)].sort();
          expect(accounted).toEqual(demands.map((d) => d.taskId).sort());
          for (const p of plans) {
            const d = demands.find((x) => x.taskId === p.taskId)!;
            expect({ cpu: p.cpu, memory: p.memory }).toEqual({ cpu: d.cpu, memory: d.memory });
          }
          for (const d of unplaced) expect(demands).toContainEqual(d);
        }),
        { numRuns: 200 },
      );
    });

    it('leaves a demand unplaced only when it fits no host once the batch is planned', () => {
      fc.assert(
        fc.property(hostsArb(6), demandsArb(30), strategyArb, saltArb, (hosts, demands, strategy, salt) => {
          // Act
          const { plans, unplaced } = planBatch(hosts, demands, strategy, salt);

          // Assess: reservations only grow during the batch, so what did not fit then fits nowhere now.
          const final = plans.reduce(
            (hs, p) => hs.map((h) => (h.hostId === p.hostId ? applyToView(h, p) : h)),
            hosts,
          );
          for (const d of unplaced) {
            expect(final.filter((h) => fits(h, d)).map((h) => h.hostId)).toEqual([]);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('gives each plan maxReserved amounts that admit it on the host as planned so far', () => {
      fc.assert(
        fc.property(hostsArb(6), demandsArb(30), strategyArb, saltArb, (hosts, demands, strategy, salt) => {
          // Prepare
          const table = new HostTable(hosts);

          // Act
          const { plans } = planBatch(hosts, demands, strategy, salt);

          // Assess: applied in order against an uncontended table, no plan is refused.
          expect(plans.map((p) => table.reserve(p))).toEqual(plans.map(() => true));
          expect(table.snapshot().every(withinCapacity)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    it(
      'places exactly min(n, slots) of n identical tasks, ' +
        'where slots = Σ over ACTIVE hosts of min(⌊freeCpu / cpu⌋, ⌊freeMemory / memory⌋)',
      () => {
        // Why this holds for the greedy: with one task size, placing a task on a host lowers that
        // host's slots by exactly one, and a host is feasible exactly when it has a slot left; so
        // the greedy stops only when no slot is left anywhere, whatever host it picks each time.
        fc.assert(
          fc.property(
            hostsArb(6),
            fc.record({ cpu: fc.integer({ min: 128, max: 4096 }), memory: fc.integer({ min: 128, max: 8192 }) }),
            fc.integer({ min: 0, max: 60 }),
            strategyArb,
            saltArb,
            (hosts, size, n, strategy, salt) => {
              // Prepare
              const slots = hosts
                .filter((h) => h.status === 'ACTIVE')
                .reduce(
                  (s, h) =>
                    s + Math.min(Math.floor((h.cpu - h.reservedCpu) / size.cpu), Math.floor((h.memory - h.reservedMemory) / size.memory)),
                  0,
                );
              const demands = Array.from({ length: n }, (_, i) => ({ taskId: `task-${i}`, ...size }));

              // Act
              const { plans, unplaced } = planBatch(hosts, demands, strategy, salt);

              // Assess
              expect(plans).toHaveLength(Math.min(n, slots));
              expect(unplaced).toHaveLength(Math.max(0, n - slots));
            },
          ),
          { numRuns: 200 },
        );
      },
    );

    it('plans the largest task first, so spread still fits a big task among small ones', () => {
      // Prepare: in the order given, spread would put one small task on each host and leave no room for the big one.
      const hosts = [
        aHost('host-a', { cpu: 4096, memory: 2048 }),
        aHost('host-b', { cpu: 4096, memory: 2048 }),
      ];
      const demands: Demand[] = [
        { taskId: 'small-1', cpu: 256, memory: 1024 },
        { taskId: 'small-2', cpu: 256, memory: 1024 },
        { taskId: 'big', cpu: 256, memory: 2048 },
      ];

      // Act
      const { plans, unplaced } = planBatch(hosts, demands, 'spread');

      // Assess
      expect(unplaced).toEqual([]);
      expect(plans.map((p) => [p.taskId, p.hostId])).toEqual([
        ['big', 'host-a'],
        ['small-1', 'host-b'],
        ['small-2', 'host-b'],
      ]);
    });

    it('given a tie salt, reorders only hosts that rank equal: each task gets a host as good as by id', () => {
      fc.assert(
        fc.property(hostsArb(6), sizeArb, fc.constantFrom<Placement>('binpack', 'spread', SERVICE_SPREAD), fc.integer({ min: 0, max: 0xffff_ffff }),
          (hosts, size, placement, salt) => {
            // Prepare
            const demand = { taskId: 'task-0', ...size };
            const byId = planBatch(hosts, [demand], placement).plans[0];

            // Act
            const salted = planBatch(hosts, [demand], placement, salt).plans[0];

            // Assess: both find a host or neither does, and the hosts rank equal.
            expect(salted === undefined).toBe(byId === undefined);
            if (!salted || !byId) return;
            const rank = (hostId: string) => {
              const h = hosts.find((x) => x.hostId === hostId)!;
              return placement === SERVICE_SPREAD ? h.groupTasks?.['service:web'] ?? 0 : score(h, demand, placement as PlacementStrategyType);
            };
            expect(rank(salted.hostId)).toBe(rank(byId.hostId));
          }),
        { numRuns: 300 },
      );
    });

    it('given different salts, starts a spread batch on different equally empty hosts; the same salt, on the same ones', () => {
      // Prepare: ten empty hosts, all equally good for a service's first tasks.
      const hosts = Array.from({ length: 10 }, (_, i) => aHost(`host-${i}`));
      const batch = [0, 1, 2].map((i) => ({ taskId: `t${i}`, cpu: 256, memory: 512 }));
      const firstHosts = (salt: number) => planBatch(hosts, batch, SERVICE_SPREAD, salt).plans.map((p) => p.hostId);

      // Act
      const starts = Array.from({ length: 20 }, (_, salt) => firstHosts(salt));

      // Assess: each batch still spreads (three hosts), the batches do not all pick the same ones, and a salt fixes its order.
      for (const s of starts) expect(new Set(s).size).toBe(3);
      expect(new Set(starts.map((s) => s[0])).size).toBeGreaterThanOrEqual(5);
      expect(firstHosts(7)).toEqual(starts[7]);
      expect(planBatch(hosts, batch, SERVICE_SPREAD).plans.map((p) => p.hostId)).toEqual(['host-0', 'host-1', 'host-2']);
    });

    it('does not change the hosts it was given', () => {
      // Prepare
      const hosts = [aHost('host-a'), aHost('host-b')];
      const before = structuredClone(hosts);

      // Act
      planBatch(hosts, [{ taskId: 't', cpu: 1024, memory: 1024 }], 'binpack');

      // Assess
      expect(hosts).toEqual(before);
    });
  });

  describe('plan applier', () => {
    it('refuses the second of two plans made from one snapshot for the last room on a host', () => {
      // Prepare
      const hosts = [aHost('host-a', { reservedCpu: 3072, reservedMemory: 7168 })];
      const table = new HostTable(hosts);
      const first = planPlacement(hosts, { taskId: 'task-1', cpu: 1024, memory: 1024 }, 'binpack')!;
      const second = planPlacement(hosts, { taskId: 'task-2', cpu: 512, memory: 512 }, 'binpack')!;

      // Act
      const results = [table.reserve(first), table.reserve(second)];

      // Assess
      expect(results).toEqual([true, false]);
      expect(table.snapshot()[0]).toMatchObject({ reservedCpu: 4096, reservedMemory: 8192 });
    });

    it('admits both of two plans made from one snapshot when the host has room for both', () => {
      // Prepare: the condition is on room left, not on the snapshot being current.
      const hosts = [aHost('host-a', { reservedCpu: 2048, reservedMemory: 4096 })];
      const table = new HostTable(hosts);
      const first = planPlacement(hosts, { taskId: 'task-1', cpu: 1024, memory: 2048 }, 'binpack')!;
      const second = planPlacement(hosts, { taskId: 'task-2', cpu: 1024, memory: 2048 }, 'binpack')!;

      // Act
      const results = [table.reserve(first), table.reserve(second)];

      // Assess
      expect(results).toEqual([true, true]);
      expect(table.snapshot()[0]).toMatchObject({ reservedCpu: 4096, reservedMemory: 8192, taskCount: 2 });
    });

    it('never overcommits a host, whatever order stale plans from several placers are applied in', () => {
      type Step =
        | { kind: 'refresh'; placer: number }
        | { kind: 'place'; placer: number }
        | { kind: 'status'; host: number; status: HostStatus };
      const stepArb: fc.Arbitrary<Step> = fc.oneof(
        { arbitrary: fc.record({ kind: fc.constant('refresh' as const), placer: fc.nat(3) }), weight: 2 },
        { arbitrary: fc.record({ kind: fc.constant('place' as const), placer: fc.nat(3) }), weight: 6 },
        {
          arbitrary: fc.record({ kind: fc.constant('status' as const), host: fc.nat(3), status: statusArb }),
          weight: 1,
        },
      );
      // Few, small hosts and many tasks, so placers race for the same room.
      const smallHostsArb = fc
        .integer({ min: 1, max: 3 })
        .chain((n) =>
          fc.tuple(
            ...Array.from({ length: n }, (_, i) =>
              fc
                .record({
                  cpu: fc.oneof(fc.integer({ min: 1, max: 4 }).map((k) => k * 1024), fc.integer({ min: 1024, max: 4096 })),
                  memory: fc.oneof(fc.integer({ min: 1, max: 8 }).map((k) => k * 1024), fc.integer({ min: 1024, max: 8192 })),
                  taskCount: fc.integer({ min: 0, max: 3 }),
                })
                .chain((h) =>
                  fc
                    .record({
                      reservedCpu: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Math.floor(h.cpu / 2) })),
                      reservedMemory: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: Math.floor(h.memory / 2) })),
                    })
                    .map((r): HostView => ({ hostId: `host-${i}`, status: 'ACTIVE', ...h, ...r })),
                ),
            ),
          ),
        )
        .map((hs) => [...hs]);
      const queuesArb = fc.array(
        // Sizes that divide the hosts' often exactly, so hosts fill to the last unit, and odd ones besides.
        fc.array(
          fc.record({
            cpu: fc.oneof(fc.constantFrom(256, 512, 1024, 2048), fc.integer({ min: 1, max: 2048 })),
            memory: fc.oneof(fc.constantFrom(256, 512, 1024, 2048, 4096), fc.integer({ min: 1, max: 4096 })),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        { minLength: 2, maxLength: 4 },
      );
      let refused = 0;

      fc.assert(
        fc.property(smallHostsArb, queuesArb, fc.array(stepArb, { maxLength: 60 }), strategyArb, (hosts, queueSizes, steps, strategy) => {
          // Prepare
          const table = new HostTable(hosts);
          const placers = queueSizes.map((sizes, p) => ({
            queue: sizes.map((s, i): Demand => ({ taskId: `p${p}-task-${i}`, ...s })),
            snapshot: undefined as HostView[] | undefined,
          }));
          const initial = new Map(hosts.map((h) => [h.hostId, h]));
          const committed: Plan[] = [];
          const assessTable = () => {
            for (const h of table.snapshot()) {
              expect(withinCapacity(h)).toBe(true);
              const mine = committed.filter((p) => p.hostId === h.hostId);
              expect(h.reservedCpu).toBe(initial.get(h.hostId)!.reservedCpu + mine.reduce((s, p) => s + p.cpu, 0));
              expect(h.reservedMemory).toBe(initial.get(h.hostId)!.reservedMemory + mine.reduce((s, p) => s + p.memory, 0));
            }
          };
          const placeNext = (placer: (typeof placers)[number]): boolean | undefined => {
            placer.snapshot ??= table.snapshot();
            const demand = placer.queue[0];
            const plan = planPlacement(placer.snapshot, demand, strategy);
            if (!plan) {
              placer.queue.shift();
              return undefined;
            }
            const ok = table.reserve(plan);
            if (ok) {
              committed.push(plan);
              placer.queue.shift();
              // The placer's own view now includes its reservation, still stale for everyone else's.
              placer.snapshot = placer.snapshot.map((h) => (h.hostId === plan.hostId ? applyToView(h, plan) : h));
            }
            return ok;
          };

          // Act: interleave snapshots, plans, applies and host status changes in the generated order.
          for (const step of steps) {
            if (step.kind === 'status') {
              table.setStatus(hosts[step.host % hosts.length].hostId, step.status);
            } else {
              const placer = placers[step.placer % placers.length];
              if (step.kind === 'refresh') placer.snapshot = table.snapshot();
              else if (placer.queue.length > 0 && placeNext(placer) === false) refused += 1;
            }

            // Assess
            assessTable();
          }

          // Act: each placer finishes its queue, re-reading after every refusal, as the placer retries.
          for (const placer of placers) {
            while (placer.queue.length > 0) {
              placer.snapshot = table.snapshot();
              // Assess: a plan from a current snapshot is never refused.
              expect(placeNext(placer)).not.toBe(false);
              assessTable();
            }
          }
        }),
        { numRuns: 200 },
      );

      // Assess: the runs did race, so the property was exercised against refused applies.
      expect(refused).toBeGreaterThan(0);
    });

    it('refuses a plan for a host that left ACTIVE after the snapshot', () => {
      // Prepare
      const hosts = [aHost('host-a')];
      const table = new HostTable(hosts);
      const plan = planPlacement(hosts, { taskId: 'task-1', cpu: 256, memory: 512 }, 'binpack')!;
      table.setStatus('host-a', 'DRAINING');

      // Act
      const ok = table.reserve(plan);

      // Assess
      expect(ok).toBe(false);
      expect(table.snapshot()[0]).toMatchObject({ reservedCpu: 0, reservedMemory: 0, taskCount: 0 });
    });

    it('refuses a second plan for a task the host already holds', () => {
      // Prepare
      const hosts = [aHost('host-a')];
      const table = new HostTable(hosts);
      const plan = planPlacement(hosts, { taskId: 'task-1', cpu: 256, memory: 512 }, 'binpack')!;

      // Act
      const results = [table.reserve(plan), table.reserve(plan)];

      // Assess
      expect(results).toEqual([true, false]);
      expect(table.snapshot()[0]).toMatchObject({ reservedCpu: 256, reservedMemory: 512, taskCount: 1 });
    });
  });
});
