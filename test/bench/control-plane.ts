/**
 * bench:control-plane — what Berth's control plane would cost on AWS, from the DynamoDB, Step
 * Functions, Lambda (and SQS and API Gateway) calls counted in local runs, priced at AWS's us-east-1
 * list prices. Each figure stands beside the previous code path's, measured in the same run on
 * tables of its own:
 *
 * 1. 1,000 tasks (100 RunTask calls of 10, 10 calls at a time) through the local mode's core —
 *    dynalite, the launch and stop ASL run in process, every lifecycle step — on 50 hosts with
 *    room for 4 tasks each, so most tasks wait for room; the agents are played through the
 *    agent API's core (poll, report RUNNING, report STOPPED 300 ms later). Per 1,000 tasks.
 * 2. The same 50 hosts idle for 10 minutes: each agent long-polls (20 s) and heartbeats (10 s).
 *    Run on a clock 20 times faster than the wall (an injected `now`, and every wait divided by
 *    20): 30 s of wall time stand for 600 s. Per idle host-hour, and reads per idle host-minute.
 * 3. WAITING tasks too big for any host, each waiting for room until its deadline (300 s, the default;
 *    BERTH_BENCH_CP_WAIT_SECONDS) fails it: the transitions, Lambda calls and scans of waiting.
 *    BERTH_BENCH_CP_PART=waiting runs this part alone.
 * 4. The periodic reads that indexes replaced: the pre-pull list, the batch heartbeat, a 24 h
 *    cost report, each as one call of its own against TASKS seeded tasks.
 *
 * The previous path (BERTH_BENCH_CP_PATHS=previous,current picks; both by default), as the code
 * was before issue 17's part 5 landed:
 * - on AWS, a long poll woken by a 500 ms timer, reading the host's version on every wake and
 *   the host's whole work on the first; the agent sends no version;
 * - a task waiting for room loops Place → Placed? → Wait every second (placementRetrySeconds);
 * - each stop's release scans the hosts table for the task's reservations.
 * The current path: the agent sends the host's version (one small read per 20 s poll), an
 * SQS wake per change (the local mode's in-process push stands in for it; its requests are
 * counted as SQS's would be), a waiting task waits on a token with backoff and is woken by
 * released or added room, a release reads only the hosts the task names.
 *
 * What is not counted, the same for both paths: the signed calls' key lookups (cached 10 s per
 * Lambda container) and their KMS decrypts, CloudWatch Logs, and API Gateway's data transfer.
 * Lambda time is the time each call took here (a long poll's held time, scaled), at the stack's
 * memory sizes on arm64. Exits 1 only when something breaks.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { createTables, startDynalite } from '../../local/dynalite';
import { LOCAL_PARTITION } from '../../local/berth';
import { settleTaskCallback } from '../../shared/batch/task-callbacks';
import { LocalHostNotifier } from '../../shared/cloud/local/local-host-notifier';
import { LocalWorkflowEngine, type LocalFunction } from '../../shared/cloud/local/local-workflow-engine';
import { type Berth, DEFAULT_CONFIG, type HostNotifier } from '../../shared/context';
import type { Task } from '../../shared/domain/task';
import { statusRank } from '../../shared/domain/task';
import { assignmentsFor, pollAssignments, type Assignment, type KnownAssignments } from '../../shared/lifecycle/assignments';
import { prePullImages } from '../../shared/lifecycle/pre-pull';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { runTask } from '../../shared/lifecycle/run-task';
import { lifecycleSteps } from '../../shared/lifecycle/steps';
import { DEFINITIONS } from '../../shared/workflows/definitions';
import { WAKE_FALLBACK_POLL_SECONDS } from '../../shared/agent-wire/constants';
import { createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';
import previousLaunch from './support/previous-task-launch.asl.json';
import { formatTable, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const TASKS = Number(process.env.BERTH_BENCH_CP_TASKS ?? 3000);
const RUN_TASKS = Number(process.env.BERTH_BENCH_CP_RUN_TASKS ?? 1000);
const HOSTS = Number(process.env.BERTH_BENCH_CP_HOSTS ?? 50);
const IDLE_MINUTES = 10;
const SCALE = 20;
const PATHS = (process.env.BERTH_BENCH_CP_PATHS ?? 'previous,current,agent-sqs').split(',') as PathName[];
const WAITING = 10;
const WAIT_DEADLINE_SECONDS = Number(process.env.BERTH_BENCH_CP_WAIT_SECONDS ?? DEFAULT_CONFIG.placementTimeoutSeconds);
/** all, or only `waiting` (the waiting tasks' part alone, about WAIT_DEADLINE_SECONDS long). */
const PART = process.env.BERTH_BENCH_CP_PART ?? 'all';
const RECENT = 30;
const AWAITED = 20;
const DAY = 86_400_000;
const TASK_RUN_MS = 300;
const POLL_WAIT_MS = 20_000;
const HEARTBEAT_MS = 10_000;
const PREVIOUS_POLL_TIMER_MS = 500;
/** AWS Lambda's and the HTTP API's own limits and this stack's memory sizes (serverless.yml). */
const AGENT_FUNCTION_GB = 0.5;
const API_FUNCTION_GB = 1;
const LIFECYCLE_FUNCTION_GB = 0.5;

/** us-east-1 list prices, in dollars. */
const PRICE = {
  /** DynamoDB on demand: per read and write request unit. */
  rru: 0.125 / 1e6,
  wru: 0.625 / 1e6,
  /** Step Functions Standard: per state transition. */
  transition: 0.025 / 1000,
  /** Lambda on arm64: per request and per GB-second. */
  lambdaRequest: 0.2 / 1e6,
  gbSecond: 0.0000133334,
  /** SQS standard queue: per request. */
  sqs: 0.4 / 1e6,
  /** API Gateway HTTP API: per request (the first 300 million a month). */
  apiRequest: 1.0 / 1e6,
};

/** agent-sqs: the current control plane with the agent waiting on its SQS wake queue (agent/host-wake.ts), not in a held poll. */
type PathName = 'previous' | 'current' | 'agent-sqs';
const COLUMNS: Readonly<Record<PathName, string>> = { previous: 'previous', current: 'current, held poll', 'agent-sqs': 'current, agent on SQS' };

interface Counts {
  reads: number;
  writes: number;
  rru: number;
  wru: number;
  scans: number;
  transitions: number;
  lambdaCalls: number;
  gbSeconds: number;
  sqs: number;
  apiRequests: number;
}

const zero = (): Counts => ({ reads: 0, writes: 0, rru: 0, wru: 0, scans: 0, transitions: 0, lambdaCalls: 0, gbSeconds: 0, sqs: 0, apiRequests: 0 });
const minus = (a: Counts, b: Counts): Counts => Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof Counts] - b[k as keyof Counts]])) as unknown as Counts;
const dollars = (c: Counts) => c.rru * PRICE.rru + c.wru * PRICE.wru + c.transitions * PRICE.transition +
  c.lambdaCalls * PRICE.lambdaRequest + c.gbSeconds * PRICE.gbSecond + c.sqs * PRICE.sqs + c.apiRequests * PRICE.apiRequest;

/** The document client's commands and the DynamoDB ones under them, whichever name the middleware sees. */
const READS = new Set(['GetCommand', 'GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetCommand', 'BatchGetItemCommand']);

/** Scans by table, over the whole run: which paths still scan. */
const scansByTable = new Map<string, number>();
/** Writes by table and operation (`hosts UpdateCommand`), while `writesByKind.on` names the path being counted. */
const writesByKind = { on: undefined as PathName | undefined, counts: new Map<PathName, Map<string, number>>() };

/** Counts every DynamoDB request made through `db`, with its capacity units (a refused conditional write costs 1 WRU). */
function meter(db: DynamoDBDocumentClient, c: Counts): void {
  db.middlewareStack.add((next, context) => async (args) => {
    (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
    const read = READS.has(context.commandName ?? '');
    if (read) c.reads++;
    else c.writes++;
    if (!read && writesByKind.on) {
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
      const table = (input.TableName ?? Object.keys(input.RequestItems ?? {}).join('+')).replace(/^bench-(wait-)?(previous|current|agent-sqs)-/, '');
      // BERTH_BENCH_CP_WRITE_NAMES=1: each kind also by the attributes its expressions name (task ids left out).
      const names = process.env.BERTH_BENCH_CP_WRITE_NAMES ? ` ${Object.values((args.input as { ExpressionAttributeNames?: Record<string, string> }).ExpressionAttributeNames ?? {})
        .filter((n) => !/^[0-9a-f]{32}$/.test(n)).sort().join(',')}` : '';
      const key = `${table} ${context.commandName}${names}`;
      let m = writesByKind.counts.get(writesByKind.on);
      if (!m) writesByKind.counts.set(writesByKind.on, (m = new Map()));
      m.set(key, (m.get(key) ?? 0) + 1);
    }
    if (context.commandName === 'ScanCommand') {
      c.scans++;
      const table = (args.input as { TableName?: string }).TableName ?? '?';
      scansByTable.set(table, (scansByTable.get(table) ?? 0) + 1);
    }
    try {
      const r = await next(args);
      const used = (r.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const units = [used ?? []].flat().reduce((s, u) => s + (u.CapacityUnits ?? 0), 0);
      if (read) c.rru += units;
      else c.wru += units;
      return r;
    } catch (e) {
      if (!read) c.wru += 1;
      throw e;
    }
  }, { step: 'initialize', name: 'benchMeter' });
}

/** Counts the time a call holds its Lambda, at `gb`. */
async function lambdaCall<T>(c: Counts, gb: number, run: () => Promise<T>, scale = 1): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } finally {
    c.lambdaCalls++;
    c.gbSeconds += ((performance.now() - started) * scale * gb) / 1000;
  }
}

/** The previous code's long poll: the host's version on every wake, its whole work on the first and whenever the version moved. */
async function previousPoll(b: Berth, hostId: string, known: KnownAssignments, waitMs: number): Promise<Assignment[]> {
  const deadline = b.now() + waitMs;
  let seen: number | undefined;
  let current: Assignment[] = [];
  for (;;) {
    const woken = b.notifier.wait(hostId, deadline - b.now());
    const version = await b.store.hosts.versionOf(hostId);
    if (version === undefined) return [];
    if (version !== seen) {
      seen = version;
      current = await assignmentsFor(b, hostId);
      if (current.length !== Object.keys(known).length || current.some((a) => known[a.taskId] !== a.desiredStatus)) return current;
    }
    if (b.now() >= deadline) return current;
    await woken;
  }
}

/** On AWS before: a timer, so every wake of an idle poll is a read. Waits are in the clock's ms, run `scale` times faster. */
function timerNotifier(intervalMs: number, scale: number, onWake: () => void): HostNotifier {
  return {
    notify: () => {},
    wait: (_h, timeoutMs) => new Promise<void>((resolve) => setTimeout(() => {
      onWake();
      resolve();
    }, Math.max(0, Math.min(timeoutMs, intervalMs)) / scale)),
  };
}

/** On AWS now: each notify is an SQS SendMessage; each wait of a second or more a 20 s ReceiveMessage (and a delete when woken). */
function sqsCountingNotifier(c: Counts, scale: number): HostNotifier & { close(): void; sent(hostId: string): number } {
  const local = new LocalHostNotifier();
  const sent = new Map<string, number>();
  return {
    sent: (hostId) => sent.get(hostId) ?? 0,
    notify: (hostId) => {
      c.sqs++;
      sent.set(hostId, (sent.get(hostId) ?? 0) + 1);
      local.notify(hostId);
    },
    wait: async (hostId, timeoutMs, signal) => {
      if (timeoutMs >= 1000) c.sqs += Math.ceil(timeoutMs / 20_000);
      const started = performance.now();
      await local.wait(hostId, timeoutMs / scale, signal);
      if (timeoutMs >= 1000 && (performance.now() - started) * scale < timeoutMs - 1) c.sqs++;
    },
    close: () => local.close(),
  };
}

interface BenchBerth {
  b: Berth;
  c: Counts;
  /** The host version reads of polls: the previous path's are scaled to AWS's timer pace. */
  versionReads: () => number;
  engine: LocalWorkflowEngine;
  close(): void;
}

/** A Berth as localBerth wires it, metered, on its own tables; the previous path's steps and ASL where they differ. */
function benchBerth(path: PathName, endpoint: string, prefix: string, options: { scale: number; now: () => number }): BenchBerth {
  const c = zero();
  const db = createDocumentClient({ endpoint });
  meter(db, c);
  const store = createStore(db, tableNames(prefix));
  const notifier = path !== 'previous' ? sqsCountingNotifier(c, options.scale) : timerNotifier(PREVIOUS_POLL_TIMER_MS, options.scale, () => {});
  const b = {
    partition: LOCAL_PARTITION, store, notifier,
    capacity: { trigger: () => {} }, services: { wake: () => {} },
    config: { ...DEFAULT_CONFIG, openHostRegistration: true }, now: options.now,
  } as unknown as Berth;
  const steps = lifecycleSteps(b) as unknown as Record<string, LocalFunction>;
  const functions: Record<string, LocalFunction> = { ...steps };
  let versionReads = 0;
  const versionOf = store.hosts.versionOf.bind(store.hosts);
  store.hosts.versionOf = (hostId) => {
    versionReads++;
    return versionOf(hostId);
  };
  if (path === 'previous') {
    // Placement as before: no note on the task, no waiting tokens, and a fixed retry for the Wait loop.
    store.tasks.noteReservation = async () => {};
    store.demand.waiters = async () => [];
    store.demand.waiterOf = async () => undefined;
    functions.place = async (input) => {
      const r = (await steps.place(input)) as { outcome: string; retryAfterSeconds?: number };
      return r.outcome === 'WAIT' ? { ...r, retryAfterSeconds: b.config.placementRetrySeconds } : r;
    };
    // The placer's snapshot as before: a Scan of the hosts table.
    store.hosts.fleetViews = () => store.hosts.views();
    // The release as before: a scan of the hosts for the task's reservations.
    functions.release = async ({ task: ref }) => {
      let released = 0;
      for (const h of await store.hosts.holding(ref.taskId)) {
        const r = h.reservations[ref.taskId];
        if (r && (await store.hosts.release(h.hostId, ref.taskId, r, b.now()))) released++;
      }
      await settleTaskCallback(b, await store.tasks.get(ref));
      return { released };
    };
  }
  const counted = Object.fromEntries(Object.entries(functions).map(([name, f]) => [name, (input: unknown) => lambdaCall(c, LIFECYCLE_FUNCTION_GB, () => f(input))]));
  const engine = new LocalWorkflowEngine(counted, {
    definitions: path === 'previous' ? { launch: previousLaunch, stop: DEFINITIONS.stop } : undefined,
    onTransition: () => c.transitions++,
    onError: (_w, name, e) => console.error(`${path}: execution ${name} failed: ${e}`),
  });
  b.workflows = engine;
  return {
    b, c, engine, versionReads: () => versionReads,
    close: () => {
      engine.close();
      (notifier as { close?: () => void }).close?.();
      db.destroy();
    },
  };
}

/** An agent played through the agent API's core: polls, runs each new task for TASK_RUN_MS, reports. */
function playAgent(p: BenchBerth, path: PathName, hostId: string, o: { pollWaitMs: number; scale: number; heartbeatMs?: number }) {
  const { b, c } = p;
  const known: KnownAssignments = {};
  const running = new Set<Promise<unknown>>();
  let version: number | undefined;
  let stopped = false;
  let polls = 0;
  const api = <T>(gb: number, run: () => Promise<T>, scale = 1) => {
    c.apiRequests++;
    return lambdaCall(c, gb, run, scale);
  };
  const report = (t: Assignment, lastStatus: 'RUNNING' | 'STOPPED') => api(AGENT_FUNCTION_GB, () => reportTaskState(b, hostId, {
    task: { cluster: t.cluster, taskId: t.taskId }, lastStatus,
    ...(lastStatus === 'STOPPED' ? { stop: { stopCode: 'EssentialContainerExited' as const, stoppedReason: 'Essential container in task exited' } } : {}),
  })).catch(() => {});
  const runTaskFor = async (t: Assignment) => {
    await report(t, 'RUNNING');
    await new Promise((r) => setTimeout(r, TASK_RUN_MS));
    await report(t, 'STOPPED');
  };
  const loop = (async () => {
    while (!stopped) {
      polls++;
      let tasks: Assignment[] | undefined;
      if (path === 'agent-sqs') {
        // A poll that answers at once (its time is the wall's), then the wait on the wake queue:
        // its receives and deletes are counted by the notifier, no Lambda is held.
        const sent = (b.notifier as ReturnType<typeof sqsCountingNotifier>).sent;
        const before = sent(hostId);
        const r = await api(AGENT_FUNCTION_GB, () => pollAssignments(b, hostId, { ...known }, 0, version));
        tasks = r.tasks;
        if (r.tasks) version = r.version;
        if (!stopped) {
          // SQS keeps a wake sent during the poll: one receive takes it, and its delete.
          if (sent(hostId) !== before) c.sqs += 2;
          else await b.notifier.wait(hostId, WAKE_FALLBACK_POLL_SECONDS * 1000);
        }
      } else if (path === 'current') {
        const r = await api(AGENT_FUNCTION_GB, () => pollAssignments(b, hostId, { ...known }, o.pollWaitMs, version), o.scale);
        tasks = r.tasks;
        if (r.tasks) version = r.version;
      } else {
        tasks = await api(AGENT_FUNCTION_GB, () => previousPoll(b, hostId, { ...known }, o.pollWaitMs), o.scale);
      }
      for (const t of tasks ?? []) {
        if (known[t.taskId] === undefined && t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED') {
          const run = runTaskFor(t);
          running.add(run);
          void run.finally(() => running.delete(run));
        } else if (known[t.taskId] === 'RUNNING' && t.desiredStatus === 'STOPPED') {
          void report(t, 'STOPPED');
        }
        known[t.taskId] = t.desiredStatus;
      }
      // What left the host's work is done with.
      if (tasks) for (const id of Object.keys(known)) if (!tasks.some((t) => t.taskId === id)) delete known[id];
    }
  })();
  const beat = o.heartbeatMs && setInterval(() => {
    void api(AGENT_FUNCTION_GB, async () => {
      await b.store.hosts.heartbeat(hostId, b.now());
      await prePullImages(b).catch(() => undefined);
    });
  }, o.heartbeatMs / o.scale);
  return {
    polls: () => polls,
    async stop() {
      stopped = true;
      if (beat) clearInterval(beat);
      b.notifier.notify(hostId);
      await loop.catch(() => {});
      await Promise.all([...running]);
    },
  };
}

async function runTasks(p: BenchBerth, path: PathName): Promise<{ counts: Counts; seconds: number }> {
  const { b } = p;
  await b.store.taskDefinitions.register({
    family: 'bench', containerDefinitions: [{ name: 'app', image: 'busybox', essential: true }], cpu: '256', memory: '512',
    requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc',
  } as never, [], b.now());
  for (let h = 0; h < HOSTS; h++) await registerHost(b, { hostId: `${path}-host-${h}`, cpu: 1024, memory: 2048 });
  const before = { ...p.c };
  const started = performance.now();
  const agents = Array.from({ length: HOSTS }, (_, h) => playAgent(p, path, `${path}-host-${h}`, { pollWaitMs: POLL_WAIT_MS, scale: 1 }));
  const calls = RUN_TASKS / 10;
  const ids: { cluster: string; taskId: string }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next < calls) {
      next++;
      p.c.apiRequests++;
      const tasks = await lambdaCall(p.c, API_FUNCTION_GB, () => runTask(b, {
        cluster: 'default', taskDefinition: 'bench', count: 10, overrides: { containerOverrides: [] }, tags: [], placementStrategy: 'binpack',
      }));
      ids.push(...tasks.map((t) => ({ cluster: t.cluster, taskId: t.taskId })));
    }
  }));
  // Every task STOPPED and every workflow done.
  for (;;) {
    await p.engine.idle();
    const left = (await Promise.all(ids.map((id) => b.store.tasks.get(id)))).filter((t) => t?.lastStatus !== 'STOPPED');
    if (left.length === 0 && p.engine.activeExecutions === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (performance.now() - started) / 1000;
  const counts = minus(p.c, before);
  await Promise.all(agents.map((a) => a.stop()));
  const failed = (await Promise.all(ids.map((id) => b.store.tasks.get(id)))).filter((t) => t?.stopCode !== 'EssentialContainerExited');
  if (failed.length > 0) throw new Error(`${path}: ${failed.length} tasks did not run (first: ${failed[0]?.stoppedReason})`);
  return { counts, seconds };
}

/** WAITING tasks that fit no host, until their placement deadline fails them: what waiting for room costs. */
async function waitingTasks(p: BenchBerth, deadlineSeconds: number): Promise<Counts> {
  const { b } = p;
  (b.config as { placementTimeoutSeconds: number }).placementTimeoutSeconds = deadlineSeconds;
  await b.store.taskDefinitions.register({
    family: 'huge', containerDefinitions: [{ name: 'app', image: 'busybox', essential: true }], cpu: '16384', memory: '32768',
    requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc',
  } as never, [], b.now());
  const before = { ...p.c };
  const tasks = await runTask(b, {
    cluster: 'default', taskDefinition: 'huge', count: WAITING, overrides: { containerOverrides: [] }, tags: [], placementStrategy: 'binpack',
  });
  await p.engine.idle();
  const counts = minus(p.c, before);
  const ended = await Promise.all(tasks.map((t) => b.store.tasks.get(t)));
  const wrong = ended.filter((t) => t?.stopCode !== 'TaskFailedToStart' || !t.stoppedReason?.includes('RESOURCE:'));
  if (wrong.length > 0) throw new Error(`${wrong.length} waiting tasks did not fail at their deadline with a RESOURCE reason`);
  return counts;
}

async function idleFleet(p: BenchBerth, path: PathName): Promise<{ counts: Counts; polls: number; versionReads: number }> {
  const before = { ...p.c };
  const versionsBefore = p.versionReads();
  const agents = Array.from({ length: HOSTS }, (_, h) => playAgent(p, path, `${path}-host-${h}`, { pollWaitMs: POLL_WAIT_MS, scale: SCALE, heartbeatMs: HEARTBEAT_MS }));
  await new Promise((r) => setTimeout(r, (IDLE_MINUTES * 60_000) / SCALE));
  const counts = minus(p.c, before);
  const polls = agents.reduce((s, a) => s + a.polls(), 0);
  const versionReads = p.versionReads() - versionsBefore;
  await Promise.all(agents.map((a) => a.stop()));
  return { counts, polls, versionReads };
}

/** Rows of each path's figures (the first is the baseline), with each later path's ratio to it. */
function costRows(what: string, per: number, unit: string, cols: readonly Counts[]): string[][] {
  const f = (x: number, d = 0) => (x / per).toFixed(d);
  const base = cols[0];
  const withRatios = (name: string, value: (c: Counts) => number, show: (x: number) => string) =>
    [name, ...cols.map((c) => show(value(c))), ...cols.slice(1).map((c) => ratio(value(c), value(base)))];
  const row = (name: string, value: (c: Counts) => number, d = 0) => withRatios(name, value, (x) => f(x, d));
  const money = (name: string, value: (c: Counts) => number) => withRatios(name, value, (x) => (x / per).toFixed(5));
  return [
    [`${what} (${unit})`, ...cols.map(() => ''), ...cols.slice(1).map(() => '')],
    row('  DynamoDB reads (calls)', (c) => c.reads),
    row('  DynamoDB scans (calls)', (c) => c.scans),
    row('  DynamoDB read units', (c) => c.rru, 1),
    row('  DynamoDB writes (calls)', (c) => c.writes),
    row('  DynamoDB write units', (c) => c.wru, 1),
    row('  Step Functions transitions', (c) => c.transitions),
    row('  Lambda invocations', (c) => c.lambdaCalls),
    row('  Lambda GB-seconds', (c) => c.gbSeconds, 1),
    row('  SQS requests', (c) => c.sqs),
    row('  API Gateway requests', (c) => c.apiRequests),
    money('  cost, $', dollars),
    money('  cost without Lambda time, $', (c) => dollars(c) - c.gbSeconds * PRICE.gbSecond),
  ];
}

async function main(): Promise<void> {
  const dynamo = await startDynalite();
  const endpoint = dynamo.endpoint;
  try {
    // Waiting for room: both paths at once, on tables of their own.
    // The agent's wait plays no part in waiting for room: agent-sqs is current here.
    const waits = await Promise.all(PATHS.filter((path) => path !== 'agent-sqs').map(async (path) => {
      const prefix = `bench-wait-${path}-`;
      await createTables(endpoint, prefix);
      const p = benchBerth(path, endpoint, prefix, { scale: 1, now: Date.now });
      const counts = await waitingTasks(p, WAIT_DEADLINE_SECONDS);
      p.close();
      return [path, counts] as const;
    }));
    const perTenSeconds = (c: Counts) => c.transitions / WAITING / (WAIT_DEADLINE_SECONDS / 10);
    process.stdout.write(`\n${WAITING} tasks that fit no host, each waiting ${WAIT_DEADLINE_SECONDS} s for room until TaskFailedToStart (RESOURCE:...):\n\n` + formatTable(
      ['path', 'transitions a task', 'per 10 s of waiting (goal ≤ 1)', 'Lambda calls a task', 'hosts scans a task', '$ per 1,000 such tasks'],
      waits.map(([path, c]) => [path, (c.transitions / WAITING).toFixed(1), perTenSeconds(c).toFixed(2), (c.lambdaCalls / WAITING).toFixed(1),
        (c.scans / WAITING).toFixed(1), ((dollars(c) / WAITING) * 1000).toFixed(3)]),
    ) + '\n\n');
    if (PART === 'waiting') return;

    const runs = new Map<PathName, { tasks: { counts: Counts; seconds: number }; idle: { counts: Counts; polls: number; versionReads: number } }>();
    for (const path of PATHS) {
      const prefix = `bench-${path}-`;
      await createTables(endpoint, prefix);
      process.stdout.write(`${path}: ${RUN_TASKS} tasks on ${HOSTS} hosts...\n`);
      const p = benchBerth(path, endpoint, prefix, { scale: 1, now: Date.now });
      scansByTable.clear();
      writesByKind.on = path;
      const tasks = await runTasks(p, path);
      writesByKind.on = undefined;
      p.close();
      const scans = () => [...scansByTable].map(([t, n]) => `${t.replace(prefix, '')} ${n}`).join(', ') || 'none';
      process.stdout.write(`${path}: scans during the tasks' run, by table: ${scans()}\n`);
      scansByTable.clear();
      process.stdout.write(`${path}: ${tasks.seconds.toFixed(0)} s; ${HOSTS} idle hosts for ${IDLE_MINUTES} min at ${SCALE}× (${(IDLE_MINUTES * 60 / SCALE).toFixed(0)} s)...\n`);
      const epoch = Date.now();
      const fast = () => epoch + (Date.now() - epoch) * SCALE;
      const q = benchBerth(path, endpoint, prefix, { scale: SCALE, now: fast });
      const idle = await idleFleet(q, path);
      q.close();
      process.stdout.write(`${path}: scans while idle, by table: ${scans()}\n`);
      runs.set(path, { tasks, idle });
    }

    const base = runs.get('previous');
    const others = PATHS.filter((path) => path !== 'previous' && runs.has(path));
    if (base && others.length > 0) {
      const mine = others.map((path) => runs.get(path)!);
      const hostHours = (HOSTS * IDLE_MINUTES) / 60;
      // The previous idle polls' version reads as AWS's 500 ms timer makes them (dynalite here
      // cannot keep that pace for 50 hosts at 20×): one on entry and one per wake, 40 wakes a poll.
      const awsVersionReads = base.idle.polls * (1 + POLL_WAIT_MS / PREVIOUS_POLL_TIMER_MS);
      const extra = awsVersionReads - base.idle.versionReads;
      // A strongly consistent read of one small item is 1 RRU.
      const baseIdle = { ...base.idle.counts, reads: base.idle.counts.reads + extra, rru: base.idle.counts.rru + extra };
      const idles = [baseIdle, ...mine.map((m) => m.idle.counts)];
      const header = ['', COLUMNS.previous, ...others.map((path) => COLUMNS[path]), ...others.map((path) => `${COLUMNS[path]} / previous`)];
      const rows = [
        ...costRows(`${RUN_TASKS} tasks`, RUN_TASKS / 1000, 'per 1,000 tasks', [base.tasks.counts, ...mine.map((m) => m.tasks.counts)]),
        ...costRows(`${HOSTS} idle hosts, ${IDLE_MINUTES} min`, hostHours, 'per idle host-hour', idles),
        ['DynamoDB reads per idle host-minute (goal ≤ 4)', ...idles.map((c) => (c.reads / HOSTS / IDLE_MINUTES).toFixed(1)),
          ...idles.slice(1).map((c) => ratio(c.reads, baseIdle.reads))],
      ];
      process.stdout.write(`\nOne run of each path, priced at us-east-1 list prices (DynamoDB on demand $0.125/M RRU, $0.625/M WRU; ` +
        'Step Functions $0.025 per 1,000 transitions; Lambda arm64 $0.20/M requests, $0.0000133334/GB-s; SQS $0.40/M; HTTP API $1/M).\n' +
        `The tasks ran in ${[base, ...mine].map((r, i) => `${r.tasks.seconds.toFixed(0)} s (${i === 0 ? 'previous' : others[i - 1]})`).join(', ')}. ` +
        `The previous idle polls' version reads are counted as AWS's 500 ms timer makes them: ${base.idle.polls} polls × 41 (${base.idle.versionReads} happened here).\n\n`);
      process.stdout.write(formatTable(header, rows) + '\n');
      const byKind = [base, ...mine].map((_, i) => writesByKind.counts.get(i === 0 ? 'previous' : others[i - 1]) ?? new Map<string, number>());
      const kinds = [...new Set(byKind.flatMap((m) => [...m.keys()]))].sort();
      const perTask = (n: number) => (n / RUN_TASKS).toFixed(2);
      process.stdout.write(`\nDynamoDB writes per task during the ${RUN_TASKS} tasks' run, by table and operation:\n\n` + formatTable(
        ['table operation', COLUMNS.previous, ...others.map((path) => COLUMNS[path]), ...others.map((path) => `${COLUMNS[path]} / previous`)],
        [...kinds.map((k) => [k, ...byKind.map((m) => perTask(m.get(k) ?? 0)), ...byKind.slice(1).map((m) => ratio(m.get(k) ?? 0, byKind[0].get(k) ?? 0))]),
          ['all', ...[base, ...mine].map((r) => perTask(r.tasks.counts.writes)), ...mine.map((r) => ratio(r.tasks.counts.writes, base.tasks.counts.writes))]],
      ) + '\n');
    } else {
      for (const [path, r] of runs) process.stdout.write(`${path}: ${JSON.stringify(r)}\n`);
    }

    await periodicReads(endpoint);
  } finally {
    await dynamo.close();
  }
}

/** Part 4: the periodic reads that indexes replaced, as the previous bench measured them. */
async function periodicReads(endpoint: string): Promise<void> {
  await createTables(endpoint);
  const now = Date.UTC(2031, 2, 15, 12);
  const db = createDocumentClient({ endpoint });
  const store = createStore(db, tableNames());
  const c = zero();
  meter(db, c);
  const measure = async (run: () => Promise<unknown>) => {
    const before = { ...c };
    await run();
    const d = minus(c, before);
    return { calls: d.reads, rru: d.rru };
  };
  const names = tableNames();
  const scanAll = async (input: ConstructorParameters<typeof ScanCommand>[0]) => {
    let key: Record<string, unknown> | undefined;
    do key = (await db.send(new ScanCommand({ ...input, ExclusiveStartKey: key }))).LastEvaluatedKey;
    while (key);
  };
  try {
    process.stdout.write(`\nseeding ${TASKS} tasks and ${TASKS} usage records for the periodic reads...\n`);
    const tasks: Task[] = [];
    for (let i = 0; i < TASKS; i++) {
      const createdAt = i < RECENT ? now - (i + 1) * 60_000 : now - 2 * 3_600_000 - Math.floor((i / TASKS) * 30 * DAY);
      tasks.push({
        cluster: `c${i % 4}`, taskId: randomBytes(16).toString('hex'), taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/f${i % 50}:1`,
        family: `f${i % 50}`, revision: 1, containers: [{ name: 'app', image: 'busybox', essential: true, lastStatus: 'STOPPED' }],
        overrides: { containerOverrides: [] }, cpu: 256, memory: 512, lastStatus: i < AWAITED ? 'RUNNING' : 'STOPPED',
        desiredStatus: i < AWAITED ? 'RUNNING' : 'STOPPED', version: 1, createdAt, launchType: 'FARGATE', placementStrategy: 'binpack', tags: [],
      });
    }
    for (let i = 0; i < tasks.length; i += 50) {
      await Promise.all(tasks.slice(i, i + 50).map(async (t, j) => {
        await store.tasks.create(t);
        if (i + j < AWAITED) await store.tasks.setToken(t, 'callbackToken', `token-${i + j}`, 'STOPPED');
        await store.usage.record({ cluster: t.cluster, taskId: t.taskId, family: t.family, revision: 1, tags: {}, cpu: 256, memory: 512, stoppedAt: t.createdAt + 60_000 });
      }));
    }
    const rows: string[][] = [];
    const row = (what: string, base: { calls: number; rru: number }, mine: { calls: number; rru: number }, per: number, unit: string) => {
      rows.push([what, `${base.calls}`, `${base.rru.toFixed(1)}`, `${mine.calls}`, `${mine.rru.toFixed(1)}`, ratio(mine.rru, base.rru),
        `$${(base.rru * per * PRICE.rru).toFixed(3)}`, `$${(mine.rru * per * PRICE.rru).toFixed(5)}`, unit]);
    };
    const prePullOld = await measure(() => scanAll({
      TableName: names.tasks, ProjectionExpression: '#f, #r', FilterExpression: 'createdAt >= :since',
      ExpressionAttributeNames: { '#f': 'family', '#r': 'revision' }, ExpressionAttributeValues: { ':since': now - 3_600_000 },
    }));
    const prePullNew = await measure(async () => {
      const found = await store.tasks.definitionsRunSince(now - 3_600_000, now);
      if (found.length !== RECENT) throw new Error(`pre-pull read ${found.length} runs, expected ${RECENT}`);
    });
    row('pre-pull list (every 30 s)', prePullOld, prePullNew, 2880, 'per process-day');
    const beatOld = await measure(() => scanAll({
      TableName: names.tasks, FilterExpression: 'attribute_exists(callbackToken) AND statusRank < :stopped',
      ExpressionAttributeValues: { ':stopped': statusRank('STOPPED') }, ConsistentRead: true,
    }));
    const beatNew = await measure(async () => {
      const found = await store.tasks.listAwaited();
      if (found.length !== AWAITED) throw new Error(`heartbeat found ${found.length} awaited tasks, expected ${AWAITED}`);
    });
    row('batch heartbeat (every minute)', beatOld, beatNew, 1440, 'per day');
    const usageOld = await measure(() => scanAll({
      TableName: names.usage, FilterExpression: 'stoppedAt >= :since', ExpressionAttributeValues: { ':since': now - DAY }, ConsistentRead: true,
    }));
    const usageNew = await measure(() => store.usage.stoppedSince(now - DAY, now));
    row('usage, 24 h report', usageOld, usageNew, 1, 'per report');
    process.stdout.write(`\n${TASKS} tasks and usage records over 30 days; ${RECENT} tasks in the last hour, ${AWAITED} awaited. Scan (old) vs index (new).\n\n`);
    process.stdout.write(formatTable(['read', 'old calls', 'old RCU', 'new calls', 'new RCU', 'new/old', 'old $', 'new $', 'cost over'], rows) + '\n');
  } finally {
    db.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
