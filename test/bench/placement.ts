/**
 * bench:placement — how fast Berth places tasks, each figure beside a ceiling measured in the
 * same run on the same machine:
 *
 * 1. Ceiling: bare conditional UpdateItems against dynalite (the one write a placement needs),
 *    at 1, 8 and 32 concurrent workers.
 * 2. Committed placements per second with 1, 8 and 32 concurrent Placers on 100 hosts, each
 *    Placer its own instance (as separate Lambda containers are) over one HostStore: placing one
 *    task at a time, and placing batches of 10 (one conditional write per host per batch); every
 *    run is audited for overcommit. Then a contention case: 8 Placers racing to fill 4 small hosts.
 * 3. The pure scheduler: planBatch of 10,000 tasks onto 1,000 hosts, beside a bare scan that
 *    only checks feasibility for every (task, host) pair.
 *
 * Exits 1 only for a correctness failure (an overcommit, a count that does not add up), never
 * because a figure is slow: timings on a shared 2-core machine are for reading, not asserting.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ConcurrentUpdateError } from '../../shared/domain/errors';
import type { PlacementStrategyType } from '../../shared/domain/task';
import { Placer } from '../../shared/lifecycle/placer';
import { type Demand, type HostView, type Plan, isFeasible, planBatch } from '../../shared/scheduler/placement';
import type { HostRecord } from '../../shared/store';
import {
  CLUSTER, FLEET, type StoreCalls, audit, countCalls, demands, failures, fail, hostIdOf, measureCeiling, measurePlacement,
  nextTaskId, placementThroughput, startFleet,
} from './support/placement-runs';
import { progress } from './support/progress';
import { between, seededRandom } from './support/random';
import { median } from './support/stats';
import { formatTable, ms, perSecond, ratio } from './support/table';

const CONCURRENCIES = [1, 8, 32] as const;
/** The concurrency the throughput goal is set at. */
const GOAL_PLACERS = 8;
const GOAL_SHARE_OF_CEILING = 0.8;

const CEILING_CALLS = 3_000;
const PLACEMENTS = 2_000;
/** Tasks in one placeBatch: RunTask's most, and a service scaling up by ten. */
const BATCH_SIZE = 10;

/** Small enough that 8 placers keep colliding on the same room. */
const CONTENTION = { placers: 8, rounds: 5, hosts: 4, cpu: 4_096, memory: 8_192 } as const;
const SMALLEST_TASK = { cpu: 256, memory: 512 } as const;

const PLAN_BATCH = { hosts: 1_000, tasks: 10_000, runs: 5, goalMs: 200 } as const;


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

  const throughput = await placementThroughput({
    concurrencies: CONCURRENCIES, placements: PLACEMENTS, batchSize: BATCH_SIZE, placement: 'binpack', ceilingCalls: CEILING_CALLS,
  });

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
  for (const f of throughput) {
    const n = f.placers;
    rows.push([
      `bare reserve writes/s, ${n} worker${n === 1 ? '' : 's'}`,
      perSecond(f.reserveFloor),
      `${perSecond(f.ceiling)} bare cond. UpdateItem, ${n} worker${n === 1 ? '' : 's'}`,
      ratio(f.reserveFloor, f.ceiling),
      'one task per write, no placer: single placement at best',
    ]);
    for (const [kind, run] of [['single', f.single], [`batches of ${BATCH_SIZE}`, f.batch]] as const) {
      rows.push([
        `placements/s, ${n} placer${n === 1 ? '' : 's'}, ${kind}`,
        perSecond(run.perSecond),
        `${perSecond(f.ceiling)} bare cond. UpdateItem, ${n} worker${n === 1 ? '' : 's'}`,
        ratio(run.perSecond, f.ceiling),
        n === GOAL_PLACERS
          ? goal(run.perSecond >= GOAL_SHARE_OF_CEILING * f.ceiling, `≥ ${GOAL_SHARE_OF_CEILING.toFixed(2)}× ceiling`)
          : '—',
      ]);
    }
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

  const details = throughput.flatMap((f) => [['single', f.single], ['batch', f.batch]] as const).map(([kind, r]) => {
    const dynamoCalls = r.calls.reserve + r.calls.get + r.calls.list;
    return [
      `${r.placers} ${kind}`,
      count(r.placed),
      count(r.unplaced + r.gaveUp),
      count(r.calls.reserve),
      count(r.calls.lostRaces),
      count(r.calls.get),
      count(r.calls.list),
      (dynamoCalls / Math.max(1, r.placed)).toFixed(2),
      ms(r.p50Ms),
      ms(r.p99Ms),
      `${r.audit.hostsUsed}`,
      `${Math.round(r.audit.cpuUsed * 100)}%`,
      r.audit.overcommitted === 0 ? 'none' : String(r.audit.overcommitted),
    ];
  });

  console.log('\nResults (each figure beside its baseline, measured in this run)\n');
  console.log(formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows));
  console.log('\nPlacement runs in detail (DynamoDB calls counted on the shared HostStore)\n');
  console.log(formatTable(
    ['placers', 'placed', 'unplaced', 'writes', 'lost races', 'gets', 'scans', 'calls/placement',
      'p50 per call', 'p99 per call', 'hosts used', 'cpu used', 'overcommit'],
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
