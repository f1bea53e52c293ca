import { ConcurrentUpdateError } from '../domain/errors';
import type { PlacementStrategyType } from '../domain/task';
import { type Demand, type HostView, type Plan, planPlacement } from '../scheduler/placement';
import type { HostStore } from '../store';

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
    this.hosts = await this.store.views();
    this.index = new Map(this.hosts.map((h, i) => [h.hostId, i]));
    this.loadedAt = this.now();
  }

  private learn(host: HostView): void {
    const i = this.index.get(host.hostId);
    if (i !== undefined) this.hosts[i] = host;
  }

  /** The fleet as last seen: for reasons and metrics, not for decisions. */
  get snapshot(): readonly HostView[] {
    return this.hosts;
  }

  /** Reserves room for the task on the best host (or on `onlyHostId`); undefined when none has room. */
  async place(demand: Demand, cluster: string, strategy: PlacementStrategyType, onlyHostId?: string): Promise<Plan | undefined> {
    let fresh = false;
    if (this.now() - this.loadedAt > this.maxSnapshotAgeMs) {
      await this.refresh();
      fresh = true;
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const plan = planPlacement(onlyHostId === undefined ? this.hosts : this.hosts.filter((h) => h.hostId === onlyHostId), demand, strategy);
      if (!plan) {
        if (fresh) return undefined;
        await this.refresh();
        fresh = true;
        continue;
      }
      const host = this.hosts[this.index.get(plan.hostId)!];
      const reserved = await this.store.reserve(plan, cluster, this.now());
      if (reserved) {
        // The write returns the host's sums with everyone's commits: a free refresh of it.
        this.learn({ ...host, ...reserved });
        return plan;
      }
      // Lost the race for that host's room (or it left ACTIVE, or already holds this task, which
      // only a crash-and-retry causes and release sweeps up). Rather than pay a read to learn its
      // state, count it as full until the next refresh.
      this.learn({ ...host, reservedCpu: host.cpu, reservedMemory: host.memory });
    }
    throw new ConcurrentUpdateError(`placement of ${demand.taskId}`);
  }
}
