import { ConcurrentUpdateError } from '../domain/errors';
import type { PlacementStrategyType } from '../domain/task';
import { type Demand, type HostView, type Plan, applyToView, planPlacement } from '../scheduler/placement';
import type { HostRecord, HostStore } from '../store';

const toView = (h: HostRecord): HostView => ({
  hostId: h.hostId, status: h.status, cpu: h.cpu, memory: h.memory,
  reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory, taskCount: h.taskCount,
});

/** Enough to see off any realistic burst of lost races; past it something else is wrong. */
const MAX_ATTEMPTS = 64;

/**
 * Plans against a cached snapshot of the fleet and commits with the host store's conditional
 * reserve (Nomad's optimistic plan/apply). A stale snapshot can cost a retry, never an
 * overcommit: the write re-checks the fit. "No room" is only ever concluded on a fresh snapshot.
 */
export class Placer {
  private hosts: HostView[] = [];
  private index = new Map<string, number>();
  private loadedAt = -Infinity;

  constructor(
    private readonly store: HostStore,
    private readonly now: () => number,
    private readonly maxSnapshotAgeMs = 1000,
  ) {}

  private async refresh(): Promise<void> {
    const records = await this.store.list();
    this.hosts = records.map(toView);
    this.index = new Map(this.hosts.map((h, i) => [h.hostId, i]));
    this.loadedAt = this.now();
  }

  private learn(host: HostView | undefined, hostId: string): void {
    const i = this.index.get(hostId);
    if (i === undefined) return;
    if (host) this.hosts[i] = host;
    else this.hosts[i] = { ...this.hosts[i], status: 'TERMINATED' };
  }

  /** The fleet as last seen: for reasons and metrics, not for decisions. */
  get snapshot(): readonly HostView[] {
    return this.hosts;
  }

  /** Reserves room for the task on the best host; undefined when no host has room. */
  async place(demand: Demand, cluster: string, strategy: PlacementStrategyType): Promise<Plan | undefined> {
    let fresh = false;
    if (this.now() - this.loadedAt > this.maxSnapshotAgeMs) {
      await this.refresh();
      fresh = true;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const plan = planPlacement(this.hosts, demand, strategy);
      if (!plan) {
        if (fresh) return undefined;
        await this.refresh();
        fresh = true;
        continue;
      }
      if (await this.store.reserve(plan, cluster)) {
        this.learn(applyToView(this.hosts[this.index.get(plan.hostId)!], plan), plan.hostId);
        return plan;
      }
      // Lost the race for that host's room (or it left ACTIVE): learn its real state, re-plan.
      const host = await this.store.get(plan.hostId);
      if (host?.reservations[demand.taskId]) return plan; // a retry of our own earlier commit
      this.learn(host && toView(host), plan.hostId);
    }
    throw new ConcurrentUpdateError(`placement of ${demand.taskId}`);
  }
}
