/**
 * bench:fleet — what Berth's EC2 fleet costs and how long tasks wait for room, beside what
 * Fargate would charge for the same work, from a discrete-event simulation on a virtual clock.
 *
 * The simulation drives the real capacity planner (planCapacity) and the real placement
 * scheduler (planPlacement for each RunTask, planBatch for the retries) over a synthetic trace:
 * 10,000 tasks of Fargate's valid sizes (weighted towards the small ones), Poisson arrivals whose
 * rate swells and ebbs over a 4-hour period, log-normal durations. A host boots in 40 s after its launch;
 * the planner runs every 10 s of simulated time and at once when a RunTask finds no room. A task
 * that finds no room waits as pending demand and is retried whenever room appears (a host
 * boots, a task ends) — the best case for a placer that retries on a timer.
 *
 * Figures, each beside its baseline:
 * - The fleet's cost: per-second billing (1-minute minimum, as EC2 Linux bills) of every host from
 *   launch to termination, at the policy's market prices; beside Fargate's charge for the same
 *   task-seconds (per second, 1-minute minimum per task, $0.04048 per vCPU-hour, $0.004445 per
 *   GB-hour, us-east-1 Linux/x86) and beside the floor: the cheapest mix of instance types that
 *   covers the trace's cpu-seconds and memory-seconds, perfectly packed, never idle or booting.
 * - Mean packing: reserved ÷ provisioned (every billed host, booting ones included), time-weighted.
 * - RunTask → placement, p50 and p99 of simulated seconds, beside the EC2 boot delay.
 * - The planner's and the scheduler's own time per call and in total (performance.now around
 *   each call; the calls are synchronous, so this is their CPU time on this thread).
 *
 * Goals are printed, not asserted. Exits 1 only on a broken invariant: a host overcommitted, a
 * placement on a host that is not ACTIVE, a host with tasks terminated, the fleet past maxHosts,
 * a task not run exactly once, a Fargate-size task reported unschedulable.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CATALOG, capacityOf, findType, hourlyPrice } from '../../shared/capacity/catalog';
import { DEFAULT_CAPACITY_POLICY, planCapacity } from '../../shared/capacity/planner';
import type { CapacityPolicy, FleetHost, InstanceType, Market, PendingDemand } from '../../shared/capacity/types';
import { FARGATE_SIZES, fargateMemoryChoices } from '../../shared/domain/sizes';
import { type Demand, type HostStatus, type HostView, type Plan, planBatch, planPlacement } from '../../shared/scheduler/placement';
import { progress } from './support/progress';
import { seededRandom } from './support/random';
import { percentile } from './support/stats';
import { formatTable, ms, ratio } from './support/table';

const TRACE = {
  tasks: 10_000,
  seed: 20_250_101,
  /** Mean arrivals per second; the rate swings ±50 % around it over `periodSeconds`. */
  meanRatePerSecond: 0.5,
  swing: 0.5,
  periodSeconds: 4 * 3600,
  /** Log-normal durations: the median, and σ of the underlying normal. */
  medianDurationSeconds: 240,
  durationSigma: 1.0,
  minDurationSeconds: 5,
} as const;

/**
 * Share of tasks by Fargate cpu: most tasks are small. Within a cpu, memory choices are weighted
 * geometrically (each next choice 0.6 × as likely), so the smallest memory is the most common.
 */
const CPU_WEIGHTS: Readonly<Record<number, number>> = {
  256: 30, 512: 25, 1024: 22, 2048: 12, 4096: 7, 8192: 3, 16384: 1,
};
const MEMORY_DECAY = 0.6;

const BOOT_SECONDS = 40;
const PLANNER_INTERVAL_SECONDS = 10;

/** The default policy of this benchmark: a warm pool of one small host, a 5-minute idle timeout. */
const POLICY: CapacityPolicy = {
  ...DEFAULT_CAPACITY_POLICY,
  warmPoolHosts: 1,
  warmPoolType: 'm6i.large',
  idleTimeoutSeconds: 300,
  market: 'on-demand',
};

/** Fargate, us-east-1, Linux/x86, on-demand. */
const FARGATE = { perVcpuHour: 0.04048, perGbHour: 0.004445, minimumSeconds: 60 } as const;
const EC2_MINIMUM_SECONDS = 60;

const GOAL = { costVsFargate: 0.75, p99PlacementSeconds: 60 } as const;

/** The planner's clock starts here; the simulation counts seconds from it. */
const EPOCH_MS = Date.UTC(2025, 0, 1);

/** Invariant breaches, reported together at the end; any one makes the run exit 1. */
const failures: string[] = [];

function fail(message: string): void {
  if (failures.length < 50) console.error(`!!! FAILED: ${message}`);
  failures.push(message);
}

// --- the trace -------------------------------------------------------------------------------

interface TraceTask {
  taskId: string;
  cpu: number;
  memory: number;
  arrival: number;
  duration: number;
}

function weightedIndex(random: () => number, weights: readonly number[]): number {
  const total = weights.reduce((s, w) => s + w, 0);
  let x = random() * total;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function makeTrace(): TraceTask[] {
  const random = seededRandom(TRACE.seed);
  const cpus = FARGATE_SIZES.map((r) => r.cpu);
  const cpuWeights = cpus.map((c) => CPU_WEIGHTS[c] ?? 0);
  const peakRate = TRACE.meanRatePerSecond * (1 + TRACE.swing);
  const tasks: TraceTask[] = [];
  let t = 0;
  while (tasks.length < TRACE.tasks) {
    // A non-homogeneous Poisson process by thinning: candidates at the peak rate, each kept
    // with probability rate(t) / peak.
    t += -Math.log(1 - random()) / peakRate;
    const rate = TRACE.meanRatePerSecond * (1 + TRACE.swing * Math.sin((2 * Math.PI * t) / TRACE.periodSeconds));
    if (random() * peakRate > rate) continue;
    const cpu = cpus[weightedIndex(random, cpuWeights)];
    const choices = fargateMemoryChoices(cpu);
    const memory = choices[weightedIndex(random, choices.map((_, i) => MEMORY_DECAY ** i))];
    const duration = Math.max(
      TRACE.minDurationSeconds,
      TRACE.medianDurationSeconds * Math.exp(TRACE.durationSigma * standardNormal(random)),
    );
    tasks.push({ taskId: `task-${String(tasks.length).padStart(5, '0')}`, cpu, memory, arrival: t, duration });
  }
  return tasks;
}

// --- the event queue -------------------------------------------------------------------------

type Event =
  | { kind: 'arrive'; task: number }
  | { kind: 'finish'; task: number }
  | { kind: 'boot'; hostId: string }
  | { kind: 'tick' }
  | { kind: 'plan' };

interface Scheduled {
  at: number;
  seq: number;
  event: Event;
}

/** A binary min-heap on (time, insertion order), so events at one instant run in the order queued. */
class EventQueue {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, event: Event): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, event });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  private less(a: Scheduled, b: Scheduled): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
}

// --- the simulation --------------------------------------------------------------------------

interface SimHost {
  hostId: string;
  type: InstanceType;
  market: Market;
  status: HostStatus;
  cpu: number;
  memory: number;
  reservedCpu: number;
  reservedMemory: number;
  taskCount: number;
  launchedAt: number;
  idleSince?: number;
  terminatedAt?: number;
  /** Held a task at some point. */
  used: boolean;
}

interface TaskState {
  placedAt?: number;
  hostId?: string;
  finishedAt?: number;
}

interface Timing {
  calls: number;
  totalMs: number;
  maxMs: number;
}

const timing = (): Timing => ({ calls: 0, totalMs: 0, maxMs: 0 });

function timed<T>(t: Timing, fn: () => T): T {
  const t0 = performance.now();
  const result = fn();
  const elapsed = performance.now() - t0;
  t.calls++;
  t.totalMs += elapsed;
  t.maxMs = Math.max(t.maxMs, elapsed);
  return result;
}

interface SimResult {
  market: Market;
  endSeconds: number;
  costUsd: number;
  hostSeconds: number;
  launched: number;
  launchedByType: Map<string, number>;
  /** Hosts that were terminated (or the run ended) without ever holding a task. */
  neverUsed: number;
  /** The cost split by what the hosts were doing: booting, ACTIVE with no task, holding tasks (or draining). */
  costBooting: number;
  costIdle: number;
  costBusy: number;
  peakHosts: number;
  peakPending: number;
  plannerRuns: { timer: number; onDemand: number };
  packingCpu: number;
  packingMemory: number;
  waitSeconds: number[];
  planner: Timing;
  scheduler: Timing;
}

const ms2s = (epochMs: number): number => (epochMs - EPOCH_MS) / 1000;
const s2ms = (seconds: number): number => EPOCH_MS + Math.round(seconds * 1000);

function simulate(trace: readonly TraceTask[], policy: CapacityPolicy, catalog: readonly InstanceType[]): SimResult {
  const queue = new EventQueue();
  const hosts = new Map<string, SimHost>();
  /** Hosts being billed: LAUNCHING, ACTIVE or DRAINING. */
  const live = new Set<SimHost>();
  const states: TaskState[] = trace.map(() => ({}));
  /** Waiting for room, by trace index, in arrival order. */
  const pending = new Set<number>();
  const planner = timing();
  const scheduler = timing();
  const waitSeconds: number[] = [];
  const launchedByType = new Map<string, number>();
  let hostSerial = 0;
  let finished = 0;
  let peakHosts = 0;
  let peakPending = 0;
  let planQueuedAt = -1;
  const plannerRuns = { timer: 0, onDemand: 0 };

  // Time-weighted packing: ∫ reserved dt and ∫ provisioned dt over the run.
  let now = 0;
  let lastAt = 0;
  let provisionedCpu = 0;
  let provisionedMemory = 0;
  let reservedCpu = 0;
  let reservedMemory = 0;
  let reservedCpuSeconds = 0;
  let reservedMemorySeconds = 0;
  let provisionedCpuSeconds = 0;
  let provisionedMemorySeconds = 0;
  let costBooting = 0;
  let costIdle = 0;
  let costBusy = 0;
  const advance = (to: number): void => {
    const dt = to - lastAt;
    if (dt === 0) return;
    for (const h of live) {
      const usdPerSecond = hourlyPrice(h.type, h.market) / 3600;
      if (h.status === 'LAUNCHING') costBooting += usdPerSecond * dt;
      else if (h.taskCount === 0) costIdle += usdPerSecond * dt;
      else costBusy += usdPerSecond * dt;
    }
    reservedCpuSeconds += reservedCpu * dt;
    reservedMemorySeconds += reservedMemory * dt;
    provisionedCpuSeconds += provisionedCpu * dt;
    provisionedMemorySeconds += provisionedMemory * dt;
    lastAt = to;
  };

  // Built field by field, as the Placer's toView does, so the scheduler meets one object shape.
  const activeViews = (): HostView[] => {
    const views: HostView[] = [];
    for (const h of live) {
      if (h.status !== 'ACTIVE') continue;
      views.push({
        hostId: h.hostId, status: h.status, cpu: h.cpu, memory: h.memory,
        reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory, taskCount: h.taskCount,
      });
    }
    return views;
  };

  const demandOf = (i: number): Demand => ({ taskId: trace[i].taskId, cpu: trace[i].cpu, memory: trace[i].memory });
  const indexOf = (taskId: string): number => Number(taskId.slice('task-'.length));

  /** The plan applier: re-checks the fit as the conditional write would, then reserves. */
  const apply = (plan: Plan): void => {
    const i = indexOf(plan.taskId);
    const host = hosts.get(plan.hostId);
    if (!host || host.status !== 'ACTIVE') {
      fail(`${plan.taskId} planned on ${plan.hostId}, which is ${host?.status ?? 'unknown'}`);
      return;
    }
    if (host.reservedCpu > plan.maxReservedCpu || host.reservedMemory > plan.maxReservedMemory) {
      fail(`${plan.taskId} planned on ${plan.hostId} past its room: reserved ${host.reservedCpu}/${host.memory}`);
      return;
    }
    if (states[i].placedAt !== undefined) fail(`${plan.taskId} placed twice`);
    host.reservedCpu += plan.cpu;
    host.reservedMemory += plan.memory;
    host.taskCount++;
    host.idleSince = undefined;
    host.used = true;
    reservedCpu += plan.cpu;
    reservedMemory += plan.memory;
    if (host.reservedCpu > host.cpu || host.reservedMemory > host.memory) {
      fail(`host ${host.hostId} overcommitted: ${host.reservedCpu}/${host.cpu} cpu, ${host.reservedMemory}/${host.memory} MiB`);
    }
    states[i] = { placedAt: now, hostId: host.hostId };
    pending.delete(i);
    waitSeconds.push(now - trace[i].arrival);
    queue.push(now + trace[i].duration, { kind: 'finish', task: i });
  };

  const retryPending = (): void => {
    if (pending.size === 0) return;
    const views = activeViews();
    if (views.length === 0) return;
    const demands = [...pending].map(demandOf);
    const { plans } = timed(scheduler, () => planBatch(views, demands, 'binpack'));
    for (const p of plans) apply(p);
  };

  const runPlanner = (): void => {
    const fleet: FleetHost[] = [...live].map((h) => ({
      hostId: h.hostId, instanceType: h.type.name, market: h.market, status: h.status,
      cpu: h.cpu, memory: h.memory, reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory,
      taskCount: h.taskCount, launchedAt: s2ms(h.launchedAt),
      ...(h.idleSince !== undefined ? { idleSince: s2ms(h.idleSince) } : {}),
    }));
    const demand: PendingDemand[] = [...pending].map((i) => ({
      taskId: trace[i].taskId, cluster: 'default', cpu: trace[i].cpu, memory: trace[i].memory, since: s2ms(trace[i].arrival),
    }));
    const plan = timed(planner, () =>
      planCapacity({ pending: demand, hosts: fleet, catalog: [...catalog], policy, now: s2ms(now) }));

    for (const u of plan.unschedulable) fail(`${u.taskId} reported unschedulable: ${u.reason}`);
    for (const l of plan.launches) {
      const type = findType(catalog, l.instanceType);
      if (!type) {
        fail(`launch of unknown type ${l.instanceType}`);
        continue;
      }
      const capacity = capacityOf(type);
      for (let n = 0; n < l.count; n++) {
        const host: SimHost = {
          hostId: `i-${(++hostSerial).toString(16).padStart(17, '0')}`, type, market: l.market, status: 'LAUNCHING',
          cpu: capacity.cpu, memory: capacity.memory, reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: now, used: false,
        };
        hosts.set(host.hostId, host);
        live.add(host);
        provisionedCpu += host.cpu;
        provisionedMemory += host.memory;
        launchedByType.set(type.name, (launchedByType.get(type.name) ?? 0) + 1);
        queue.push(now + BOOT_SECONDS, { kind: 'boot', hostId: host.hostId });
      }
    }
    if (live.size > policy.maxHosts) fail(`fleet of ${live.size} hosts past maxHosts ${policy.maxHosts}`);
    peakHosts = Math.max(peakHosts, live.size);
    for (const hostId of plan.drains) {
      const host = hosts.get(hostId);
      if (host?.status !== 'ACTIVE') fail(`drain of ${hostId}, which is ${host?.status ?? 'unknown'}`);
      else host.status = 'DRAINING';
    }
    for (const hostId of plan.terminations) {
      const host = hosts.get(hostId);
      if (!host || !live.has(host)) {
        fail(`termination of ${hostId}, which is ${host?.status ?? 'unknown'}`);
        continue;
      }
      if (host.taskCount > 0 || host.reservedCpu > 0 || host.reservedMemory > 0) {
        fail(`termination of ${hostId}, which holds ${host.taskCount} task(s)`);
        continue;
      }
      host.status = 'TERMINATED';
      host.terminatedAt = now;
      live.delete(host);
      provisionedCpu -= host.cpu;
      provisionedMemory -= host.memory;
    }
  };

  for (let i = 0; i < trace.length; i++) queue.push(trace[i].arrival, { kind: 'arrive', task: i });
  queue.push(0, { kind: 'tick' });

  for (let next = queue.pop(); next && finished < trace.length; next = queue.pop()) {
    advance(next.at);
    now = next.at;
    const e = next.event;
    switch (e.kind) {
      case 'arrive': {
        const views = activeViews();
        const plan = views.length > 0 ? timed(scheduler, () => planPlacement(views, demandOf(e.task), 'binpack')) : undefined;
        if (plan) {
          apply(plan);
          break;
        }
        pending.add(e.task);
        peakPending = Math.max(peakPending, pending.size);
        // No room: record the demand and invoke the planner now (once per instant).
        if (planQueuedAt !== now) {
          planQueuedAt = now;
          queue.push(now, { kind: 'plan' });
        }
        break;
      }
      case 'finish': {
        const state = states[e.task];
        const host = hosts.get(state.hostId!)!;
        if (state.finishedAt !== undefined) fail(`${trace[e.task].taskId} finished twice`);
        state.finishedAt = now;
        host.reservedCpu -= trace[e.task].cpu;
        host.reservedMemory -= trace[e.task].memory;
        host.taskCount--;
        reservedCpu -= trace[e.task].cpu;
        reservedMemory -= trace[e.task].memory;
        if (host.taskCount === 0) host.idleSince = now;
        finished++;
        retryPending();
        break;
      }
      case 'boot': {
        const host = hosts.get(e.hostId)!;
        if (host.status !== 'LAUNCHING') break;
        host.status = 'ACTIVE';
        host.idleSince = now;
        retryPending();
        break;
      }
      case 'tick':
        plannerRuns.timer++;
        runPlanner();
        queue.push(now + PLANNER_INTERVAL_SECONDS, { kind: 'tick' });
        break;
      case 'plan':
        plannerRuns.onDemand++;
        runPlanner();
        break;
    }
  }

  // The books: every task ran once and ended; every host holds nothing; the sums agree.
  const end = now;
  for (let i = 0; i < trace.length; i++) {
    const s = states[i];
    if (s.placedAt === undefined || s.finishedAt === undefined) fail(`${trace[i].taskId} never ran to its end`);
  }
  for (const h of hosts.values()) {
    if (h.reservedCpu !== 0 || h.reservedMemory !== 0 || h.taskCount !== 0) {
      fail(`host ${h.hostId} still holds ${h.taskCount} task(s) at the end`);
    }
  }
  if (waitSeconds.length !== trace.length) fail(`${waitSeconds.length} placements for ${trace.length} tasks`);

  let costUsd = 0;
  let hostSeconds = 0;
  for (const h of hosts.values()) {
    const seconds = Math.max(EC2_MINIMUM_SECONDS, (h.terminatedAt ?? end) - h.launchedAt);
    hostSeconds += seconds;
    costUsd += (hourlyPrice(h.type, h.market) * seconds) / 3600;
  }
  return {
    market: policy.market,
    endSeconds: end,
    costUsd,
    hostSeconds,
    launched: hosts.size,
    launchedByType,
    neverUsed: [...hosts.values()].filter((h) => !h.used).length,
    costBooting,
    costIdle,
    costBusy,
    peakHosts,
    peakPending,
    plannerRuns,
    packingCpu: reservedCpuSeconds / provisionedCpuSeconds,
    packingMemory: reservedMemorySeconds / provisionedMemorySeconds,
    waitSeconds,
    planner,
    scheduler,
  };
}

// --- baselines -------------------------------------------------------------------------------

function fargateCost(trace: readonly TraceTask[]): number {
  let usd = 0;
  for (const t of trace) {
    const seconds = Math.max(FARGATE.minimumSeconds, t.duration);
    usd += (seconds / 3600) * ((t.cpu / 1024) * FARGATE.perVcpuHour + (t.memory / 1024) * FARGATE.perGbHour);
  }
  return usd;
}

/**
 * The floor: the cheapest mix of (non-GPU) types whose host-seconds cover the trace's
 * cpu-seconds and memory-seconds — hosts perfectly packed at every instant, never idle, never
 * booting. A linear programme with two constraints, so an optimum uses one type or two: every
 * single type and every pair (both constraints tight) is tried.
 */
function floorCost(trace: readonly TraceTask[], catalog: readonly InstanceType[], market: Market): number {
  const cpuSeconds = trace.reduce((s, t) => s + t.cpu * t.duration, 0);
  const memorySeconds = trace.reduce((s, t) => s + t.memory * t.duration, 0);
  const types = catalog.filter((t) => t.gpus === 0).map((t) => ({ ...capacityOf(t), price: hourlyPrice(t, market) / 3600 }));
  let best = Infinity;
  for (const a of types) {
    best = Math.min(best, a.price * Math.max(cpuSeconds / a.cpu, memorySeconds / a.memory));
    for (const b of types) {
      const det = a.cpu * b.memory - b.cpu * a.memory;
      if (det === 0) continue;
      const xa = (cpuSeconds * b.memory - b.cpu * memorySeconds) / det;
      const xb = (a.cpu * memorySeconds - cpuSeconds * a.memory) / det;
      if (xa >= 0 && xb >= 0) best = Math.min(best, a.price * xa + b.price * xb);
    }
  }
  return best;
}

// --- the run ---------------------------------------------------------------------------------

const usd = (n: number): string => `$${n.toFixed(2)}`;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const sec = (n: number): string => `${n.toFixed(1)} s`;
const count = (n: number): string => n.toLocaleString('en-US');
const goal = (met: boolean, text: string): string => `${text}: ${met ? 'met' : 'NOT met'}`;
/** A ratio too small for two decimals. */
const share = (a: number, b: number): string => `${(a / b).toExponential(1)}×`;
const us = (milliseconds: number): string => `${(milliseconds * 1000).toFixed(1)} µs`;
const perCall = (t: Timing): number => (t.calls === 0 ? 0 : t.totalMs / t.calls);

function main(): void {
  progress(`bench:fleet on ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const trace = makeTrace();
  const taskSeconds = trace.reduce((s, t) => s + t.duration, 0);
  const traceEnd = trace[trace.length - 1].arrival;
  progress(`trace: ${count(trace.length)} tasks over ${(traceEnd / 3600).toFixed(1)} h simulated, ` +
    `${(taskSeconds / 3600).toFixed(0)} task-hours, mean ${(taskSeconds / trace.length).toFixed(0)} s per task; ` +
    `mean ${(trace.reduce((s, t) => s + t.cpu, 0) / trace.length / 1024).toFixed(2)} vCPU, ` +
    `${(trace.reduce((s, t) => s + t.memory, 0) / trace.length / 1024).toFixed(2)} GB per task`);

  const policies: CapacityPolicy[] = [POLICY, { ...POLICY, market: 'spot' }];
  const results: SimResult[] = [];
  for (const policy of policies) {
    progress(`simulating: ${policy.market}, warm pool ${policy.warmPoolHosts} × ${policy.warmPoolType}, ` +
      `idle timeout ${policy.idleTimeoutSeconds} s, max ${policy.maxHosts} hosts, boot ${BOOT_SECONDS} s, ` +
      `planner every ${PLANNER_INTERVAL_SECONDS} s and on demand ...`);
    const t0 = performance.now();
    const r = simulate(trace, policy, DEFAULT_CATALOG);
    results.push(r);
    progress(`  done in ${ms(performance.now() - t0)}: ${count(r.launched)} hosts launched, peak ${r.peakHosts}, ` +
      `cost ${usd(r.costUsd)}, packing ${pct(r.packingCpu)} cpu / ${pct(r.packingMemory)} memory`);
  }

  const fargate = fargateCost(trace);
  const [onDemand, spot] = results;
  const floorOnDemand = floorCost(trace, DEFAULT_CATALOG, 'on-demand');
  const floorSpot = floorCost(trace, DEFAULT_CATALOG, 'spot');
  const p50 = percentile(onDemand.waitSeconds, 50);
  const p99 = percentile(onDemand.waitSeconds, 99);
  const simulatedMs = onDemand.endSeconds * 1000;

  const rows: string[][] = [
    ['fleet cost, on-demand (default policy)', usd(onDemand.costUsd), `${usd(fargate)} Fargate, same task-seconds`,
      ratio(onDemand.costUsd, fargate), goal(onDemand.costUsd <= GOAL.costVsFargate * fargate, `≤ ${GOAL.costVsFargate}× Fargate`)],
    ['fleet cost, spot', usd(spot.costUsd), `${usd(fargate)} Fargate, same task-seconds`, ratio(spot.costUsd, fargate), '—'],
    ['floor: perfect packing, on-demand', usd(floorOnDemand), `${usd(fargate)} Fargate, same task-seconds`, ratio(floorOnDemand, fargate), '—'],
    ['floor: perfect packing, spot', usd(floorSpot), `${usd(fargate)} Fargate, same task-seconds`, ratio(floorSpot, fargate), '—'],
    ['fleet cost, on-demand, vs its floor', usd(onDemand.costUsd), `${usd(floorOnDemand)} floor, on-demand`, ratio(onDemand.costUsd, floorOnDemand), '—'],
    ['mean packing, cpu (time-weighted)', pct(onDemand.packingCpu), '100% reserved ÷ provisioned', ratio(onDemand.packingCpu, 1), '—'],
    ['mean packing, memory (time-weighted)', pct(onDemand.packingMemory), '100% reserved ÷ provisioned', ratio(onDemand.packingMemory, 1), '—'],
    ['RunTask → placement, p50', sec(p50), `${sec(BOOT_SECONDS)} EC2 boot`, ratio(p50, BOOT_SECONDS), '—'],
    ['RunTask → placement, p99', sec(p99), `${sec(BOOT_SECONDS)} EC2 boot`, ratio(p99, BOOT_SECONDS),
      goal(p99 < GOAL.p99PlacementSeconds, `< ${GOAL.p99PlacementSeconds} s`)],
    ['planner time, per call', us(perCall(onDemand.planner)), `${us(perCall(onDemand.scheduler))} scheduler per call`,
      ratio(perCall(onDemand.planner), perCall(onDemand.scheduler)), '—'],
    ['planner time, total', ms(onDemand.planner.totalMs), `${count(Math.round(onDemand.endSeconds))} s simulated`,
      share(onDemand.planner.totalMs, simulatedMs), '—'],
    ['scheduler time, total', ms(onDemand.scheduler.totalMs), `${count(Math.round(onDemand.endSeconds))} s simulated`,
      share(onDemand.scheduler.totalMs, simulatedMs), '—'],
  ];

  const details = results.map((r) => [
    r.market,
    `${(r.endSeconds / 3600).toFixed(2)} h`,
    usd(r.costUsd),
    `${(r.hostSeconds / 3600).toFixed(0)} h`,
    String(r.peakHosts),
    String(r.peakPending),
    `${r.plannerRuns.timer}+${r.plannerRuns.onDemand}`,
    `${count(r.planner.calls)} · ${us(perCall(r.planner))} · max ${ms(r.planner.maxMs)}`,
    `${count(r.scheduler.calls)} · ${us(perCall(r.scheduler))} · max ${ms(r.scheduler.maxMs)}`,
    `${usd(r.costBooting)} / ${usd(r.costIdle)} / ${usd(r.costBusy)}`,
    `${count(r.launched)} (${r.neverUsed} never used)`,
    sec(percentile(r.waitSeconds, 50)),
    sec(percentile(r.waitSeconds, 90)),
    sec(percentile(r.waitSeconds, 99)),
    sec(Math.max(...r.waitSeconds)),
    pct(r.waitSeconds.filter((w) => w === 0).length / r.waitSeconds.length),
  ]);

  console.log('\nResults (each figure beside its baseline, from the same trace in this run)\n');
  console.log(formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows));
  console.log('\nRuns in detail (planner runs: timer + on demand; calls · mean · max)\n');
  console.log(formatTable(
    ['market', 'simulated', 'cost', 'host-hours', 'peak hosts', 'peak pending', 'planner runs',
      'planner calls', 'scheduler calls', 'cost booting / idle / busy', 'launched', 'wait p50', 'p90', 'p99', 'max', 'placed at once'],
    details,
  ));
  for (const r of results) {
    const types = [...r.launchedByType.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => `${t} ×${n}`).join(', ');
    console.log(`\nlaunched (${r.market}): ${types}`);
  }
  const bestRatio = Math.min(...DEFAULT_CATALOG.filter((t) => t.gpus === 0).map((t) => {
    const c = capacityOf(t);
    return t.onDemandPrice / ((c.cpu / 1024) * FARGATE.perVcpuHour + (c.memory / 1024) * FARGATE.perGbHour);
  }));
  console.log(`\nNote: a fully packed on-demand host costs at best ${bestRatio.toFixed(2)}× what Fargate charges for the ` +
    'same vCPU and GB; only the 1-minute minimum on short tasks and spot prices take the fleet below that.');

  if (failures.length > 0) {
    console.error(`\nFAILED: ${failures.length} invariant breach(es)`);
    process.exitCode = 1;
  } else {
    console.log('\ninvariants: held (no overcommit, no placement off an ACTIVE host, no busy host terminated, ' +
      'fleet within maxHosts, every task run exactly once)');
  }
}

try {
  main();
} catch (e: unknown) {
  console.error('bench:fleet crashed:', e);
  process.exitCode = 1;
}
