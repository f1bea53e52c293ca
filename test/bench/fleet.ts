/**
 * bench:fleet — what Berth's EC2 fleet costs and how long tasks wait for room, beside what
 * Fargate would charge for the same work, from a discrete-event simulation on a virtual clock.
 *
 * The simulation drives the real capacity planner (planCapacity), the real placement scheduler
 * (planPlacement for each RunTask and for each retry, oldest first), the consolidation planner
 * (planConsolidation) and the warm pool's sizing (warmPoolTarget) over synthetic traces, each of
 * Fargate's valid sizes with log-normal durations:
 * - mixed: 10,000 tasks, Poisson arrivals whose rate swells and ebbs over 4 hours (the trace of
 *   the first version of this benchmark);
 * - steady services: long-running service tasks arriving slowly (consolidation may move them);
 * - bursty batch: bursts of 150 jobs within a minute, every 20 minutes;
 * - short CI jobs: many small jobs of a minute or two.
 * A host boots in 40 s after its launch; the planner runs every 10 s of simulated time and at once
 * when a RunTask finds no room. A task that finds no room waits as pending demand and is retried
 * whenever room appears (a host boots, a task ends).
 *
 * Every trace runs under two policies in the same run: the baseline (a fixed warm pool, no
 * consolidation: the fleet as it was) and the fleet economics (consolidation of busy hosts whose
 * tasks fit elsewhere, or whose service tasks fit on fewer, cheaper new hosts; a warm pool sized
 * from the arrival rate), each on-demand and on spot. A service task on a cordoned host is
 * replaced as the service scheduler replaces it: its replacement is placed by the scheduler, or
 * waits as pending demand for the capacity planner when there is no room, and the old copy stops
 * MOVE_OVERLAP_SECONDS after the replacement is placed; a task may move again later.
 *
 * Figures, each beside its baseline:
 * - The fleet's cost: per-second billing (1-minute minimum, as EC2 Linux bills) of every host from
 *   launch to termination, at the policy's market prices; beside Fargate's charge for the same
 *   task-seconds (per second, 1-minute minimum per task, the billing catalog's rates) and beside
 *   the floor: the cheapest mix of instance types that runs the trace's tasks perfectly packed,
 *   never idle or booting, each task's cpu and memory on one host (support/floor.ts); and beside
 *   the first, fluid floor, which covered cpu-seconds and memory-seconds apart.
 * - Mean packing: reserved ÷ provisioned (every billed host, booting ones included), time-weighted.
 * - RunTask → placement, p50 and p99 of simulated seconds, beside the EC2 boot delay.
 * - The meter's own totals for the same run (costReport over the simulated tasks and hosts): its
 *   Fargate price beside the benchmark's Fargate baseline, its Berth cost plus overhead beside the
 *   simulated fleet bill (per second; the EC2 minimum is shown apart, the meter does not bill it).
 * - The planner's and the scheduler's own time per call and in total.
 *
 * Goals are printed, not asserted. Exits 1 only on a broken invariant: a host overcommitted, a
 * placement on a host that is not ACTIVE, a host with tasks terminated, the fleet past maxHosts,
 * a task not run exactly once, a Fargate-size task reported unschedulable, a one-off task moved,
 * or the meter's totals off the simulation's by more than its rounding.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CATALOG, capacityOf, findType, hourlyPrice } from '../../shared/capacity/catalog';
import { type ConsolidationPolicy, DEFAULT_CONSOLIDATION_POLICY, planConsolidation } from '../../shared/capacity/consolidation';
import { DEFAULT_CAPACITY_POLICY, planCapacity } from '../../shared/capacity/planner';
import { type AdaptiveCapacity, DEMAND_HISTORY_SECONDS, DemandHistory, WARM_POOL_WINDOW_SECONDS, adaptToDemand } from '../../shared/capacity/demand-history';
import { costReport } from '../../shared/billing/report';
import { fargateRates } from '../../shared/billing/fargate';
import { DEFAULT_PRICES } from '../../shared/billing/prices';
import { cpuArchitectureOf, hostAttributes } from '../../shared/scheduler/host-attributes';
import type { HostUsage, TaskUsage } from '../../shared/billing/usage';
import { type CapacityPolicy, type FleetHost, type InstanceType, MARKETS, type Market, type PendingDemand } from '../../shared/capacity/types';
import { FARGATE_SIZES, fargateMemoryChoices } from '../../shared/domain/sizes';
import { type Demand, type HostStatus, type HostView, type Plan, applyToView, planPlacement } from '../../shared/scheduler/placement';
import { progress } from './support/progress';
import { seededRandom } from './support/random';
import { clairvoyantVariants } from './support/clairvoyant';
import { floorWithBoots, fluidFloor, taskFloorBounds } from './support/floor';
import { percentile } from './support/stats';
import { formatTable, ms, ratio } from './support/table';

interface TraceSpec {
  name: string;
  tasks: number;
  seed: number;
  /** sine: Poisson arrivals whose rate swings ±swing around the mean over periodSeconds; bursts: burstSize jobs within burstSeconds every burstEverySeconds. */
  arrivals:
    | { kind: 'sine'; meanRatePerSecond: number; swing: number; periodSeconds: number }
    | { kind: 'bursts'; burstSize: number; burstSeconds: number; burstEverySeconds: number };
  /** Log-normal durations: the median, and σ of the underlying normal; whole seconds. */
  medianDurationSeconds: number;
  durationSigma: number;
  minDurationSeconds: number;
  /** Share of tasks by Fargate cpu. */
  cpuWeights: Readonly<Record<number, number>>;
  /** Service tasks: consolidation may replace them elsewhere; one-off tasks finish where they are. */
  service: boolean;
  /** Tasks that declare ARM64: run with BERTH_GRAVITON=arm64, on Graviton hosts, beside Fargate's arm64 price. */
  architecture?: 'arm64';
}

/**
 * Share of tasks by Fargate cpu: most tasks are small. Within a cpu, memory choices are weighted
 * geometrically (each next choice 0.6 × as likely), so the smallest memory is the most common.
 */
const CPU_WEIGHTS: Readonly<Record<number, number>> = {
  256: 30, 512: 25, 1024: 22, 2048: 12, 4096: 7, 8192: 3, 16384: 1,
};

const TRACES: readonly TraceSpec[] = [
  {
    name: 'mixed', tasks: 10_000, seed: 20_250_101, service: false, cpuWeights: CPU_WEIGHTS,
    arrivals: { kind: 'sine', meanRatePerSecond: 0.5, swing: 0.5, periodSeconds: 4 * 3600 },
    medianDurationSeconds: 240, durationSigma: 1.0, minDurationSeconds: 5,
  },
  {
    name: 'steady services', tasks: 600, seed: 20_250_202, service: true, cpuWeights: { 256: 20, 512: 30, 1024: 30, 2048: 15, 4096: 5 },
    arrivals: { kind: 'sine', meanRatePerSecond: 0.02, swing: 0.3, periodSeconds: 4 * 3600 },
    medianDurationSeconds: 4 * 3600, durationSigma: 0.6, minDurationSeconds: 600,
  },
  {
    name: 'bursty batch', tasks: 4_000, seed: 20_250_303, service: false, cpuWeights: { 512: 15, 1024: 30, 2048: 30, 4096: 20, 8192: 5 },
    arrivals: { kind: 'bursts', burstSize: 150, burstSeconds: 60, burstEverySeconds: 20 * 60 },
    medianDurationSeconds: 600, durationSigma: 0.7, minDurationSeconds: 30,
  },
  {
    name: 'short CI jobs', tasks: 8_000, seed: 20_250_404, service: false, cpuWeights: { 512: 10, 1024: 35, 2048: 40, 4096: 15 },
    arrivals: { kind: 'sine', meanRatePerSecond: 0.8, swing: 0.5, periodSeconds: 2 * 3600 },
    medianDurationSeconds: 100, durationSigma: 0.6, minDurationSeconds: 10,
  },
  {
    name: 'arm64 services', tasks: 600, seed: 20_250_505, service: true, architecture: 'arm64', cpuWeights: { 256: 20, 512: 30, 1024: 30, 2048: 15, 4096: 5 },
    arrivals: { kind: 'sine', meanRatePerSecond: 0.02, swing: 0.3, periodSeconds: 4 * 3600 },
    medianDurationSeconds: 4 * 3600, durationSigma: 0.6, minDurationSeconds: 600,
  },
];
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

/** An arm64 trace runs with Graviton allowed for ARM64 tasks, and a Graviton warm pool. */
const policyFor = (spec: TraceSpec): CapacityPolicy =>
  (spec.architecture === 'arm64' ? { ...POLICY, graviton: 'arm64', warmPoolType: 'm7g.large' } : POLICY);

/** Fargate's minimum; its rates are the billing catalog's (us-east-1 by default), by architecture. */
const FARGATE_MINIMUM_SECONDS = 60;
const EC2_MINIMUM_SECONDS = 60;

/** Issue 16's goals, each against its baseline in the same run. */
const GOAL = { costVsFloor: 1.1, spotVsFargate: 0.4, bindingPacking: 0.85, p99PlacementSeconds: 60 } as const;

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
  service: boolean;
  architecture?: 'arm64';
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

function makeTrace(spec: TraceSpec): TraceTask[] {
  const random = seededRandom(spec.seed);
  const cpus = FARGATE_SIZES.map((r) => r.cpu);
  const cpuWeights = cpus.map((c) => spec.cpuWeights[c] ?? 0);
  const a = spec.arrivals;
  const tasks: TraceTask[] = [];
  let t = 0;
  while (tasks.length < spec.tasks) {
    if (a.kind === 'sine') {
      // A non-homogeneous Poisson process by thinning: candidates at the peak rate, each kept
      // with probability rate(t) / peak.
      const peakRate = a.meanRatePerSecond * (1 + a.swing);
      t += -Math.log(1 - random()) / peakRate;
      const rate = a.meanRatePerSecond * (1 + a.swing * Math.sin((2 * Math.PI * t) / a.periodSeconds));
      if (random() * peakRate > rate) continue;
    } else {
      const burst = Math.floor(tasks.length / a.burstSize);
      t = burst * a.burstEverySeconds + random() * a.burstSeconds;
    }
    const cpu = cpus[weightedIndex(random, cpuWeights)];
    const choices = fargateMemoryChoices(cpu);
    const memory = choices[weightedIndex(random, choices.map((_, i) => MEMORY_DECAY ** i))];
    // Whole seconds, so that Fargate's per-second bill of the trace and the meter's agree exactly.
    const duration = Math.round(Math.max(
      spec.minDurationSeconds,
      spec.medianDurationSeconds * Math.exp(spec.durationSigma * standardNormal(random)),
    ));
    tasks.push({
      taskId: `task-${String(tasks.length).padStart(5, '0')}`, cpu, memory, arrival: t, duration, service: spec.service,
      ...(spec.architecture ? { architecture: spec.architecture } : {}),
    });
  }
  return tasks.sort((x, y) => x.arrival - y.arrival).map((task, i) => ({ ...task, taskId: `task-${String(i).padStart(5, '0')}` }));
}

// --- the event queue -------------------------------------------------------------------------

type Event =
  | { kind: 'arrive'; task: number }
  | { kind: 'finish'; task: number }
  | { kind: 'boot'; hostId: string }
  | { kind: 'tick' }
  | { kind: 'plan' }
  /** A moved service task's old copy stops, its replacement running: its room on the old host is freed. */
  | { kind: 'release'; task: number; hostId: string };

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
  /** Its ECS attributes, as the host store gives them: the scheduler reads its architecture there. */
  attributes: Readonly<Record<string, string>>;
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
  /** The trace indices of the tasks it holds. */
  tasks: Set<number>;
  /** What its current idle stretch has cost so far: booked as reused or let go when the stretch ends. */
  idleUsd: number;
  /** What its boot cost. */
  bootUsd: number;
}

interface TaskState {
  placedAt?: number;
  hostId?: string;
  finishedAt?: number;
  /** Each time consolidation moved it (a service task): the host it left, and when its replacement was placed there. */
  moves?: { from: string; at: number }[];
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
  /** Where the cost went, in more detail (the gap table). */
  gap: GapBreakdown;
  peakHosts: number;
  peakPending: number;
  plannerRuns: { timer: number; onDemand: number };
  packingCpu: number;
  packingMemory: number;
  waitSeconds: number[];
  planner: Timing;
  scheduler: Timing;
  cordons: number;
  moves: number;
  /** The fleet's bill per second without EC2's 1-minute minimum (what the meter bills), and the minimum's extra. */
  perSecondBillUsd: number;
  minimumExtraUsd: number;
  /** What the meter would record of the run. */
  usage: { tasks: TaskUsage[]; hosts: HostUsage[] };
}

/**
 * Where a run's dollars went, beyond booting / idle / busy. Busy host-seconds split into the room
 * the binding resource used (price × the larger of the cpu and memory shares reserved) and the room
 * left unused; idle stretches by how they ended: a task took the host (it saved a boot), or the host
 * was let go (pure waste), or the run ended.
 */
interface GapBreakdown {
  bootUsed: number;
  bootNeverUsed: number;
  idleReused: number;
  idleLetGo: number;
  idleAtEnd: number;
  busyUsed: number;
  /** Unused binding room on busy hosts, by instance type, and by which resource was binding (the fuller one). */
  busyUnusedByType: Map<string, number>;
  busyUnusedCpuBinding: number;
  busyUnusedMemoryBinding: number;
  /** Unused binding room on busy hosts holding one task: a host kept alive by its last, long task. */
  busyUnusedOneTask: number;
}

/** What the fleet economics add to the baseline policy. */
interface Economics {
  name: string;
  consolidation?: ConsolidationPolicy;
  /**
   * The recent demand for fresh room (DemandHistory: arrivals that found no room, empty hosts
   * that took work), gathered and used as the capacity function does (adaptToDemand): idle hosts
   * kept for its rate (the policy's count is the floor), idle hosts beyond them let go by its
   * gaps (the policy's timeout is the most).
   */
  adaptive?: boolean;
}

const BASELINE: Economics = { name: 'baseline' };
const CONSOLIDATION: Economics = { name: 'consolidation', consolidation: { ...DEFAULT_CONSOLIDATION_POLICY, minHostAgeSeconds: 300 } };
const ECONOMICS: Economics = {
  name: 'economics',
  consolidation: { ...DEFAULT_CONSOLIDATION_POLICY, minHostAgeSeconds: 300 },
  adaptive: true,
};
/** A moved service task's replacement runs this long beside it before the old copy stops (minimumHealthyPercent 100). */
const MOVE_OVERLAP_SECONDS = 15;

const ms2s = (epochMs: number): number => (epochMs - EPOCH_MS) / 1000;
const s2ms = (seconds: number): number => EPOCH_MS + Math.round(seconds * 1000);

function simulate(trace: readonly TraceTask[], policy: CapacityPolicy, catalog: readonly InstanceType[], economics: Economics): SimResult {
  const queue = new EventQueue();
  const hosts = new Map<string, SimHost>();
  /** Hosts being billed: LAUNCHING, ACTIVE or DRAINING. */
  const live = new Set<SimHost>();
  const states: TaskState[] = trace.map(() => ({}));
  /** Waiting for room, by trace index, in arrival order. */
  const pending = new Set<number>();
  /** Service tasks on cordoned hosts whose replacements wait for room: trace index → since (simulated seconds). */
  const pendingMoves = new Map<number, number>();
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
  let cordons = 0;
  let moves = 0;
  const adaptive: AdaptiveCapacity | undefined = economics.adaptive
    ? { history: new DemandHistory(DEMAND_HISTORY_SECONDS * 1000), relaunchSeconds: BOOT_SECONDS, warmPoolWindowSeconds: WARM_POOL_WINDOW_SECONDS }
    : undefined;

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
  const gap: GapBreakdown = {
    bootUsed: 0, bootNeverUsed: 0, idleReused: 0, idleLetGo: 0, idleAtEnd: 0, busyUsed: 0,
    busyUnusedByType: new Map(), busyUnusedCpuBinding: 0, busyUnusedMemoryBinding: 0, busyUnusedOneTask: 0,
  };
  const advance = (to: number): void => {
    const dt = to - lastAt;
    if (dt === 0) return;
    for (const h of live) {
      const usdPerSecond = hourlyPrice(h.type, h.market) / 3600;
      const usd = usdPerSecond * dt;
      if (h.status === 'LAUNCHING') {
        costBooting += usd;
        h.bootUsd += usd;
      } else if (h.taskCount === 0) {
        costIdle += usd;
        h.idleUsd += usd;
      } else {
        costBusy += usd;
        const cpuShare = h.reservedCpu / h.cpu;
        const memoryShare = h.reservedMemory / h.memory;
        const used = usd * Math.max(cpuShare, memoryShare);
        gap.busyUsed += used;
        gap.busyUnusedByType.set(h.type.name, (gap.busyUnusedByType.get(h.type.name) ?? 0) + usd - used);
        if (h.taskCount === 1) gap.busyUnusedOneTask += usd - used;
        if (cpuShare >= memoryShare) gap.busyUnusedCpuBinding += usd - used;
        else gap.busyUnusedMemoryBinding += usd - used;
      }
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
        attributes: h.attributes, hostId: h.hostId, status: h.status, cpu: h.cpu, memory: h.memory,
        reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory, taskCount: h.taskCount,
      });
    }
    return views;
  };

  const demandOf = (i: number): Demand => ({
    taskId: trace[i].taskId, cpu: trace[i].cpu, memory: trace[i].memory, ...(trace[i].architecture ? { architecture: trace[i].architecture } : {}),
  });
  const indexOf = (taskId: string): number => Number(taskId.slice('task-'.length));

  /** Task i's room on a host, for a placement or a move, and the fleet's totals with it; an overcommit fails the run. */
  const reserve = (host: SimHost, i: number, p: Plan, how: string): void => {
    host.reservedCpu += p.cpu;
    host.reservedMemory += p.memory;
    host.taskCount++;
    host.idleSince = undefined;
    host.used = true;
    gap.idleReused += host.idleUsd;
    host.idleUsd = 0;
    host.tasks.add(i);
    reservedCpu += p.cpu;
    reservedMemory += p.memory;
    if (host.reservedCpu > host.cpu || host.reservedMemory > host.memory) {
      fail(`host ${host.hostId} overcommitted${how}: ${host.reservedCpu}/${host.cpu} cpu, ${host.reservedMemory}/${host.memory} MiB`);
    }
  };

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
    reserve(host, i, plan, '');
    states[i] = { placedAt: now, hostId: host.hostId };
    pending.delete(i);
    waitSeconds.push(now - trace[i].arrival);
    queue.push(now + trace[i].duration, { kind: 'finish', task: i });
  };

  /**
   * Room appeared: the waiting tasks place again, longest-waiting first, each on its own, as
   * Berth wakes them (wakeTasksWaitingForRoom takes the waiters oldest first, and each woken
   * launch places its one task). A task that waits is not passed over by one that came later.
   */
  const retryPending = (): void => {
    if (pending.size === 0 && pendingMoves.size === 0) return;
    let views = activeViews();
    if (views.length === 0) return;
    const waiting = [
      ...[...pending].map((i) => ({ i, since: trace[i].arrival, replacement: false })),
      ...[...pendingMoves].map(([i, since]) => ({ i, since, replacement: true })),
    ].sort((a, b) => a.since - b.since);
    for (const { i, replacement } of waiting) {
      const p = timed(scheduler, () => planPlacement(views, demandOf(i), 'binpack'));
      if (!p) continue;
      if (replacement) move(i, p);
      else apply(p);
      views = views.map((v) => (v.hostId === p.hostId ? applyToView(v, p) : v));
    }
  };

  const runPlanner = (): void => {
    const fleet: FleetHost[] = [...live].map((h) => ({
      hostId: h.hostId, instanceType: h.type.name, market: h.market, status: h.status,
      cpu: h.cpu, memory: h.memory, reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory,
      taskCount: h.taskCount, launchedAt: s2ms(h.launchedAt),
      ...(h.idleSince !== undefined ? { idleSince: s2ms(h.idleSince) } : {}),
    }));
    const demand: PendingDemand[] = [
      ...[...pending].map((i) => [i, trace[i].arrival] as const),
      ...pendingMoves,
    ].map(([i, since]) => ({
      taskId: trace[i].taskId, cluster: 'default', cpu: trace[i].cpu, memory: trace[i].memory, since: s2ms(since),
      ...(trace[i].architecture ? { architecture: trace[i].architecture } : {}),
    }));
    const adapted = adaptive ? adaptToDemand(adaptive, { now: s2ms(now), hosts: fleet, pending: demand, policy, catalog }) : undefined;
    const plan = timed(planner, () =>
      planCapacity({ pending: demand, hosts: fleet, catalog: [...catalog], policy: adapted?.policy ?? policy, now: s2ms(now), ...(adapted ? { freshRoomDemand: adapted.freshRoomDemand } : {}) }));

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
          attributes: hostAttributes({ instanceType: type.name, market: l.market }),
          cpu: capacity.cpu, memory: capacity.memory, reservedCpu: 0, reservedMemory: 0, taskCount: 0, launchedAt: now, used: false,
          tasks: new Set(), idleUsd: 0, bootUsd: 0,
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
      gap.idleLetGo += host.idleUsd;
      host.idleUsd = 0;
      live.delete(host);
      provisionedCpu -= host.cpu;
      provisionedMemory -= host.memory;
    }
    if (economics.consolidation && plan.launches.length === 0 && pending.size === 0 && pendingMoves.size === 0 && ![...live].some((h) => h.status === 'LAUNCHING')) {
      consolidate(economics.consolidation);
    }
  };

  /**
   * As the capacity cycle does: cordon what planConsolidation names. Then as the service
   * scheduler does: each service task on a cordoned host gets a replacement placed by the
   * scheduler, which runs beside it for MOVE_OVERLAP_SECONDS before the old copy stops (so the
   * service never drops below its count); one-off tasks finish where they are.
   */
  const consolidate = (c: ConsolidationPolicy): void => {
    const view = [...live].map((h) => ({
      hostId: h.hostId, status: h.status, market: h.market, cpu: h.cpu, memory: h.memory, instanceType: h.type.name,
      launchedAt: s2ms(h.launchedAt), hourlyPrice: hourlyPrice(h.type, h.market), architecture: cpuArchitectureOf(h.type.name),
      tasks: [...h.tasks].map((i) => ({ taskId: trace[i].taskId, cpu: trace[i].cpu, memory: trace[i].memory, ...(trace[i].service ? { group: 'service:web' } : {}) })),
    }));
    const plan = timed(planner, () => planConsolidation({ hosts: view, policy: c, now: s2ms(now), capacity: { catalog, policy } }));
    for (const hostId of plan.cordons) {
      const host = hosts.get(hostId)!;
      if (host.status !== 'ACTIVE') fail(`cordon of ${hostId}, which is ${host.status}`);
      host.status = 'DRAINING';
      cordons++;
      for (const i of [...host.tasks]) {
        if (!trace[i].service) continue;
        const p = timed(scheduler, () => planPlacement(activeViews(), demandOf(i), 'binpack'));
        if (p) {
          move(i, p);
          continue;
        }
        // No room: the replacement waits as pending demand, as the service scheduler's would,
        // and the capacity planner launches for it; the old copy runs on until it is placed.
        pendingMoves.set(i, now);
        if (planQueuedAt !== now) {
          planQueuedAt = now;
          queue.push(now, { kind: 'plan' });
        }
      }
    }
  };

  /** A service task's replacement placed: it runs beside the old copy for MOVE_OVERLAP_SECONDS, then the old copy stops. */
  const move = (i: number, p: Plan): void => {
    const from = states[i].hostId!;
    const to = hosts.get(p.hostId)!;
    if (!trace[i].service) fail(`one-off task ${trace[i].taskId} moved`);
    if (to.status !== 'ACTIVE') fail(`move of ${trace[i].taskId} onto ${to.hostId}, which is ${to.status}`);
    if (to.reservedCpu > p.maxReservedCpu || to.reservedMemory > p.maxReservedMemory) fail(`move of ${trace[i].taskId} past ${to.hostId}'s room`);
    reserve(to, i, p, ' by a move');
    states[i] = { ...states[i], hostId: to.hostId, moves: [...(states[i].moves ?? []), { from, at: now }] };
    pendingMoves.delete(i);
    moves++;
    queue.push(now + MOVE_OVERLAP_SECONDS, { kind: 'release', task: i, hostId: from });
  };

  /** Frees a task's room on a host. */
  const release = (i: number, host: SimHost): void => {
    if (!host.tasks.delete(i)) fail(`${trace[i].taskId} released from ${host.hostId}, which does not hold it`);
    host.reservedCpu -= trace[i].cpu;
    host.reservedMemory -= trace[i].memory;
    host.taskCount--;
    reservedCpu -= trace[i].cpu;
    reservedMemory -= trace[i].memory;
    if (host.taskCount === 0) host.idleSince = now;
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
        release(e.task, host);
        // A task that ends while its move overlaps: its old copy stops with it; a replacement still waiting is not wanted.
        for (const m of state.moves ?? []) if (hosts.get(m.from)!.tasks.has(e.task)) release(e.task, hosts.get(m.from)!);
        pendingMoves.delete(e.task);
        finished++;
        retryPending();
        break;
      }
      case 'release': {
        const host = hosts.get(e.hostId)!;
        if (host.tasks.has(e.task)) release(e.task, host);
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

  for (const h of hosts.values()) {
    gap.idleAtEnd += h.idleUsd;
    if (h.used) gap.bootUsed += h.bootUsd;
    else gap.bootNeverUsed += h.bootUsd;
  }
  let costUsd = 0;
  let hostSeconds = 0;
  let perSecondBillUsd = 0;
  const endMs = s2ms(end);
  const usage: SimResult['usage'] = { tasks: [], hosts: [] };
  for (const h of hosts.values()) {
    const seconds = Math.max(EC2_MINIMUM_SECONDS, (h.terminatedAt ?? end) - h.launchedAt);
    hostSeconds += seconds;
    costUsd += (hourlyPrice(h.type, h.market) * seconds) / 3600;
    const u: HostUsage = { hostId: h.hostId, instanceType: h.type.name, market: h.market, cpu: h.cpu, memory: h.memory, launchedAt: s2ms(h.launchedAt) };
    if (h.terminatedAt !== undefined) u.endedAt = s2ms(h.terminatedAt);
    perSecondBillUsd += (hourlyPrice(h.type, h.market) * ((u.endedAt ?? endMs) - u.launchedAt)) / 3_600_000;
    usage.hosts.push(u);
  }
  // What the meter records: pulled and placed at placement, stopped a whole duration later. A
  // moved task is a stint per host: each host it left (no Fargate time of its own), then its last.
  for (let i = 0; i < trace.length; i++) {
    const t = trace[i];
    const st = states[i];
    const placedAt = s2ms(st.placedAt!);
    const stoppedAt = placedAt + t.duration * 1000;
    const base = {
      cluster: 'default', family: 'bench', revision: 1, tags: {}, cpu: t.cpu, memory: t.memory, market: policy.market,
      architecture: cpuArchitectureOf(hosts.get(st.hostId!)!.type.name),
    };
    const stints = st.moves ?? [];
    stints.forEach((m, j) => {
      const from = j === 0 ? placedAt : s2ms(stints[j - 1].at);
      usage.tasks.push({ ...base, taskId: `${t.taskId}@${j}`, hostId: m.from, placedAt: from, stoppedAt: Math.min(stoppedAt, s2ms(m.at + MOVE_OVERLAP_SECONDS)) });
    });
    usage.tasks.push({
      ...base, taskId: t.taskId, hostId: st.hostId!, pullStartedAt: placedAt, placedAt: stints.length > 0 ? s2ms(stints[stints.length - 1].at) : placedAt, stoppedAt,
    });
  }
  return {
    cordons,
    moves,
    perSecondBillUsd,
    minimumExtraUsd: costUsd - perSecondBillUsd,
    usage,
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
    gap,
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

/** Fargate's charge for the trace, at its tasks' architecture's rates (arm64 has no Fargate Spot: on-demand's then). */
function fargateCost(trace: readonly TraceTask[], market: Market = 'on-demand'): number {
  let usd = 0;
  for (const t of trace) {
    const { rates } = fargateRates(DEFAULT_PRICES, t.architecture ?? 'x86_64', market);
    const seconds = Math.max(FARGATE_MINIMUM_SECONDS, t.duration);
    usd += (seconds / 3600) * ((t.cpu / 1024) * rates.vcpuHour + (t.memory / 1024) * rates.gbHour);
  }
  return usd;
}

/**
 * The floor: hosts perfectly packed at every instant, never idle, never booting, of the (non-GPU)
 * types of the architecture the trace's tasks run on (support/floor.ts). `task`: each task's cpu
 * and memory on one host of a type that can hold it — the floor the goal is judged against.
 * `fluid`: cpu-seconds and memory-seconds covered as two separate fluids, this benchmark's first
 * floor, printed beside it; it lets compute-family hosts be full on both resources at once,
 * which no Fargate-shaped task can make them, so it sits below what any fleet can reach.
 */
/** The types a trace's tasks may run on: those without GPUs, of the architecture its tasks declare. */
function typesFor(trace: readonly TraceTask[], catalog: readonly InstanceType[]): InstanceType[] {
  const architecture = trace[0]?.architecture ?? 'x86_64';
  return catalog.filter((t) => t.gpus === 0 && cpuArchitectureOf(t.name) === architecture);
}

function floorCosts(
  trace: readonly TraceTask[], catalog: readonly InstanceType[], market: Market,
): { task: number; fluid: number; taskUpper: number; withBoots: number } {
  const types = typesFor(trace, catalog).map((t) => ({ ...capacityOf(t), pricePerSecond: hourlyPrice(t, market) / 3600 }));
  const work = trace.map((t) => ({ cpu: t.cpu, memory: t.memory, seconds: t.duration, start: t.arrival }));
  const bounds = taskFloorBounds(work, types);
  const withBoots = floorWithBoots(work, types, BOOT_SECONDS);
  return { task: bounds.lower, taskUpper: bounds.upper, fluid: fluidFloor(work, types), withBoots };
}

/**
 * The clairvoyant reference (support/clairvoyant.ts): a fleet that knows every arrival and
 * duration ahead, launches just in time and places so hosts empty together. No real fleet can run
 * it; it shows what knowing the future buys, beside the real figures.
 */
function clairvoyantRows(trace: readonly TraceTask[], catalog: readonly InstanceType[], floor: number, fargate: number): string[][] {
  const types = typesFor(trace, catalog).map((t) => ({
    name: t.name, ...capacityOf(t), pricePerSecond: hourlyPrice(t, 'on-demand') / 3600, spotPricePerSecond: hourlyPrice(t, 'spot') / 3600,
  }));
  const variants = clairvoyantVariants(trace, { bootSeconds: BOOT_SECONDS, minimumSeconds: EC2_MINIMUM_SECONDS, types });
  const best = variants[0];
  const r = best.result;
  const label = 'CLAIRVOYANT REFERENCE (knows durations, moves no task; no real fleet can run it)';
  return [
    [`${label}: cost, on-demand, vs its floor`, usd(r.costUsd), `${usd(floor)} floor, on-demand`, ratio(r.costUsd, floor),
      `${r.costUsd <= GOAL.costVsFloor * floor ? 'within' : 'NOT within'} ${GOAL.costVsFloor}× even so`],
    [`${label}: cost, spot`, usd(r.spotCostUsd), `${usd(fargate)} Fargate, same task-seconds`, ratio(r.spotCostUsd, fargate),
      `${r.spotCostUsd <= GOAL.spotVsFargate * fargate ? 'within' : 'NOT within'} ${GOAL.spotVsFargate}× even so`],
    [`${label}: packing of the binding resource`, pct(Math.max(r.packingCpu, r.packingMemory)), '100% reserved ÷ provisioned', ratio(Math.max(r.packingCpu, r.packingMemory), 1), '—'],
    [`${label}: booting / idle / busy`, `${usd(r.bootingUsd)} / ${usd(r.idleUsd)} / ${usd(r.busyUsd)}`,
      `best of ${variants.length} variants: new hosts ${best.size}, ties by ${best.tieBreak}; ${count(r.launched)} hosts; worst variant ${ratio(variants[variants.length - 1].result.costUsd, floor)} floor`,
      '—', '—'],
  ];
}

/**
 * Where a run's gap to its floor goes, in dollars and as a share of the floor: the rows add up to
 * cost − floor. The busy hosts' used room above the floor is what the chosen types charge for the
 * room the tasks filled beyond the floor's cheapest type per task shape (and the other resource
 * left over on each host, which the floor prices at nothing).
 */
function gapRows(r: SimResult, floor: number, floorUpper: number): string[][] {
  const g = r.gap;
  const row = (what: string, usdValue: number, note = ''): string[] => [what, usd(usdValue), `${((usdValue / floor) * 100).toFixed(1)}%`, note];
  const byType = [...g.busyUnusedByType.entries()].sort(([, a], [, b]) => b - a).filter(([, v]) => v >= 0.005)
    .map(([t, v]) => `${t} ${usd(v)}`).join(', ');
  const unused = g.busyUnusedCpuBinding + g.busyUnusedMemoryBinding;
  return [
    row('fleet cost', r.costUsd, `${ratio(r.costUsd, floor)} floor`),
    row('floor (proven lower bound)', floor, `a perfect packing of its own prices' choice costs ${usd(floorUpper)} (${ratio(floorUpper, floor)})`),
    row('gap', r.costUsd - floor),
    row('  booting, hosts that then held tasks', g.bootUsed),
    row('  booting, hosts never used', g.bootNeverUsed),
    row('  idle, until a task took the host', g.idleReused, 'a warm host: saved a boot'),
    row('  idle, until the host was let go', g.idleLetGo, 'waited out its idle timeout for nothing'),
    row('  idle, at the end of the run', g.idleAtEnd),
    row('  busy hosts, unused room of the binding resource', unused,
      `cpu binding ${usd(g.busyUnusedCpuBinding)}, memory binding ${usd(g.busyUnusedMemoryBinding)}; on hosts holding a single task ${usd(g.busyUnusedOneTask)}`),
    ['    by instance type', '', '', byType],
    row('  busy hosts, used room above the floor', g.busyUsed - floor, `${usd(g.busyUsed)} used room at the hosts' own prices`),
    row('  EC2 1-minute minimum', r.minimumExtraUsd),
  ];
}

// --- the run ---------------------------------------------------------------------------------

const usd = (n: number): string => `$${n.toFixed(2)}`;
const usd6 = (n: number): string => `$${n.toFixed(6)}`;
const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;
const sec = (n: number): string => `${n.toFixed(1)} s`;
const count = (n: number): string => n.toLocaleString('en-US');
const goal = (met: boolean, text: string): string => `${text}: ${met ? 'met' : 'NOT met'}`;
/** A ratio too small for two decimals. */
const share = (a: number, b: number): string => `${(a / b).toExponential(1)}×`;
const us = (milliseconds: number): string => `${(milliseconds * 1000).toFixed(1)} µs`;
const perCall = (t: Timing): number => (t.calls === 0 ? 0 : t.totalMs / t.calls);

/** The meter's totals over a run: costReport over what the simulation would have recorded. */
function meterTotals(r: SimResult): { fargateUsd: number; berthUsd: number; overheadUsd: number; fleetUsd: number } {
  const to = Math.max(...r.usage.hosts.map((h) => h.endedAt ?? 0), ...r.usage.tasks.map((t) => t.stoppedAt ?? 0), s2ms(r.endSeconds)) + 1;
  const report = costReport({
    tasks: r.usage.tasks, hosts: r.usage.hosts, prices: DEFAULT_PRICES, from: EPOCH_MS, to, now: s2ms(r.endSeconds), groupBy: [], bucketMs: 24 * 3_600_000,
  });
  if (report.unpricedHosts.length) fail(`the meter has no price for ${report.unpricedHosts.length} host(s)`);
  const t = report.totals;
  return { fargateUsd: t.fargatePriceMicroUsd / 1e6, berthUsd: t.berthCostMicroUsd / 1e6, overheadUsd: t.overheadMicroUsd / 1e6, fleetUsd: t.fleetBillMicroUsd / 1e6 };
}

interface TraceRun {
  spec: TraceSpec;
  trace: TraceTask[];
  /** By economics name, then market. */
  runs: Record<string, Record<Market, SimResult>>;
}

function runTrace(spec: TraceSpec): TraceRun {
  const trace = makeTrace(spec);
  const taskSeconds = trace.reduce((s, t) => s + t.duration, 0);
  progress(`trace ${spec.name}: ${count(trace.length)} tasks over ${(trace[trace.length - 1].arrival / 3600).toFixed(1)} h, ` +
    `${(taskSeconds / 3600).toFixed(0)} task-hours, mean ${(taskSeconds / trace.length).toFixed(0)} s per task; ` +
    `mean ${(trace.reduce((s, t) => s + t.cpu, 0) / trace.length / 1024).toFixed(2)} vCPU, ` +
    `${(trace.reduce((s, t) => s + t.memory, 0) / trace.length / 1024).toFixed(2)} GB per task${spec.service ? ', service tasks' : ''}`);
  const runs: TraceRun['runs'] = {};
  for (const economics of [BASELINE, CONSOLIDATION, ECONOMICS]) {
    runs[economics.name] = {} as Record<Market, SimResult>;
    for (const market of MARKETS) {
      const t0 = performance.now();
      const r = simulate(trace, { ...policyFor(spec), market }, DEFAULT_CATALOG, economics);
      runs[economics.name][market] = r;
      progress(`  ${economics.name}, ${market}: ${ms(performance.now() - t0)}, ${count(r.launched)} hosts launched, peak ${r.peakHosts}, ` +
        `cost ${usd(r.costUsd)}, packing ${pct(r.packingCpu)} cpu / ${pct(r.packingMemory)} memory, ${r.cordons} cordoned, ${r.moves} moved`);
    }
  }
  return { spec, trace, runs };
}

function report({ spec, trace, runs }: TraceRun): void {
  const fargate = fargateCost(trace);
  const fargateSpot = fargateCost(trace, 'spot');
  const before = runs[BASELINE.name]['on-demand'];
  const onDemand = runs[ECONOMICS.name]['on-demand'];
  const spot = runs[ECONOMICS.name].spot;
  const floorsOnDemand = floorCosts(trace, DEFAULT_CATALOG, 'on-demand');
  const floorOnDemand = floorsOnDemand.task;
  const floorSpot = floorCosts(trace, DEFAULT_CATALOG, 'spot').task;
  const p50 = percentile(onDemand.waitSeconds, 50);
  const p99 = percentile(onDemand.waitSeconds, 99);
  const simulatedMs = onDemand.endSeconds * 1000;
  const binding = Math.max(onDemand.packingCpu, onDemand.packingMemory);
  const bindingBefore = Math.max(before.packingCpu, before.packingMemory);

  // The meter over the same runs: its Fargate price is the Fargate baseline (Fargate Spot on the
  // spot run), its Berth cost plus overhead the fleet's per-second bill. Each task's price and each
  // host's bill round to a micro-dollar once.
  const meterRows: string[][] = [];
  for (const [r, baseline] of [[onDemand, fargate], [spot, fargateSpot]] as const) {
    const m = meterTotals(r);
    const fargateSlack = r.usage.tasks.length * 1e-6;
    const fleetSlack = r.usage.hosts.length * 2e-6;
    if (Math.abs(m.fargateUsd - baseline) > fargateSlack) fail(`${spec.name} ${r.market}: metered Fargate ${m.fargateUsd} ≠ baseline ${baseline}`);
    if (Math.abs(m.berthUsd + m.overheadUsd - r.perSecondBillUsd) > fleetSlack) fail(`${spec.name} ${r.market}: metered Berth + overhead ${m.berthUsd + m.overheadUsd} ≠ fleet bill ${r.perSecondBillUsd}`);
    meterRows.push(
      [`meter: Fargate price, ${r.market}`, usd6(m.fargateUsd), `${usd6(baseline)} bench Fargate${r.market === 'spot' ? ' Spot' : ''} baseline`, ratio(m.fargateUsd, baseline), '—'],
      [`meter: Berth cost + overhead, ${r.market}`, `${usd6(m.berthUsd)} + ${usd6(m.overheadUsd)}`, `${usd6(r.perSecondBillUsd)} simulated bill, per second (+${usd(r.minimumExtraUsd)} EC2 minimum)`,
        ratio(m.berthUsd + m.overheadUsd, r.perSecondBillUsd), '—'],
    );
  }

  const rows: string[][] = [
    ['fleet cost, on-demand', usd(onDemand.costUsd), `${usd(fargate)} Fargate, same task-seconds`, ratio(onDemand.costUsd, fargate), '—'],
    ['fleet cost, on-demand, vs its floor', usd(onDemand.costUsd), `${usd(floorOnDemand)} floor, on-demand`, ratio(onDemand.costUsd, floorOnDemand),
      goal(onDemand.costUsd <= GOAL.costVsFloor * floorOnDemand, `≤ ${GOAL.costVsFloor}× floor`)],
    ['fleet cost, on-demand, vs no economics', usd(onDemand.costUsd), `${usd(before.costUsd)} fixed warm pool, no consolidation`, ratio(onDemand.costUsd, before.costUsd), '—'],
    ['fleet cost, spot', usd(spot.costUsd), `${usd(fargate)} Fargate, same task-seconds`, ratio(spot.costUsd, fargate),
      goal(spot.costUsd <= GOAL.spotVsFargate * fargate, `≤ ${GOAL.spotVsFargate}× Fargate`)],
    ['floor: perfect packing, on-demand', usd(floorOnDemand), `${usd(fargate)} Fargate, same task-seconds`, ratio(floorOnDemand, fargate), '—'],
    ['floor with boots (tasks that start on arrival)', usd(floorsOnDemand.withBoots), `${usd(floorOnDemand)} floor, on-demand`, ratio(floorsOnDemand.withBoots, floorOnDemand),
      `${floorsOnDemand.withBoots <= GOAL.costVsFloor * floorOnDemand ? 'leaves' : 'leaves NO'} room within ${GOAL.costVsFloor}× for packing`],
    ['fleet cost, on-demand, vs the fluid floor', usd(onDemand.costUsd), `${usd(floorsOnDemand.fluid)} fluid floor (cpu and memory apart), on-demand`,
      ratio(onDemand.costUsd, floorsOnDemand.fluid), '—'],
    ['floor: perfect packing, spot', usd(floorSpot), `${usd(fargate)} Fargate, same task-seconds`, ratio(floorSpot, fargate), '—'],
    ...clairvoyantRows(trace, DEFAULT_CATALOG, floorOnDemand, fargate),
    ['mean packing, cpu (time-weighted)', pct(onDemand.packingCpu), '100% reserved ÷ provisioned', ratio(onDemand.packingCpu, 1), '—'],
    ['mean packing, memory (time-weighted)', pct(onDemand.packingMemory), '100% reserved ÷ provisioned', ratio(onDemand.packingMemory, 1), '—'],
    ['packing of the binding resource', pct(binding), `${pct(bindingBefore)} no economics`, ratio(binding, bindingBefore),
      goal(binding >= GOAL.bindingPacking, `≥ ${pct(GOAL.bindingPacking)}`)],
    ['RunTask → placement, p50', sec(p50), `${sec(BOOT_SECONDS)} EC2 boot`, ratio(p50, BOOT_SECONDS), '—'],
    ['RunTask → placement, p99', sec(p99), `${sec(BOOT_SECONDS)} EC2 boot`, ratio(p99, BOOT_SECONDS),
      goal(p99 <= GOAL.p99PlacementSeconds, `≤ ${GOAL.p99PlacementSeconds} s`)],
    ...meterRows,
    ['planner time, per call', us(perCall(onDemand.planner)), `${us(perCall(onDemand.scheduler))} scheduler per call`,
      ratio(perCall(onDemand.planner), perCall(onDemand.scheduler)), '—'],
    ['planner time, total', ms(onDemand.planner.totalMs), `${count(Math.round(onDemand.endSeconds))} s simulated`,
      share(onDemand.planner.totalMs, simulatedMs), '—'],
    ['scheduler time, total', ms(onDemand.scheduler.totalMs), `${count(Math.round(onDemand.endSeconds))} s simulated`,
      share(onDemand.scheduler.totalMs, simulatedMs), '—'],
  ];

  const details = Object.entries(runs).flatMap(([name, byMarket]) => MARKETS.map((market) => {
    const r = byMarket[market];
    return [
      name,
      r.market,
      `${(r.endSeconds / 3600).toFixed(2)} h`,
      usd(r.costUsd),
      `${(r.hostSeconds / 3600).toFixed(0)} h`,
      String(r.peakHosts),
      String(r.peakPending),
      `${r.plannerRuns.timer}+${r.plannerRuns.onDemand}`,
      `${count(r.planner.calls)} · ${us(perCall(r.planner))} · max ${ms(r.planner.maxMs)}`,
      `${usd(r.costBooting)} / ${usd(r.costIdle)} / ${usd(r.costBusy)}`,
      `${count(r.launched)} (${r.neverUsed} never used)`,
      `${r.cordons} / ${r.moves}`,
      sec(percentile(r.waitSeconds, 50)),
      sec(percentile(r.waitSeconds, 99)),
      sec(Math.max(...r.waitSeconds)),
      pct(r.waitSeconds.filter((w) => w === 0).length / r.waitSeconds.length),
    ];
  }));

  console.log(`\n=== ${spec.name}: results with the fleet economics (each figure beside its baseline, from the same trace in this run)\n`);
  console.log(formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows));
  console.log(`\n${spec.name}: runs in detail (planner runs: timer + on demand; calls · mean · max)\n`);
  console.log(formatTable(
    ['policy', 'market', 'simulated', 'cost', 'host-hours', 'peak hosts', 'peak pending', 'planner runs',
      'planner calls', 'cost booting / idle / busy', 'launched', 'cordoned / moved', 'wait p50', 'p99', 'max', 'placed at once'],
    details,
  ));
  console.log(`\n${spec.name}: where the gap to the floor goes (economics, on-demand; each figure as a share of the floor)\n`);
  console.log(formatTable(['part', 'cost', 'of floor', 'note'], gapRows(onDemand, floorOnDemand, floorsOnDemand.taskUpper)));
  for (const [name, byMarket] of Object.entries(runs)) {
    const r = byMarket['on-demand'];
    const types = [...r.launchedByType.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, n]) => `${t} ×${n}`).join(', ');
    console.log(`launched (${name}, on-demand): ${types}`);
  }
}

function main(): void {
  progress(`bench:fleet on ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  progress(`policy: warm pool ${POLICY.warmPoolHosts} × ${POLICY.warmPoolType} (the floor under economics), idle timeout ${POLICY.idleTimeoutSeconds} s, ` +
    `max ${POLICY.maxHosts} hosts, boot ${BOOT_SECONDS} s, planner every ${PLANNER_INTERVAL_SECONDS} s and on demand; economics: consolidation after ` +
    `${ECONOMICS.consolidation!.minHostAgeSeconds} s (${ECONOMICS.consolidation!.maxDrainingHosts} draining at once), idle hosts kept for the last ` +
    `${WARM_POOL_WINDOW_SECONDS} s of demand for fresh room, idle timeout from its last ${DEMAND_HISTORY_SECONDS} s`);
  const only = process.argv.slice(2);
  const specs = only.length ? TRACES.filter((t) => only.includes(t.name)) : TRACES;
  const runs = specs.map(runTrace);
  for (const r of runs) report(r);

  const bestRatio = Math.min(...DEFAULT_CATALOG.filter((t) => t.gpus === 0).map((t) => {
    const c = capacityOf(t);
    const { rates } = fargateRates(DEFAULT_PRICES, cpuArchitectureOf(t.name), 'on-demand');
    return t.onDemandPrice / ((c.cpu / 1024) * rates.vcpuHour + (c.memory / 1024) * rates.gbHour);
  }));
  console.log(`\nNote: a fully packed on-demand host costs at best ${bestRatio.toFixed(2)}× what Fargate charges for the ` +
    'same vCPU and GB; only the 1-minute minimum on short tasks and spot prices take the fleet below that.');

  if (failures.length > 0) {
    console.error(`\nFAILED: ${failures.length} invariant breach(es)`);
    process.exitCode = 1;
  } else {
    console.log('\ninvariants: held (no overcommit, no placement off an ACTIVE host, no busy host terminated, ' +
      'fleet within maxHosts, every task run exactly once, only service tasks moved and each replaced before its old copy stopped, ' +
      "the meter's totals equal the simulation's to its rounding)");
  }
}

try {
  main();
} catch (e: unknown) {
  console.error('bench:fleet crashed:', e);
  process.exitCode = 1;
}
