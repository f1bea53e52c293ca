/**
 * bench:service — how fast the service scheduler brings a service up and rolls it, each figure
 * beside a baseline measured in the same run on the same local mode:
 *
 * 1. CreateService with desiredCount N (default 100) onto an empty warm pool → steady state
 *    (one deployment, runningCount = N), beside N RunTask calls of the same definition (10 at a
 *    time, as a client would) → all N RUNNING. The ratio says what the scheduler costs over a
 *    client calling RunTask itself.
 * 2. A rolling deployment of M tasks (default 50) end to end: UpdateService to a new revision →
 *    the deployment COMPLETED with M new tasks running, beside bringing M tasks up from nothing
 *    (the creation half of the same run), since a roll starts and stops each of them once.
 *
 * 3. Placements per second of a service's tasks by 8 and 32 concurrent placers, one at a time and
 *    as batches of 100 spread over the service's group, beside bare conditional writes at the
 *    same concurrency (support/service-placement.ts).
 *
 * Each step starts on an empty warm pool: every task of the step before STOPPED and its room
 * released.
 *
 * BERTH_BENCH_SERVICE_TASKS and BERTH_BENCH_ROLLING_TASKS change N and M;
 * BERTH_BENCH_SETTLE_TIMEOUT_S how long a step may take (default 1200); BERTH_BENCH_LOG names a
 * file for the local mode's log; BERTH_BENCH_SERVICE_ONLY=1 leaves out part 3. Exits 1 only when
 * something breaks (a service that never settles, an overcommit), never because a figure is slow;
 * a step that times out prints the services, tasks, hosts and recorded demand it left.
 */
import {
  CreateServiceCommand, DeleteServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand,
  RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocal } from '../../local/runtime';
import { progress } from './support/progress';
import { placementFailures, placementFigures } from './support/service-placement';
import { formatTable, ratio } from './support/table';
import { assertNothingLeft } from './support/bench-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const N = Number(process.env.BERTH_BENCH_SERVICE_TASKS ?? 100);
const M = Number(process.env.BERTH_BENCH_ROLLING_TASKS ?? 50);
/** Two warm hosts of 16 vCPU / ~30 GiB: room for 100 tasks of 256 CPU / 512 MiB, and a roll's surge. */
const HOSTS = { count: 2, type: 'c6i.4xlarge' } as const;
const SETTLE_TIMEOUT_MS = Number(process.env.BERTH_BENCH_SETTLE_TIMEOUT_S ?? 20 * 60) * 1000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-service-'));
  const logFile = process.env.BERTH_BENCH_LOG;
  const log = (l: string) => { if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${l}\n`); };
  const local = await startLocal({ dataDir, port: 0, hosts: HOSTS.count, hostType: HOSTS.type, maxHosts: HOSTS.count, log });
  const ecs = new ECSClient({ endpoint: local.url, region: 'us-east-1', maxAttempts: 3, credentials: local.credentials });
  const rows: string[][] = [];
  try {
    const register = async (family: string) => {
      await ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], stopTimeout: 2 }],
      }));
    };
    const running = async (filter: { startedBy?: string; serviceName?: string }) => {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const r = await ecs.send(new ListTasksCommand({ ...filter, nextToken }));
        arns.push(...r.taskArns!);
        nextToken = r.nextToken;
      } while (nextToken);
      let n = 0;
      for (let i = 0; i < arns.length; i += 100) {
        n += (await ecs.send(new DescribeTasksCommand({ tasks: arns.slice(i, i + 100) }))).tasks!.filter((t) => t.lastStatus === 'RUNNING').length;
      }
      return { arns, running: n };
    };
    // Each step starts on an empty warm pool: every task STOPPED and its room given back (the
    // stop workflow releases a reservation just after its task is STOPPED).
    const allStopped = () => until('every task to stop and release its room', async () => {
      const live = (await local.berth.store.tasks.list('default')).filter((t) => t.lastStatus !== 'STOPPED');
      const held = (await local.berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE' && Object.keys(h.reservations).length > 0);
      return live.length === 0 && held.length === 0 ? true : undefined;
    });
    const steady = (name: string, count: number, taskDefinition?: string) => until(`${name} to be steady at ${count}`, async () => {
      const s = (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0];
      const done = s.deployments!.length === 1 && s.runningCount === count && s.pendingCount === 0
        && (taskDefinition === undefined || s.taskDefinition!.endsWith(taskDefinition));
      return done ? s : undefined;
    });
    await register('bench-svc');
    await register('bench-svc');

    // 1a. Baseline: N RunTask calls, 10 in flight.
    console.log(`RunTask × ${N} …`);
    let t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 10 }, async () => {
      while (next < N) {
        next++;
        await ecs.send(new RunTaskCommand({ taskDefinition: 'bench-svc:1', startedBy: 'bench-runtask' }));
      }
    }));
    await until(`${N} RunTask tasks RUNNING`, async () => ((await running({ startedBy: 'bench-runtask' })).running >= N ? true : undefined));
    const runTaskMs = performance.now() - t0;
    const { arns } = await running({ startedBy: 'bench-runtask' });
    for (const arn of arns) await ecs.send(new StopTaskCommand({ task: arn }));
    await allStopped();

    // 1b. CreateService desiredCount N.
    console.log(`CreateService desiredCount ${N} …`);
    t0 = performance.now();
    await ecs.send(new CreateServiceCommand({ serviceName: 'bench', taskDefinition: 'bench-svc:1', desiredCount: N }));
    await steady('bench', N);
    const serviceMs = performance.now() - t0;
    rows.push([`CreateService, desiredCount ${N} → steady state`, seconds(serviceMs), `${N} RunTask calls → all RUNNING`, seconds(runTaskMs), ratio(serviceMs, runTaskMs)]);
    await ecs.send(new DeleteServiceCommand({ service: 'bench', force: true }));
    await allStopped();

    // 2. A rolling deployment of M tasks.
    console.log(`rolling deployment of ${M} tasks …`);
    t0 = performance.now();
    await ecs.send(new CreateServiceCommand({ serviceName: 'roll', taskDefinition: 'bench-svc:1', desiredCount: M }));
    await steady('roll', M);
    const upMs = performance.now() - t0;
    t0 = performance.now();
    await ecs.send(new UpdateServiceCommand({ service: 'roll', taskDefinition: 'bench-svc:2' }));
    await steady('roll', M, 'bench-svc:2');
    const rollMs = performance.now() - t0;
    rows.push([`rolling deployment of ${M} tasks → COMPLETED`, seconds(rollMs), `CreateService, desiredCount ${M} → steady`, seconds(upMs), ratio(rollMs, upMs)]);
    await ecs.send(new DeleteServiceCommand({ service: 'roll', force: true }));
    await allStopped();

    console.log(`\n${formatTable(['measured', 'time', 'baseline (same run)', 'time', 'ratio'], rows)}`);
  } catch (e) {
    await dumpState(local.berth).catch((d: unknown) => console.error('cannot dump the state:', d));
    throw e;
  } finally {
    ecs.destroy();
    await local.close({ discard: true });
    rmSync(dataDir, { recursive: true, force: true });
    assertNothingLeft([dataDir]);
  }
}

/** What a stalled run leaves behind: services, tasks by status, hosts' reservations, recorded demand. */
async function dumpState(b: Awaited<ReturnType<typeof startLocal>>['berth']): Promise<void> {
  for (const s of await b.store.services.list('default')) {
    console.error(`service ${s.serviceName} ${s.status} desired ${s.desiredCount} v${s.version}`, JSON.stringify(s.deployments), JSON.stringify(s.events.slice(0, 8)));
  }
  const counts: Record<string, number> = {};
  for (const t of await b.store.tasks.list('default')) {
    const k = `${t.group} ${t.lastStatus}/${t.desiredStatus} ${t.stopCode ?? ''}`;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  console.error('tasks:', JSON.stringify(counts, null, 1));
  for (const h of await b.store.hosts.list()) {
    console.error(`host ${h.hostId} ${h.status} reservations ${Object.keys(h.reservations).length}`, JSON.stringify(h.groupTasks));
  }
  console.error('demand:', (await b.store.demand.list()).length);
}

async function placement(): Promise<void> {
  progress('service placement: 100 hosts, a fresh dynalite per run');
  const rows = await placementFigures();
  console.log(`\n${formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows)}`);
  if (placementFailures.length > 0) {
    console.error(`\nFAILED: ${placementFailures.length} correctness failure(s):`);
    for (const f of placementFailures) console.error(`  - ${f}`);
    process.exitCode = 1;
  }
}

main().then(() => (process.env.BERTH_BENCH_SERVICE_ONLY ? undefined : placement())).catch((e: unknown) => {
  console.error('bench:service failed:', e);
  process.exitCode = 1;
});
