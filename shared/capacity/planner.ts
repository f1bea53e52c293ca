import { cpuArchitectureOf } from '../scheduler/host-attributes';
import { type CpuArchitecture, type HostView, applyToView, isFeasible, planPlacement } from '../scheduler/placement';
import { capacityOf, findType, hourlyPrice } from './catalog';
import { idleTimeoutsByRank } from './idle-timeout';
import { MARKETS } from './types';
import type {
  CapacityPlan,
  CapacityPolicy,
  FleetHost,
  InstanceType,
  Launch,
  Market,
  PendingDemand,
  PlannerInput,
  PlannerPool,
} from './types';

/**
 * The capacity planner, after Karpenter's provisioner: pending work, largest first, goes onto the
 * free room of ACTIVE hosts, then onto the room of hosts already being launched, and only what is
 * left opens new hosts — of the type that absorbs it most cheaply. Then the warm pool is topped up
 * and idle hosts beyond it are let go. Pure and deterministic: the same input (in any order) gives
 * the same plan.
 */

/** The policy a fresh deployment runs with. */
export const DEFAULT_CAPACITY_POLICY: CapacityPolicy = {
  warmPoolHosts: 1,
  warmPoolType: 'm6i.large',
  maxHosts: 200,
  idleTimeoutSeconds: 300,
  market: 'on-demand',
};

/** Where the planner's own packing put one pending task. */
export interface TaskPlacement {
  taskId: string;
  /** An existing host's id, or the id of one of the decision's `newHosts`. */
  hostId: string;
  on: 'ACTIVE' | 'LAUNCHING' | 'NEW';
}

/** A host the plan launches for pending work, with the tasks the packing gave it. */
export interface NewHost {
  /** `new-1`, `new-2`, … in the order opened: a name within this decision only. */
  hostId: string;
  instanceType: string;
  market: Market;
  taskIds: string[];
  capacityProvider?: string;
}

/** The plan and the packing behind it: what the capacity function logs, and what the tests check. */
export interface CapacityDecision {
  plan: CapacityPlan;
  placements: TaskPlacement[];
  newHosts: NewHost[];
  /** Hosts of the policy's warmPoolType launched to bring the idle hosts up to warmPoolHosts. */
  warmPoolLaunches: number;
  /** ACTIVE or LAUNCHING hosts holding nothing that the packing left unused: the warm pool as it stands. */
  idleHosts: string[];
  /** Pending tasks some type could hold that got no capacity because maxHosts capped the launches. */
  deferred: string[];
}

export function planCapacity(input: PlannerInput): CapacityPlan {
  return decideCapacity(input).plan;
}

export function decideCapacity(input: PlannerInput): CapacityDecision {
  const { catalog, policy, now } = input;
  const pools = input.pools ?? {};
  const live = input.hosts.filter((h) => h.status !== 'TERMINATED' && h.status !== 'LOST');
  const poolCatalog = (pool: PlannerPool) => catalog.filter((t) => pool.instanceTypes.includes(t.name));

  // 1. What no instance type can hold fails now rather than waiting for capacity that never comes;
  //    so does a pool's task that none of its pool's types can hold, or whose pool is gone.
  const unschedulable: CapacityPlan['unschedulable'] = [];
  const work: Work[] = [];
  const seen = new Set<string>();
  for (const d of input.pending) {
    // The same task recorded twice (a retried placement) is still one task's worth of demand.
    if (seen.has(d.taskId)) continue;
    seen.add(d.taskId);
    const task = toWork(d);
    const pool = task.pool === undefined ? undefined : pools[task.pool];
    if (task.pool !== undefined && !pool) {
      unschedulable.push({ taskId: d.taskId, cluster: d.cluster, reason: `capacity provider ${task.pool} does not exist` });
    } else if ((pool ? poolCatalog(pool) : catalog).some((t) => fitsEmpty(t, task, policy))) {
      work.push(task);
    } else if (task.architecture === 'arm64' && (policy.graviton ?? 'off') === 'off') {
      unschedulable.push({ taskId: d.taskId, cluster: d.cluster, reason: 'its cpu architecture is ARM64, and Graviton hosts are off (BERTH_GRAVITON)' });
    } else {
      unschedulable.push({ taskId: d.taskId, cluster: d.cluster, reason: tooLargeReason(task, task.pool) });
    }
  }
  work.sort(largestFirst);

  // 2–4 run once per market, then once per pool: a task of a capacity provider runs only on hosts
  //    of its market (or of its pool), and new hosts for it are launched in that market (of its
  //    pool's types). A task that names none counts as demand in the operator's market (it may
  //    still land on any host with room).
  const placements: TaskPlacement[] = [];
  const newHosts: NewHost[] = [];
  const deferred: string[] = [];
  let room = Math.max(0, policy.maxHosts - live.length);
  const groups = [
    ...MARKETS.map((market) => ({
      market, pool: undefined as string | undefined, types: catalog,
      work: work.filter((t) => t.pool === undefined && (t.market ?? policy.market) === market),
      hosts: live.filter((h) => h.pool === undefined && h.market === market),
    })),
    ...Object.entries(pools).sort(([a], [b]) => compareIds(a, b)).map(([name, pool]) => ({
      market: pool.market, pool: name as string | undefined, types: poolCatalog(pool),
      work: work.filter((t) => t.pool === name),
      hosts: live.filter((h) => h.pool === name),
    })),
  ];
  for (const { market, pool, types, work: marketWork, hosts: marketHosts } of groups) {
    if (marketWork.length === 0) continue;

    // 2. Existing room, with the scheduler's own rules: it is the scheduler that will place there.
    const afterActive = packOnto(activeRooms(marketHosts, catalog), marketWork, placements);

    // 3. The launches in flight, oldest launch first, each launch's hosts filled the way step 4
    //    opens new hosts. So a plan's own launches, once LAUNCHING, absorb exactly the work they
    //    were launched for, and the next run launches nothing more for it. (The scheduler's binpack
    //    over the same hosts can split the work differently and strand a task: one host too many,
    //    every run, while the launch is in flight.) Hosts of one launch are those with one
    //    launchedAt: the capacity function records the plan's `now` on every host it launches.
    //    The work that was waiting when a launch was made fills it first, largest first as then;
    //    what arrived since fills what room is left: a later, larger arrival is given a host of
    //    its own rather than the room planned for a task that was already waiting for it.
    let afterInFlight = afterActive;
    for (const { launchedAt, hosts: launch } of launchesInFlight(marketHosts, catalog)) {
      const filled = fillLaunch(afterInFlight, launchedAt, launch);
      for (const f of filled.fills) for (const taskId of f.taskIds) placements.push({ taskId, hostId: f.candidate.id, on: 'LAUNCHING' });
      afterInFlight = filled.rest;
    }

    // 4. New hosts for the rest, largest task first, as many as maxHosts allows.
    const opened = fill(afterInFlight, typeCandidates(types, market, policy), { reuse: true, limit: room });
    room -= opened.fills.length;
    for (const f of opened.fills) {
      const h: NewHost = {
        hostId: `new-${newHosts.length + 1}`, instanceType: f.candidate.instanceType, market, taskIds: f.taskIds,
        ...(pool !== undefined ? { capacityProvider: pool } : {}),
      };
      newHosts.push(h);
      for (const taskId of h.taskIds) placements.push({ taskId, hostId: h.hostId, on: 'NEW' });
    }
    deferred.push(...opened.rest.map((t) => t.taskId));
  }

  // 5. The warm pool: empty hosts the packing did not claim, best kept first. A pool's idle hosts
  //    are no part of it (they take only their pool's tasks): they go at their idle timeout.
  const used = new Set(placements.map((p) => p.hostId));
  const price = (h: FleetHost): number => {
    const type = findType(catalog, h.instanceType);
    return type ? hourlyPrice(type, h.market) : Infinity;
  };
  const idle = live
    .filter((h) => (h.status === 'ACTIVE' || h.status === 'LAUNCHING') && isEmpty(h) && !used.has(h.hostId))
    .sort((a, b) =>
      Number(b.instanceType === policy.warmPoolType) - Number(a.instanceType === policy.warmPoolType) ||
      // A booted host is ready now; one still launching is not.
      Number(b.status === 'ACTIVE') - Number(a.status === 'ACTIVE') ||
      price(a) - price(b) ||
      compareIds(a.hostId, b.hostId));
  const warmType = findType(catalog, policy.warmPoolType);
  const warmNeeded = warmType ? Math.max(0, policy.warmPoolHosts - idle.filter((h) => h.pool === undefined).length) : 0;
  const warmPoolLaunches = Math.min(warmNeeded, room);

  // 6. Idle hosts beyond the warm pool go once their timeout has passed; emptied DRAINING hosts go now.
  //    With the recent demand for fresh room, each one's timeout follows the arrival pattern, by
  //    its place in line behind the warm pool (a pool's hosts keep the policy's: the demand seen is
  //    the whole fleet's).
  const kept = new Set(keptIdleHosts(idle.filter((h) => h.pool === undefined), policy, warmType, catalog).map((h) => h.hostId));
  const beyond = idle.filter((h) => !kept.has(h.hostId) && h.pool === undefined);
  const adapted = input.freshRoomDemand
    ? idleTimeoutsByRank({
      arrivals: input.freshRoomDemand.at, now, relaunchSeconds: input.freshRoomDemand.relaunchSeconds,
      ...(input.freshRoomDemand.idleStarts ? { idleStarts: input.freshRoomDemand.idleStarts } : {}),
      maxSeconds: policy.idleTimeoutSeconds, firstRank: kept.size + 1, count: beyond.length,
    })
    : [];
  const timeoutMs = new Map(beyond.map((h, i) => [h.hostId, (adapted[i] ?? policy.idleTimeoutSeconds) * 1000]));
  const drains: string[] = [];
  const terminations: string[] = [];
  for (const h of idle) {
    if (kept.has(h.hostId) || h.status !== 'ACTIVE' || h.idleSince === undefined) continue;
    if (now - h.idleSince < (timeoutMs.get(h.hostId) ?? policy.idleTimeoutSeconds * 1000)) continue;
    drains.push(h.hostId);
    terminations.push(h.hostId);
  }
  for (const h of live) if (h.status === 'DRAINING' && isEmpty(h)) terminations.push(h.hostId);

  const launches = groupLaunches([
    ...newHosts.map((h) => ({
      instanceType: h.instanceType, market: h.market, count: 1, ...(h.capacityProvider !== undefined ? { capacityProvider: h.capacityProvider } : {}),
    })),
    ...(warmType && warmPoolLaunches > 0
      ? [{ instanceType: warmType.name, market: policy.market, count: warmPoolLaunches }]
      : []),
  ]);
  return {
    plan: {
      launches,
      drains: drains.sort(compareIds),
      terminations: terminations.sort(compareIds),
      unschedulable: unschedulable.sort((a, b) => compareIds(a.taskId, b.taskId)),
    },
    placements,
    newHosts,
    warmPoolLaunches,
    idleHosts: idle.map((h) => h.hostId),
    deferred,
  };
}

/**
 * The idle hosts the warm pool keeps, best first: at least the operator's warmPoolHosts, by
 * count; for the observed rate, hosts until their room adds up to warmPoolKeepHosts hosts of the
 * warm pool's type, which is how warmPoolTarget counts it: an idle host twice the warm type's
 * size holds what two of them would. (Counted as hosts, a fleet of large idle hosts kept
 * several times the room the rate asks for.)
 */
function keptIdleHosts(
  idle: readonly FleetHost[], policy: CapacityPolicy, warmType: InstanceType | undefined, catalog: readonly InstanceType[],
): FleetHost[] {
  const floor = Math.max(0, policy.warmPoolHosts);
  const target = Math.max(floor, policy.warmPoolKeepHosts ?? 0);
  if (!warmType || target <= floor) return idle.slice(0, target);
  const unit = capacityOf(warmType);
  const shares = (h: FleetHost): number => {
    // A host still launching may not have registered its capacity: its type's, then.
    const type = h.cpu > 0 && h.memory > 0 ? undefined : findType(catalog, h.instanceType);
    const room = type ? capacityOf(type) : { cpu: h.cpu, memory: h.memory };
    return Math.max(1e-9, unit.cpu > 0 ? room.cpu / unit.cpu : 0, unit.memory > 0 ? room.memory / unit.memory : 0);
  };
  const kept: FleetHost[] = [];
  let held = 0;
  for (const h of idle) {
    if (kept.length >= floor && held >= target - 1e-9) break;
    kept.push(h);
    held += shares(h);
  }
  return kept;
}

// --- pending work ----------------------------------------------------------------------------

interface Work {
  readonly taskId: string;
  readonly cpu: number;
  readonly memory: number;
  readonly gpus: number;
  readonly market?: Market;
  readonly pool?: string;
  /** The architecture of the hosts it may run on: its declared one, else x86_64. */
  readonly architecture: CpuArchitecture;
  /** Epoch ms when it first found no room. */
  readonly since: number;
}

const toWork = (d: PendingDemand): Work => ({
  taskId: d.taskId, cpu: d.cpu, memory: d.memory, gpus: d.gpus ?? 0, market: d.market, pool: d.capacityProvider,
  architecture: d.architecture ?? 'x86_64', since: d.since,
});

/** Whether the planner may open a host of this type for the task: Graviton types only where the policy allows them. */
function typeAllowed(type: InstanceType, task: Pick<Work, 'architecture'>, policy: CapacityPolicy): boolean {
  const arch = cpuArchitectureOf(type.name);
  if (arch === 'arm64' && (policy.graviton ?? 'off') === 'off') return false;
  return task.architecture === arch;
}

const archAttributes = (instanceType: string): Readonly<Record<string, string>> => ({ 'ecs.cpu-architecture': cpuArchitectureOf(instanceType) });

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Largest first: GPUs are the scarcest dimension, then memory, then cpu (the scheduler's
 * planBatch order), then the task id so that equal sizes keep one order whatever the input's.
 */
function largestFirst(a: Work, b: Work): number {
  return b.gpus - a.gpus || b.memory - a.memory || b.cpu - a.cpu || compareIds(a.taskId, b.taskId);
}

function fitsEmpty(type: InstanceType, task: Work, policy: CapacityPolicy): boolean {
  const capacity = capacityOf(type);
  return task.cpu <= capacity.cpu && task.memory <= capacity.memory && task.gpus <= type.gpus && typeAllowed(type, task, policy);
}

function tooLargeReason(task: Work, pool?: string): string {
  const gpus = task.gpus > 0 ? ` / ${task.gpus} GPU` : '';
  const where = pool === undefined ? 'in the catalog' : `of capacity provider ${pool}`;
  return `no instance type ${where} can hold ${task.cpu} CPU / ${task.memory} MiB${gpus}`;
}

/** Holds no task that counts as work; DAEMON services' tasks are left out of taskCount (manager.ts). */
const isEmpty = (h: FleetHost): boolean => h.taskCount === 0;

// --- existing room ---------------------------------------------------------------------------

interface Room {
  view: HostView;
  freeGpus: number;
}

/**
 * The ACTIVE hosts as the scheduler sees them. GPUs: FleetHost does not record GPU reservations,
 * so only a host holding no task is known to have its type's GPUs free; a busy host is counted as
 * having none.
 */
function activeRooms(hosts: readonly FleetHost[], catalog: readonly InstanceType[]): Room[] {
  return hosts
    .filter((h) => h.status === 'ACTIVE')
    .map((h) => {
      const type = findType(catalog, h.instanceType);
      return {
        view: {
          hostId: h.hostId, status: 'ACTIVE', cpu: h.cpu, memory: h.memory,
          reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory, taskCount: h.taskCount,
          attributes: archAttributes(h.instanceType),
        },
        freeGpus: type && isEmpty(h) ? type.gpus : 0,
      };
    });
}

/**
 * planBatch's loop (binpack, the scheduler's feasibility and ranking), with GPUs as one more
 * dimension: a task that needs GPUs only sees hosts with that many free. Returns what did not fit,
 * still largest first.
 */
function packOnto(rooms: Room[], tasks: readonly Work[], placements: TaskPlacement[]): Work[] {
  if (rooms.length === 0) return [...tasks];
  const views = rooms.map((r) => r.view);
  const index = new Map(views.map((v, i) => [v.hostId, i]));
  const rest: Work[] = [];
  for (const task of tasks) {
    const candidates = task.gpus > 0 ? views.filter((_, i) => rooms[i].freeGpus >= task.gpus) : views;
    const plan = planPlacement(candidates, task, 'binpack');
    if (!plan) {
      rest.push(task);
      continue;
    }
    const i = index.get(plan.hostId)!;
    views[i] = applyToView(views[i], plan);
    rooms[i].freeGpus -= task.gpus;
    placements.push({ taskId: task.taskId, hostId: plan.hostId, on: 'ACTIVE' });
  }
  return rest;
}

// --- hosts to fill: in flight, or new ---------------------------------------------------------

/** An empty host to fill: one in flight, or a new one of a catalog type. */
interface Candidate {
  /** The host id in flight; the type name for a new host. */
  id: string;
  instanceType: string;
  cpu: number;
  memory: number;
  gpus: number;
  /** USD per hour. */
  price: number;
  /** Whether a task may run on it: the type's architecture against the task's (and the policy). */
  takes: (task: Work) => boolean;
}

/**
 * The hosts in flight (they hold nothing yet), one group per launch, oldest first; each with the
 * capacity it registered or, before it has, its type's, and priced like a new host of its type so
 * that a launch's hosts are taken in the order the run that launched them opened them.
 */
function launchesInFlight(hosts: readonly FleetHost[], catalog: readonly InstanceType[]): { launchedAt: number; hosts: Candidate[] }[] {
  const byLaunch = new Map<number, Candidate[]>();
  for (const h of hosts) {
    if (h.status !== 'LAUNCHING' || !isEmpty(h)) continue;
    const type = findType(catalog, h.instanceType);
    const capacity = h.cpu > 0 && h.memory > 0 ? { cpu: h.cpu, memory: h.memory } : type ? capacityOf(type) : undefined;
    if (!capacity) continue;
    const candidate: Candidate = {
      id: h.hostId,
      instanceType: h.instanceType,
      ...capacity,
      gpus: type?.gpus ?? 0,
      price: type ? hourlyPrice(type, h.market) : Infinity,
      // A host in flight was launched already: only the architectures must match.
      takes: (task) => task.architecture === cpuArchitectureOf(h.instanceType),
    };
    const launch = byLaunch.get(h.launchedAt);
    if (launch) launch.push(candidate);
    else byLaunch.set(h.launchedAt, [candidate]);
  }
  return [...byLaunch.entries()].sort(([a], [b]) => a - b).map(([launchedAt, launch]) => ({ launchedAt, hosts: launch }));
}

function typeCandidates(catalog: readonly InstanceType[], market: Market, policy: CapacityPolicy): Candidate[] {
  return catalog.map((t) => ({
    id: t.name, instanceType: t.name, ...capacityOf(t), gpus: t.gpus, price: hourlyPrice(t, market), takes: (task: Work) => typeAllowed(t, task, policy),
  }));
}

type MutableView = { -readonly [K in keyof HostView]: HostView[K] };

interface Fill {
  candidate: Candidate;
  taken: boolean[];
  /** USD per hour for the whole of the remaining work, at the rate this candidate absorbs it. */
  cost: number;
}

/**
 * Fills hosts one at a time with the remaining tasks (largest first). Each host is the candidate
 * that absorbs the remaining work most cheaply: every candidate that can hold the largest
 * remaining task is filled first-fit, largest first, from what remains, and scored
 *
 *   cost = price per hour ÷ share,  share = mean(packed cpu ÷ remaining cpu, packed memory ÷ remaining memory)
 *
 * — what the whole remaining work would cost at that candidate's rate. Shares of the remaining
 * work (not of the host) keep types of every size comparable: with more work than any one host
 * holds, it is price per unit of work packed, so a half-empty big host loses to a full small one;
 * with little work left, every type that takes all of it has share 1 and the cheapest wins. The
 * mean of the two fractions (rather than the max) does not credit a type for filling one
 * dimension while leaving the other to further hosts. Near-ties (1e-9 relative) go to the cheaper
 * candidate, the one that strands less when its tasks end, then to the name and id. GPUs are not
 * in the share: while a GPU task remains it is the largest, so only GPU hosts compete.
 *
 * Every host is opened for the largest remaining task, which keeps the largest pending work first
 * when `limit` caps the hosts; a task no candidate can hold is passed over, into `rest`.
 * `reuse`: catalog types can be opened again and again; hosts in flight only once.
 */
function fill(
  tasks: readonly Work[],
  candidates: readonly Candidate[],
  options: { reuse: boolean; limit: number },
): { fills: { candidate: Candidate; taskIds: string[] }[]; rest: Work[] } {
  const fills: { candidate: Candidate; taskIds: string[] }[] = [];
  const passedOver: Work[] = [];
  let pool = [...candidates];
  let remaining = [...tasks];
  while (remaining.length > 0 && fills.length < options.limit && pool.length > 0) {
    let totalCpu = 0;
    let totalMemory = 0;
    let minCpu = Infinity;
    let minMemory = Infinity;
    for (const t of remaining) {
      totalCpu += t.cpu;
      totalMemory += t.memory;
      minCpu = Math.min(minCpu, t.cpu);
      minMemory = Math.min(minMemory, t.memory);
    }
    const largest = remaining[0];
    let best: Fill | undefined;
    for (const candidate of pool) {
      if (largest.cpu > candidate.cpu || largest.memory > candidate.memory || largest.gpus > candidate.gpus || !candidate.takes(largest)) continue;
      const host: MutableView = {
        hostId: candidate.id, status: 'ACTIVE', cpu: candidate.cpu, memory: candidate.memory,
        reservedCpu: 0, reservedMemory: 0, taskCount: 0, attributes: archAttributes(candidate.instanceType),
      };
      let freeGpus = candidate.gpus;
      const taken = new Array<boolean>(remaining.length).fill(false);
      for (let i = 0; i < remaining.length; i++) {
        const t = remaining[i];
        if (t.gpus > freeGpus || !candidate.takes(t) || !isFeasible(host, t)) continue;
        taken[i] = true;
        host.reservedCpu += t.cpu;
        host.reservedMemory += t.memory;
        host.taskCount++;
        freeGpus -= t.gpus;
        if (host.cpu - host.reservedCpu < minCpu || host.memory - host.reservedMemory < minMemory) break;
      }
      const fractions = [
        ...(totalCpu > 0 ? [host.reservedCpu / totalCpu] : []),
        ...(totalMemory > 0 ? [host.reservedMemory / totalMemory] : []),
      ];
      const share = fractions.length > 0
        ? fractions.reduce((sum, f) => sum + f, 0) / fractions.length
        : host.taskCount / remaining.length;
      const fill: Fill = { candidate, taken, cost: share > 0 ? candidate.price / share : Infinity };
      if (!best || better(fill, best)) best = fill;
    }
    if (!best) {
      passedOver.push(largest);
      remaining = remaining.slice(1);
      continue;
    }
    const chosen = best;
    fills.push({ candidate: chosen.candidate, taskIds: remaining.filter((_, i) => chosen.taken[i]).map((t) => t.taskId) });
    remaining = remaining.filter((_, i) => !chosen.taken[i]);
    if (!options.reuse) pool = pool.filter((c) => c !== chosen.candidate);
  }
  return { fills, rest: [...passedOver, ...remaining].sort(largestFirst) };
}

/**
 * One launch in flight filled as it was planned: the work that was waiting when it was made
 * (since ≤ launchedAt) first, alone, as the run that launched it packed that work; then what is
 * left of its hosts' room takes the rest, oldest first. A later arrival, however large, never
 * takes the room planned for a task that was already waiting: it gets room of its own.
 */
function fillLaunch(
  work: readonly Work[], launchedAt: number, launch: readonly Candidate[],
): { fills: { candidate: Candidate; taskIds: string[] }[]; rest: Work[] } {
  const planned = fill(work.filter((t) => t.since <= launchedAt), launch, { reuse: false, limit: Infinity });
  const byId = new Map(work.map((t) => [t.taskId, t]));
  const leftover = launch.map((c) => {
    const taken = planned.fills.filter((f) => f.candidate === c).flatMap((f) => f.taskIds.map((id) => byId.get(id)!));
    return {
      ...c,
      cpu: c.cpu - taken.reduce((sum, t) => sum + t.cpu, 0),
      memory: c.memory - taken.reduce((sum, t) => sum + t.memory, 0),
      gpus: c.gpus - taken.reduce((sum, t) => sum + t.gpus, 0),
    };
  });
  const after = fill([...planned.rest, ...work.filter((t) => t.since > launchedAt)], leftover, { reuse: false, limit: Infinity });
  return { fills: [...planned.fills, ...after.fills], rest: after.rest };
}

function better(a: Fill, b: Fill): boolean {
  if (a.cost !== b.cost) {
    const comparable = Number.isFinite(a.cost) && Number.isFinite(b.cost);
    if (!comparable || Math.abs(a.cost - b.cost) > 1e-9 * Math.max(a.cost, b.cost)) return a.cost < b.cost;
  }
  const x = a.candidate;
  const y = b.candidate;
  if (x.price !== y.price) return x.price < y.price;
  if (x.instanceType !== y.instanceType) return x.instanceType < y.instanceType;
  return x.id < y.id;
}

function groupLaunches(launches: readonly Launch[]): Launch[] {
  const byKey = new Map<string, Launch>();
  for (const l of launches) {
    const key = `${l.instanceType}\u0000${l.market}\u0000${l.capacityProvider ?? ''}`;
    const seen = byKey.get(key);
    if (seen) seen.count += l.count;
    else byKey.set(key, { ...l });
  }
  return [...byKey.values()].sort((a, b) =>
    compareIds(a.instanceType, b.instanceType) || compareIds(a.market, b.market) || compareIds(a.capacityProvider ?? '', b.capacityProvider ?? ''));
}
