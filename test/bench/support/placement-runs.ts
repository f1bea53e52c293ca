/**
 * The placement throughput runs, shared by bench:placement and bench:service: a fresh dynalite
 * per run, the bare conditional-write ceiling, single and batch placements by concurrent Placers,
 * and an audit of every host after every run (no overcommit, books that add up, distinctInstance
 * kept). Figures come back with their ceiling measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTables, startDynalite, type Dynalite } from '../../../local/dynalite';
import { ConcurrentUpdateError } from '../../../shared/domain/errors';
import { type PlacerOptions, Placer } from '../../../shared/lifecycle/placer';
import { type Demand, type Placement, type Plan, compilePlacement, planOn } from '../../../shared/scheduler/placement';
import { type HostStore, createStore } from '../../../shared/store';
import { createDocumentClient } from '../../../shared/store/client';
import { scanAll } from '../../../shared/store/scan';
import { tableNames } from '../../../shared/store/tables';
import { progress } from './progress';
import { between, seededRandom } from './random';
import { median, percentile } from './stats';
import { perSecond, ratio } from './table';
import { runWorkers } from './workers';

/** The fleet every throughput run places onto: 100 hosts of 16 vCPU and 64 GiB. */
export const FLEET = { hosts: 100, cpu: 16_384, memory: 65_536 } as const;

export const CLUSTER = 'default';

/** Correctness failures, reported together at the end; any one makes the run exit 1. */
export const failures: string[] = [];

export function fail(message: string): void {
  failures.push(message);
  console.error(`!!! FAILED: ${message}`);
}

// --- fixtures --------------------------------------------------------------------------------

export interface Fleet {
  db: DynamoDBDocumentClient;
  hosts: HostStore;
  hostTable: string;
  hostIds: string[];
  close(): Promise<void>;
}

export const hostIdOf = (i: number): string => `i-${i.toString(16).padStart(17, '0')}`;

let taskSerial = 0;
export const nextTaskId = (): string => (++taskSerial).toString(16).padStart(32, '0');

/** A fresh dynalite with Berth's tables and `count` registered hosts: no run sees another's state. */
export async function startFleet(count: number, cpu: number, memory: number): Promise<Fleet> {
  const dynamo: Dynalite = await startDynalite();
  await createTables(dynamo.endpoint);
  const db = createDocumentClient({ endpoint: dynamo.endpoint });
  const tables = tableNames();
  const { hosts } = createStore(db, tables);
  const hostIds = Array.from({ length: count }, (_, i) => hostIdOf(i));
  const now = Date.now();
  await Promise.all(hostIds.map((hostId) => hosts.register({ hostId, cpu, memory }, now, { open: true })));
  return {
    db,
    hosts,
    hostTable: tables.hosts,
    hostIds,
    async close() {
      db.destroy();
      await dynamo.close();
    },
  };
}

/** Tasks of 1..4 × 256 cpu and 512..2048 MiB, the same sequence on every run. */
export function demands(count: number, seed: number): Demand[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    taskId: nextTaskId(),
    cpu: between(random, 1, 4) * 256,
    memory: between(random, 1, 4) * 512,
  }));
}

export interface StoreCalls {
  /** Conditional reserve writes (one per host per batch; one per single placement). */
  reserve: number;
  /** Reserves that found the room gone: races lost to another placer (or a stale snapshot). */
  lostRaces: number;
  get: number;
  list: number;
}

/** Counts the DynamoDB calls the placers make, by wrapping the shared HostStore instance. */
export function countCalls(hosts: HostStore): StoreCalls {
  const calls: StoreCalls = { reserve: 0, lostRaces: 0, get: 0, list: 0 };
  const reserveAll = hosts.reserveAll.bind(hosts);
  const get = hosts.get.bind(hosts);
  const view = hosts.view.bind(hosts);
  const views = hosts.views.bind(hosts);
  hosts.reserveAll = async (hostId, plans, cluster, now) => {
    calls.reserve++;
    const reserved = await reserveAll(hostId, plans, cluster, now);
    if (!reserved) calls.lostRaces++;
    return reserved;
  };
  hosts.get = async (hostId) => {
    calls.get++;
    return get(hostId);
  };
  hosts.view = async (hostId) => {
    calls.get++;
    return view(hostId);
  };
  hosts.views = async () => {
    calls.list++;
    return views();
  };
  return calls;
}

// --- the audit -------------------------------------------------------------------------------

export interface AuditResult {
  overcommitted: number;
  reservations: number;
  hostsUsed: number;
  /** Share of the fleet's cpu reserved. */
  cpuUsed: number;
  /** The fewest and the most tasks any one host holds: how evenly a spread came out. */
  tasksPerHost: { min: number; max: number };
}

/**
 * Reads every host back and checks the invariant and the books: no host holds more than its
 * capacity, its sums match its reservations, and the reservations are exactly the placements
 * that reported success, on the hosts their plans named, at the sizes they asked for.
 */
export async function audit(what: string, hosts: HostStore, placed: readonly Plan[], placement: Placement = 'binpack'): Promise<AuditResult> {
  const distinct = compilePlacement(placement).distinct;
  const records = await hosts.list();
  const expected = new Map(placed.map((p) => [p.taskId, p]));
  let overcommitted = 0;
  let reservations = 0;
  let hostsUsed = 0;
  let cpu = 0;
  let reservedCpu = 0;
  const tasksPerHost = { min: Infinity, max: 0 };
  for (const h of records) {
    const held = Object.entries(h.reservations ?? {});
    tasksPerHost.min = Math.min(tasksPerHost.min, held.length);
    tasksPerHost.max = Math.max(tasksPerHost.max, held.length);
    const sumCpu = held.reduce((s, [, r]) => s + r.cpu, 0);
    const sumMemory = held.reduce((s, [, r]) => s + r.memory, 0);
    reservations += held.length;
    cpu += h.cpu;
    reservedCpu += h.reservedCpu;
    if (held.length > 0) hostsUsed++;
    if (h.reservedCpu > h.cpu || h.reservedMemory > h.memory || sumCpu > h.cpu || sumMemory > h.memory) {
      overcommitted++;
      fail(`${what}: host ${h.hostId} overcommitted: reserved ${h.reservedCpu}/${h.cpu} cpu, ` +
        `${h.reservedMemory}/${h.memory} MiB; reservations sum to ${sumCpu} cpu, ${sumMemory} MiB`);
    }
    if (sumCpu !== h.reservedCpu || sumMemory !== h.reservedMemory || held.length !== h.taskCount) {
      fail(`${what}: host ${h.hostId} books do not add up: reservedCpu ${h.reservedCpu} vs sum ${sumCpu}, ` +
        `reservedMemory ${h.reservedMemory} vs sum ${sumMemory}, taskCount ${h.taskCount} vs ${held.length} reservations`);
    }
    const groups = new Map<string, number>();
    for (const [, r] of held) if (r.group !== undefined) groups.set(r.group, (groups.get(r.group) ?? 0) + 1);
    for (const [group, n] of groups) {
      if ((h.groupTasks?.[group] ?? 0) !== n) fail(`${what}: host ${h.hostId} counts ${h.groupTasks?.[group]} tasks of ${group}, holds ${n}`);
      if (distinct && n > 1) fail(`${what}: host ${h.hostId} holds ${n} tasks of distinctInstance group ${group}`);
    }
    for (const [taskId, r] of held) {
      const plan = expected.get(taskId);
      if (!plan) fail(`${what}: host ${h.hostId} holds ${taskId}, which no successful placement reported`);
      else if (plan.hostId !== h.hostId || plan.cpu !== r.cpu || plan.memory !== r.memory) {
        fail(`${what}: ${taskId} is held on ${h.hostId} as ${r.cpu}/${r.memory}, but was planned on ` +
          `${plan.hostId} as ${plan.cpu}/${plan.memory}`);
      }
    }
  }
  if (reservations !== placed.length) {
    fail(`${what}: ${reservations} reservations on the hosts, but ${placed.length} successful placements`);
  }
  return { overcommitted, reservations, hostsUsed, cpuUsed: cpu === 0 ? 0 : reservedCpu / cpu, tasksPerHost };
}

// --- 1. the ceiling --------------------------------------------------------------------------

export interface CeilingRun {
  calls: number;
  elapsedMs: number;
}

/** Bare conditional UpdateItems on the fleet's host items, round-robin: the most a placement could do. */
export async function measureCeiling(workers: number, calls: number): Promise<CeilingRun> {
  const fleet = await startFleet(FLEET.hosts, FLEET.cpu, FLEET.memory);
  try {
    const run = await runWorkers(workers, calls, async (i) => {
      await fleet.db.send(new UpdateCommand({
        TableName: fleet.hostTable,
        Key: { hostId: fleet.hostIds[i % fleet.hostIds.length] },
        UpdateExpression: 'ADD #calls :one',
        ConditionExpression: 'attribute_exists(hostId)',
        ExpressionAttributeNames: { '#calls': 'benchCalls' },
        ExpressionAttributeValues: { ':one': 1 },
      }));
    });
    const items = await scanAll<{ benchCalls?: number }>(fleet.db, new ScanCommand({ TableName: fleet.hostTable, ConsistentRead: true }));
    const landed = items.reduce((s, h) => s + (h.benchCalls ?? 0), 0);
    if (landed !== calls) fail(`ceiling at ${workers} workers: ${calls} updates sent, ${landed} counted`);
    return { calls, elapsedMs: run.elapsedMs };
  } finally {
    await fleet.close();
  }
}

/**
 * The placer's own write with nothing around it: one task per conditional reserve, planned in
 * advance round-robin over the fleet (no snapshot, no ranking, no race). What a one-at-a-time
 * placement can at best reach; it writes more than the ceiling's bare ADD (the reservation, the
 * group's count, the fit's conditions) on items that grow with their reservations.
 */
export async function measureReserveFloor(workers: number, calls: number, placement: Placement): Promise<CeilingRun> {
  const fleet = await startFleet(FLEET.hosts, FLEET.cpu, FLEET.memory);
  try {
    const views = await fleet.hosts.views();
    const rules = compilePlacement(placement);
    const tasks = demands(calls, 7);
    const run = await runWorkers(workers, calls, async (i) => {
      const plan = planOn(views[i % views.length], tasks[i], rules);
      if (!(await fleet.hosts.reserveAll(plan.hostId, [plan], CLUSTER, Date.now()))) fail(`reserve floor: ${plan.taskId} refused on ${plan.hostId}`);
    });
    return { calls, elapsedMs: run.elapsedMs };
  } finally {
    await fleet.close();
  }
}

export const rate = (runs: readonly CeilingRun[]): number =>
  (runs.reduce((s, r) => s + r.calls, 0) / runs.reduce((s, r) => s + r.elapsedMs, 0)) * 1000;

// --- 2. placements ---------------------------------------------------------------------------

export interface PlacementRun {
  placers: number;
  placed: number;
  unplaced: number;
  gaveUp: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  calls: StoreCalls;
  audit: AuditResult;
  /** What one Placer snapshot refresh (a consistent scan of every host) costs once the run is over. */
  scanMs: number;
}

/** Places `total` tasks with `placers` concurrent Placers, one task at a time each. */
export async function measurePlacement(placers: number, total: number, placement: Placement, options: PlacerOptions = {}): Promise<PlacementRun> {
  const fleet = await startFleet(FLEET.hosts, FLEET.cpu, FLEET.memory);
  try {
    const calls = countCalls(fleet.hosts);
    const random = seededRandom(placers);
    const containers = Array.from({ length: placers }, () => new Placer(fleet.hosts, Date.now, { random, ...options }));
    const tasks = demands(total, 42);
    const plans: (Plan | undefined)[] = new Array(total);
    let gaveUp = 0;
    const run = await runWorkers(placers, total, async (i, worker) => {
      try {
        plans[i] = await containers[worker].place(tasks[i], CLUSTER, placement);
      } catch (e) {
        if (!(e instanceof ConcurrentUpdateError)) throw e;
        gaveUp++;
      }
    });
    const placed = plans.filter((p): p is Plan => p !== undefined);
    const result = await audit(`${placers} placers`, fleet.hosts, placed, placement);
    const scanTimes: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      await fleet.hosts.views();
      scanTimes.push(performance.now() - t0);
    }
    return {
      placers,
      placed: placed.length,
      unplaced: total - placed.length - gaveUp,
      gaveUp,
      perSecond: (placed.length / run.elapsedMs) * 1000,
      p50Ms: percentile(run.latenciesMs, 50),
      p99Ms: percentile(run.latenciesMs, 99),
      calls,
      audit: result,
      scanMs: median(scanTimes),
    };
  } finally {
    await fleet.close();
  }
}


/** Places `total` tasks with `placers` concurrent Placers, each placing `batchSize` tasks at a time with placeBatch. */
export async function measureBatchPlacement(
  placers: number, total: number, batchSize: number, placement: Placement, options: PlacerOptions = {},
): Promise<PlacementRun> {
  const fleet = await startFleet(FLEET.hosts, FLEET.cpu, FLEET.memory);
  try {
    const calls = countCalls(fleet.hosts);
    const containers = Array.from({ length: placers }, () => new Placer(fleet.hosts, Date.now, options));
    const tasks = demands(total, 42);
    const batches = Math.ceil(total / batchSize);
    const placed: Plan[] = [];
    let unplaced = 0;
    let gaveUp = 0;
    const run = await runWorkers(placers, batches, async (i, worker) => {
      const batch = tasks.slice(i * batchSize, (i + 1) * batchSize);
      const result = await containers[worker].placeBatch(batch, CLUSTER, placement);
      placed.push(...result.placed);
      unplaced += result.unplaced.length;
      gaveUp += result.contended.length;
    });
    const result = await audit(`${placers} batch placers`, fleet.hosts, placed, placement);
    return {
      placers,
      placed: placed.length,
      unplaced,
      gaveUp,
      perSecond: (placed.length / run.elapsedMs) * 1000,
      p50Ms: percentile(run.latenciesMs, 50),
      p99Ms: percentile(run.latenciesMs, 99),
      calls,
      audit: result,
      scanMs: 0,
    };
  } finally {
    await fleet.close();
  }
}

export interface ThroughputFigures {
  placers: number;
  /** Bare conditional UpdateItems per second at this concurrency, half measured before the runs and half after. */
  ceiling: number;
  /** The placer's own conditional reserve, one task per write, with no placer around it (measureReserveFloor). */
  reserveFloor: number;
  single: PlacementRun;
  batch: PlacementRun;
}

export interface ThroughputOptions {
  concurrencies: readonly number[];
  /** Tasks placed by each run. */
  placements: number;
  /** Tasks in one placeBatch call (a service's new tasks). */
  batchSize: number;
  /** What every run places by: Berth's RunTask default (binpack) or a service's (spread over its group). */
  placement: Placement;
  ceilingCalls: number;
}

/**
 * Placements per second at each concurrency, single and batch, beside the conditional-write
 * ceiling measured around them in the same run (half of its calls before the placement runs and
 * half after, so a change in the shared machine's load moves a figure and its baseline together).
 */
export async function placementThroughput(o: ThroughputOptions): Promise<ThroughputFigures[]> {
  const figures: ThroughputFigures[] = [];
  for (const n of o.concurrencies) {
    progress(`ceiling: ${o.ceilingCalls / 2} conditional UpdateItems, ${n} workers ...`);
    const before = await measureCeiling(n, o.ceilingCalls / 2);
    progress(`single placements: ${o.placements} with ${n} placers ...`);
    const single = await measurePlacement(n, o.placements, o.placement);
    progress(`  ${perSecond(single.perSecond)}; ${single.calls.lostRaces} lost races; overcommit: ${single.audit.overcommitted || 'none'}`);
    progress(`batch placements: ${o.placements} in batches of ${o.batchSize} with ${n} placers ...`);
    const batch = await measureBatchPlacement(n, o.placements, o.batchSize, o.placement);
    progress(`  ${perSecond(batch.perSecond)}; ${batch.calls.reserve} writes, ${batch.calls.lostRaces} lost races; ` +
      `${batch.audit.tasksPerHost.min}–${batch.audit.tasksPerHost.max} tasks per host; overcommit: ${batch.audit.overcommitted || 'none'}`);
    progress(`reserve floor: ${o.placements} reserve writes, one task each, ${n} workers ...`);
    const reserveFloor = rate([await measureReserveFloor(n, o.placements, o.placement)]);
    const after = await measureCeiling(n, o.ceilingCalls / 2);
    const ceiling = rate([before, after]);
    progress(`  ceiling ${perSecond(ceiling)}: single ${ratio(single.perSecond, ceiling)}, batch ${ratio(batch.perSecond, ceiling)}, ` +
      `bare reserve writes ${ratio(reserveFloor, ceiling)} of it`);
    figures.push({ placers: n, ceiling, reserveFloor, single, batch });
  }
  return figures;
}
