import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_CATALOG, capacityOf, findType } from '../../shared/capacity/catalog';
import { type CapacityDecision, decideCapacity, planCapacity } from '../../shared/capacity/planner';
import type {
  CapacityPlan,
  CapacityPolicy,
  FleetHost,
  GravitonPolicy,
  InstanceType,
  Market,
  PendingDemand,
  PlannerInput,
} from '../../shared/capacity/types';
import { cpuArchitectureOf, hostAttributes } from '../../shared/scheduler/host-attributes';
import { type CpuArchitecture, type HostStatus, planPlacement } from '../../shared/scheduler/placement';

const NOW = Date.UTC(2025, 0, 1, 12);
const SECOND = 1000;

// ---------------------------------------------------------------------------------------------
// Generators

const marketArb = fc.constantFrom<Market>('on-demand', 'spot');

const priceArb = fc.integer({ min: 5, max: 2000 }).map((mills) => mills / 1000);

const typeArb = (name: string): fc.Arbitrary<InstanceType> =>
  fc
    .record({
      vcpu: fc.constantFrom(1, 2, 4, 8, 16),
      memoryGiB: fc.constantFrom(1, 2, 4, 8, 16, 32, 64, 128),
      gpus: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 }),
      onDemandPrice: priceArb,
      spotShare: fc.integer({ min: 20, max: 100 }),
    })
    .map(({ spotShare, ...t }) => ({ name, ...t, spotPrice: (t.onDemandPrice * spotShare) / 100 }));

const catalogArb: fc.Arbitrary<InstanceType[]> = fc.oneof(
  fc.constant(DEFAULT_CATALOG),
  fc
    .integer({ min: 1, max: 5 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => typeArb(`type-${i}.size`))))
    .map((types) => [...types]),
);

const policyArb = (catalog: readonly InstanceType[]): fc.Arbitrary<CapacityPolicy> =>
  fc.record({
    warmPoolHosts: fc.integer({ min: 0, max: 3 }),
    warmPoolType: fc.constantFrom(...catalog.map((t) => t.name)),
    maxHosts: fc.integer({ min: 0, max: 25 }),
    idleTimeoutSeconds: fc.integer({ min: 0, max: 900 }),
    market: marketArb,
  });

const statusArb: fc.Arbitrary<HostStatus> = fc.oneof(
  { arbitrary: fc.constant<HostStatus>('ACTIVE'), weight: 5 },
  { arbitrary: fc.constantFrom<HostStatus>('LAUNCHING', 'DRAINING'), weight: 3 },
  { arbitrary: fc.constantFrom<HostStatus>('TERMINATED', 'LOST'), weight: 1 },
);

/** A consistent host: LAUNCHING ones hold nothing (and may not have registered yet); busy ones hold something. */
const hostArb = (hostId: string, catalog: readonly InstanceType[]): fc.Arbitrary<FleetHost> =>
  fc
    .record({
      type: fc.constantFrom(...catalog),
      status: statusArb,
      market: marketArb,
      busy: fc.boolean(),
      registered: fc.boolean(),
      idleSeconds: fc.integer({ min: 0, max: 1200 }),
      launchedSecondsAgo: fc.integer({ min: 0, max: 3600 }),
    })
    .chain((h) => {
      const capacity = capacityOf(h.type);
      const base = {
        hostId,
        instanceType: h.type.name,
        market: h.market,
        status: h.status,
        cpu: capacity.cpu,
        memory: capacity.memory,
        launchedAt: NOW - h.launchedSecondsAgo * SECOND,
      };
      if (h.status === 'LAUNCHING') {
        return fc.constant<FleetHost>({
          ...base,
          ...(h.registered ? {} : { cpu: 0, memory: 0 }),
          reservedCpu: 0, reservedMemory: 0, taskCount: 0,
        });
      }
      if (!h.busy) {
        return fc.constant<FleetHost>({
          ...base, reservedCpu: 0, reservedMemory: 0, taskCount: 0, idleSince: NOW - h.idleSeconds * SECOND,
        });
      }
      return fc
        .record({
          reservedCpu: fc.integer({ min: 1, max: capacity.cpu }),
          reservedMemory: fc.integer({ min: 1, max: Math.max(1, capacity.memory) }),
          taskCount: fc.integer({ min: 1, max: 12 }),
        })
        .map((r) => ({ ...base, ...r }));
    });

const hostsArb = (catalog: readonly InstanceType[], maxLength: number): fc.Arbitrary<FleetHost[]> =>
  fc
    .integer({ min: 0, max: maxLength })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => hostArb(`host-${String(i).padStart(2, '0')}`, catalog))))
    .map((hosts) => [...hosts]);

/** Mostly Fargate-like sizes, some too large for any catalog type, now and then a GPU. */
const sizeArb = fc.record({
  cpu: fc.oneof(
    { arbitrary: fc.constantFrom(256, 512, 1024, 2048, 4096), weight: 4 },
    { arbitrary: fc.integer({ min: 1, max: 70_000 }), weight: 1 },
  ),
  memory: fc.oneof(
    { arbitrary: fc.constantFrom(512, 1024, 2048, 4096, 8192, 16384), weight: 4 },
    { arbitrary: fc.integer({ min: 1, max: 140_000 }), weight: 1 },
  ),
  gpus: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }),
});

const pendingArb = (maxLength: number): fc.Arbitrary<PendingDemand[]> =>
  fc.array(sizeArb, { maxLength }).map((sizes) =>
    sizes.map((s, i) => ({
      taskId: `task-${String(i).padStart(2, '0')}`,
      cluster: 'default',
      cpu: s.cpu,
      memory: s.memory,
      ...(s.gpus > 0 ? { gpus: s.gpus } : {}),
      since: NOW - 5 * SECOND,
    })),
  );

const inputArb: fc.Arbitrary<PlannerInput> = catalogArb.chain((catalog) =>
  fc.record({
    pending: pendingArb(14),
    hosts: hostsArb(catalog, 10),
    catalog: fc.constant(catalog),
    policy: policyArb(catalog),
    now: fc.constant(NOW),
  }),
);

// ---------------------------------------------------------------------------------------------
// Independent checks: arithmetic on the input, not the planner's own helpers

const gpusOf = (d: PendingDemand): number => d.gpus ?? 0;

const fitsType = (t: InstanceType, d: { cpu: number; memory: number; gpus?: number }): boolean => {
  const memoryMiB = t.memoryGiB * 1024;
  const usable = memoryMiB - Math.max(256, Math.ceil(memoryMiB * 0.05));
  return d.cpu <= t.vcpu * 1024 && d.memory <= usable && (d.gpus ?? 0) <= t.gpus;
};

const fitsSomeType = (catalog: readonly InstanceType[], d: PendingDemand): boolean => catalog.some((t) => fitsType(t, d));

const isLive = (h: FleetHost): boolean => h.status !== 'TERMINATED' && h.status !== 'LOST';

const isEmpty = (h: FleetHost): boolean => h.taskCount === 0 && h.reservedCpu === 0 && h.reservedMemory === 0;

const launchCount = (plan: CapacityPlan): number => plan.launches.reduce((s, l) => s + l.count, 0);

/** Not smaller in the planner's "largest first" order: GPUs, then memory, then cpu. */
const atLeastAsLarge = (a: PendingDemand, b: PendingDemand): boolean =>
  gpusOf(a) !== gpusOf(b) ? gpusOf(a) > gpusOf(b) : a.memory !== b.memory ? a.memory > b.memory : a.cpu >= b.cpu;

const taskById = (input: PlannerInput): Map<string, PendingDemand> => new Map(input.pending.map((d) => [d.taskId, d]));

/** The hosts holding nothing that the decision's packing did not use. */
const unusedEmptyHosts = (input: PlannerInput, decision: CapacityDecision): FleetHost[] => {
  const used = new Set(decision.placements.map((p) => p.hostId));
  return input.hosts.filter(
    (h) => (h.status === 'ACTIVE' || h.status === 'LAUNCHING') && isEmpty(h) && !used.has(h.hostId),
  );
};

// ---------------------------------------------------------------------------------------------
// Example fixtures

const POLICY: CapacityPolicy = {
  warmPoolHosts: 0,
  warmPoolType: 'm6i.large',
  maxHosts: 100,
  idleTimeoutSeconds: 300,
  market: 'on-demand',
};

const task = (taskId: string, cpu: number, memory: number, gpus?: number): PendingDemand => ({
  taskId, cluster: 'default', cpu, memory, ...(gpus ? { gpus } : {}), since: NOW - 3 * SECOND,
});

const host = (hostId: string, instanceType: string, h: Partial<FleetHost> = {}): FleetHost => {
  const capacity = capacityOf(findType(DEFAULT_CATALOG, instanceType)!);
  return {
    hostId, instanceType, market: 'on-demand', status: 'ACTIVE', cpu: capacity.cpu, memory: capacity.memory,
    reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: NOW - 3600 * SECOND, ...h,
  };
};

const idleFor = (seconds: number): Partial<FleetHost> => ({ idleSince: NOW - seconds * SECOND });

const busy = (taskCount: number, reservedCpu: number, reservedMemory: number): Partial<FleetHost> =>
  ({ taskCount, reservedCpu, reservedMemory, idleSince: undefined });

const input = (i: Partial<PlannerInput>): PlannerInput => ({
  pending: [], hosts: [], catalog: DEFAULT_CATALOG, policy: POLICY, now: NOW, ...i,
});

const tasks = (n: number, cpu: number, memory: number, prefix = 'task'): PendingDemand[] =>
  Array.from({ length: n }, (_, i) => task(`${prefix}-${String(i).padStart(3, '0')}`, cpu, memory));

// ---------------------------------------------------------------------------------------------

describe('capacityOf', () => {
  it.each([
    ['c6i.large', { cpu: 2048, memory: 4096 - 256 }],
    ['m6i.xlarge', { cpu: 4096, memory: 16384 - 820 }],
    ['r6i.4xlarge', { cpu: 16384, memory: 131072 - 6554 }],
  ])('keeps max(256 MiB, 5 %%) of a %s for the OS and agent', (name, expected) => {
    // Act
    const capacity = capacityOf(findType(DEFAULT_CATALOG, name)!);

    // Assess
    expect(capacity).toEqual(expected);
  });

  it('holds every Fargate size in at least one default type', () => {
    // Prepare: Fargate's largest, 16 vCPU / 120 GB.
    const largest = task('t', 16384, 122880);

    // Act
    const types = DEFAULT_CATALOG.filter((t) => fitsType(t, largest)).map((t) => t.name);

    // Assess
    // The Graviton twin holds it too, for a task that runs on arm64.
    expect(types).toEqual(['r6i.4xlarge', 'r7g.4xlarge']);
  });
});

describe('planCapacity', () => {
  describe('properties', () => {
    it('launches only for pending work the room cannot take, and for the warm pool gap', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Act
          const decision = decideCapacity(i);

          // Assess: the plan's launches are exactly the decision's new hosts and warm-pool launches.
          const { plan, newHosts } = decision;
          expect(launchCount(plan)).toBe(newHosts.length + decision.warmPoolLaunches);
          for (const l of plan.launches) {
            const forPending = newHosts.filter((h) => h.instanceType === l.instanceType && h.market === l.market).length;
            const forWarmPool = l.instanceType === i.policy.warmPoolType && l.market === i.policy.market ? decision.warmPoolLaunches : 0;
            expect(l.count).toBe(forPending + forWarmPool);
            expect(l.market).toBe(i.policy.market);
          }
          // Every host launched for pending work gets at least one pending task, and holds what it gets.
          const byId = taskById(i);
          for (const h of newHosts) {
            expect(h.taskIds.length).toBeGreaterThan(0);
            const type = i.catalog.find((t) => t.name === h.instanceType)!;
            const held = h.taskIds.map((id) => byId.get(id)!);
            expect(fitsType(type, {
              cpu: held.reduce((s, d) => s + d.cpu, 0),
              memory: held.reduce((s, d) => s + d.memory, 0),
              gpus: held.reduce((s, d) => s + gpusOf(d), 0),
            })).toBe(true);
          }
          // What the packing put on existing hosts fits their free room.
          for (const h of i.hosts) {
            const held = decision.placements.filter((p) => p.hostId === h.hostId).map((p) => byId.get(p.taskId)!);
            if (held.length === 0) continue;
            expect(['ACTIVE', 'LAUNCHING']).toContain(h.status);
            const capacity = h.cpu > 0 ? h : capacityOf(i.catalog.find((t) => t.name === h.instanceType)!);
            expect(h.reservedCpu + held.reduce((s, d) => s + d.cpu, 0)).toBeLessThanOrEqual(capacity.cpu);
            expect(h.reservedMemory + held.reduce((s, d) => s + d.memory, 0)).toBeLessThanOrEqual(capacity.memory);
          }
          // Warm-pool launches fill no more than the gap left by the empty hosts nobody needs.
          const idle = unusedEmptyHosts(i, decision).length;
          expect(decision.warmPoolLaunches).toBeLessThanOrEqual(Math.max(0, i.policy.warmPoolHosts - idle));
        }),
        { numRuns: 250 },
      );
    });

    it('gives every pending task that fits some type capacity, unless maxHosts caps the launches', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Act
          const decision = decideCapacity(i);

          // Assess: each schedulable task is placed exactly once or deferred; the rest are unschedulable.
          const placed = decision.placements.map((p) => p.taskId);
          expect(new Set(placed).size).toBe(placed.length);
          const unschedulable = decision.plan.unschedulable.map((u) => u.taskId);
          for (const d of i.pending) {
            const where = [placed.includes(d.taskId), decision.deferred.includes(d.taskId), unschedulable.includes(d.taskId)];
            expect(where.filter(Boolean)).toHaveLength(1);
            expect(unschedulable.includes(d.taskId)).toBe(!fitsSomeType(i.catalog, d));
          }
          if (decision.deferred.length === 0) return;
          // Deferred only at the cap, and never ahead of a larger task: each new host took one at least as large.
          const live = i.hosts.filter(isLive).length;
          expect(live + decision.newHosts.length).toBeGreaterThanOrEqual(i.policy.maxHosts);
          expect(decision.warmPoolLaunches).toBe(0);
          const byId = taskById(i);
          for (const id of decision.deferred) {
            for (const h of decision.newHosts) {
              expect(h.taskIds.some((t) => atLeastAsLarge(byId.get(t)!, byId.get(id)!))).toBe(true);
            }
          }
        }),
        { numRuns: 250 },
      );
    });

    it('gives every schedulable task capacity when maxHosts is out of reach', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Prepare
          const roomy = { ...i, policy: { ...i.policy, maxHosts: i.hosts.length + i.pending.length + i.policy.warmPoolHosts } };

          // Act
          const decision = decideCapacity(roomy);

          // Assess
          expect(decision.deferred).toEqual([]);
          const schedulable = i.pending.filter((d) => fitsSomeType(i.catalog, d)).map((d) => d.taskId).sort();
          expect(decision.placements.map((p) => p.taskId).sort()).toEqual(schedulable);
        }),
        { numRuns: 150 },
      );
    });

    it('never grows the fleet past maxHosts', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Act
          const plan = planCapacity(i);

          // Assess: TERMINATED and LOST hosts do not count; a fleet already past the cap launches nothing.
          const live = i.hosts.filter(isLive).length;
          const launched = launchCount(plan);
          if (launched > 0) expect(live + launched).toBeLessThanOrEqual(i.policy.maxHosts);
        }),
        { numRuns: 250 },
      );
    });

    it('counts the launches in flight: no launch when LAUNCHING hosts have room for all pending work', () => {
      const arb = catalogArb.chain((catalog) =>
        fc.record({
          catalog: fc.constant(catalog),
          // Hosts of an x86_64 type: the pending tasks declare no architecture.
          type: fc.constantFrom(...catalog.filter((t) => cpuArchitectureOf(t.name) === 'x86_64')),
          pending: pendingArb(10),
          registered: fc.boolean(),
          extra: fc.integer({ min: 0, max: 3 }),
          others: hostsArb(catalog, 4),
          market: marketArb,
        }),
      );
      fc.assert(
        fc.property(arb, ({ catalog, type, pending, registered, extra, others, market }) => {
          // Prepare: only tasks this type holds, and a LAUNCHING host of it for each (any one can take any task).
          const fitting = pending.filter((d) => fitsType(type, d));
          const capacity = capacityOf(type);
          const launching: FleetHost[] = Array.from({ length: fitting.length + extra }, (_, n) => ({
            hostId: `launching-${n}`, instanceType: type.name, market, status: 'LAUNCHING',
            cpu: registered ? capacity.cpu : 0, memory: registered ? capacity.memory : 0,
            reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: NOW - 10 * SECOND,
          }));
          // Other hosts, but none with room: the in-flight room must be what takes the work.
          const full = others.map((h): FleetHost => {
            if (h.status !== 'ACTIVE' && h.status !== 'LAUNCHING') return h;
            const capacity = capacityOf(catalog.find((t) => t.name === h.instanceType)!);
            return { ...h, status: 'ACTIVE', ...capacity, reservedCpu: capacity.cpu, reservedMemory: capacity.memory, taskCount: 1, idleSince: undefined };
          });
          const i: PlannerInput = {
            pending: fitting, hosts: [...full, ...launching], catalog,
            policy: { warmPoolHosts: 0, warmPoolType: type.name, maxHosts: 100, idleTimeoutSeconds: 300, market },
            now: NOW,
          };

          // Act
          const decision = decideCapacity(i);

          // Assess
          expect(decision.plan.launches).toEqual([]);
          expect(decision.placements.map((p) => p.taskId).sort()).toEqual(fitting.map((d) => d.taskId).sort());
          expect(decision.placements.every((p) => p.on === 'LAUNCHING')).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    it('launches nothing more for the same pending work once its launches are in flight', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Prepare: a run a second after every host in the input was launched; its launches become
          // LAUNCHING hosts (not yet registered) stamped with that run's time, seen by a run 10 s later.
          const at = NOW + SECOND;
          const first = { ...i, now: at, policy: { ...i.policy, warmPoolHosts: 0, maxHosts: 1000 } };
          const decision = decideCapacity(first);
          const inFlight: FleetHost[] = decision.newHosts.map((h) => ({
            hostId: `in-flight-${h.hostId}`, instanceType: h.instanceType, market: h.market, status: 'LAUNCHING',
            cpu: 0, memory: 0, reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: at,
          }));

          // Act
          const again = decideCapacity({ ...first, now: at + 10 * SECOND, hosts: [...i.hosts, ...inFlight] });

          // Assess
          expect(again.plan.launches).toEqual([]);
          expect(again.deferred).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });

    it('keeps the room a launch was planned for: work that arrives later never takes it', () => {
      const arb = inputArb.chain((i) => fc.record({ i: fc.constant(i), later: pendingArb(8) }));
      fc.assert(
        fc.property(arb, ({ i, later }) => {
          // Prepare: a run with no room in the fleet launches hosts for the pending work; its
          // launches are LAUNCHING (not yet registered) when more work arrives, larger or not.
          const at = NOW + SECOND;
          const first = { ...i, hosts: [], now: at, policy: { ...i.policy, warmPoolHosts: 0, maxHosts: 1000 } };
          const decision = decideCapacity(first);
          const planned = new Set(decision.newHosts.flatMap((h) => h.taskIds));
          const inFlight: FleetHost[] = decision.newHosts.map((h) => ({
            hostId: `in-flight-${h.hostId}`, instanceType: h.instanceType, market: h.market, status: 'LAUNCHING',
            cpu: 0, memory: 0, reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: at,
          }));
          const arrivals = later.map((d) => ({ ...d, taskId: `later-${d.taskId}`, since: at + 5 * SECOND }));

          // Act
          const again = decideCapacity({ ...first, now: at + 10 * SECOND, hosts: inFlight, pending: [...first.pending, ...arrivals] });

          // Assess: every task the first run launched for is still on the launch's hosts; later work
          // goes on what room is left of them, or on new hosts.
          const on = new Map(again.placements.map((p) => [p.taskId, p.on]));
          for (const taskId of planned) expect(on.get(taskId)).toBe('LAUNCHING');
          expect(again.newHosts.flatMap((h) => h.taskIds).every((id) => id.startsWith('later-'))).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it('never terminates or drains a host with tasks, one the packing used, or one within its idle timeout', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Act
          const decision = decideCapacity(i);

          // Assess
          const { drains, terminations } = decision.plan;
          const used = new Set(decision.placements.map((p) => p.hostId));
          for (const id of terminations) {
            const h = i.hosts.find((x) => x.hostId === id)!;
            expect(isEmpty(h)).toBe(true);
            expect(used.has(id)).toBe(false);
            expect(['ACTIVE', 'DRAINING']).toContain(h.status);
            if (h.status === 'ACTIVE') {
              expect(i.now - h.idleSince!).toBeGreaterThanOrEqual(i.policy.idleTimeoutSeconds * SECOND);
              expect(drains).toContain(id);
            }
          }
          for (const id of drains) expect(terminations).toContain(id);
          // Every emptied DRAINING host goes.
          const emptiedDraining = i.hosts.filter((h) => h.status === 'DRAINING' && isEmpty(h)).map((h) => h.hostId);
          for (const id of emptiedDraining) expect(terminations).toContain(id);
          // The warm pool's worth of idle hosts stays.
          const idle = unusedEmptyHosts(i, decision);
          const staying = idle.filter((h) => !terminations.includes(h.hostId)).length;
          expect(staying).toBeGreaterThanOrEqual(Math.min(i.policy.warmPoolHosts, idle.length));
        }),
        { numRuns: 250 },
      );
    });

    it('reports each task no type can hold, with its size, and launches nothing for it', () => {
      fc.assert(
        fc.property(inputArb, (i) => {
          // Prepare: no warm pool, so that any launch would be for pending work.
          const tooLarge = i.pending.filter((d) => !fitsSomeType(i.catalog, d));
          const only = { ...i, pending: tooLarge, policy: { ...i.policy, warmPoolHosts: 0 } };

          // Act
          const plan = planCapacity(only);

          // Assess
          expect(plan.launches).toEqual([]);
          expect(plan.unschedulable.map((u) => u.taskId).sort()).toEqual(tooLarge.map((d) => d.taskId).sort());
          for (const u of plan.unschedulable) {
            const d = tooLarge.find((x) => x.taskId === u.taskId)!;
            expect(u.cluster).toBe(d.cluster);
            expect(u.reason).toContain(`${d.cpu} CPU / ${d.memory} MiB`);
          }
        }),
        { numRuns: 200 },
      );
    });

    it('is deterministic: the same input in another order gives the same plan', () => {
      const arb = inputArb.chain((i) =>
        fc.record({
          i: fc.constant(i),
          pending: fc.shuffledSubarray(i.pending, { minLength: i.pending.length, maxLength: i.pending.length }),
          hosts: fc.shuffledSubarray(i.hosts, { minLength: i.hosts.length, maxLength: i.hosts.length }),
          catalog: fc.shuffledSubarray(i.catalog, { minLength: i.catalog.length, maxLength: i.catalog.length }),
        }),
      );
      fc.assert(
        fc.property(arb, ({ i, pending, hosts, catalog }) => {
          // Act
          const plan = planCapacity(i);
          const shuffled = planCapacity({ ...i, pending, hosts, catalog });

          // Assess
          expect(shuffled).toEqual(plan);
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('new hosts', () => {
    it('launches the cheapest type that holds a single small task', () => {
      // Act
      const plan = planCapacity(input({ pending: [task('t', 256, 512)] }));

      // Assess
      expect(plan).toEqual({
        launches: [{ instanceType: 'c6i.large', market: 'on-demand', count: 1 }],
        drains: [],
        terminations: [],
        unschedulable: [],
      });
    });

    it('picks a memory-optimised type for memory-heavy work', () => {
      // Act
      const plan = planCapacity(input({ pending: tasks(4, 512, 7000) }));

      // Assess: r6i.large holds two (15,564 MiB) at $0.126; an m6i.large holds one at $0.096.
      expect(plan.launches).toEqual([{ instanceType: 'r6i.large', market: 'on-demand', count: 2 }]);
    });

    it('groups launches of one type and market with a count', () => {
      // Act: 15 of these fill a c6i.xlarge (7,782 MiB), the cheapest per task.
      const decision = decideCapacity(input({ pending: tasks(45, 256, 512) }));

      // Assess
      expect(decision.plan.launches).toEqual([{ instanceType: 'c6i.xlarge', market: 'on-demand', count: 3 }]);
      expect(decision.newHosts.map((h) => h.taskIds.length)).toEqual([15, 15, 15]);
    });

    it('prices by the policy\'s market', () => {
      // Prepare: on-demand, the "cheap" type is cheaper; on spot, the "deal" type is.
      const catalog: InstanceType[] = [
        { name: 'cheap', vcpu: 2, memoryGiB: 8, gpus: 0, onDemandPrice: 0.1, spotPrice: 0.09 },
        { name: 'deal', vcpu: 2, memoryGiB: 8, gpus: 0, onDemandPrice: 0.2, spotPrice: 0.03 },
      ];
      const pending = [task('t', 1024, 2048)];

      // Act
      const onDemand = planCapacity(input({ pending, catalog, policy: { ...POLICY, market: 'on-demand' } }));
      const spot = planCapacity(input({ pending, catalog, policy: { ...POLICY, market: 'spot' } }));

      // Assess
      expect(onDemand.launches).toEqual([{ instanceType: 'cheap', market: 'on-demand', count: 1 }]);
      expect(spot.launches).toEqual([{ instanceType: 'deal', market: 'spot', count: 1 }]);
    });

    it('launches a GPU type for a task that needs a GPU', () => {
      // Act
      const plan = planCapacity(input({ pending: [task('gpu', 1024, 2048, 1), task('cpu', 1024, 2048)] }));

      // Assess: the cpu-only task rides along on the GPU host's spare room.
      expect(plan.launches).toEqual([{ instanceType: 'g5.xlarge', market: 'on-demand', count: 1 }]);
    });

    it('keeps the largest pending first when maxHosts caps the launches', () => {
      // Prepare: three live hosts, room for one more; each task needs a host of its own.
      const hosts = ['a', 'b', 'c'].map((id) => host(`host-${id}`, 'c6i.large', busy(1, 2048, 3840)));
      const pending = [task('small', 2048, 3000), task('large', 2048, 14000), task('medium', 2048, 7000)];

      // Act
      const decision = decideCapacity(input({ pending, hosts, policy: { ...POLICY, maxHosts: 4 } }));

      // Assess
      expect(decision.plan.launches).toEqual([{ instanceType: 'r6i.large', market: 'on-demand', count: 1 }]);
      expect(decision.newHosts.map((h) => h.taskIds)).toEqual([['large']]);
      expect(decision.deferred).toEqual(['medium', 'small']);
    });
  });

  describe('existing room', () => {
    it('packs pending work onto ACTIVE hosts\' free room before launching', () => {
      // Prepare
      const hosts = [host('host-a', 'm6i.xlarge', busy(3, 2048, 8192))];

      // Act
      const decision = decideCapacity(input({ pending: tasks(4, 512, 1024), hosts }));

      // Assess
      expect(decision.plan.launches).toEqual([]);
      expect(decision.placements.map((p) => p.hostId)).toEqual(['host-a', 'host-a', 'host-a', 'host-a']);
    });

    it('counts the room of hosts still launching', () => {
      // Prepare: the launch a previous run made for this very task, not registered yet.
      const hosts = [host('host-new', 'r6i.large', { status: 'LAUNCHING', cpu: 0, memory: 0, launchedAt: NOW - 20 * SECOND })];

      // Act
      const decision = decideCapacity(input({ pending: [task('t', 2048, 14000)], hosts }));

      // Assess
      expect(decision.plan.launches).toEqual([]);
      expect(decision.placements).toEqual([{ taskId: 't', hostId: 'host-new', on: 'LAUNCHING' }]);
    });

    it('launches only for what the existing and in-flight room cannot take', () => {
      // Prepare: host-a has 1024 cpu / 2000 MiB free; host-b, launching, all of a c6i.large.
      const hosts = [
        host('host-a', 'c6i.large', busy(1, 1024, 1840)),
        host('host-b', 'c6i.large', { status: 'LAUNCHING', launchedAt: NOW - 5 * SECOND }),
      ];
      const pending = [task('fits-a', 1024, 2000), task('fits-b', 2048, 3840), task('left', 1024, 2048)];

      // Act
      const decision = decideCapacity(input({ pending, hosts }));

      // Assess
      expect(decision.placements).toEqual([
        { taskId: 'fits-a', hostId: 'host-a', on: 'ACTIVE' },
        { taskId: 'fits-b', hostId: 'host-b', on: 'LAUNCHING' },
        { taskId: 'left', hostId: 'new-1', on: 'NEW' },
      ]);
      expect(decision.plan.launches).toEqual([{ instanceType: 'c6i.large', market: 'on-demand', count: 1 }]);
    });

    it('puts a GPU task only on a host with a free GPU', () => {
      // Prepare: the busy g5 may have its GPU taken; the m6i has room but no GPU.
      const hosts = [
        host('host-gpu', 'g5.xlarge', busy(1, 1024, 2048)),
        host('host-cpu', 'm6i.4xlarge', idleFor(10)),
      ];

      // Act
      const decision = decideCapacity(input({ pending: [task('gpu', 1024, 2048, 1)], hosts }));

      // Assess
      expect(decision.plan.launches).toEqual([{ instanceType: 'g5.xlarge', market: 'on-demand', count: 1 }]);
    });
  });

  describe('markets', () => {
    it('launches a spot host for spot demand even when an on-demand host has room', () => {
      // Prepare
      const pending = [{ ...task('spot-1', 1024, 2048), market: 'spot' as const }, task('bare-1', 1024, 2048)];

      // Act
      const decision = decideCapacity(input({ pending, hosts: [host('od-1', 'm6i.large')] }));

      // Assess: the bare task fits the on-demand host; the spot one needs a host of its own market.
      expect(decision.placements).toEqual(expect.arrayContaining([{ taskId: 'bare-1', hostId: 'od-1', on: 'ACTIVE' }]));
      expect(decision.plan.launches).toEqual([expect.objectContaining({ market: 'spot', count: 1 })]);
    });

    it('packs spot demand onto spot hosts with room and launches nothing', () => {
      const pending = [{ ...task('spot-1', 1024, 2048), market: 'spot' as const }];
      const decision = decideCapacity(input({ pending, hosts: [host('od-1', 'm6i.large'), host('spot-1', 'm6i.large', { market: 'spot' })] }));
      expect(decision.placements).toEqual([{ taskId: 'spot-1', hostId: 'spot-1', on: 'ACTIVE' }]);
      expect(decision.plan.launches).toEqual([]);
    });

    it('keeps maxHosts across markets', () => {
      const pending = [{ ...task('spot-1', 1024, 2048), market: 'spot' as const }, { ...task('od-1', 1024, 2048), market: 'on-demand' as const }];
      const decision = decideCapacity(input({ pending, policy: { ...POLICY, maxHosts: 1 } }));
      expect(decision.newHosts).toHaveLength(1);
      expect(decision.deferred).toHaveLength(1);
    });
  });

  describe('unschedulable', () => {
    it('fails a task no instance type can hold, naming its size', () => {
      // Act
      const plan = planCapacity(input({ pending: [task('huge', 65536, 491520), task('ok', 256, 512)] }));

      // Assess
      expect(plan.unschedulable).toEqual([
        { taskId: 'huge', cluster: 'default', reason: 'no instance type in the catalog can hold 65536 CPU / 491520 MiB' },
      ]);
      expect(plan.launches).toEqual([{ instanceType: 'c6i.large', market: 'on-demand', count: 1 }]);
    });

    it('fails a task that needs more GPUs than any type has', () => {
      // Act
      const plan = planCapacity(input({ pending: [task('gpus', 1024, 2048, 4)] }));

      // Assess
      expect(plan.unschedulable).toEqual([
        { taskId: 'gpus', cluster: 'default', reason: 'no instance type in the catalog can hold 1024 CPU / 2048 MiB / 4 GPU' },
      ]);
      expect(plan.launches).toEqual([]);
    });

    it('fails a task whose cpu fits one type and memory another, but no type both', () => {
      // Prepare
      const catalog: InstanceType[] = [
        { name: 'wide', vcpu: 16, memoryGiB: 4, gpus: 0, onDemandPrice: 0.5, spotPrice: 0.2 },
        { name: 'tall', vcpu: 2, memoryGiB: 64, gpus: 0, onDemandPrice: 0.5, spotPrice: 0.2 },
      ];

      // Act
      const plan = planCapacity(input({ pending: [task('t', 8192, 32768)], catalog, policy: { ...POLICY, warmPoolType: 'wide' } }));

      // Assess
      expect(plan.unschedulable.map((u) => u.taskId)).toEqual(['t']);
      expect(plan.launches).toEqual([]);
    });
  });

  describe('warm pool', () => {
    const warm: CapacityPolicy = { ...POLICY, warmPoolHosts: 2, warmPoolType: 'm6i.large' };

    it('launches the warm pool into an empty fleet', () => {
      // Act
      const plan = planCapacity(input({ policy: warm }));

      // Assess
      expect(plan.launches).toEqual([{ instanceType: 'm6i.large', market: 'on-demand', count: 2 }]);
    });

    it('counts empty ACTIVE and LAUNCHING hosts of any type towards it', () => {
      // Prepare
      const hosts = [
        host('host-a', 'c6i.xlarge', idleFor(30)),
        host('host-b', 'm6i.large', { status: 'LAUNCHING' }),
        host('host-c', 'm6i.large', busy(2, 512, 1024)),
      ];

      // Act
      const plan = planCapacity(input({ hosts, policy: warm }));

      // Assess
      expect(plan.launches).toEqual([]);
    });

    it('replaces an idle host that the pending work takes', () => {
      // Prepare
      const hosts = [host('host-a', 'm6i.large', idleFor(30)), host('host-b', 'm6i.large', idleFor(30))];

      // Act
      const decision = decideCapacity(input({ pending: [task('t', 512, 1024)], hosts, policy: warm }));

      // Assess
      expect(decision.placements.map((p) => p.hostId)).toEqual(['host-a']);
      expect(decision.plan.launches).toEqual([{ instanceType: 'm6i.large', market: 'on-demand', count: 1 }]);
    });

    it('launches pending work before the warm pool when maxHosts caps', () => {
      // Act
      const decision = decideCapacity(input({ pending: [task('t', 1024, 2048)], policy: { ...warm, maxHosts: 2 } }));

      // Assess
      expect(decision.newHosts.map((h) => h.taskIds)).toEqual([['t']]);
      expect(decision.warmPoolLaunches).toBe(1);
      expect(launchCount(decision.plan)).toBe(2);
    });
  });

  describe('idle hosts', () => {
    it('drains and terminates an ACTIVE host idle past the timeout', () => {
      // Prepare
      const hosts = [host('host-a', 'm6i.large', idleFor(301)), host('host-b', 'm6i.large', idleFor(299))];

      // Act
      const plan = planCapacity(input({ hosts }));

      // Assess
      expect(plan.drains).toEqual(['host-a']);
      expect(plan.terminations).toEqual(['host-a']);
      expect(plan.launches).toEqual([]);
    });

    it('keeps the warm pool\'s worth of idle hosts, its own type first, then the cheapest', () => {
      // Prepare: all idle for an hour; the pool keeps two.
      const hosts = [
        host('host-r', 'r6i.large', idleFor(3600)),
        host('host-c', 'c6i.large', idleFor(3600)),
        host('host-m', 'm6i.large', idleFor(3600)),
        host('host-big', 'm6i.4xlarge', idleFor(3600)),
      ];

      // Act
      const plan = planCapacity(input({ hosts, policy: { ...POLICY, warmPoolHosts: 2, warmPoolType: 'm6i.large' } }));

      // Assess
      expect(plan.terminations).toEqual(['host-big', 'host-r']);
      expect(plan.drains).toEqual(['host-big', 'host-r']);
    });

    it('never terminates a host with tasks, however old', () => {
      // Prepare
      const hosts = [host('host-a', 'm6i.large', { ...busy(1, 256, 512), idleSince: NOW - 3600 * SECOND })];

      // Act
      const plan = planCapacity(input({ hosts }));

      // Assess
      expect(plan.terminations).toEqual([]);
      expect(plan.drains).toEqual([]);
    });

    it('does not terminate an idle host the pending work is about to use', () => {
      // Prepare
      const hosts = [host('host-a', 'm6i.large', idleFor(3600))];

      // Act
      const plan = planCapacity(input({ pending: [task('t', 1024, 2048)], hosts }));

      // Assess
      expect(plan.terminations).toEqual([]);
      expect(plan.launches).toEqual([]);
    });

    it('terminates an emptied DRAINING host, and leaves one still holding tasks', () => {
      // Prepare
      const hosts = [
        host('host-empty', 'm6i.large', { status: 'DRAINING' }),
        host('host-busy', 'm6i.large', { status: 'DRAINING', ...busy(1, 256, 512) }),
      ];

      // Act
      const plan = planCapacity(input({ hosts }));

      // Assess
      expect(plan.terminations).toEqual(['host-empty']);
      expect(plan.drains).toEqual([]);
    });
  });
});

describe('decideCapacity with the recent demand for fresh room', () => {
  const arrivalsArb = fc.array(fc.integer({ min: 0, max: 3600 }), { maxLength: 40 }).map((ago) => ago.map((s) => NOW - s * SECOND));
  const withHistoryArb = fc.tuple(inputArb, arrivalsArb, fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 4 }));

  it('lets idle hosts go no later than the fixed timeout, never before a zero one, and never a busy or kept one', () => {
    fc.assert(fc.property(withHistoryArb, ([input, at, relaunchSeconds, keep]) => {
      const policy = { ...input.policy, warmPoolKeepHosts: keep };
      const adaptive = planCapacity({ ...input, policy, freshRoomDemand: { at, relaunchSeconds } });
      const fixed = planCapacity({ ...input, policy });
      const eager = planCapacity({ ...input, policy: { ...policy, idleTimeoutSeconds: 0 } });
      for (const id of fixed.terminations) expect(adaptive.terminations).toContain(id);
      for (const id of adaptive.terminations) expect(eager.terminations).toContain(id);
      // The history changes only which idle hosts go: launches and drains of busy hosts are the same.
      expect(adaptive.launches).toEqual(fixed.launches);
      const byId = new Map(input.hosts.map((h) => [h.hostId, h]));
      for (const id of adaptive.terminations) expect(byId.get(id)!.taskCount).toBe(0);
    }));
  });

  it('keeps up to warmPoolKeepHosts idle hosts without launching for them', () => {
    fc.assert(fc.property(inputArb, fc.integer({ min: 0, max: 6 }), (input, keep) => {
      const kept = decideCapacity({ ...input, policy: { ...input.policy, warmPoolKeepHosts: keep } });
      const plain = decideCapacity(input);
      expect(kept.plan.launches).toEqual(plain.plan.launches);
      expect(kept.warmPoolLaunches).toBe(plain.warmPoolLaunches);
      for (const id of kept.plan.terminations) expect(plain.plan.terminations).toContain(id);
      const idleLeft = kept.idleHosts.filter((id) => !kept.plan.terminations.includes(id)).length;
      const idleLeftPlain = plain.idleHosts.filter((id) => !plain.plan.terminations.includes(id)).length;
      expect(idleLeft).toBeGreaterThanOrEqual(Math.min(kept.idleHosts.length, idleLeftPlain));
    }));
  });

  it('counts warmPoolKeepHosts in hosts of the warm pool type: a larger idle host counts for what it holds', () => {
    // Four m6i.xlarge hosts idle past the timeout; the rate asks for 4 m6i.large, which two of them hold.
    const hosts = Array.from({ length: 4 }, (_, i) => host(`idle-${i}`, 'm6i.xlarge', idleFor(900)));
    const policy = { ...POLICY, warmPoolHosts: 0, warmPoolType: 'm6i.large', warmPoolKeepHosts: 4 };
    expect(planCapacity(input({ hosts, policy })).terminations).toEqual(['idle-2', 'idle-3']);
    // The operator's floor still keeps its count of hosts, whatever their size.
    expect(planCapacity(input({ hosts, policy: { ...policy, warmPoolHosts: 3 } })).terminations).toEqual(['idle-3']);
    expect(planCapacity(input({ hosts, policy: { ...policy, warmPoolHosts: 1, warmPoolKeepHosts: 3 } })).terminations).toEqual(['idle-2', 'idle-3']);
    // Idle hosts of the warm pool type count one each.
    const large = Array.from({ length: 4 }, (_, i) => host(`idle-${i}`, 'm6i.large', idleFor(900)));
    expect(planCapacity(input({ hosts: large, policy: { ...policy, warmPoolKeepHosts: 3 } })).terminations).toEqual(['idle-3']);
  });

  it('lets the idle hosts of a finished burst go at once instead of at the fixed timeout', () => {
    // Bursts of 30 arrivals within a minute, every 20 minutes; the last ended 3 minutes ago.
    const at = [0, 1, 2].flatMap((b) => Array.from({ length: 30 }, (_, i) => NOW - (180 + b * 1200 + 2 * i) * SECOND));
    const hosts = Array.from({ length: 4 }, (_, i) => host(`idle-${i}`, 'm6i.large', idleFor(150)));
    const fleet = input({ hosts, policy: { ...POLICY, warmPoolHosts: 1, warmPoolType: 'm6i.large', idleTimeoutSeconds: 600 } });
    expect(planCapacity(fleet).terminations).toEqual([]);
    expect(planCapacity({ ...fleet, freshRoomDemand: { at, relaunchSeconds: 40 } }).terminations).toHaveLength(3);
  });
});

describe('Graviton', () => {
  const archOf = (instanceType: string) => cpuArchitectureOf(instanceType);
  const gravitonArb = fc.constantFrom<GravitonPolicy>('off', 'arm64');
  const archInputArb = fc.tuple(inputArb.filter((i) => i.catalog === DEFAULT_CATALOG), gravitonArb,
    fc.array(fc.constantFrom<CpuArchitecture | undefined>(undefined, 'x86_64', 'arm64'), { minLength: 14, maxLength: 14 }))
    .map(([input, graviton, archs]) => ({
      ...input,
      policy: { ...input.policy, graviton },
      pending: input.pending.map((d, i) => (archs[i] ? { ...d, architecture: archs[i] } : d)),
    }));

  it('puts a task only on a host of an architecture it runs on, and opens Graviton hosts only where the policy allows', () => {
    fc.assert(fc.property(archInputArb, (input) => {
      const decision = decideCapacity(input);
      const byTask = taskById(input);
      const typeOfHost = new Map<string, string>([
        ...input.hosts.map((h) => [h.hostId, h.instanceType] as const),
        ...decision.newHosts.map((h) => [h.hostId, h.instanceType] as const),
      ]);
      for (const p of decision.placements) {
        const d = byTask.get(p.taskId)!;
        const arch = archOf(typeOfHost.get(p.hostId)!);
        expect(arch).toBe(d.architecture ?? 'x86_64');
      }
      for (const h of decision.newHosts) {
        if (archOf(h.instanceType) === 'arm64') expect(input.policy.graviton).not.toBe('off');
      }
      for (const u of decision.plan.unschedulable) {
        const d = byTask.get(u.taskId)!;
        if (d.architecture === 'arm64' && input.policy.graviton === 'off') expect(u.reason).toMatch(/Graviton hosts are off/);
      }
    }), { numRuns: 300 });
  });

  it('opens a Graviton host for ARM64 work where allowed, an x86_64 one otherwise', () => {
    const arm = tasks(4, 1024, 2048).map((t) => ({ ...t, architecture: 'arm64' as const }));
    const allowed = decideCapacity(input({ pending: arm, policy: { ...POLICY, warmPoolHosts: 0, graviton: 'arm64' } }));
    expect(allowed.newHosts.map((h) => archOf(h.instanceType))).toEqual(allowed.newHosts.map(() => 'arm64'));
    expect(allowed.newHosts.length).toBeGreaterThan(0);
    const off = decideCapacity(input({ pending: arm, policy: { ...POLICY, warmPoolHosts: 0 } }));
    expect(off.newHosts).toEqual([]);
    expect(off.plan.unschedulable).toHaveLength(4);
    // Work that declares no architecture is x86_64, though Graviton is cheaper.
    const plain = tasks(4, 1024, 2048);
    const mixed = decideCapacity(input({ pending: plain, policy: { ...POLICY, warmPoolHosts: 0, graviton: 'arm64' } }));
    expect(mixed.newHosts.length).toBeGreaterThan(0);
    expect(mixed.newHosts.every((h) => archOf(h.instanceType) === 'x86_64')).toBe(true);
  });

  it("takes a host's architecture from what its agent reported, over its instance type's", () => {
    expect(hostAttributes({ instanceType: 'c6i.large' })['ecs.cpu-architecture']).toBe('x86_64');
    expect(hostAttributes({ instanceType: 'c7g.large' })['ecs.cpu-architecture']).toBe('arm64');
    const reported = hostAttributes({ instanceType: 'c6i.large', cpuArchitecture: 'arm64' });
    expect(reported['ecs.cpu-architecture']).toBe('arm64');
    expect(hostAttributes({ cpuArchitecture: 'arm64' })['ecs.cpu-architecture']).toBe('arm64');
    const host = { hostId: 'h', status: 'ACTIVE' as const, cpu: 2048, memory: 3840, reservedCpu: 0, reservedMemory: 0, taskCount: 0, attributes: reported };
    expect(planPlacement([host], { taskId: 't', cpu: 256, memory: 512 }, 'binpack')).toBeUndefined();
    expect(planPlacement([host], { taskId: 't', cpu: 256, memory: 512, architecture: 'arm64' }, 'binpack')?.hostId).toBe('h');
  });

  it('never places an x86_64 task on an arm64 host, nor an arm64 task on an x86_64 one', () => {
    const view = (hostId: string, instanceType: string) => ({
      hostId, status: 'ACTIVE' as const, cpu: 4096, memory: 8192, reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      attributes: { 'ecs.cpu-architecture': archOf(instanceType) },
    });
    fc.assert(fc.property(fc.constantFrom<CpuArchitecture | undefined>(undefined, 'x86_64', 'arm64'), fc.boolean(), (architecture, armFirst) => {
      const hosts = armFirst ? [view('arm', 'm7g.xlarge'), view('x86', 'm6i.xlarge')] : [view('x86', 'm6i.xlarge'), view('arm', 'm7g.xlarge')];
      const demand = { taskId: 't', cpu: 512, memory: 1024, ...(architecture ? { architecture } : {}) };
      const alone = (hostId: string) => planPlacement(hosts.filter((h) => h.hostId === hostId), demand, 'binpack');
      expect(alone('arm') !== undefined).toBe(architecture === 'arm64');
      expect(alone('x86') !== undefined).toBe(architecture !== 'arm64');
    }));
  });
});
