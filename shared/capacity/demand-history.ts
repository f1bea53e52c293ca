import { findType } from './catalog';
import type { CapacityPolicy, FleetHost, InstanceType, PendingDemand, PlannerInput } from './types';
import { warmPoolTarget } from './warm-pool';

/**
 * One moment the fleet needed fresh room: a task that found no room on any busy host (it waited
 * as pending demand), or an empty host that took work. `at` is epoch ms; the size is the task's,
 * or what the empty host took.
 */
export interface FreshRoomDemand {
  at: number;
  cpu: number;
  memory: number;
  /** A task that waited for room, or an idle host that took work. */
  kind: 'waited' | 'took-idle-host';
}

/**
 * The recent demand for fresh room, gathered from what each capacity cycle sees anyway (the
 * pending demand and the hosts): what the warm pool and the idle timeout are sized from. Work
 * that lands on a busy host's free room is no demand for a new or idle host, so it is left out;
 * an idle host that takes work is counted, so that a warm pool that absorbs the demand does not
 * hide it (and shrink itself for lack of it).
 *
 * State kept by the applier between cycles (the capacity manager, or the Lambda's warm
 * container): a cold start begins with no history, and the operator's figures apply until
 * there is some.
 */
export class DemandHistory {
  private events: FreshRoomDemand[] = [];
  /** Epoch ms at which a host was first seen idle (its idleSince when known), oldest first. */
  private idleStartsAt: number[] = [];
  private readonly pendingSeen = new Map<string, number>();
  private idleHosts = new Set<string>();
  /** Epoch ms of the first view: before a full window has passed, rates are over what was seen. */
  private startedAt?: number;

  constructor(private readonly windowMs: number) {}

  /** Records one cycle's view: new pending tasks, and empty hosts that took work since the last view. */
  observe(now: number, hosts: readonly FleetHost[], pending: readonly PendingDemand[]): void {
    this.startedAt ??= now;
    for (const d of pending) {
      if (this.pendingSeen.has(d.taskId)) continue;
      this.pendingSeen.set(d.taskId, d.since);
      this.events.push({ at: Math.min(d.since, now), cpu: d.cpu, memory: d.memory, kind: 'waited' });
    }
    const idleNow = new Set<string>();
    for (const h of hosts) {
      if (h.status !== 'ACTIVE') continue;
      if (h.taskCount === 0) {
        idleNow.add(h.hostId);
        if (!this.idleHosts.has(h.hostId)) this.idleStartsAt.push(Math.min(h.idleSince ?? now, now));
      } else if (this.idleHosts.has(h.hostId)) this.events.push({ at: now, cpu: h.reservedCpu, memory: h.reservedMemory, kind: 'took-idle-host' });
    }
    this.idleHosts = idleNow;
    const from = now - this.windowMs;
    if (this.events.length > 0 && this.events[0].at < from) this.events = this.events.filter((e) => e.at >= from);
    if (this.idleStartsAt.some((t) => t < from)) this.idleStartsAt = this.idleStartsAt.filter((t) => t >= from);
    for (const [taskId, since] of this.pendingSeen) if (since < from) this.pendingSeen.delete(taskId);
  }

  /** When the history began (its first view), or `now` before any. */
  since(now: number): number {
    return this.startedAt ?? now;
  }

  /** When hosts went idle within the window ending at `now`, oldest first. */
  idleStarts(now: number): number[] {
    const from = now - this.windowMs;
    return this.idleStartsAt.filter((t) => t >= from && t <= now).sort((a, b) => a - b);
  }

  /** The demand of the window ending at `now`, oldest first. */
  recent(now: number): FreshRoomDemand[] {
    const from = now - this.windowMs;
    return this.events.filter((e) => e.at >= from && e.at <= now).sort((a, b) => a.at - b.at);
  }
}

export interface AdaptiveCapacity {
  history: DemandHistory;
  /** What a relaunch costs: the boot, in seconds (EC2 takes about 40). */
  relaunchSeconds: number;
  /** The warm pool is sized from the rate over this much of the history (the idle timeout uses all of it). */
  warmPoolWindowSeconds: number;
}

/** The history's default span: long enough to see bursts that come every twenty minutes or so. */
export const DEMAND_HISTORY_SECONDS = 3600;
/**
 * The warm pool holds the work that arrives during the next boot, at the rate of about the last
 * boot and a half: over five minutes, a burst that ended kept its whole rate's worth of idle
 * hosts for five minutes after it, past any idle timeout (in bench:fleet, $2.1 of $110 on bursty
 * batch). A steady rate reads the same over one minute; the idle timeout keeps hosts through its gaps.
 */
export const WARM_POOL_WINDOW_SECONDS = 60;

/**
 * One cycle's view recorded, and the planner's input adapted to it: the warm pool keeps idle
 * hosts for the observed arrival rate (warmPoolKeepHosts; it launches only for the operator's
 * floor), and idle hosts beyond it go by the arrival pattern (freshRoomDemand).
 */
export function adaptToDemand(
  a: AdaptiveCapacity,
  o: { now: number; hosts: readonly FleetHost[]; pending: readonly PendingDemand[]; policy: CapacityPolicy; catalog: readonly InstanceType[] },
): { policy: CapacityPolicy; freshRoomDemand: NonNullable<PlannerInput['freshRoomDemand']> } {
  a.history.observe(o.now, o.hosts, o.pending);
  const recent = a.history.recent(o.now);
  const freshRoomDemand = { at: recent.map((e) => e.at), idleStarts: a.history.idleStarts(o.now), relaunchSeconds: a.relaunchSeconds };
  const type = findType(o.catalog, o.policy.warmPoolType);
  if (!type) return { policy: o.policy, freshRoomDemand };
  const windowMs = Math.min(a.warmPoolWindowSeconds * 1000, Math.max(1000, o.now - a.history.since(o.now)));
  const warmPoolKeepHosts = warmPoolTarget({
    arrivals: recent.filter((e) => e.at > o.now - windowMs), windowSeconds: windowMs / 1000, bootSeconds: a.relaunchSeconds,
    type, floor: o.policy.warmPoolHosts, maxHosts: o.policy.maxHosts,
  });
  return { policy: { ...o.policy, warmPoolKeepHosts }, freshRoomDemand };
}
