import { ConcurrentUpdateError } from '../domain/errors';
import {
  type CompiledPlacement, type Demand, type HostView, type Placement, type Plan, candidates, compilePlacement, planBatch, planOn,
} from '../scheduler/placement';
import { providerConstraint } from '../domain/capacity-strategy';
import type { Task } from '../domain/task';
import type { HostStore, Reserved } from '../store';

/**
 * What a task asks of placement. Always with its group, even under Berth's first bare strategy,
 * so every reservation counts in its host's groupTasks and a later distinctInstance or spread of
 * the same group sees it.
 */
export function placementOf(
  task: Pick<Task, 'placementStrategy' | 'placementStrategies' | 'placementConstraints' | 'group' | 'capacityProviderName'>,
): Placement {
  const constraints = task.placementConstraints ?? [];
  return {
    strategies: task.placementStrategies?.length ? task.placementStrategies : [{ type: task.placementStrategy }],
    // A task of a capacity provider runs only on hosts of that provider's market, or of its pool.
    constraints: task.capacityProviderName ? [...constraints, providerConstraint(task.capacityProviderName)] : constraints,
    group: task.group,
  };
}

/** What a task needs of a host: its size, its fixed host ports and its images' cpu architecture. */
export function taskDemand(task: Pick<Task, 'taskId' | 'cpu' | 'memory' | 'hostPorts' | 'cpuArchitecture'>): Demand {
  return {
    taskId: task.taskId, cpu: task.cpu, memory: task.memory, ports: task.hostPorts,
    ...(task.cpuArchitecture ? { architecture: task.cpuArchitecture } : {}),
  };
}

const DEFAULT_MAX_SNAPSHOT_AGE_MS = 5000;

/** Enough to see off any realistic burst of lost races; past it something else is wrong. */
const MAX_ATTEMPTS = 64;

/** What the placer needs of the host store (an in-memory model stands in for it in property tests). */
export type PlacementStore = Pick<HostStore, 'views' | 'view' | 'reserveAll'>;

export interface PlacerOptions {
  /**
   * A snapshot older than this is re-read before planning (or older than 20 of its scans, when
   * they are slow). Default 5 s: a placer learns its own commits from its writes, so a staler view
   * misses only others' commits and releases (a lost race or a spread a little off, never an
   * overcommit). At 1 s, 8 one-at-a-time placers scanned the fleet 88–104 times per 2,000
   * placements, at 5 s 19–38 times (same-run comparisons on a loaded machine; the placements per
   * second moved with the machine's load more than with this setting).
   */
  maxSnapshotAgeMs?: number;
  /**
   * A single placement picks at random among this many of the best hosts, so that placers
   * running at once spread their writes over several host items instead of all racing for
   * the best one (each item takes its writes one at a time). 1 always takes the best.
   */
  choices?: number;
  /** In [0, 1); the wiring's, so a test can fix it. */
  random?: () => number;
}

export interface BatchPlacement {
  /** The committed plans: which task got which host. */
  placed: Plan[];
  /** What no host had room for on a fresh view. */
  unplaced: Demand[];
  /** What kept losing races past every retry (not a question of room): place it again later. */
  contended: Demand[];
}

/**
 * Plans against a cached snapshot of the fleet and commits with the host store's conditional
 * reserve (Nomad's optimistic plan/apply). A stale snapshot can cost a retry, never an
 * overcommit: the write re-checks the fit. "No room" is only ever concluded on a fresh snapshot.
 */
export class Placer {
  private hosts: HostView[] = [];
  private index = new Map<string, number>();
  private loadedAt = -Infinity;
  private lastScanMs = 0;
  /**
   * Whether a host has been counted full on a guess (learnRefused) since the last read. The
   * snapshot is shared by every call on this placer, so one call's guess would otherwise pass
   * for a fact in another call that has just read: "no room" needs a view without guesses.
   */
  private guessed = false;
  private readonly maxSnapshotAgeMs: number;
  private readonly choices: number;
  private readonly random: () => number;

  constructor(
    private readonly store: PlacementStore,
    private readonly now: () => number,
    options: PlacerOptions = {},
  ) {
    this.maxSnapshotAgeMs = options.maxSnapshotAgeMs ?? DEFAULT_MAX_SNAPSHOT_AGE_MS;
    this.choices = Math.max(1, options.choices ?? 8);
    this.random = options.random ?? Math.random;
  }

  private async refresh(): Promise<void> {
    const started = this.now();
    this.hosts = await this.store.views();
    this.index = new Map(this.hosts.map((h, i) => [h.hostId, i]));
    this.guessed = false;
    this.loadedAt = this.now();
    this.lastScanMs = this.loadedAt - started;
  }

  private learn(host: HostView): void {
    const i = this.index.get(host.hostId);
    if (i !== undefined) this.hosts[i] = host;
  }

  /**
   * What a committed write returned, onto the host as the view has it now, not as it was when
   * the write was planned: another call on this placer may have refreshed the view while the
   * write was out (a host written off since is no longer in it: nothing to learn about that
   * one). Writes to one host see each other's sums (everyone's commits, not only ours): the
   * highest is kept, a free refresh of the host.
   */
  private learnFromWrite(hostId: string, reserved: Reserved): void {
    const i = this.index.get(hostId);
    const host = i === undefined ? undefined : this.hosts[i];
    if (!host || reserved.taskCount < host.taskCount) return;
    this.learn({
      ...host,
      reservedCpu: reserved.reservedCpu,
      reservedMemory: reserved.reservedMemory,
      taskCount: reserved.taskCount,
      groupTasks: { ...host.groupTasks, ...reserved.groupTasks },
      reservedPorts: reserved.reservedPorts ?? host.reservedPorts,
    });
  }

  /**
   * Lost the race for that host (its room went, it left ACTIVE, or it already holds the task,
   * which only a crash-and-retry causes and release sweeps up). Rather than pay a read to learn
   * its state, count it as full until the next refresh.
   */
  private learnRefused(hostId: string): void {
    const i = this.index.get(hostId);
    if (i === undefined) return;
    const host = this.hosts[i];
    this.hosts[i] = { ...host, reservedCpu: host.cpu, reservedMemory: host.memory };
    this.guessed = true;
  }

  /** Read since `fresh` was set, and nothing guessed since: a view "no room" may be concluded on. */
  private known(fresh: boolean): boolean {
    return fresh && !this.guessed;
  }

  private widened(losses: number): number {
    return this.choices * 2 ** Math.min(losses, 4);
  }

  /**
   * Stale past maxSnapshotAgeMs, or past 20 scans' time when scans are slow: a loaded store must
   * not spend most of its work on re-reading the fleet (a stale view costs a retry at worst, and
   * "no room" is only ever concluded on a fresh one).
   */
  private isStale(): boolean {
    return this.now() - this.loadedAt > Math.max(this.maxSnapshotAgeMs, 20 * this.lastScanMs);
  }

  /** The fleet as last seen: for reasons and metrics, not for decisions. */
  get snapshot(): readonly HostView[] {
    return this.hosts;
  }

  /** Reserves room for the task on one of the best hosts (or on `onlyHostId`, a DAEMON task's); undefined when none has room. */
  async place(demand: Demand, cluster: string, placement: Placement, onlyHostId?: string): Promise<Plan | undefined> {
    const rules = compilePlacement(placement);
    let fresh = false;
    if (this.isStale()) {
      await this.refresh();
      fresh = true;
    }
    let losses = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Each lost race widens the choice (and lets binpack open an empty host): under heavy
      // contention placers fan out over more hosts instead of racing again for the same room.
      const hosts = onlyHostId === undefined ? this.hosts : this.hosts.filter((h) => h.hostId === onlyHostId);
      const options = candidates(hosts, demand, rules, this.widened(losses), losses === 0);
      if (options.length === 0) {
        if (this.known(fresh)) return undefined;
        await this.refresh();
        fresh = true;
        continue;
      }
      const host = options[Math.min(options.length - 1, Math.floor(this.random() * options.length))];
      const plan = planOn(host, demand, rules);
      const reserved = await this.store.reserveAll(plan.hostId, [plan], cluster, this.now());
      if (reserved) {
        this.learnFromWrite(host.hostId, reserved);
        return plan;
      }
      this.learnRefused(host.hostId);
      losses++;
    }
    throw new ConcurrentUpdateError(`placement of ${demand.taskId}`);
  }

  /**
   * A spread round takes hosts that rank equal (the emptiest, at first all of them) in an order
   * of its own: planned by id, every placer's batch would go to the same few hosts at once, each
   * host item then taking the placers' writes one after another (a hot item on DynamoDB). Binpack
   * keeps ids: herdAvoidance below spreads its placers, and it must not open empty hosts at random.
   */
  private tieSalt(rules: CompiledPlacement): number | undefined {
    return rules.consolidates ? undefined : Math.floor(this.random() * 0x1_0000_0000);
  }

  /**
   * Under binpack every placer's plan starts on the same fullest host, so placers running at
   * once all race for it and all but one lose. A round leaves out a random number (0 to
   * choices - 1) of the best hosts for the batch's largest task, so concurrent batches start on
   * different hosts; the hosts left out take what is left in the next round. The first round
   * keeps to busy hosts while one has room; a round after a lost race may open an empty host
   * rather than race again for the little room left, and each loss doubles the choice. Spread
   * spreads a batch over many hosts by itself, and tieSalt keeps concurrent batches apart.
   */
  private herdAvoidance(demands: readonly Demand[], rules: CompiledPlacement, losses: number): Set<string> | undefined {
    if (!rules.consolidates || this.choices <= 1 || demands.length === 0) return undefined;
    const largest = demands.reduce((a, d) => (d.memory > a.memory || (d.memory === a.memory && d.cpu > a.cpu) ? d : a));
    const top = candidates(this.hosts, largest, rules, this.widened(losses), losses === 0);
    const skip = Math.min(top.length - 1, Math.floor(this.random() * top.length));
    return skip > 0 ? new Set(top.slice(0, skip).map((h) => h.hostId)) : undefined;
  }

  /**
   * Places many tasks of one placement (a service's new tasks, a RunTask's count) as one batch:
   * one plan against the snapshot, then one conditional write per host that reserves all of the
   * tasks planned on it. Only the tasks of hosts whose write lost its race are planned again,
   * on a fresh view. Returns which task got which host, and what fits nowhere.
   */
  async placeBatch(demands: readonly Demand[], cluster: string, placement: Placement, maxPerWrite = 32): Promise<BatchPlacement> {
    const rules = compilePlacement(placement);
    const placed: Plan[] = [];
    const byTask = new Map(demands.map((d) => [d.taskId, d]));
    let remaining = [...demands];
    let fresh = false;
    if (this.isStale()) {
      await this.refresh();
      fresh = true;
    }
    let lostLastRound = false;
    let losses = 0;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && remaining.length > 0; attempt++) {
      // Only the first round and the one after a lost race hide hosts: the round after that sees them all.
      const hidden = attempt === 0 || lostLastRound ? this.herdAvoidance(remaining, rules, losses) : undefined;
      lostLastRound = false;
      const view = hidden ? this.hosts.filter((h) => !hidden.has(h.hostId)) : this.hosts;
      const { plans, unplaced } = planBatch(view, remaining, rules, this.tieSalt(rules));
      if (hidden) {
        // What did not fit beside the hidden hosts is planned next round, with all of them.
        if (plans.length === 0) continue;
      } else if (plans.length === 0) {
        if (this.known(fresh)) return { placed, unplaced: remaining, contended: [] };
        await this.refresh();
        fresh = true;
        continue;
      }
      const writes = chunkByHost(plans, maxPerWrite);
      const before = new Map(writes.map((w) => [w[0].hostId, this.hosts[this.index.get(w[0].hostId)!]]));
      const results = await Promise.all(writes.map((w) => this.store.reserveAll(w[0].hostId, w, cluster, this.now())));
      const lost: Demand[] = [];
      const refused = new Set<string>();
      results.forEach((reserved, i) => {
        const w = writes[i];
        if (reserved) {
          placed.push(...w);
          this.learnFromWrite(w[0].hostId, reserved);
        } else {
          refused.add(w[0].hostId);
          for (const p of w) lost.push(byTask.get(p.taskId)!);
        }
      });
      remaining = [...lost, ...unplaced];
      if (remaining.length === 0) break;
      if (lost.length === 0) {
        if (hidden) continue;
        // Everything planned was committed; the rest fits nowhere on this view.
        if (this.known(fresh)) return { placed, unplaced: remaining, contended: [] };
        await this.refresh();
        fresh = true;
        continue;
      }
      lostLastRound = true;
      losses++;
      // Re-read only the hosts that refused us (a point read each, not a scan of the fleet),
      // then plan the lost tasks again on that fresh view of them.
      const reread = await Promise.all([...refused].map((hostId) => this.store.view(hostId)));
      [...refused].forEach((hostId, i) => {
        const now = reread[i];
        const was = before.get(hostId);
        if (!now) {
          this.learnRefused(hostId);
        } else if (was && now.status === 'ACTIVE' && now.taskCount === was.taskCount &&
          now.reservedCpu === was.reservedCpu && now.reservedMemory === was.reservedMemory) {
          // Refused although nothing moved: it refuses for a reason no plan can see (it already
          // holds one of the tasks, after a crash): leave it out until the next refresh.
          this.learnRefused(hostId);
        } else {
          this.learn(now);
        }
      });
    }
    // Out of attempts: what was committed stands and is reported, the rest is for a later try.
    return { placed, unplaced: [], contended: remaining };
  }
}

/** The plans grouped by host, each group cut to at most `max` (one UpdateItem each). */
function chunkByHost(plans: readonly Plan[], max: number): Plan[][] {
  const byHost = new Map<string, Plan[]>();
  for (const p of plans) {
    const list = byHost.get(p.hostId);
    if (list) list.push(p);
    else byHost.set(p.hostId, [p]);
  }
  const writes: Plan[][] = [];
  for (const list of byHost.values()) {
    for (let i = 0; i < list.length; i += max) writes.push(list.slice(i, i + max));
  }
  return writes;
}
