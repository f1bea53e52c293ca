import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PlacementStrategyType } from '../../shared/domain/task';
import { fixedHostPorts } from '../../shared/domain/ports';
import { type Demand, type HostView, type Plan, applyToView, planBatch, planPlacement } from '../../shared/scheduler/placement';

/**
 * Fixed host ports as a placement resource: two tasks that need one host port never land on one
 * host, whether planned one by one, as a batch, or by placers racing on stale snapshots against
 * the applier's conditional write.
 */

// ---------------------------------------------------------------------------------------------
// Generators: few ports, so demands collide often.

const PORTS = ['80/tcp', '443/tcp', '8080/tcp', '8080/udp', '53/udp'] as const;
const strategyArb = fc.constantFrom<PlacementStrategyType>('binpack', 'spread');
const portsArb = fc.oneof(
  { arbitrary: fc.constant<string[]>([]), weight: 2 },
  { arbitrary: fc.subarray([...PORTS], { minLength: 1, maxLength: 2 }), weight: 3 },
);

const hostsArb = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.tuple(...Array.from({ length: n }, (_, i) =>
    fc.record({
      cpu: fc.constantFrom(2048, 4096, 8192),
      memory: fc.constantFrom(4096, 8192, 16384),
      reservedPorts: fc.oneof(fc.constant(undefined), fc.subarray([...PORTS], { maxLength: 2 })),
    }).map((h): HostView => ({
      hostId: `host-${i}`, status: 'ACTIVE', cpu: h.cpu, memory: h.memory, reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      ...(h.reservedPorts ? { reservedPorts: h.reservedPorts } : {}),
    })),
  )).map((hs) => [...hs]),
);

const demandsArb = (maxLength: number) =>
  fc.array(fc.record({ cpu: fc.constantFrom(128, 256, 512), memory: fc.constantFrom(256, 512, 1024), ports: portsArb }), { maxLength })
    .map((ds) => ds.map((d, i): Demand => ({ taskId: `task-${i}`, ...d })));

// ---------------------------------------------------------------------------------------------
// Independent checks

const clash = (taken: readonly string[] | undefined, wanted: readonly string[] | undefined) =>
  (wanted ?? []).some((p) => (taken ?? []).includes(p));

const fits = (h: HostView, d: Demand) =>
  h.status === 'ACTIVE' && h.reservedCpu + d.cpu <= h.cpu && h.reservedMemory + d.memory <= h.memory && !clash(h.reservedPorts, d.ports);

/** Every host port held on a host by at most one task (the hosts' own as one holder each). */
function expectNoSharedPort(hosts: readonly HostView[], plans: readonly Plan[]) {
  for (const h of hosts) {
    const held = [...(h.reservedPorts ?? []), ...plans.filter((p) => p.hostId === h.hostId).flatMap((p) => p.ports ?? [])];
    expect(held).toHaveLength(new Set(held).size);
  }
}

/**
 * The applier's conditional write as HostStore.reserve words it, over an in-memory table: the
 * host ACTIVE, not holding the task, within its room, and holding none of the plan's ports.
 */
class PortTable {
  readonly rows = new Map<string, { view: HostView; tasks: Map<string, readonly string[]> }>();

  constructor(hosts: readonly HostView[]) {
    for (const h of hosts) this.rows.set(h.hostId, { view: h, tasks: new Map() });
  }

  snapshot(): HostView[] {
    return [...this.rows.values()].map((r) => r.view);
  }

  reserve(plan: Plan): boolean {
    const row = this.rows.get(plan.hostId);
    if (!row) return false;
    const h = row.view;
    if (h.status !== 'ACTIVE' || row.tasks.has(plan.taskId) || h.reservedCpu > plan.maxReservedCpu
      || h.reservedMemory > plan.maxReservedMemory || clash(h.reservedPorts, plan.ports)) return false;
    row.tasks.set(plan.taskId, plan.ports ?? []);
    row.view = applyToView(h, plan);
    return true;
  }
}

describe('placement with host ports', () => {
  describe('planPlacement', () => {
    it('never plans a task on a host where a port it needs is taken, and plans whenever some host fits', () => {
      fc.assert(
        fc.property(hostsArb, demandsArb(1).filter((d) => d.length === 1), strategyArb, (hosts, [demand], strategy) => {
          // Act
          const plan = planPlacement(hosts, demand, strategy);

          // Assess
          if (!plan) {
            expect(hosts.filter((h) => fits(h, demand))).toEqual([]);
            return;
          }
          const host = hosts.find((h) => h.hostId === plan.hostId)!;
          expect(clash(host.reservedPorts, demand.ports)).toBe(false);
          expect(plan.ports ?? []).toEqual(demand.ports ?? []);
        }),
        { numRuns: 300 },
      );
    });

    it('puts replicas that need no host port side by side on one host', () => {
      // Prepare: three replicas of one definition with containerPort 8080 in awsvpc mode.
      const hosts = [{ hostId: 'host-a', status: 'ACTIVE' as const, cpu: 4096, memory: 8192, reservedCpu: 0, reservedMemory: 0, taskCount: 0 }];
      const ports = fixedHostPorts('awsvpc', [{ portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }] }]);
      const demands = [1, 2, 3].map((i): Demand => ({ taskId: `r${i}`, cpu: 256, memory: 512, ports }));

      // Act
      const { plans, unplaced } = planBatch(hosts, demands, 'binpack');

      // Assess
      expect(ports).toEqual([]);
      expect(plans.map((p) => p.hostId)).toEqual(['host-a', 'host-a', 'host-a']);
      expect(unplaced).toEqual([]);
    });

    it('puts replicas that need fixed host port 8080 one per host, and leaves the rest unplaced', () => {
      // Prepare: bridge mode, hostPort 8080.
      const host = (hostId: string): HostView => ({ hostId, status: 'ACTIVE', cpu: 4096, memory: 8192, reservedCpu: 0, reservedMemory: 0, taskCount: 0 });
      const ports = fixedHostPorts('bridge', [{ portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }] }]);
      const demands = [1, 2, 3].map((i): Demand => ({ taskId: `r${i}`, cpu: 256, memory: 512, ports }));

      // Act
      const { plans, unplaced } = planBatch([host('host-a'), host('host-b')], demands, 'binpack');

      // Assess
      expect(ports).toEqual(['8080/tcp']);
      expect(plans.map((p) => p.hostId).sort()).toEqual(['host-a', 'host-b']);
      expect(unplaced).toHaveLength(1);
    });
  });

  describe('planBatch', () => {
    it('never gives two tasks one host port on one host, nor one the host already holds', () => {
      fc.assert(
        fc.property(hostsArb, demandsArb(25), strategyArb, (hosts, demands, strategy) => {
          // Act
          const { plans, unplaced } = planBatch(hosts, demands, strategy);

          // Assess
          expectNoSharedPort(hosts, plans);
          expect(plans.length + unplaced.length).toBe(demands.length);
          const final = plans.reduce((hs, p) => hs.map((h) => (h.hostId === p.hostId ? applyToView(h, p) : h)), hosts);
          for (const d of unplaced) expect(final.filter((h) => fits(h, d))).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('plan applier', () => {
    it('never lets two tasks hold one host port on a host, whatever order stale plans from racing placers apply in', () => {
      type Step = { kind: 'refresh' | 'place'; placer: number };
      const stepArb = fc.record({ kind: fc.constantFrom<Step['kind']>('refresh', 'place', 'place', 'place'), placer: fc.nat(3) });
      let refusedForPorts = 0;

      fc.assert(
        fc.property(hostsArb, fc.array(demandsArb(6), { minLength: 2, maxLength: 4 }), fc.array(stepArb, { maxLength: 60 }), strategyArb,
          (hosts, queues, steps, strategy) => {
            // Prepare
            const table = new PortTable(hosts);
            const placers = queues.map((q, p) => ({
              queue: q.map((d) => ({ ...d, taskId: `p${p}-${d.taskId}` })),
              snapshot: undefined as HostView[] | undefined,
            }));
            const assessTable = () => {
              for (const row of table.rows.values()) {
                const held = [...(hosts.find((h) => h.hostId === row.view.hostId)!.reservedPorts ?? []), ...[...row.tasks.values()].flat()];
                expect(held).toHaveLength(new Set(held).size);
                expect([...(row.view.reservedPorts ?? [])].sort()).toEqual([...held].sort());
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
              const roomOnly = table.snapshot().find((h) => h.hostId === plan.hostId)!;
              const ok = table.reserve(plan);
              if (ok) {
                placer.queue.shift();
                placer.snapshot = placer.snapshot.map((h) => (h.hostId === plan.hostId ? applyToView(h, plan) : h));
              } else if (clash(roomOnly.reservedPorts, plan.ports)) {
                refusedForPorts++;
              }
              return ok;
            };

            // Act: interleave snapshots, plans and applies in the generated order.
            for (const step of steps) {
              const placer = placers[step.placer % placers.length];
              if (step.kind === 'refresh') placer.snapshot = table.snapshot();
              else if (placer.queue.length > 0) placeNext(placer);
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
        { numRuns: 300 },
      );

      // Assess: the runs did race for ports, so the guard was exercised.
      expect(refusedForPorts).toBeGreaterThan(0);
    });
  });

  describe('fixedHostPorts', () => {
    it.each([
      ['awsvpc publishes nothing', 'awsvpc', [{ containerPort: 80, hostPort: 80, protocol: 'tcp' as const }], []],
      ['bridge: a dynamic port is no placement resource', 'bridge', [{ containerPort: 80, hostPort: 0, protocol: 'tcp' as const }], []],
      ['bridge: a fixed port is, per protocol, once', undefined, [
        { containerPort: 53, hostPort: 53, protocol: 'udp' as const },
        { containerPort: 53, hostPort: 53, protocol: 'tcp' as const },
        { containerPort: 53, hostPort: 53, protocol: 'udp' as const },
      ], ['53/tcp', '53/udp']],
    ])('%s', (_what, networkMode, portMappings, expected) => {
      expect(fixedHostPorts(networkMode, [{ portMappings }])).toEqual(expected);
    });
  });
});
