import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListContainerInstancesCommand, ListTasksCommand,
  RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type Task,
} from '@aws-sdk/client-ecs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CRASH_POINTS } from '../../local/crash-points';
import { LAUNCH_POINTS } from '../../shared/capacity/launches';
import type { CostReport } from '../../shared/billing/report';
import { TEST_CREDENTIALS } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';
import { BUSYBOX, containerLog } from '../support/local-mode';
import { type LocalProcess, discardLocalData, freePort, spawnLocalMode, stopGently, untilExit } from '../support/local-process';

/**
 * The control plane killed with SIGKILL between every pair of lifecycle steps, then started
 * again on the same data. The in-process workflow engine forgets everything, so every task must
 * be driven on from DynamoDB alone: none lost, none started twice, no room left reserved.
 *
 * One task per crash point. The armed process holds each task at its own point (BERTH_CRASH_AT
 * lists them all) and kills itself once every task is held, so one SIGKILL leaves each task
 * exactly where a crash at its point would have. The restarted process must see them all
 * through at once, on shared hosts.
 */

/** How a case's task reaches its point, and so how it must end. */
type Path =
  /** RunTask; it is held while it launches. */
  | 'launch'
  /** RunTask, RUNNING, StopTask; it is held while it stops. */
  | 'stop'
  /** As 'stop', but its host does not confirm in time, so the stop workflow forces STOPPED. */
  | 'forced-stop';

/**
 * How the crash comes: together, with a task held at each of these points at once; alone, for
 * points where held tasks would not stay put (a bound task's agent may run it meanwhile, which
 * a lone crash, whose agents die with it, does not allow); or forced, with a short AwaitStopped.
 */
type Crash = 'together' | 'alone' | 'forced';

const CASES: { point: string; path: Path; crash: Crash }[] = [
  { point: 'launchWorkflow:beforeStart', path: 'launch', crash: 'together' },
  { point: 'place:before', path: 'launch', crash: 'together' },
  { point: 'place:reserved', path: 'launch', crash: 'together' },
  // Bound to a host that has not been told yet: the relaunch must start it, once.
  { point: 'place:after', path: 'launch', crash: 'alone' },
  { point: 'start:before', path: 'launch', crash: 'together' },
  // The host was told: its agent dies mid-launch with the control plane.
  { point: 'start:after', path: 'launch', crash: 'alone' },
  { point: 'awaitRunning:before', path: 'launch', crash: 'together' },
  { point: 'awaitRunning:after', path: 'launch', crash: 'together' },
  { point: 'stopWorkflow:beforeStart', path: 'stop', crash: 'together' },
  { point: 'requestStop:before', path: 'stop', crash: 'together' },
  { point: 'requestStop:after', path: 'stop', crash: 'together' },
  { point: 'awaitStopped:before', path: 'stop', crash: 'together' },
  { point: 'awaitStopped:after', path: 'stop', crash: 'together' },
  { point: 'release:before', path: 'stop', crash: 'together' },
  { point: 'release:after', path: 'stop', crash: 'together' },
  // Stopped and released, its usage record not yet written (or just written): one record, never two.
  { point: 'recordUsage:before', path: 'stop', crash: 'together' },
  { point: 'recordUsage:after', path: 'stop', crash: 'together' },
  // markStopped runs only when a wait times out; that needs a short wait, so a crash of its own.
  { point: 'markStopped:before', path: 'forced-stop', crash: 'forced' },
  { point: 'markStopped:after', path: 'forced-stop', crash: 'forced' },
];

/** Stops on SIGTERM within a second; prints once per start. */
const POLITE = ['sh', '-c', "trap 'exit 0' TERM; echo started; while true; do sleep 1; done"];
/** Ignores SIGTERM, so its stop outlasts a short AwaitStopped and ends in SIGKILL. */
const STUBBORN = ['sh', '-c', "trap '' TERM; echo started; while true; do sleep 1; done"];
const STUBBORN_STOP_TIMEOUT_SECONDS = 6;
const FORCED_STOP_ENV = { BERTH_STATE_TIMEOUT_SECONDS: 'AwaitStopped=2' };

const TASK_CPU = 256;
const HOLD_ALL_WITHIN_MS = 120_000;
const SETTLE_WITHIN_MS = 120_000;
const POLL_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (arn: string) => arn.split('/').pop()!;

/** Ends a poll at once; any other error is taken for a passing hiccup and retried. */
class Settled extends Error {}

async function poll<T>(what: () => string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch((e) => {
      if (e instanceof Settled) throw e;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what()}`);
    await sleep(POLL_MS);
  }
}

/** One case's task, as the test follows it across processes. */
interface Tracked {
  point: string;
  path: Path;
  tag: string;
  clientToken: string;
  family: string;
  taskArn?: string;
  /** The container's runtime id when first seen RUNNING: a second create would change it. */
  runtimeId?: string;
  /** When the process held at its point died. */
  crashedAt?: number;
}

describe('Control plane crash-stop', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-crash-'));
  const run = Date.now();
  let port = 0;
  let proc: LocalProcess | undefined;
  const processes: LocalProcess[] = [];
  let ecs: ECSClient;
  const timings: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    // No retries: a call cut off by the crash must fail here, not be replayed into the restart.
    // A fresh connection per call: a kept-alive one that the server closes as it idles would
    // hang up on a call, which with no retries looks like a crash.
    ecs = new ECSClient({
      endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS,
      requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
    });
  });

  afterAll(async () => {
    ecs?.destroy();
    if (proc) await stopGently(proc);
    // Each process's output stays beside its data, for when a case fails.
    processes.forEach((p, i) => writeFileSync(join(dataDir, `process-${i}.log`), p.output.join('')));
    if (timings.length) console.log(`crash suite timings (output in ${dataDir}):\n${timings.join('\n')}`);
    await discardLocalData(dataDir);
  }, 60_000);

  const start = async (label: string, env: Record<string, string> = {}) => {
    const began = Date.now();
    proc = await spawnLocalMode({
      BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port),
      // Room for every case's task at once, and few agent processes on a small machine.
      BERTH_LOCAL_HOSTS: '2', BERTH_HOST_TYPE: 'c6i.xlarge', BERTH_MAX_HOSTS: '3',
      BERTH_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, BERTH_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      ...env,
    });
    processes.push(proc);
    timings.push(`${label}: ready in ${Date.now() - began} ms`);
  };

  const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const began = Date.now();
    const r = await f();
    timings.push(`${label}: ${Date.now() - began} ms`);
    return r;
  };

  const tracked = (cases: typeof CASES) => cases.map((c): Tracked => {
    const i = CASES.indexOf(c);
    return { ...c, tag: `case-${i}`, clientToken: `crash-${run}-${i}`, family: `crash-${run}-${i}` };
  });

  async function describeAll(ts: Tracked[]): Promise<Map<Tracked, Task>> {
    const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: ts.map((t) => t.taskArn!) }));
    return new Map(ts.map((t) => [t, tasks!.find((x) => x.taskArn === t.taskArn)!]));
  }

  /** Waits until every task is `status`; a task STOPPED while RUNNING is awaited fails at once. */
  async function untilAll(ts: Tracked[], status: 'RUNNING' | 'STOPPED'): Promise<Map<Tracked, Task>> {
    let last = new Map<Tracked, Task>();
    return poll(() => `${status}: ${[...last].map(([t, x]) => `${t.point}=${x.lastStatus}`).join(', ')}`, SETTLE_WITHIN_MS, async () => {
      last = await describeAll(ts);
      const failed = [...last].filter(([, x]) => status === 'RUNNING' && x.lastStatus === 'STOPPED');
      if (failed.length) throw new Settled(`STOPPED before RUNNING: ${failed.map(([t, x]) => `${t.point}: ${x.stoppedReason}`).join('; ')}`);
      return [...last.values()].every((x) => x.lastStatus === status) ? last : undefined;
    });
  }

  /** CPU reserved on every listed host, by host id. */
  async function reservedCpuByHost(): Promise<Record<string, number>> {
    const arns = (await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns ?? [];
    if (arns.length === 0) return {};
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: arns }));
    const cpu = (list: { name?: string; integerValue?: number }[] | undefined) => list!.find((r) => r.name === 'CPU')!.integerValue!;
    return Object.fromEntries((containerInstances ?? []).map((ci) => [idOf(ci.containerInstanceArn!), cpu(ci.registeredResources) - cpu(ci.remainingResources)]));
  }

  /** Polls until the hosts' reservations are exactly `expected(hostIds)`. */
  async function untilReserved(expected: (hosts: string[]) => Record<string, number>): Promise<void> {
    let last: Record<string, number> = {};
    let want: Record<string, number> = {};
    await poll(() => `reservations ${JSON.stringify(want)}, have ${JSON.stringify(last)}`, 30_000, async () => {
      last = await reservedCpuByHost();
      want = expected(Object.keys(last));
      return Object.keys(last).length > 0 && JSON.stringify(last) === JSON.stringify(want) ? true : undefined;
    });
  }

  /** The meter's view of each task: its record's time, if written; more than one row would be a double count. */
  async function usageOf(ts: Tracked[]): Promise<Map<Tracked, { rows: number; recordedAt?: number }>> {
    const res = await signedFetch(`http://127.0.0.1:${port}/operator`, {
      target: 'BerthOperator.GetCostReport', body: JSON.stringify({ since: '1h', groupBy: ['task'] }), credentials: TEST_CREDENTIALS,
    });
    if (res.status !== 200) throw new Error(`GetCostReport: ${res.status} ${await res.text()}`);
    const report = (await res.json()) as CostReport;
    return new Map(ts.map((t) => {
      const rows = report.tasks.filter((x) => x.taskId === idOf(t.taskArn!));
      return [t, { rows: rows.length, recordedAt: rows[0]?.recordedAt }];
    }));
  }

  /** The task's containers that podman still holds, running or not. */
  function containersOf(taskArn: string): string[] {
    const out = execFileSync('podman', ['ps', '-a', '--filter', `label=berth.task-id=${idOf(taskArn)}`, '--format', '{{.ID}}'], {
      env: { ...process.env, CONTAINERS_CONF: join(dataDir, 'containers.conf') },
    }).toString();
    return out.split('\n').filter(Boolean);
  }

  async function register(t: Tracked): Promise<void> {
    const stubborn = t.path === 'forced-stop';
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: t.family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: String(TASK_CPU), memory: '512',
      containerDefinitions: [{
        name: 'app', image: BUSYBOX, essential: true,
        command: stubborn ? STUBBORN : POLITE,
        stopTimeout: stubborn ? STUBBORN_STOP_TIMEOUT_SECONDS : 5,
      }],
    }));
  }

  /** RunTask with a clientToken, as a client retries it; undefined when the crash cut it off. */
  async function runTask(t: Tracked): Promise<string | undefined> {
    try {
      const r = await ecs.send(new RunTaskCommand({ taskDefinition: t.family, startedBy: t.tag, clientToken: t.clientToken }));
      expect(r.tasks).toHaveLength(1);
      return r.tasks![0].taskArn;
    } catch (e) {
      if (!/socket hang up|ECONNRESET|ECONNREFUSED/i.test(String(e))) throw e;
      return undefined;
    }
  }

  /** Drives every task to its point, in the process armed for all of them, until it kills itself. */
  async function holdAndCrash(ts: Tracked[]): Promise<void> {
    for (const t of ts) await register(t);
    const launched = Promise.all(ts.map(async (t) => {
      t.taskArn = await runTask(t);
      if (t.path === 'launch') return;
      const running = (await untilAll([t], 'RUNNING')).get(t)!;
      t.runtimeId = running.containers![0].runtimeId;
      await ecs.send(new StopTaskCommand({ task: t.taskArn, reason: `crash at ${t.point}` })).catch(() => {});
    }));
    const died = untilExit(proc!, HOLD_ALL_WITHIN_MS);
    // Whichever ends first: every task held (the process dies), or a drive that went wrong.
    await Promise.race([died, launched.then(() => died)]);
    expect(await died).toBe('SIGKILL');
    for (const t of ts) t.crashedAt = Date.now();
    await launched.catch(() => {});
  }

  /** What must hold of every task after the restart, by crash point, so one failure names its point. */
  function outcome(t: Tracked, final: Task) {
    const c = final.containers![0];
    return {
      lastStatus: final.lastStatus,
      stopCode: final.stopCode,
      // Created once: the container that first ran is the one that stopped.
      sameContainer: c.runtimeId === t.runtimeId,
      // Started once: it printed its start line once.
      starts: containerLog(dataDir, t.taskArn!, 'app').filter((l) => l === 'started').length,
      exitCode: t.path === 'forced-stop' ? 'any' : c.exitCode,
      containersLeft: containersOf(t.taskArn!).length,
    };
  }
  const EXPECTED_OUTCOME = { lastStatus: 'STOPPED', stopCode: 'UserInitiated', sameContainer: true, starts: 1, containersLeft: 0 };

  /** In the restarted process: every task goes on to RUNNING and STOPPED once, holding room only while it must. */
  async function seeThrough(ts: Tracked[]): Promise<void> {
    // A RunTask the crash cut off is retried by its client with the same token; every repeat
    // gets the very task it first made.
    for (const t of ts) {
      t.taskArn ??= await runTask(t);
      const again = await ecs.send(new RunTaskCommand({ taskDefinition: t.family, startedBy: t.tag, clientToken: t.clientToken }));
      expect({ point: t.point, tasks: again.tasks!.map((x) => x.taskArn) }).toEqual({ point: t.point, tasks: [t.taskArn] });
      const listed = await Promise.all((['RUNNING', 'STOPPED'] as const).map((desiredStatus) =>
        ecs.send(new ListTasksCommand({ startedBy: t.tag, desiredStatus }))));
      expect({ point: t.point, tasks: listed.flatMap((l) => l.taskArns!) }).toEqual({ point: t.point, tasks: [t.taskArn] });
    }

    const launching = ts.filter((t) => t.path === 'launch');
    const stopping = ts.filter((t) => t.path !== 'launch');
    const running = launching.length ? await untilAll(launching, 'RUNNING') : new Map<Tracked, Task>();
    for (const [t, x] of running) t.runtimeId = x.containers![0].runtimeId;
    if (stopping.length) await untilAll(stopping, 'STOPPED');
    // Settled: each running task holds room on its own host and nowhere else; stopped ones hold none.
    await untilReserved((hosts) => Object.fromEntries(hosts.map((h) =>
      [h, TASK_CPU * [...running.values()].filter((x) => idOf(x.containerInstanceArn!) === h).length])));

    await Promise.all(launching.map((t) => ecs.send(new StopTaskCommand({ task: t.taskArn, reason: `after a crash at ${t.point}` }))));
    const final = await untilAll(ts, 'STOPPED');
    await untilReserved((hosts) => Object.fromEntries(hosts.map((h) => [h, 0])));
    // The agent removes a task's containers just after it reports STOPPED.
    await poll(() => 'the containers to be removed', 30_000, async () => (ts.every((t) => containersOf(t.taskArn!).length === 0) ? true : undefined)).catch(() => {});
    expect(Object.fromEntries(ts.map((t) => [t.point, outcome(t, final.get(t)!)])))
      .toEqual(Object.fromEntries(ts.map((t) => [t.point, { ...EXPECTED_OUTCOME, exitCode: t.path === 'forced-stop' ? 'any' : 0 }])));

    // The meter lost no record and wrote none twice: each task has one, and a record written
    // before the crash (recordUsage:after) is the one that stands after the restart.
    const usage = await poll(() => 'every task\'s usage record', 30_000, async () => {
      const u = await usageOf(ts);
      return [...u.values()].every((x) => x.recordedAt !== undefined) ? u : undefined;
    });
    expect(Object.fromEntries(ts.map((t) => {
      const u = usage.get(t)!;
      return [t.point, { rows: u.rows, writtenBeforeCrash: t.point === 'recordUsage:after' ? u.recordedAt! < t.crashedAt! : 'any' }];
    }))).toEqual(Object.fromEntries(ts.map((t) => [t.point, { rows: 1, writtenBeforeCrash: t.point === 'recordUsage:after' ? true : 'any' }])));
  }

  it('has a case for every crash point the code defines', () => {
    expect(CASES.map((c) => c.point).sort()).toEqual([...CRASH_POINTS].sort());
  });

  it('loses no task, starts none twice and leaks no reservation, whichever step it dies after', async () => {
    // Prepare: the crashes, in order. BERTH_CRASH_ONLY=point,point runs some while working on them.
    const only = process.env.BERTH_CRASH_ONLY?.split(',');
    const cases = CASES.filter((c) => !only || only.includes(c.point));
    const chain = [
      tracked(cases.filter((c) => c.crash === 'together')),
      ...cases.filter((c) => c.crash === 'alone').map((c) => tracked([c])),
    ].filter((ts) => ts.length > 0);
    const forced = tracked(cases.filter((c) => c.crash === 'forced'));
    const armFor = (ts: Tracked[]) => ts.map((t) => `${t.point}@${t.tag}`).join(',');
    const label = (ts: Tracked[]) => (ts.length === 1 ? ts[0].point : `${ts.length} points`);

    // Act and assess, in a chain: each process sees the previous crash's tasks through, then is
    // itself driven into the next crash.
    let previous: Tracked[] | undefined;
    for (const ts of chain) {
      await start(`armed for ${label(ts)}`, { BERTH_CRASH_AT: armFor(ts) });
      if (previous) await timed(`see ${label(previous)} through`, () => seeThrough(previous!));
      await timed(`drive to ${label(ts)} and crash`, () => holdAndCrash(ts));
      previous = ts;
    }
    if (previous) {
      await start('restart');
      await timed(`see ${label(previous)} through`, () => seeThrough(previous!));
      await stopGently(proc!);
    }

    // The stop workflow's forced path, whose short wait must not touch the cases above.
    if (forced.length === 0) return;
    await start('armed for the forced stops', { BERTH_CRASH_AT: armFor(forced), ...FORCED_STOP_ENV });
    await timed('drive to the forced stops and crash', () => holdAndCrash(forced));
    await start('restart');
    await timed('see the forced stops through', () => seeThrough(forced));
  }, 900_000);
});

/**
 * The capacity manager killed mid-launch, with SIGKILL, as the local mode starts its warm pool:
 * after its launch's record and before the fleet provider is asked, or after it answered and
 * before the host is recorded. The restart on the same data finds the record and asks again
 * under its token: one host, and no agent of this data directory that the store does not know.
 */
describe('Capacity crash-stop: a launch cut short', () => {
  /**
   * The agents a local mode started: each is a thread of its process (local/fleet.ts), so the
   * crashed one's died with it; the fleet says so as it starts one (`[host] agent started`).
   */
  const agentsOf = (p: LocalProcess): number => new Set(p.output.join('').split('\n')
    .map((line) => /\[([\w.-]+)\] agent started /.exec(line)?.[1]).filter((h) => h !== undefined)).size;
  const registered = (p: LocalProcess): boolean => /\[[\w.-]+\] registered /.test(p.output.join(''));

  // One point of the two: from outside they differ only in whether the provider was asked, and
  // capacity-manager.test.ts cuts a cycle at each in process. This one is where EC2 has started
  // instances that nothing recorded yet.
  it.each([LAUNCH_POINTS.returned])('dies at %s; the restart launches the warm pool\'s host once, and no agent is left untracked', async (point) => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-launch-crash-'));
    const port = await freePort();
    const env = {
      BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port), BERTH_LOCAL_HOSTS: '1', BERTH_MAX_HOSTS: '3',
      BERTH_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, BERTH_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    };
    let restarted: LocalProcess | undefined;
    const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: TEST_CREDENTIALS });
    try {
      // Act: the armed start dies launching its warm pool; then a start on the same data.
      const crashed = await spawnLocalMode({ ...env, BERTH_CRASH_AT: point }).then(async (p) => {
        await stopGently(p);
        return 'started without crashing';
      }, (e: unknown) => String(e));
      restarted = await spawnLocalMode(env);
      const instances = (await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns ?? [];
      // Ready once the warm pool's host is ACTIVE; its agent says it registered a moment later.
      await poll(() => 'the agent\'s registration', 10_000, async () => (registered(restarted!) ? true : undefined));
      const agents = agentsOf(restarted);

      // Assess
      expect(crashed).toContain(`crash point ${point} reached`);
      expect(instances).toHaveLength(1);
      expect(agents).toBe(1);
    } finally {
      ecs.destroy();
      if (restarted) await stopGently(restarted);
      await discardLocalData(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
