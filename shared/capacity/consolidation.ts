import { type Demand, type HostView, applyToView, planPlacement } from '../scheduler/placement';
import type { CpuArchitecture, HostStatus } from '../scheduler/placement';
import type { Market } from './types';

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
  tasks: readonly ConsolidationTask[];
}

export interface ConsolidationPolicy {
  /** A host younger than this is left alone: the work it was launched for may still be arriving. */
  minHostAgeSeconds: number;
  /** At most this many hosts holding tasks are DRAINING at once (Karpenter's disruption budget). */
  maxDrainingHosts: number;
}

export const DEFAULT_CONSOLIDATION_POLICY: ConsolidationPolicy = { minHostAgeSeconds: 600, maxDrainingHosts: 1 };

export interface ConsolidationPlan {
  /** Hosts to cordon (ACTIVE → DRAINING), in the order chosen. */
  cordons: string[];
  /** Where the simulation put every task of the cordoned hosts: task id → host id. */
  moves: Record<string, string>;
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
  return plan;
}
