/**
 * bench:control-plane — what the control plane's periodic reads cost, counted on dynalite with
 * ReturnConsumedCapacity, each beside today's-before-this-change code measured in the same run:
 *
 * - the pre-pull list (every 30 s per control-plane process): the tasks table's byCreatedDay
 *   index vs a Scan of the tasks table filtered on createdAt;
 * - the batch function's heartbeat (every minute): the sparse `awaited` index vs a filtered Scan;
 * - a cost report of the last 24 h: the usage table's byStoppedDay index vs a filtered Scan;
 * - an idle agent's long poll on AWS (a 500 ms timer notifier): reads of the host's version
 *   between changes vs a full read (host, every task, their definitions) on every wake. Run with
 *   a 25 ms timer for 1 s (the same 40 wakes as 20 s at 500 ms) and scaled to a minute.
 *
 * The store holds TASKS tasks created over 30 days (RECENT of them in the last hour, AWAITED of
 * them awaited by a state machine) and as many usage records. Read capacity units (RCU) are
 * DynamoDB's billing unit: an on-demand read request unit costs $0.25 per million in us-east-1
 * (a strongly consistent read of up to 4 KB is one; a Scan or Query is billed by the bytes it
 * reads, filtered or not). Exits 1 only when something breaks.
 */
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { localBerth } from '../../local/berth';
import { createTables, startDynalite } from '../../local/dynalite';
import type { Berth } from '../../shared/context';
import type { Task } from '../../shared/domain/task';
import { assignmentsFor, pollAssignments, type KnownAssignments } from '../../shared/lifecycle/assignments';
import { registerHost } from '../../shared/lifecycle/reports';
import { createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { statusRank } from '../../shared/domain/task';
import { tableNames } from '../../shared/store/tables';
import { formatTable, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const TASKS = Number(process.env.BERTH_BENCH_CP_TASKS ?? 3000);
const RECENT = 30;
const AWAITED = 20;
const HOST_TASKS = 20;
const DAY = 86_400_000;
const RRU_DOLLARS = 0.25 / 1e6;

/** Calls and read capacity of every DynamoDB request made through `db`, from when it is reset. */
function meter(db: DynamoDBDocumentClient) {
  const m = { calls: 0, rcu: 0, items: 0, reset() { m.calls = 0; m.rcu = 0; m.items = 0; } };
  db.middlewareStack.add((next) => async (args) => {
    (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
    const r = await next(args);
    const out = r.output as { ConsumedCapacity?: { CapacityUnits?: number }; Count?: number; Item?: unknown; ScannedCount?: number };
    m.calls++;
    m.rcu += out.ConsumedCapacity?.CapacityUnits ?? 0;
    m.items += out.ScannedCount ?? (out.Item ? 1 : 0);
    return r;
  }, { step: 'initialize', name: 'benchMeter' });
  return m;
}

async function measure(m: ReturnType<typeof meter>, run: () => Promise<unknown>) {
  m.reset();
  await run();
  return { calls: m.calls, rcu: m.rcu, items: m.items };
}

/** Follows LastEvaluatedKey: the old code's scans, kept here as the baseline. */
async function scanAll(db: DynamoDBDocumentClient, input: ConstructorParameters<typeof ScanCommand>[0]): Promise<unknown[]> {
  const out: unknown[] = [];
  let key: Record<string, unknown> | undefined;
  do {
    const r = await db.send(new ScanCommand({ ...input, ExclusiveStartKey: key }));
    out.push(...(r.Items ?? []));
    key = r.LastEvaluatedKey;
  } while (key);
  return out;
}

/** The long poll as it was: a full read of the host's work on every wake. */
async function oldPoll(b: Berth, hostId: string, known: KnownAssignments, waitMs: number): Promise<void> {
  const deadline = b.now() + waitMs;
  for (;;) {
    const woken = b.notifier.wait(hostId, deadline - b.now());
    const current = await assignmentsFor(b, hostId);
    if (current.length !== Object.keys(known).length || b.now() >= deadline) return;
    await woken;
  }
}

async function main(): Promise<void> {
  const dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  const now = Date.UTC(2031, 2, 15, 12);
  const berth = localBerth({ dynamoEndpoint: dynamo.endpoint, now: () => Date.now(), config: { openHostRegistration: true } });
  const db = createDocumentClient({ endpoint: dynamo.endpoint });
  const store = createStore(db, tableNames());
  const m = meter(db);
  const names = tableNames();
  try {
    // Seed: tasks over 30 days, the newest RECENT in the last hour; AWAITED of them awaited.
    process.stdout.write(`seeding ${TASKS} tasks and ${TASKS} usage records...\n`);
    // Each family at revision 1, so the poll's assignments read real definitions.
    for (let f = 0; f < 50; f++) {
      await store.taskDefinitions.register({
        family: `f${f}`, containerDefinitions: [{ name: 'app', image: 'busybox', essential: true }], cpu: '256', memory: '512',
        requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc',
      } as never, [], now);
    }
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
    const row = (what: string, base: { calls: number; rcu: number; items: number }, mine: { calls: number; rcu: number; items: number }, per: number, unit: string) => {
      rows.push([what, `${base.calls}`, `${base.rcu.toFixed(1)}`, `${mine.calls}`, `${mine.rcu.toFixed(1)}`, ratio(mine.rcu, base.rcu),
        `$${(base.rcu * per * RRU_DOLLARS).toFixed(2)}`, `$${(mine.rcu * per * RRU_DOLLARS).toFixed(4)}`, unit]);
    };

    // Pre-pull: every 30 s per process → 2,880 a day.
    const prePullOld = await measure(m, () => scanAll(db, {
      TableName: names.tasks, ProjectionExpression: '#f, #r', FilterExpression: 'createdAt >= :since',
      ExpressionAttributeNames: { '#f': 'family', '#r': 'revision' }, ExpressionAttributeValues: { ':since': now - 3_600_000 },
    }));
    const prePullNew = await measure(m, async () => {
      const found = await store.tasks.definitionsRunSince(now - 3_600_000, now);
      if (found.length !== RECENT) throw new Error(`pre-pull read ${found.length} runs, expected ${RECENT}`);
    });
    row('pre-pull list', prePullOld, prePullNew, 2880, 'per process-day');

    // Heartbeat: every minute → 1,440 a day.
    const beatOld = await measure(m, () => scanAll(db, {
      TableName: names.tasks, FilterExpression: 'attribute_exists(callbackToken) AND statusRank < :stopped',
      ExpressionAttributeValues: { ':stopped': statusRank('STOPPED') }, ConsistentRead: true,
    }));
    const beatNew = await measure(m, async () => {
      const found = await store.tasks.listAwaited();
      if (found.length !== AWAITED) throw new Error(`heartbeat found ${found.length} awaited tasks, expected ${AWAITED}`);
    });
    row('batch heartbeat', beatOld, beatNew, 1440, 'per day');

    // A cost report of the last 24 h, one a day.
    const usageOld = await measure(m, () => scanAll(db, {
      TableName: names.usage, FilterExpression: 'stoppedAt >= :since', ExpressionAttributeValues: { ':since': now - DAY }, ConsistentRead: true,
    }));
    const usageNew = await measure(m, () => store.usage.stoppedSince(now - DAY, now));
    row('usage, 24 h report', usageOld, usageNew, 1, 'per report');

    // An idle host with HOST_TASKS running tasks: 40 wakes of its long poll, scaled to a minute.
    await registerHost(berth, { hostId: 'bench-host', cpu: 16_384, memory: 32_768 });
    const known: KnownAssignments = {};
    for (const t of tasks.slice(0, HOST_TASKS)) {
      await store.hosts.reserveAll('bench-host', [{ hostId: 'bench-host', taskId: t.taskId, cpu: 256, memory: 512, maxReservedCpu: 16_384, maxReservedMemory: 32_768 }], t.cluster, now);
      await store.tasks.bindHost(t, 'bench-host', now);
      known[t.taskId] = 'RUNNING';
    }
    // Wakes are counted: on dynalite a full read takes longer than the 25 ms timer, so the reads
    // per wake, times AWS's 40 wakes per 20 s poll and 3 polls a minute, give a minute on AWS.
    let wakes = 0;
    const timer = { wait: (_h: string, t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, Math.min(t, 25)))) };
    const onAws = { ...berth, store, notifier: { notify: () => {}, wait: (h: string, t: number) => { wakes++; return timer.wait(h, t); } } } as Berth;
    const perMinute = (x: { calls: number; rcu: number; items: number }, w: number) => ({ calls: Math.round((x.calls / w) * 120), rcu: (x.rcu / w) * 120, items: x.items });
    wakes = 0;
    const pollOld = perMinute(await measure(m, () => oldPoll(onAws, 'bench-host', known, 1000)), wakes);
    wakes = 0;
    const pollNew = perMinute(await measure(m, async () => {
      const got = await pollAssignments(onAws, 'bench-host', known, 1000);
      if (got.tasks?.length !== HOST_TASKS) throw new Error(`the poll saw ${got.tasks?.length} tasks, expected ${HOST_TASKS}`);
    }), wakes);
    row(`idle host, ${HOST_TASKS} tasks, poll/min`, pollOld, pollNew, 60 * 24 * 30, 'per host-month');

    process.stdout.write(`\n${TASKS} tasks and usage records over 30 days; ${RECENT} tasks in the last hour, ${AWAITED} awaited.\n` +
      'Reads of one run (idle host: per minute); cost at $0.25 per million read request units.\n\n');
    process.stdout.write(formatTable(
      ['read', 'old calls', 'old RCU', 'new calls', 'new RCU', 'new/old', 'old $', 'new $', 'cost over'],
      rows,
    ) + '\n');
  } finally {
    berth.workflows.close();
    db.destroy();
    await dynamo.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
