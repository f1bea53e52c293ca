import type { PlacementConstraint, ServicePlacementStrategy } from '../domain/service';
import type { PlacementStrategyType } from '../domain/task';
import { InvalidParameterException } from '../domain/errors';
import { type HostPredicate, compileExpression } from './constraints';

/**
 * The pure placement pipeline, after Nomad's: feasibility → rank → plan. It reads an immutable
 * snapshot and returns a plan; only the plan applier writes, and it re-checks the fit.
 */

export const HOST_STATUSES = ['LAUNCHING', 'ACTIVE', 'DRAINING', 'TERMINATED', 'LOST'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

/** A host that exists, or is about to: launched and not yet terminated or written off. */
export const isLiveHost = (s: HostStatus): boolean => s === 'LAUNCHING' || s === 'ACTIVE' || s === 'DRAINING';

/** What the scheduler needs to know of a host. */
export interface HostView {
  readonly hostId: string;
  readonly status: HostStatus;
  /** Registered capacity: cpu units and MiB. */
  readonly cpu: number;
  readonly memory: number;
  readonly reservedCpu: number;
  readonly reservedMemory: number;
  readonly taskCount: number;
  /** Fixed host ports its tasks hold, as hostPortKey keys ('8080/tcp'); none when absent. */
  readonly reservedPorts?: readonly string[];
  // --- placement constraints and strategies (optional: a view without them has no attributes
  // and no grouped tasks) ---
  /** The host's ECS attributes (hostAttributes): what memberOf and spread by attribute judge. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Tasks the host holds by task group (`service:web`, `family:web`): spread and distinctInstance count these. */
  readonly groupTasks?: Readonly<Record<string, number>>;
}

export interface Demand {
  readonly taskId: string;
  readonly cpu: number;
  readonly memory: number;
  /**
   * The cpu architecture the task's images need (its runtimePlatform.cpuArchitecture); absent
   * means x86_64, as on Fargate, where a task that declares none runs on X86_64.
   */
  readonly architecture?: CpuArchitecture;
  /** Fixed host ports the task needs (hostPortKey keys): a placement resource, as in ECS. */
  readonly ports?: readonly string[];
}

/**
 * A placement to commit. `maxReservedCpu`/`maxReservedMemory` are the highest reservations the
 * host may already hold for the task still to fit: the applier's write is conditioned on them.
 */
export interface Plan {
  readonly hostId: string;
  readonly taskId: string;
  readonly cpu: number;
  readonly memory: number;
  readonly maxReservedCpu: number;
  readonly maxReservedMemory: number;
  /** The host ports to take; the applier's write is conditioned on none of them being taken. */
  readonly ports?: readonly string[];
  // --- placement constraints (optional, set when the placement names a group) ---
  /** The task's group: the applier counts it in the host's groupTasks. */
  readonly group?: string;
  /** distinctInstance: the applier's write also requires that the host hold no task of the group. */
  readonly distinctInstance?: boolean;
}

const NO_PORTS: readonly string[] = [];

export type CpuArchitecture = 'x86_64' | 'arm64';

/** A host's architecture, from its attributes (its instance type's); a host without them is x86_64. */
export const hostArchitecture = (host: HostView): CpuArchitecture =>
  (host.attributes?.['ecs.cpu-architecture'] as CpuArchitecture | undefined) ?? 'x86_64';

/** Whether the task can run on the host's architecture: never an x86_64 task on an arm64 host, nor the reverse. */
export function architectureFits(host: HostView, demand: Pick<Demand, 'architecture'>): boolean {
  return (demand.architecture ?? 'x86_64') === hostArchitecture(host);
}

/** Whether none of the ports the task needs is already taken on the host. */
export function portsFree(host: HostView, demand: Pick<Demand, 'ports'>): boolean {
  const wanted = demand.ports;
  if (!wanted || wanted.length === 0) return true;
  const taken = host.reservedPorts;
  return !taken || !wanted.some((p) => taken.includes(p));
}

export function isFeasible(host: HostView, demand: Demand): boolean {
  return (
    host.status === 'ACTIVE' &&
    host.reservedCpu + demand.cpu <= host.cpu &&
    host.reservedMemory + demand.memory <= host.memory &&
    portsFree(host, demand) &&
    architectureFits(host, demand)
  );
}

/**
 * Lower is better. Binpack: the share of the host left free after placing, so the fullest host
 * that still fits wins. Spread: fewest tasks first, then the freest host.
 */
export function score(host: HostView, demand: Demand, strategy: PlacementStrategyType): number {
  const freeCpu = host.cpu === 0 ? 0 : (host.cpu - host.reservedCpu - demand.cpu) / host.cpu;
  const freeMemory = (host.memory - host.reservedMemory - demand.memory) / host.memory;
  if (strategy === 'spread') return host.taskCount * 4 - (freeCpu + freeMemory);
  return freeCpu + freeMemory;
}

/** ECS's placementStrategy entry: binpack (field cpu or memory), spread (instanceId, host or attribute:NAME), random. */
export type PlacementStrategy = ServicePlacementStrategy;

/** What a task or a service asks of placement: ECS's placementStrategy and placementConstraints, and its task group. */
export interface PlacementRules {
  readonly strategies: readonly PlacementStrategy[];
  readonly constraints: readonly PlacementConstraint[];
  /** The task group (`service:NAME`, `family:NAME`): what distinctInstance and spread count. */
  readonly group?: string;
}

/** A bare strategy type keeps Berth's first meaning of it (binpack or spread over every task, no constraint). */
export type Placement = PlacementStrategyType | PlacementRules | CompiledPlacement;

type Ranker = (host: HostView, demand: Demand) => number;

/** Rules turned into checks once, so a batch does not parse its expressions per task. */
export interface CompiledPlacement {
  readonly compiled: true;
  readonly group?: string;
  readonly distinct: boolean;
  readonly filters: readonly HostPredicate[];
  /** The first strategy is binpack: the placement keeps tasks together, leaving empty hosts empty. */
  readonly consolidates: boolean;
  /** Berth's bare strategy and nothing else: the planner runs its tight loop on score() alone. */
  readonly bare?: PlacementStrategyType;
  /** Lower is better; each breaks the ties of the one before, as ECS applies strategies in order. */
  rankers(hosts: readonly HostView[]): Ranker[];
}

export const groupCount = (host: HostView, group: string | undefined): number =>
  group === undefined ? host.taskCount : host.groupTasks?.[group] ?? 0;

/** FNV-1a over task and host: a random order that is the same on every run, so the core stays pure. */
function shuffleKey(taskId: string, hostId: string): number {
  let h = 0x811c9dc5;
  const s = `${taskId}/${hostId}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 0x1_0000_0000;
}

/** Most rankers read one host; made once, so the planner's calls to them stay monomorphic. */
const fixed = (r: Ranker): ((hosts: readonly HostView[]) => Ranker) => () => r;
const legacyBinpack: Ranker = (h, d) => score(h, d, 'binpack');
const legacySpread: Ranker = (h, d) => score(h, d, 'spread');

function ranker(strategy: PlacementStrategy, group: string | undefined): (hosts: readonly HostView[]) => Ranker {
  const { type, field } = strategy;
  if (type === 'random') return fixed((h, d) => shuffleKey(d.taskId, h.hostId));
  if (type === 'binpack') {
    if (field === undefined) return fixed(legacyBinpack);
    const f = field.toLowerCase();
    if (f === 'cpu') return fixed((h, d) => h.cpu - h.reservedCpu - d.cpu);
    if (f === 'memory') return fixed((h, d) => h.memory - h.reservedMemory - d.memory);
    throw new InvalidParameterException(`Invalid field for binpack placement strategy: ${field}. Valid values are cpu and memory.`);
  }
  if (type === 'spread') {
    if (field === undefined) return fixed(legacySpread);
    if (field === 'instanceId' || field === 'host') return fixed((h) => groupCount(h, group));
    if (field.startsWith('attribute:') && field.length > 'attribute:'.length) {
      const name = field.slice('attribute:'.length);
      // Tasks of the group per attribute value over the live fleet: the value with fewest wins.
      return (hosts) => {
        const counts = new Map<string | undefined, number>();
        for (const h of hosts) {
          if (h.status !== 'ACTIVE') continue;
          const v = h.attributes?.[name];
          counts.set(v, (counts.get(v) ?? 0) + groupCount(h, group));
        }
        return (h) => counts.get(h.attributes?.[name]) ?? 0;
      };
    }
    throw new InvalidParameterException(`Invalid field for spread placement strategy: ${field}. Valid values are instanceId, host and attribute:NAME.`);
  }
  throw new InvalidParameterException(`Invalid placement strategy type: ${String(type)}. Valid values are random, spread and binpack.`);
}

/** Compiles rules; throws InvalidParameterException (ECS's error) for what placement cannot honour. */
export function compilePlacement(placement: Placement): CompiledPlacement {
  if (typeof placement === 'object' && 'compiled' in placement) return placement;
  const rules: PlacementRules = typeof placement === 'string'
    ? { strategies: [{ type: placement }], constraints: [] }
    : placement;
  const strategies = rules.strategies.length > 0 ? rules.strategies : [{ type: 'binpack' as const }];
  const makers = strategies.map((s) => ranker(s, rules.group));
  let distinct = false;
  const filters: HostPredicate[] = [];
  for (const c of rules.constraints) {
    if (c.type === 'distinctInstance') {
      if (c.expression !== undefined) throw new InvalidParameterException('distinctInstance expression should not be specified.');
      distinct = true;
    } else if (c.type === 'memberOf') {
      if (!c.expression) throw new InvalidParameterException('memberOf constraint must have an expression.');
      filters.push(compileExpression(c.expression));
    } else {
      throw new InvalidParameterException(`Invalid placement constraint type: ${String(c.type)}. Valid values are distinctInstance and memberOf.`);
    }
  }
  // A distinctInstance without a group would hold a host to one task of any kind: that is not ECS's meaning.
  if (distinct && rules.group === undefined) throw new InvalidParameterException('distinctInstance needs a task group.');
  return {
    compiled: true,
    group: rules.group,
    distinct,
    filters,
    consolidates: strategies[0].type === 'binpack',
    bare: strategies.length === 1 && strategies[0].field === undefined && strategies[0].type !== 'random' && !distinct && filters.length === 0
      ? strategies[0].type
      : undefined,
    rankers: (hosts) => makers.map((m) => m(hosts)),
  };
}

/** Resources, then the constraints: the host must be ACTIVE, have room, and meet every constraint. */
export function isFeasibleFor(host: HostView, demand: Demand, c: CompiledPlacement): boolean {
  if (!isFeasible(host, demand)) return false;
  if (c.distinct && groupCount(host, c.group) > 0) return false;
  // Indexed, not for-of: this runs for every (task, host) pair of a batch.
  const filters = c.filters;
  for (let i = 0; i < filters.length; i++) if (!filters[i](host)) return false;
  return true;
}

/**
 * Whether `a` ranks before `b` (given a's and b's first scores): the later strategies break ties,
 * then the tie keys when there are some (see tieKeys), then the lower id.
 */
function before(
  a: HostView, sa: number, b: HostView, sb: number, d: Demand, rankers: readonly Ranker[], ta = 0, tb = 0,
): boolean {
  if (sa !== sb) return sa < sb;
  for (let i = 1; i < rankers.length; i++) {
    const x = rankers[i](a, d);
    const y = rankers[i](b, d);
    if (x !== y) return x < y;
  }
  if (ta !== tb) return ta < tb;
  return a.hostId < b.hostId;
}

/**
 * Each host's place among hosts that rank equal, as a shuffle of the fleet that `salt` fixes (the
 * same salt, the same order: the core stays pure). Without a salt equals go by id, so placers
 * planning at once on one snapshot all pick the same emptiest hosts, and race for their items.
 */
function tieKeys(hosts: readonly HostView[], salt: number | undefined): number[] | undefined {
  return salt === undefined ? undefined : hosts.map((h) => shuffleKey(String(salt), h.hostId));
}

/**
 * The `limit` best feasible hosts for one task, best first. A placer that commits on its own
 * picks among the first few at random, so concurrent placers do not all aim at one host. Under
 * binpack an empty host is offered only when no busy one can take the task: the choice may
 * spread writes over several busy hosts, never open a new one early.
 */
export function candidates(
  hosts: readonly HostView[], demand: Demand, placement: Placement, limit: number, keepEmptyHostsEmpty = true,
): HostView[] {
  const c = compilePlacement(placement);
  const rankers = c.rankers(hosts);
  const first = rankers[0];
  const top: HostView[] = [];
  const scores: number[] = [];
  for (const h of hosts) {
    if (!isFeasibleFor(h, demand, c)) continue;
    const s = first(h, demand);
    let i = top.length;
    while (i > 0 && before(h, s, top[i - 1], scores[i - 1], demand, rankers)) i--;
    if (i >= limit) continue;
    top.splice(i, 0, h);
    scores.splice(i, 0, s);
    if (top.length > limit) {
      top.pop();
      scores.pop();
    }
  }
  return keepEmptyHostsEmpty && c.consolidates && top.length > 1 && top[0].taskCount > 0 ? top.filter((h) => h.taskCount > 0) : top;
}

/** The best feasible host for one task, or undefined when none has room. Ties go to the lower id. */
export function planPlacement(
  hosts: readonly HostView[],
  demand: Demand,
  placement: Placement,
): Plan | undefined {
  const c = compilePlacement(placement);
  const best = bestHost(hosts, demand, c, c.rankers(hosts));
  return best && planOn(best, demand, c);
}

/**
 * Under binpack a busy host with room goes before an empty one, whatever their scores: the
 * fraction a task fills of a small empty host can beat what it fills of a large busy one, and
 * filling the empty host keeps both billed where the busy one alone would do. The empty host
 * stays empty, for its idle timeout (as candidates() keeps it for a placer's first try).
 * Positive when `a` goes first, negative when `b` does, 0 when this rule does not decide.
 */
const busyFirst = (a: HostView, b: HostView): number => (a.taskCount > 0 ? 1 : 0) - (b.taskCount > 0 ? 1 : 0);

/** `ties`, when given, holds each host's tie key by its index in `hosts`. */
function bestHost(
  hosts: readonly HostView[], demand: Demand, c: CompiledPlacement, rankers: readonly Ranker[], ties?: readonly number[],
): HostView | undefined {
  if (c.bare !== undefined) return ties ? bestByScoreShuffled(hosts, demand, c.bare, ties) : bestByScore(hosts, demand, c.bare);
  const first = rankers[0];
  let best: HostView | undefined;
  let bestScore = Infinity;
  let bestTie = 0;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (!isFeasibleFor(h, demand, c)) continue;
    const s = first(h, demand);
    const t = ties ? ties[i] : 0;
    const busy = best === undefined || !c.consolidates ? 0 : busyFirst(h, best);
    if (busy < 0) continue;
    if (best === undefined || busy > 0 || s < bestScore || (s === bestScore && before(h, s, best, bestScore, demand, rankers, t, bestTie))) {
      best = h;
      bestScore = s;
      bestTie = t;
    }
  }
  return best;
}

/** The planner's tight loop for a bare strategy: 10,000 tasks onto 1,000 hosts is 10M of these. */
function bestByScore(hosts: readonly HostView[], demand: Demand, strategy: PlacementStrategyType): HostView | undefined {
  let best: HostView | undefined;
  let bestScore = Infinity;
  const binpack = strategy === 'binpack';
  for (const h of hosts) {
    if (!isFeasible(h, demand)) continue;
    const busy = binpack && best !== undefined ? busyFirst(h, best) : 0;
    if (busy < 0) continue;
    const s = score(h, demand, strategy);
    if (busy > 0 || s < bestScore || (s === bestScore && best !== undefined && h.hostId < best.hostId)) {
      best = h;
      bestScore = s;
    }
  }
  return best;
}

/** bestByScore with equals taken in the order of their tie keys; a loop of its own, so the plain one stays as tight. */
function bestByScoreShuffled(
  hosts: readonly HostView[], demand: Demand, strategy: PlacementStrategyType, ties: readonly number[],
): HostView | undefined {
  let best: HostView | undefined;
  let bestScore = Infinity;
  let bestTie = 0;
  const binpack = strategy === 'binpack';
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (!isFeasible(h, demand)) continue;
    const busy = binpack && best !== undefined ? busyFirst(h, best) : 0;
    if (busy < 0) continue;
    const s = score(h, demand, strategy);
    const t = ties[i];
    if (best === undefined || busy > 0 || s < bestScore || (s === bestScore && (t < bestTie || (t === bestTie && h.hostId < best.hostId)))) {
      best = h;
      bestScore = s;
      bestTie = t;
    }
  }
  return best;
}

export function planOn(host: HostView, demand: Demand, placement?: CompiledPlacement): Plan {
  const base: Plan = {
    hostId: host.hostId,
    taskId: demand.taskId,
    cpu: demand.cpu,
    memory: demand.memory,
    maxReservedCpu: host.cpu - demand.cpu,
    maxReservedMemory: host.memory - demand.memory,
  };
  const plan = demand.ports?.length ? { ...base, ports: demand.ports } : base;
  if (placement?.group === undefined) return plan;
  return placement.distinct ? { ...plan, group: placement.group, distinctInstance: true } : { ...plan, group: placement.group };
}

/**
 * The host as it is once the plan is applied. Built field by field rather than by spreading, and
 * in the shape it came in (with the placement fields or without): the planner's hot loop stays on
 * one object shape, which V8 runs about 5× faster.
 */
export function applyToView(host: HostView, plan: Plan): HostView {
  if (
    host.attributes === undefined && host.groupTasks === undefined && plan.group === undefined &&
    host.reservedPorts === undefined && !plan.ports?.length
  ) {
    return {
      hostId: host.hostId,
      status: host.status,
      cpu: host.cpu,
      memory: host.memory,
      reservedCpu: host.reservedCpu + plan.cpu,
      reservedMemory: host.reservedMemory + plan.memory,
      taskCount: host.taskCount + 1,
    };
  }
  return {
    hostId: host.hostId,
    status: host.status,
    cpu: host.cpu,
    memory: host.memory,
    reservedCpu: host.reservedCpu + plan.cpu,
    reservedMemory: host.reservedMemory + plan.memory,
    taskCount: host.taskCount + 1,
    reservedPorts: plan.ports?.length ? [...(host.reservedPorts ?? NO_PORTS), ...plan.ports] : host.reservedPorts ?? NO_PORTS,
    attributes: host.attributes,
    groupTasks: plan.group === undefined
      ? host.groupTasks
      : { ...host.groupTasks, [plan.group]: (host.groupTasks?.[plan.group] ?? 0) + 1 },
  };
}

export interface BatchPlan {
  readonly plans: Plan[];
  readonly unplaced: Demand[];
}

/**
 * Plans many tasks at once against one snapshot, largest first (the hardest to fit go while
 * there is most room), as a capacity planner, a bulk RunTask or a service's new tasks do.
 * Hosts that rank equal go by id, or, given a `tieSalt`, in an order that salt shuffles: placers
 * planning at once each pass their own, so they do not all aim at the same equally good hosts.
 */
export function planBatch(
  hosts: readonly HostView[],
  demands: readonly Demand[],
  placement: Placement,
  tieSalt?: number,
): BatchPlan {
  const c = compilePlacement(placement);
  const current = [...hosts];
  const index = new Map(current.map((h, i) => [h.hostId, i]));
  const ties = tieKeys(current, tieSalt);
  const order = [...demands].sort((a, b) => b.memory - a.memory || b.cpu - a.cpu);
  const plans: Plan[] = [];
  const unplaced: Demand[] = [];
  for (const d of order) {
    const best = bestHost(current, d, c, c.rankers(current), ties);
    if (!best) {
      unplaced.push(d);
      continue;
    }
    const plan = planOn(best, d, c);
    const i = index.get(plan.hostId)!;
    current[i] = applyToView(current[i], plan);
    plans.push(plan);
  }
  return { plans, unplaced };
}

/**
 * ECS's words for why a task found no host, judged on the snapshot placement used: the
 * constraint no host with room met, else the resource every host was short of.
 */
export function unplacedReason(hosts: readonly HostView[], demand: Demand, placement: Placement): string {
  const c = compilePlacement(placement);
  const active = hosts.filter((h) => h.status === 'ACTIVE');
  if (active.length === 0) return 'no ACTIVE host (RESOURCE:MEMORY)';
  const roomy = active.filter((h) => h.reservedCpu + demand.cpu <= h.cpu && h.reservedMemory + demand.memory <= h.memory);
  if (roomy.length === 0) return active.some((h) => h.memory - h.reservedMemory >= demand.memory) ? 'RESOURCE:CPU' : 'RESOURCE:MEMORY';
  const members = roomy.filter((h) => c.filters.every((f) => f(h)));
  if (members.length === 0) return 'MemberOf placement constraint unsatisfied.';
  if (!members.some((h) => portsFree(h, demand))) return 'RESOURCE:PORTS';
  return 'DistinctInstance placement constraint unsatisfied.';
}
