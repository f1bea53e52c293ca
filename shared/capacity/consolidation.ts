import { type Demand, type HostView, applyToView, planPlacement } from '../scheduler/placement';
import type { CpuArchitecture, HostStatus } from '../scheduler/placement';
import { cpuArchitectureOf } from '../scheduler/host-attributes';
import { findType, hourlyPrice } from './catalog';
import { decideCapacity } from './planner';
import type { CapacityPolicy, FleetHost, InstanceType, Market, PendingDemand } from './types';

/**
 * Consolidation, after Karpenter's disruption controller: a busy host whose tasks would all fit
 * on the other busy hosts is cordoned (DRAINING: no new placements). Nothing here stops a task.
 * The service scheduler replaces a service's tasks on a DRAINING host elsewhere first and stops
 * them only while minimumHealthyPercent holds (reconcile.ts); one-off tasks finish where they
 * are; the capacity cycle terminates the host once it holds nothing. Pure and deterministic.
 */

/** A task on a host, as consolidation sees it (DAEMON services' tasks are left out by the caller). */
export interface ConsolidationTask {
  taskId: string;
  cpu: number;
  memory: number;
  /** Fixed host ports it holds: its replacement needs them free on its new host. */
  ports?: readonly string[];
  /** Its service's task group (`service:NAME`), or none for a one-off task. */
  group?: string;
}

export interface ConsolidationHost {
  hostId: string;
  status: HostStatus;
  market: Market;
  pool?: string;
  cpu: number;
  memory: number;
  /** Epoch ms: when it registered (or was launched). */
  launchedAt: number;
  /** USD per hour: of two equal candidates the dearer goes first. */
  hourlyPrice: number;
  /** Its cpu architecture (x86_64 when absent): its tasks' replacements go to hosts of the same one. */
  architecture?: CpuArchitecture;
  /** Its instance type: a replacement (see ConsolidationPolicy.replaceAtMostShare) is priced against the catalog's. */
  instanceType?: string;
  tasks: readonly ConsolidationTask[];
}

export interface ConsolidationPolicy {
  /** A host younger than this is left alone: the work it was launched for may still be arriving. */
  minHostAgeSeconds: number;
  /** At most this many hosts holding tasks are DRAINING at once (Karpenter's disruption budget). */
  maxDrainingHosts: number;
  /**
   * Replacement, after Karpenter's multi-node consolidation: a set of hosts holding only service
   * tasks is cordoned when what the capacity planner would launch for their tasks (once the other
   * busy hosts' room is used) costs at most this share of what the set costs. Off when absent, or
   * without the capacity planner's catalog and policy.
   */
  replaceAtMostShare?: number;
}

/**
 * replaceAtMostShare 0.9: a swap costs a boot of the new hosts (40 s) and a short overlap of the
 * moved tasks, and saves a tenth of the set's price for as long as the service runs, so it has paid
 * for itself within about six minutes. At 0.75, bench:fleet's services kept m6i hosts whose tasks
 * the planner would have put on c6i ones for 11% less (steady services $146.67 -> $146.38,
 * arm64 services $114.22 -> $113.79, on-demand).
 */
export const DEFAULT_CONSOLIDATION_POLICY: ConsolidationPolicy = { minHostAgeSeconds: 600, maxDrainingHosts: 1, replaceAtMostShare: 0.9 };

export interface ConsolidationPlan {
  /** Hosts to cordon (ACTIVE → DRAINING), in the order chosen. */
  cordons: string[];
  /** Where the simulation put every task of the cordoned hosts on the hosts that stay: task id → host id. */
  moves: Record<string, string>;
  /**
   * Sets of cordoned hosts whose service tasks go (in part) to new hosts: their replacements wait
   * as pending demand, for which the capacity planner launches these types (its own choice, as
   * priced here). Absent when there is none.
   */
  replacements?: Replacement[];
}

export interface Replacement {
  hostIds: string[];
  /** Instance types the capacity planner would launch for what does not fit on the hosts that stay. */
  launches: string[];
  /** USD per hour: the set's, and the new hosts'. */
  hourlyPrice: number;
  newHourlyPrice: number;
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The larger of its cpu and memory shares: how much of the host its tasks hold. */
function utilisation(h: ConsolidationHost): number {
  const cpu = h.tasks.reduce((s, t) => s + t.cpu, 0);
  const memory = h.tasks.reduce((s, t) => s + t.memory, 0);
  return Math.max(h.cpu > 0 ? cpu / h.cpu : 0, h.memory > 0 ? memory / h.memory : 0);
}

function viewOf(h: ConsolidationHost): HostView {
  const ports = h.tasks.flatMap((t) => t.ports ?? []);
  return {
    hostId: h.hostId, status: 'ACTIVE', cpu: h.cpu, memory: h.memory,
    reservedCpu: h.tasks.reduce((s, t) => s + t.cpu, 0),
    reservedMemory: h.tasks.reduce((s, t) => s + t.memory, 0),
    taskCount: h.tasks.length,
    ...(ports.length > 0 ? { reservedPorts: ports } : {}),
  };
}

/**
 * Which hosts to cordon. Candidates are ACTIVE hosts holding tasks, old enough, cheapest to
 * disrupt first (fewest tasks, then least used, then dearest, then id). A candidate is cordoned
 * when every one of its tasks — one-off tasks too, so that the room they will need is there when
 * they are done — fits, with the scheduler's own binpack, on the other busy ACTIVE hosts of its
 * market, pool and architecture, given what earlier cordons already moved there. Empty hosts are no
 * destination (the idle timeout and the warm pool deal with them; filling one would only swap
 * one host for another), and a host that receives tasks is no longer a candidate. At most
 * `maxDrainingHosts` busy hosts drain at once, counting those already DRAINING.
 */
export function planConsolidation(input: {
  hosts: readonly ConsolidationHost[];
  policy: ConsolidationPolicy;
  now: number;
  /** What the capacity planner launches from, for replacements (policy.replaceAtMostShare). */
  capacity?: { catalog: readonly InstanceType[]; policy: CapacityPolicy };
}): ConsolidationPlan {
  const { policy, now } = input;
  const hosts = [...input.hosts].sort((a, b) => compareIds(a.hostId, b.hostId));
  const draining = hosts.filter((h) => h.status === 'DRAINING' && h.tasks.length > 0).length;
  let budget = policy.maxDrainingHosts - draining;
  const plan: ConsolidationPlan = { cordons: [], moves: {} };
  if (budget <= 0) return plan;

  const busy = hosts.filter((h) => h.status === 'ACTIVE' && h.tasks.length > 0);
  const views = new Map(busy.map((h) => [h.hostId, viewOf(h)]));
  const received = new Set<string>();
  const cordoned = new Set<string>();
  const candidates = busy
    .filter((h) => now - h.launchedAt >= policy.minHostAgeSeconds * 1000)
    .sort((a, b) =>
      a.tasks.length - b.tasks.length || utilisation(a) - utilisation(b) || b.hourlyPrice - a.hourlyPrice || compareIds(a.hostId, b.hostId));

  for (const candidate of candidates) {
    if (budget <= 0) break;
    if (received.has(candidate.hostId)) continue;
    const destinations = busy
      .filter((h) => h !== candidate && !cordoned.has(h.hostId) && h.market === candidate.market && h.pool === candidate.pool &&
        (h.architecture ?? 'x86_64') === (candidate.architecture ?? 'x86_64'))
      .map((h) => views.get(h.hostId)!);
    const trial = new Map(destinations.map((v) => [v.hostId, v]));
    const moves: Record<string, string> = {};
    // Largest first, as the scheduler's batches place.
    const tasks = [...candidate.tasks].sort((a, b) => b.memory - a.memory || b.cpu - a.cpu || compareIds(a.taskId, b.taskId));
    let fits = true;
    for (const t of tasks) {
      const demand: Demand = { taskId: t.taskId, cpu: t.cpu, memory: t.memory, ...(t.ports?.length ? { ports: t.ports } : {}) };
      const p = planPlacement([...trial.values()], demand, 'binpack');
      if (!p) {
        fits = false;
        break;
      }
      trial.set(p.hostId, applyToView(trial.get(p.hostId)!, p));
      moves[t.taskId] = p.hostId;
    }
    if (!fits) continue;
    for (const [id, v] of trial) views.set(id, v);
    for (const hostId of Object.values(moves)) received.add(hostId);
    Object.assign(plan.moves, moves);
    cordoned.add(candidate.hostId);
    plan.cordons.push(candidate.hostId);
    budget--;
  }

  const share = policy.replaceAtMostShare;
  if (input.capacity && share !== undefined && share > 0 && budget > 0) {
    replace({ busy, views, received, cordoned, plan, budget, share, capacity: input.capacity, policy, now });
  }
  return plan;
}

const isServiceTask = (t: ConsolidationTask): boolean => t.group?.startsWith('service:') ?? false;
const groupKey = (h: ConsolidationHost): string => `${h.market}\u0000${h.pool ?? ''}\u0000${h.architecture ?? 'x86_64'}`;

/**
 * The replacement pass: per market and architecture (pools are left to the first pass), the
 * hosts holding only service tasks, least used first; of the sets made of the first k of them
 * (k within the budget), the one whose tasks the capacity planner would put on the other busy
 * hosts' room and on new hosts costing at most `share` of the set, saving the most per hour.
 * One set per cycle: the next cycle sees the new hosts.
 */
function replace(o: {
  busy: readonly ConsolidationHost[];
  views: Map<string, HostView>;
  received: Set<string>;
  cordoned: Set<string>;
  plan: ConsolidationPlan;
  budget: number;
  share: number;
  capacity: { catalog: readonly InstanceType[]; policy: CapacityPolicy };
  policy: ConsolidationPolicy;
  now: number;
}): void {
  const { catalog } = o.capacity;
  const known = (h: ConsolidationHost): boolean => h.instanceType !== undefined && findType(catalog, h.instanceType) !== undefined &&
    cpuArchitectureOf(h.instanceType) === (h.architecture ?? 'x86_64');
  const stays = o.busy.filter((h) => !o.cordoned.has(h.hostId));
  const candidates = stays
    .filter((h) => h.pool === undefined && known(h) && !o.received.has(h.hostId) && o.now - h.launchedAt >= o.policy.minHostAgeSeconds * 1000 &&
      h.tasks.every(isServiceTask) && !h.tasks.some((t) => t.ports?.length))
    .sort((a, b) => utilisation(a) - utilisation(b) || b.hourlyPrice - a.hourlyPrice || compareIds(a.hostId, b.hostId));
  let best: { set: ConsolidationHost[]; launches: string[]; newPrice: number; placements: Record<string, string> } | undefined;
  let bestSaving = 0;
  for (const key of [...new Set(candidates.map(groupKey))].sort()) {
    const inGroup = candidates.filter((h) => groupKey(h) === key);
    for (let k = 1; k <= Math.min(o.budget, inGroup.length); k++) {
      const set = inGroup.slice(0, k);
      const priced = priceReplacement(set, stays.filter((h) => !set.includes(h) && groupKey(h) === key && known(h)), o.views, o.capacity, o.now);
      if (!priced) continue;
      const setPrice = set.reduce((sum, h) => sum + h.hourlyPrice, 0);
      const saving = setPrice - priced.newPrice;
      if (priced.newPrice <= o.share * setPrice && saving > bestSaving + 1e-12) {
        best = { set, ...priced };
        bestSaving = saving;
      }
    }
  }
  if (!best) return;
  const ids = best.set.map((h) => h.hostId);
  for (const [taskId, hostId] of Object.entries(best.placements)) {
    const t = best.set.flatMap((h) => h.tasks).find((x) => x.taskId === taskId)!;
    const v = o.views.get(hostId)!;
    o.views.set(hostId, applyToView(v, { hostId, taskId, cpu: t.cpu, memory: t.memory, maxReservedCpu: v.cpu - t.cpu, maxReservedMemory: v.memory - t.memory }));
    o.received.add(hostId);
    o.plan.moves[taskId] = hostId;
  }
  for (const id of ids) {
    o.cordoned.add(id);
    o.plan.cordons.push(id);
  }
  (o.plan.replacements ??= []).push({
    hostIds: ids, launches: best.launches, hourlyPrice: best.set.reduce((sum, h) => sum + h.hourlyPrice, 0), newHourlyPrice: best.newPrice,
  });
}

/**
 * What the capacity planner would do with the set's tasks as pending work, the hosts that stay
 * as the fleet (as the first pass left them): which go to their room, and the new hosts it would
 * launch for the rest. Undefined when it would leave any task without room.
 */
function priceReplacement(
  set: readonly ConsolidationHost[], others: readonly ConsolidationHost[], views: ReadonlyMap<string, HostView>,
  capacity: { catalog: readonly InstanceType[]; policy: CapacityPolicy }, now: number,
): { launches: string[]; newPrice: number; placements: Record<string, string> } | undefined {
  const market = set[0].market;
  const pending: PendingDemand[] = set.flatMap((h) => h.tasks.map((t) => ({
    taskId: t.taskId, cluster: '', cpu: t.cpu, memory: t.memory, market, architecture: h.architecture ?? 'x86_64', since: now,
  })));
  const hosts: FleetHost[] = others.map((h) => {
    const v = views.get(h.hostId)!;
    return {
      hostId: h.hostId, instanceType: h.instanceType!, market: h.market, status: 'ACTIVE', cpu: h.cpu, memory: h.memory,
      reservedCpu: v.reservedCpu, reservedMemory: v.reservedMemory, taskCount: v.taskCount, launchedAt: h.launchedAt,
    };
  });
  const d = decideCapacity({
    pending, hosts, catalog: [...capacity.catalog], now,
    // Only the packing is wanted: no warm pool, no idle hosts to let go, the fleet's cap as given.
    policy: { ...capacity.policy, market, warmPoolHosts: 0, warmPoolKeepHosts: 0 },
  });
  if (d.deferred.length > 0 || d.plan.unschedulable.length > 0) return undefined;
  const placements: Record<string, string> = {};
  for (const p of d.placements) if (p.on === 'ACTIVE') placements[p.taskId] = p.hostId;
  let newPrice = 0;
  for (const n of d.newHosts) {
    const type = findType(capacity.catalog, n.instanceType);
    if (!type) return undefined;
    newPrice += hourlyPrice(type, market);
  }
  return { launches: d.newHosts.map((n) => n.instanceType).sort(), newPrice, placements };
}
