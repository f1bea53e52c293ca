/**
 * bench:placement — how fast Berth places tasks, each figure beside a ceiling measured in the
 * same run on the same machine:
 *
 * 1. Ceiling: bare conditional UpdateItems against dynalite (the one write a placement needs),
 *    at 1, 8 and 32 concurrent workers.
 * 2. Committed placements per second with 1, 8 and 32 concurrent Placers on 100 hosts, each
 *    Placer its own instance (as separate Lambda containers are) over one HostStore; every run is
 *    audited for overcommit. Then a contention case: 8 Placers racing to fill 4 small hosts.
 * 3. The pure scheduler: planBatch of 10,000 tasks onto 1,000 hosts, beside a bare scan that
 *    only checks feasibility for every (task, host) pair.
 *
 * Exits 1 only for a correctness failure (an overcommit, a count that does not add up), never
 * because a figure is slow: timings on a shared 2-core machine are for reading, not asserting.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTables, startDynalite, type Dynalite } from '../../local/dynalite';
import { ConcurrentUpdateError } from '../../shared/domain/errors';
import type { PlacementStrategyType } from '../../shared/domain/task';
import { Placer } from '../../shared/lifecycle/placer';
import { type Demand, type HostView, type Plan, isFeasible, planBatch } from '../../shared/scheduler/placement';
import { type HostRecord, type HostStore, createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { scanAll } from '../../shared/store/scan';
import { tableNames } from '../../shared/store/tables';
import { progress } from './support/progress';
import { between, seededRandom } from './support/random';
import { median, percentile } from './support/stats';
import { formatTable, ms, perSecond, ratio } from './support/table';
import { runWorkers } from './support/workers';

const CONCURRENCIES = [1, 8, 32] as const;
/** The concurrency the throughput goal is set at. */
const GOAL_PLACERS = 8;
const GOAL_SHARE_OF_CEILING = 0.5;

const FLEET = { hosts: 100, cpu: 16_384, memory: 65_536 } as const;
const CEILING_CALLS = 3_000;
const PLACEMENTS = 2_000;

/** Small enough that 8 placers keep colliding on the same room. */
const CONTENTION = { placers: 8, rounds: 5, hosts: 4, cpu: 4_096, memory: 8_192 } as const;
const SMALLEST_TASK = { cpu: 256, memory: 512 } as const;

const PLAN_BATCH = { hosts: 1_000, tasks: 10_000, runs: 5, goalMs: 200 } as const;

const CLUSTER = 'default';

/** Correctness failures, reported together at the end; any one makes the run exit 1. */
const failures: string[] = [];

function fail(message: string): void {
  failures.push(message);
  console.error(`!!! FAILED: ${message}`);
}

// --- fixtures --------------------------------------------------------------------------------

interface Fleet {
  db: DynamoDBDocumentClient;
  hosts: HostStore;
  hostTable: string;
  hostIds: string[];
  close(): Promise<void>;
}

const hostIdOf = (i: number): string => `i-${i.toString(16).padStart(17, '0')}`;

let taskSerial = 0;
const nextTaskId = (): string => (++taskSerial).toString(16).padStart(32, '0');

/** A fresh dynalite with Berth's tables and `count` registered hosts: no run sees another's state. */
async function startFleet(count: number, cpu: number, memory: number): Promise<Fleet> {
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
function demands(count: number, seed: number): Demand[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    taskId: nextTaskId(),
    cpu: between(random, 1, 4) * 256,
    memory: between(random, 1, 4) * 512,
  }));
}

interface StoreCalls {
  reserve: number;
  /** Reserves that found the room gone: races lost to another placer (or a stale snapshot). */
  lostRaces: number;
  get: number;
  list: number;
}

/** Counts the DynamoDB calls the placers make, by wrapping the shared HostStore instance. */
function countCalls(hosts: HostStore): StoreCalls {
  const calls: StoreCalls = { reserve: 0, lostRaces: 0, get: 0, list: 0 };
  const reserve = hosts.reserve.bind(hosts);
  const get = hosts.get.bind(hosts);
  const views = hosts.views.bind(hosts);
  hosts.reserve = async (plan, cluster) => {
    calls.reserve++;
    const reserved = await reserve(plan, cluster);
    if (!reserved) calls.lostRaces++;
    return reserved;
  };
  hosts.get = async (hostId) => {
    calls.get++;
    return get(hostId);
  };
  hosts.views = async () => {
    calls.list++;
    return views();
  };
  return calls;
}

// --- the audit -------------------------------------------------------------------------------

interface AuditResult {
  overcommitted: number;
  reservations: number;
  hostsUsed: number;
  /** Share of the fleet's cpu reserved. */
  cpuUsed: number;
}

/**
 * Reads every host back and checks the invariant and the books: no host holds more than its
 * capacity, its sums match its reservations, and the reservations are exactly the placements
 * that reported success, on the hosts their plans named, at the sizes they asked for.
 */
async function audit(what: string, hosts: HostStore, placed: readonly Plan[]): Promise<AuditResult> {
  const records = await hosts.list();
  const expected = new Map(placed.map((p) => [p.taskId, p]));
  let overcommitted = 0;
  let reservations = 0;
  let hostsUsed = 0;
  let cpu = 0;
  let reservedCpu = 0;
  for (const h of records) {
    const held = Object.entries(h.reservations ?? {});
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
  return { overcommitted, reservations, hostsUsed, cpuUsed: cpu === 0 ? 0 : reservedCpu / cpu };
}

// --- 1. the ceiling --------------------------------------------------------------------------

interface CeilingRun {
  calls: number;
  elapsedMs: number;
}

/** Bare conditional UpdateItems on the fleet's host items, round-robin: the most a placement could do. */
async function measureCeiling(workers: number, calls: number): Promise<CeilingRun> {
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

const rate = (runs: readonly CeilingRun[]): number =>
  (runs.reduce((s, r) => s + r.calls, 0) / runs.reduce((s, r) => s + r.elapsedMs, 0)) * 1000;

// --- 2. placements ---------------------------------------------------------------------------

interface PlacementRun {
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
async function measurePlacement(placers: number, total: number, strategy: PlacementStrategyType): Promise<PlacementRun> {
  const fleet = await startFleet(FLEET.hosts, FLEET.cpu, FLEET.memory);
  try {
    const calls = countCalls(fleet.hosts);
    const containers = Array.from({ length: placers }, () => new Placer(fleet.hosts, Date.now));
    const tasks = demands(total, 42);
    const plans: (Plan | undefined)[] = new Array(total);
    let gaveUp = 0;
    const run = await runWorkers(placers, total, async (i, worker) => {
      try {
        plans[i] = await containers[worker].place(tasks[i], CLUSTER, strategy);
      } catch (e) {
        if (!(e instanceof ConcurrentUpdateError)) throw e;
        gaveUp++;
      }
    });
    const placed = plans.filter((p): p is Plan => p !== undefined);
    const result = await audit(`${placers} placers`, fleet.hosts, placed);
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

interface ContentionRun {
  placed: number;
  gaveUp: number;
  calls: StoreCalls;
  overcommitted: number;
  notFull: number;
  elapsedMs: number;
}

/**
 * Several placers race to fill a few small hosts. Each keeps placing until even the smallest
 * task finds no room on a fresh snapshot; then the fleet must be full, and not past full.
 */
async function measureContention(round: number): Promise<ContentionRun> {
  const fleet = await startFleet(CONTENTION.hosts, CONTENTION.cpu, CONTENTION.memory);
  try {
    const calls = countCalls(fleet.hosts);
    const random = seededRandom(1_000 + round);
    const placed: Plan[] = [];
    let gaveUp = 0;
    const place = async (placer: Placer, demand: Demand): Promise<Plan | undefined> => {
      try {
        return await placer.place(demand, CLUSTER, 'binpack');
      } catch (e) {
        if (!(e instanceof ConcurrentUpdateError)) throw e;
        gaveUp++;
        return undefined;
      }
    };
    const fill = async (placer: Placer): Promise<void> => {
      for (;;) {
        const demand = { taskId: nextTaskId(), cpu: between(random, 1, 4) * 256, memory: between(random, 1, 4) * 512 };
        const plan = (await place(placer, demand)) ?? (await place(placer, { ...SMALLEST_TASK, taskId: nextTaskId() }));
        if (!plan) return;
        placed.push(plan);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONTENTION.placers }, () => fill(new Placer(fleet.hosts, Date.now))));
    const elapsedMs = performance.now() - t0;
    const result = await audit(`contention round ${round}`, fleet.hosts, placed);
    const records: HostRecord[] = await fleet.hosts.list();
    const notFull = records.filter((h) =>
      h.cpu - h.reservedCpu >= SMALLEST_TASK.cpu && h.memory - h.reservedMemory >= SMALLEST_TASK.memory).length;
    if (notFull > 0) {
      fail(`contention round ${round}: every placer found no room, yet ${notFull} host(s) still fit the smallest task`);
    }
    return { placed: placed.length, gaveUp, calls, overcommitted: result.overcommitted, notFull, elapsedMs };
  } finally {
    await fleet.close();
  }
}

// --- 3. the pure scheduler -------------------------------------------------------------------

interface SchedulerFigures {
  scanMs: number;
  feasiblePairs: number;
  binpackMs: number;
  spreadMs: number;
  unplaced: Record<PlacementStrategyType, number>;
}

/** Median of `runs` timed calls, after one untimed call to warm the JIT. */
function medianMs(runs: number, fn: () => void): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function measureScheduler(): SchedulerFigures {
  const random = seededRandom(7);
  const sizes = [
    { cpu: 4_096, memory: 16_384 },
    { cpu: 8_192, memory: 32_768 },
    { cpu: 16_384, memory: 65_536 },
  ];
  // Built as the Placer's toView builds them, so the objects have the shape the scheduler meets.
  const hosts: HostView[] = Array.from({ length: PLAN_BATCH.hosts }, (_, i) => {
    const size = sizes[between(random, 0, sizes.length - 1)];
    return {
      hostId: hostIdOf(i), status: 'ACTIVE', cpu: size.cpu, memory: size.memory,
      reservedCpu: 0, reservedMemory: 0, taskCount: 0,
    };
  });
  const tasks = demands(PLAN_BATCH.tasks, 8);

  // The least any scheduler must do: look at every (task, host) pair once.
  let feasiblePairs = 0;
  const scanMs = medianMs(PLAN_BATCH.runs, () => {
    let n = 0;
    for (const d of tasks) for (const h of hosts) if (isFeasible(h, d)) n++;
    feasiblePairs = n;
  });
  const unplaced = { binpack: 0, spread: 0 };
  const binpackMs = medianMs(PLAN_BATCH.runs, () => {
    unplaced.binpack = planBatch(hosts, tasks, 'binpack').unplaced.length;
  });
  const spreadMs = medianMs(PLAN_BATCH.runs, () => {
    unplaced.spread = planBatch(hosts, tasks, 'spread').unplaced.length;
  });
  return { scanMs, feasiblePairs, binpackMs, spreadMs, unplaced };
}

// --- the run ---------------------------------------------------------------------------------

const count = (n: number): string => n.toLocaleString('en-US');
const goal = (met: boolean, text: string): string => `${text}: ${met ? 'met' : 'NOT met'}`;

const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  progress(`bench:placement on ${process.version}, ${os.cpus().length} cpus, load average ${loadAverage()}`);

  // The pure scheduler goes first, while V8's type feedback is its own: the Placer runs below
  // feed isFeasible and score host objects of other shapes, which makes the bare scan (the
  // baseline) many times slower and would measure that pollution rather than the scheduler.
  progress(`scheduler: planBatch of ${count(PLAN_BATCH.tasks)} tasks onto ${count(PLAN_BATCH.hosts)} hosts, ` +
    `median of ${PLAN_BATCH.runs} after a warm-up ...`);
  const scheduler = measureScheduler();
  progress(`  binpack ${ms(scheduler.binpackMs)}, spread ${ms(scheduler.spreadMs)}, ` +
    `feasibility scan ${ms(scheduler.scanMs)} (${count(scheduler.feasiblePairs)} feasible pairs)`);

  progress(`placement: fresh dynalite per run; ${FLEET.hosts} hosts of ${FLEET.cpu} cpu / ${FLEET.memory} MiB; ` +
    'tasks 1..4 × 256 cpu, 512..2048 MiB');
  progress('warm-up (untimed): 300 conditional updates, 200 placements');
  await measureCeiling(8, 300);
  await measurePlacement(8, 200, 'binpack');

  // Half the ceiling's calls before each placement run and half after, so that a change in the
  // machine's load during the run (it is shared) moves the figure and its baseline together.
  const ceilings = new Map<number, number>();
  const placements = new Map<number, PlacementRun>();
  for (const n of CONCURRENCIES) {
    const workers = `${n} worker${n === 1 ? '' : 's'}`;
    progress(`ceiling: ${count(CEILING_CALLS / 2)} conditional UpdateItems, ${workers} ...`);
    const before = await measureCeiling(n, CEILING_CALLS / 2);
    progress(`  ${perSecond(rate([before]))}`);

    progress(`placements: ${count(PLACEMENTS)} with ${n} placer${n === 1 ? '' : 's'}, binpack ...`);
    const run = await measurePlacement(n, PLACEMENTS, 'binpack');
    placements.set(n, run);
    progress(`  ${perSecond(run.perSecond)}; ${count(run.calls.lostRaces)} lost races; audit: ` +
      `${count(run.audit.reservations)} reservations for ${count(run.placed)} placements, ` +
      `overcommit: ${run.audit.overcommitted === 0 ? 'none' : run.audit.overcommitted}`);

    progress(`ceiling: ${count(CEILING_CALLS / 2)} conditional UpdateItems, ${workers} ...`);
    const after = await measureCeiling(n, CEILING_CALLS / 2);
    ceilings.set(n, rate([before, after]));
    progress(`  ${perSecond(rate([after]))}; ceiling ${perSecond(ceilings.get(n)!)}, placements at ` +
      `${ratio(run.perSecond, ceilings.get(n)!)} of it`);
  }

  progress(`contention: ${CONTENTION.placers} placers filling ${CONTENTION.hosts} hosts of ` +
    `${CONTENTION.cpu} cpu / ${CONTENTION.memory} MiB, ${CONTENTION.rounds} rounds ...`);
  const rounds: ContentionRun[] = [];
  for (let r = 1; r <= CONTENTION.rounds; r++) {
    const round = await measureContention(r);
    rounds.push(round);
    progress(`  round ${r}: ${round.placed} placed, ${round.calls.lostRaces} lost races, ` +
      `${round.calls.reserve} reserve calls, full: ${round.notFull === 0 ? 'yes' : 'NO'}, ` +
      `overcommit: ${round.overcommitted === 0 ? 'none' : round.overcommitted}`);
  }
  const contention = {
    placed: rounds.reduce((s, r) => s + r.placed, 0),
    lostRaces: rounds.reduce((s, r) => s + r.calls.lostRaces, 0),
    reserves: rounds.reduce((s, r) => s + r.calls.reserve, 0),
    gaveUp: rounds.reduce((s, r) => s + r.gaveUp, 0),
    overcommitted: rounds.reduce((s, r) => s + r.overcommitted, 0),
    full: rounds.every((r) => r.notFull === 0),
  };
  progress(`done; load average ${loadAverage()}`);

  const rows: string[][] = [];
  for (const n of CONCURRENCIES) {
    const run = placements.get(n)!;
    const ceiling = ceilings.get(n)!;
    rows.push([
      `placements/s, ${n} placer${n === 1 ? '' : 's'}`,
      perSecond(run.perSecond),
      `${perSecond(ceiling)} bare cond. UpdateItem, ${n} worker${n === 1 ? '' : 's'}`,
      ratio(run.perSecond, ceiling),
      n === GOAL_PLACERS
        ? goal(run.perSecond >= GOAL_SHARE_OF_CEILING * ceiling, `≥ ${GOAL_SHARE_OF_CEILING.toFixed(2)}× ceiling`)
        : '—',
    ]);
  }
  rows.push([
    `contention, ${CONTENTION.placers} placers on ${CONTENTION.hosts} hosts ×${CONTENTION.rounds}`,
    `${count(contention.placed)} placed`,
    `${count(contention.reserves)} reserve calls, ${count(contention.lostRaces)} lost races`,
    ratio(contention.placed, contention.reserves),
    `fleet full: ${contention.full ? 'yes' : 'NO'}, overcommit: ${contention.overcommitted === 0 ? 'none' : contention.overcommitted}`,
  ]);
  for (const strategy of ['binpack', 'spread'] as const) {
    const planMs = strategy === 'binpack' ? scheduler.binpackMs : scheduler.spreadMs;
    rows.push([
      `planBatch ${strategy}, 10k tasks → 1k hosts`,
      ms(planMs),
      `${ms(scheduler.scanMs)} bare feasibility scan, 10M pairs`,
      ratio(planMs, scheduler.scanMs),
      goal(planMs < PLAN_BATCH.goalMs, `< ${PLAN_BATCH.goalMs} ms`),
    ]);
  }

  const details = CONCURRENCIES.map((n) => {
    const r = placements.get(n)!;
    const dynamoCalls = r.calls.reserve + r.calls.get + r.calls.list;
    return [
      String(n),
      count(r.placed),
      count(r.unplaced + r.gaveUp),
      count(r.calls.reserve),
      count(r.calls.lostRaces),
      count(r.calls.get),
      count(r.calls.list),
      (dynamoCalls / Math.max(1, r.placed)).toFixed(2),
      ms(r.p50Ms),
      ms(r.p99Ms),
      ms(r.scanMs),
      `${r.audit.hostsUsed}`,
      `${Math.round(r.audit.cpuUsed * 100)}%`,
      r.audit.overcommitted === 0 ? 'none' : String(r.audit.overcommitted),
    ];
  });

  console.log('\nResults (each figure beside its baseline, measured in this run)\n');
  console.log(formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows));
  console.log('\nPlacement runs in detail (DynamoDB calls counted on the shared HostStore)\n');
  console.log(formatTable(
    ['placers', 'placed', 'unplaced', 'reserves', 'lost races', 'gets', 'scans', 'calls/placement',
      'p50', 'p99', 'scan after', 'hosts used', 'cpu used', 'overcommit'],
    details,
  ));
  console.log(`\nplanBatch left unplaced: binpack ${scheduler.unplaced.binpack}, spread ${scheduler.unplaced.spread} ` +
    `(of ${count(PLAN_BATCH.tasks)}); contention placements that gave up after retries: ${contention.gaveUp}`);

  if (failures.length > 0) {
    console.error(`\nFAILED: ${failures.length} correctness failure(s):`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exitCode = 1;
  } else {
    console.log('\novercommit: none (every host audited after every run; reservations = successful placements)');
  }
}

main().catch((e: unknown) => {
  console.error('bench:placement crashed:', e);
  process.exitCode = 1;
});
