/**
 * bench:launch — how fast the local mode turns RunTask into a running container, and what it
 * costs in memory, each figure beside a baseline measured in the same run on the same podman:
 *
 * 1. RunTask → RUNNING, one task at a time on a warm host with the image cached, measured from
 *    just before RunTask until DescribeTasks first shows RUNNING (polled every 5 ms: what a user
 *    sees). The RunTask and the polling come from a client process of its own (launch-client.ts),
 *    as a user's CLI or SDK calls the local mode from outside it. Baseline: the bare container
 *    runtime's create + start of the same container (image, command, the task's cpu, memory and
 *    process limits) through dockerode (the agent's DockerRuntime) on the same podman socket.
 *    The two alternate, one of each in turn, so a change in the machine's load moves both. A third series waits on the
 *    task store's RUNNING write in process instead of polling, to show what the client's polling
 *    costs. Where the time goes, from the task's own timestamps and in-process marks.
 * 2. RunTask → STOPPED for a container that runs `true`, beside create + start + wait of the same
 *    container through dockerode; and how long after the engine announces the container's exit
 *    (its die event, on a stream of the bench's own) the task's STOPPED is written.
 * 3. RSS of the local mode (this process, the agents, podman's service): idle, with 50 running
 *    tasks, and the peak over the run; beside the RSS of a bare `node -e` idling. `npm run
 *    bench:launch` runs this process as `npm start` runs the control plane: bundled into plain
 *    JavaScript (local/control-plane-bundle.ts) and with its node flags, not under tsx, whose
 *    TypeScript loader would add some 38 MiB that no user's control plane carries.
 *
 * 4. A burst: 100 tasks launched at once (10 RunTask calls of 10, all sent together) until every one
 *    is RUNNING, beside 100 bare create + starts of the same container sent together.
 *
 * Each launch and each bare run starts from a quiet host: the previous one's after-work (the agent
 * attaching to the container's output and exit, making its ready namespaces again, the runtime's
 * bookkeeping) would otherwise land inside the next,
 * and a stopped batch's containers are gone from the engine before the next batch begins.
 *
 * The local mode runs on a podman storage of its own, so other local modes and test runs on the
 * machine neither share its containers nor contend for its podman database and locks.
 *
 * Exits 1 only when something breaks (a task that never reaches RUNNING or STOPPED in time, a
 * failed launch), never because a figure is slow: timings on a shared 2-core machine are for
 * reading, not asserting.
 */
import { ECSClient, RegisterTaskDefinitionCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { type IncomingMessage, Server } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LABELS, type ContainerSpec } from '../../agent/runtime/container-runtime';
import { containerLimits } from '../../agent/task-limits';
import { type EngineEvent, exitOf, onEachLine } from '../../agent/runtime/container-exits';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { BUSYBOX_IMAGE } from '../../local/podman';
import { type LocalBerthRuntime, startLocal } from '../../local/runtime';
import { DEFAULT_CLUSTER, taskArn } from '../../shared/domain/arns';
import { DEFAULT_CATALOG, capacityOf, findType } from '../../shared/capacity/catalog';
import { hashBootstrapToken } from '../../shared/lifecycle/reports';
import type { TaskStatus } from '../../shared/domain/task';
import { assertNothingLeft, privateStorage, removeDataDir as removeStorage, removeEngineObjects, stopPodmanService } from './support/bench-storage';
import { progress } from './support/progress';
import { BenchFailure, type LaunchAnswer, type LaunchDone, type LaunchRequest, describe, epochNow, runTasks, sleep, taskIdOf } from './support/ecs-calls';
import { median, percentile } from './support/stats';
import { formatTable, ms, ratio } from './support/table';

// The SDK warns once that its 2027 releases need Node 22; here it would only bury the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Two warm hosts of 16 vCPU / ~30 GiB: room for 50 running tasks of 256 CPU / 512 MiB. */
const HOSTS = { count: 2, type: 'c6i.4xlarge' } as const;
const TASK_SIZE = { cpu: '256', memory: '512' } as const;

/** The quiet time before each measured run: the engine quiet (untilQuiet), then GAP_MS. */
async function quietGap(bench: Bench): Promise<void> {
  await untilQuiet(bench);
  await sleep(GAP_MS);
}

/** Rounds of one bare create+start, one polled launch and (every third round) one unpolled launch. */
const RUNNING_ROUNDS = { blocks: 6, perBlock: 10 } as const;
const TO_STOPPED = 20;
const WARM_UP = 2;
const UNPOLLED_EVERY = 3;
const MEMORY_TASKS = 50;
/** RunTask takes at most 10 tasks per call. */
const MEMORY_WAVE = 10;

const POLL_INTERVAL_MS = 5;
const BATCH_POLL_INTERVAL_MS = 100;
/** The quiet time before each measured launch or bare run. */
const GAP_MS = 200;
const RUNNING_TIMEOUT_MS = 120_000;
const STOPPED_TIMEOUT_MS = 180_000;
/** Time for heaps and the engine to settle before RSS is read. */
const SETTLE_MS = 2_000;
/** How long the agents may take to remove a stopped batch's containers. */
const ENGINE_CLEAR_TIMEOUT_MS = 30_000;

/** Issue 20's goals, each against the bare runtime in the same run. */
const GOAL = {
  p50VsBare: 1.2, p99VsBare: 1.5, exitToStoppedMs: 100, burstVsBare: 1.5, idleTotalMib: 300, loadedTotalMib: 400, agentMib: 40,
} as const;

/** The burst: RunTask calls of BURST.perCall, all sent at once; rounds alternate with the bare burst. */
const BURST = { calls: 10, perCall: 10, rounds: 2 } as const;

// A shell that exits on SIGTERM, so a StopTask needs no stopTimeout's SIGKILL: stopping a block
// costs the stop itself, not a wait.
const LONG_COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];
const QUICK_COMMAND = ['true'];
const FAMILY = { long: 'bench-launch-sleep', quick: 'bench-launch-true' } as const;
const CONTAINER_NAME = 'app';

/** Failures, reported together at the end; any one makes the run exit 1. */
const failures: string[] = [];

function fail(message: string): void {
  failures.push(message);
  console.error(`!!! FAILED: ${message}`);
}

const loadAverage = (): string => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const max = (xs: readonly number[]): number => Math.max(...xs);

// --- the local mode --------------------------------------------------------------------------

interface Bench {
  local: LocalBerthRuntime;
  ecs: ECSClient;
  /** The same podman service the agents use, for the baselines; and the engine itself. */
  runtime: DockerRuntime;
  docker: Docker;
  dataDir: string;
  logs: string[];
  /** Ends the bench's own engine event stream (watchEngineExits). */
  closeEvents?: () => void;
  /** The process that sends the timed launches (startClient), while parts 1 and 2 run. */
  client?: LaunchClient;
}

interface LaunchClient {
  launch(request: Omit<LaunchRequest, 'id'>): Promise<LaunchDone>;
  close(): void;
}

/**
 * Starts the client process (launch-client.ts) that sends the timed launches and polls for them,
 * as a user's CLI or SDK calls the local mode from a process of its own: in this process, the
 * client's SDK work would take turns with the control plane on its one thread.
 */
async function startClient(bench: Bench): Promise<LaunchClient> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'test', 'bench', 'launch-client.ts')], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BERTH_BENCH_CLIENT: JSON.stringify({ endpoint: bench.local.url, credentials: bench.local.credentials }) },
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new BenchFailure(`the client process exited (${code}) before it was ready`)));
  });
  const waiting = new Map<number, { resolve: (done: LaunchDone) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  child.on('message', (answer: LaunchAnswer) => {
    const w = waiting.get(answer.id);
    waiting.delete(answer.id);
    if ('error' in answer) w?.reject(new BenchFailure(answer.error));
    else w?.resolve(answer);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new BenchFailure(`the client process exited (${code})`));
    waiting.clear();
  });
  return {
    launch: (request) => new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ ...request, id });
    }),
    close: () => child.disconnect(),
  };
}

async function startBench(): Promise<Bench> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-launch-'));
  privateStorage(dataDir);
  const logs: string[] = [];
  let local: LocalBerthRuntime;
  try {
    // maxHosts = the warm pool: the capacity manager keeps its hosts idle-ready and never adds
    // a third agent, whose memory would blur part 3.
    local = await startLocal({
      dataDir, port: 0, hosts: HOSTS.count, hostType: HOSTS.type, maxHosts: HOSTS.count,
      log: (line) => logs.push(line),
    });
  } catch (e) {
    // A local mode that fails to start leaves what it started running, and no handle on it.
    stopPodmanService(dataDir);
    removeDataDir(dataDir);
    const tail = logs.slice(-10).join('\n  ');
    throw new BenchFailure(`the local mode did not start: ${e instanceof Error ? e.message : String(e)}${tail ? `\n  ${tail}` : ''}`);
  }
  const ecs = new ECSClient({
    endpoint: local.url, region: 'us-east-1', maxAttempts: 1, credentials: local.credentials,
  });
  return {
    local, ecs, dataDir, logs,
    runtime: new DockerRuntime({ socketPath: local.dockerSocket }),
    docker: new Docker({ socketPath: local.dockerSocket }),
  };
}

async function registerDefinitions(ecs: ECSClient): Promise<void> {
  for (const [family, command] of [[FAMILY.long, LONG_COMMAND], [FAMILY.quick, QUICK_COMMAND]] as const) {
    await ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', ...TASK_SIZE,
      containerDefinitions: [{ name: CONTAINER_NAME, image: BUSYBOX_IMAGE, essential: true, command: [...command], stopTimeout: 5 }],
    }));
  }
}

// --- in-process marks on the task store ------------------------------------------------------

type Mark = 'placed' | 'died' | 'diedAt' | TaskStatus;

/** When each task's writes landed, by task id: the control plane's side of the timeline. */
const marks = new Map<string, Partial<Record<Mark, number>>>();
/** How many DynamoDB requests dynalite had received when each mark was taken. */
const requestMarks = new Map<string, Partial<Record<Mark, number>>>();
const markWaiters = new Map<string, () => void>();

function mark(taskId: string, what: Mark, at = epochNow()): void {
  let m = marks.get(taskId);
  if (!m) marks.set(taskId, (m = {}));
  m[what] ??= at;
  let r = requestMarks.get(taskId);
  if (!r) requestMarks.set(taskId, (r = {}));
  r[what] ??= dynamoRequests;
  markWaiters.get(taskId)?.();
}

/**
 * Wraps the store's bindHost and advance on the shared instance that the workflow steps, the
 * agent API and the ECS API all use, so each task's placement and every status it reaches are
 * stamped the moment their conditional write returns, with no polling.
 */
function hookTaskStore(local: LocalBerthRuntime): void {
  const tasks = local.berth.store.tasks;
  const bindHost = tasks.bindHost.bind(tasks);
  const advance = tasks.advance.bind(tasks);
  tasks.bindHost = async (key, hostId, now) => {
    const r = await bindHost(key, hostId, now);
    if (r) mark(key.taskId, 'placed');
    return r;
  };
  tasks.advance = async (key, change) => {
    const r = await advance(key, change);
    if (r) mark(key.taskId, change.lastStatus);
    return r;
  };
}

/**
 * Stamps each task container's exit as the engine announces it (die, or podman's died), on an
 * event stream of the bench's own, as the stream delivers it: when the engine reported the exit,
 * to set the STOPPED write against (and, apart, the event's own timestamp: podman delivers its
 * events from a file, tens of ms after the exit). Containers are the agents' by their name (containerName: berth-TASKID-CONTAINER).
 */
async function watchEngineExits(bench: Bench): Promise<void> {
  const stream = await bench.docker.getEvents({ filters: { type: ['container'] } }) as NodeJS.ReadableStream & { destroy?: () => void };
  bench.closeEvents = () => stream.destroy?.();
  onEachLine(stream, (line) => {
    const event = JSON.parse(line) as EngineEvent & { timeNano?: number };
    if (!exitOf(event)) return;
    const attributes = event.Actor?.Attributes ?? {};
    const taskId = attributes[LABELS.task] ?? /^berth-([0-9a-f]{32})-/.exec(attributes.name ?? '')?.[1];
    if (!taskId) return;
    mark(taskId, 'died');
    // The engine's own time of the exit, before podman's event file delivered it to anyone.
    if (event.timeNano !== undefined) mark(taskId, 'diedAt', event.timeNano / 1e6);
  });
  stream.on('error', () => {});
}

/** Resolves when the task's `status` write lands (no polling); throws if it stops first. */
function untilWritten(taskId: string, status: 'RUNNING' | 'STOPPED', timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = marks.get(taskId) ?? {};
      const at = m[status];
      if (at === undefined && m.STOPPED === undefined) return;
      markWaiters.delete(taskId);
      clearTimeout(timer);
      if (at !== undefined) resolve(at - performance.timeOrigin);
      else reject(new BenchFailure(`task ${taskId} stopped before ${status}`));
    };
    const timer = setTimeout(() => {
      markWaiters.delete(taskId);
      reject(new BenchFailure(`task ${taskId}: no ${status} written within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    markWaiters.set(taskId, check);
    check();
  });
}

/** DynamoDB requests the local mode's dynalite (a server of this process) has received so far. */
let dynamoRequests = 0;

/** Counts every DynamoDB request that reaches a server of this process: a launch's round trips to the store. */
function countDynamoRequests(): void {
  const emit = Server.prototype.emit;
  Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === 'request' && String((args[0] as IncomingMessage).headers['x-amz-target'] ?? '').startsWith('DynamoDB_')) dynamoRequests++;
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
}

// --- launches through the ECS API ------------------------------------------------------------

/** How the end of a launch is seen: DescribeTasks polled, or the store's write in process. */
type Observer = 'poll' | 'write';

interface Launch {
  taskArn: string;
  taskId: string;
  /** Just before RunTask → the status waited for was seen. */
  latencyMs: number;
  sentAt: number;
  returnedAt: number;
  seenAt: number;
  /** DynamoDB requests received until just before RunTask was sent. */
  requestsBefore: number;
}

/**
 * One RunTask of one task, sent by the bench's client process, timed until `until` is seen the
 * way `observer` says: polled by that client, or the store's write stamped in this process.
 */
async function launch(bench: Bench, family: string, until: 'RUNNING' | 'STOPPED', observer: Observer = 'poll'): Promise<Launch> {
  const timeoutMs = until === 'RUNNING' ? RUNNING_TIMEOUT_MS : STOPPED_TIMEOUT_MS;
  const requestsBefore = dynamoRequests;
  if (!bench.client) throw new BenchFailure('no client process to launch with');
  const answer = await bench.client.launch({ family, ...(observer === 'poll' ? { until } : {}), timeoutMs, pollMs: POLL_INTERVAL_MS });
  const { taskArn: arn, sentAt, returnedAt } = answer;
  const seenAt = answer.seenAt ?? performance.timeOrigin + await untilWritten(taskIdOf(arn), until, timeoutMs);
  if (observer === 'write') {
    // What a user would see agrees with the write (untimed).
    const [task] = await describe(bench.ecs, [arn]);
    if (task.lastStatus !== until) throw new BenchFailure(`task ${taskIdOf(arn)}: ${until} written, but DescribeTasks says ${task.lastStatus}`);
  }
  return { taskArn: arn, taskId: taskIdOf(arn), latencyMs: seenAt - sentAt, sentAt, returnedAt, seenAt, requestsBefore };
}

/** Polls DescribeTasks for many tasks at once, every BATCH_POLL_INTERVAL_MS. */
async function untilAll(ecs: ECSClient, taskArns: string[], status: 'RUNNING' | 'STOPPED', timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const tasks: Task[] = [];
    for (let i = 0; i < taskArns.length; i += 100) tasks.push(...await describe(ecs, taskArns.slice(i, i + 100)));
    const early = status === 'RUNNING' ? tasks.filter((t) => t.lastStatus === 'STOPPED') : [];
    if (early.length > 0) {
      throw new BenchFailure(`${early.length} task(s) stopped before RUNNING, e.g. ${taskIdOf(early[0].taskArn!)}: ${early[0].stopCode}: ${early[0].stoppedReason}`);
    }
    const behind = tasks.filter((t) => t.lastStatus !== status);
    if (behind.length === 0) return;
    if (performance.now() > deadline) {
      throw new BenchFailure(`${behind.length} of ${taskArns.length} task(s) not ${status} within ${timeoutMs / 1000} s ` +
        `(e.g. ${taskIdOf(behind[0].taskArn!)} is ${behind[0].lastStatus})`);
    }
    await sleep(BATCH_POLL_INTERVAL_MS);
  }
}

async function stopTasks(ecs: ECSClient, taskArns: string[]): Promise<void> {
  await Promise.all(taskArns.map((task) => ecs.send(new StopTaskCommand({ task, reason: 'bench:launch' }))));
  await untilAll(ecs, taskArns, 'STOPPED', STOPPED_TIMEOUT_MS);
}

/**
 * Containers of the agents' tasks still in the engine. The agents' ready network namespaces
 * (pause containers, with no task label) stay, as they do on a host between launches.
 */
async function taskContainers(bench: Bench): Promise<number> {
  return (await bench.docker.listContainers({ all: true, filters: { label: [LABELS.task] } })).length;
}

/**
 * Waits until the agents have removed their stopped tasks' containers, which they do after
 * reporting STOPPED, so that work does not land inside the next launches or the next RSS
 * reading. Returns how many are left when `timeoutMs` runs out.
 */
async function untilEngineClear(bench: Bench, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = await taskContainers(bench);
    if (left === 0 || performance.now() > deadline) return left;
    await sleep(BATCH_POLL_INTERVAL_MS);
  }
}

/** How often, and how many times in a row unchanged, the engine is looked at to call it quiet. */
const QUIET = { everyMs: 150, unchanged: 2, timeoutMs: 180_000 } as const;

/**
 * Waits until the engine is quiet: no container being created or started, and nothing appearing
 * or going for QUIET.unchanged looks in a row. An agent makes its ready namespaces again after a
 * launch; that work must land neither inside the next bare run (it would slow the baseline) nor
 * inside the next launch. Returns how many ready namespaces (pause containers no task container
 * names) the engine holds then.
 */
async function untilQuiet(bench: Bench): Promise<number> {
  const deadline = performance.now() + QUIET.timeoutMs;
  let last = '';
  let same = 0;
  for (;;) {
    const all = await bench.docker.listContainers({ all: true });
    const snapshot = all.map((c) => `${c.Id}:${c.State}`).sort().join(',');
    const busy = all.some((c) => c.State !== 'running' && c.State !== 'exited');
    same = !busy && snapshot === last ? same + 1 : 0;
    last = snapshot;
    if (same >= QUIET.unchanged || performance.now() > deadline) {
      const named = new Set(all.map((c) => c.Labels?.[LABELS.namespace]).filter(Boolean));
      return all.filter((c) => c.Labels?.[LABELS.network] !== undefined && c.State === 'running' && !named.has(c.Names?.[0]?.replace(/^\//, ''))).length;
    }
    await sleep(QUIET.everyMs);
  }
}

// --- the bare runtime, the baseline ----------------------------------------------------------

interface BareRun {
  id: string;
  createMs: number;
  startMs: number;
  /** create + start (+ wait, for a container that exits). */
  totalMs: number;
}

let bareSerial = 0;

/**
 * The container the agent creates for the task definition, without Berth's labels: the same
 * image, command and limits (the task's cpu, memory and processes, as task-limits.ts splits them),
 * in a network namespace of its own as an awsvpc task's is, on the engine's default network.
 */
function bareSpec(command: readonly string[]): ContainerSpec {
  const [limits] = containerLimits([{}], { cpu: Number(TASK_SIZE.cpu), memory: Number(TASK_SIZE.memory) });
  return {
    name: `berth-bench-bare-${process.pid}-${++bareSerial}`,
    image: BUSYBOX_IMAGE,
    command: [...command],
    env: [],
    ...limits,
    ulimits: [],
    portMappings: [],
    labels: { 'berth.bench': 'launch' },
  };
}

/** Created, not yet removed: whatever happens, these go at the end. */
const bareContainers = new Set<string>();

async function bareRun(runtime: DockerRuntime, command: readonly string[], wait: boolean): Promise<BareRun> {
  const t0 = performance.now();
  const id = await runtime.create(bareSpec(command));
  bareContainers.add(id);
  const t1 = performance.now();
  await runtime.start(id);
  const t2 = performance.now();
  if (wait) {
    const code = await runtime.wait(id);
    if (code !== 0) throw new BenchFailure(`bare container ${id.slice(0, 12)} exited with ${code}`);
  }
  return { id, createMs: t1 - t0, startMs: t2 - t1, totalMs: performance.now() - t0 };
}

async function removeBare(runtime: DockerRuntime, ids: Iterable<string>): Promise<void> {
  await Promise.all([...ids].map(async (id) => {
    await runtime.remove(id);
    bareContainers.delete(id);
  }));
}

// --- memory ----------------------------------------------------------------------------------

type MemoryField = 'VmRSS' | 'VmHWM';

function procStatusKb(pid: number, field: MemoryField): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone
  }
}

interface ProcessInfo {
  pid: number;
  ppid: number;
  comm: string;
}

function processes(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      out.push({ pid: Number(entry), ppid: Number(stat.slice(close + 2).split(' ')[1]), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The process and everything below it. */
function tree(pid: number, all: readonly ProcessInfo[]): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) for (const p of all) if (p.ppid === pids[i]) pids.push(p.pid);
  return pids;
}

const sumKb = (pids: readonly number[], field: MemoryField): number => pids.reduce((s, p) => s + procStatusKb(p, field), 0);

interface MemoryParts {
  /** This process: the control plane, the bench's client, and the agents' threads. */
  processKb: number;
  agents: number;
  /**
   * What this process started besides podman's service: the local ELBv2's HAProxy, and what the
   * agents run briefly (nsenter, iptables ...). Shown, but not in `totalKb`, which is the goal's
   * (control plane, agents, podman service) as it was when agents were processes.
   */
  childrenKb: number;
  podmanKb: number;
  totalKb: number;
  /** podman's per-container monitors: a cost of running containers at all, not Berth's; not in the total. */
  conmonKb: number;
  conmons: number;
}

/**
 * RSS of this process (dynalite, the APIs, the workflows, the capacity manager, the bench's own
 * ECS client, and every agent, each a worker thread of it: local/fleet.ts), of what it spawned
 * besides podman, and of podman's service with what it spawned.
 */
function sampleMemory(bench: Bench, field: MemoryField): MemoryParts {
  const all = processes();
  const podmanPidFile = join(bench.dataDir, 'podman.pid');
  const podmanPid = existsSync(podmanPidFile) ? Number(readFileSync(podmanPidFile, 'utf8')) : undefined;
  const processKb = procStatusKb(process.pid, field);
  const podmanTree = podmanPid ? tree(podmanPid, all) : [];
  const podmanKb = sumKb(podmanTree, field);
  const childrenKb = sumKb(tree(process.pid, all).filter((p) => p !== process.pid && !podmanTree.includes(p)), field);
  const storage = join(bench.dataDir, 'storage');
  const conmons = all.filter((p) => p.comm === 'conmon').map((p) => p.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(storage);
    } catch {
      return false;
    }
  });
  return {
    processKb, agents: bench.local.fleet.agents.size, childrenKb, podmanKb, totalKb: processKb + podmanKb,
    conmonKb: sumKb(conmons, field), conmons: conmons.length,
  };
}

/** What one more idle agent costs: this process's RSS before it starts and once it has registered and settled. */
interface AgentProbe {
  beforeKb: number;
  afterKb: number;
}

/**
 * Agents are threads of this process, so no reading of /proc tells one agent's memory apart. A
 * fair share is what one more costs: a third host launched as the capacity manager launches one
 * (its launch recorded with a bootstrap token, its agent started by the local fleet provider),
 * measured as this process's RSS growth from just before its agent starts until it has
 * registered, filled its pool of ready namespaces and settled; then terminated as the capacity
 * manager terminates a host, with nothing of it left. Taken after the first two agents, on a
 * process whose memory has not been through a run's tasks, so memory freed earlier cannot hide
 * the new agent's cost.
 */
async function probeAgentThread(bench: Bench): Promise<AgentProbe> {
  const { provider, berth } = bench.local;
  const [launched] = await provider.launch({ instanceType: HOSTS.type, market: 'on-demand', count: 1, clientToken: `bench-probe-${randomUUID()}` });
  const type = findType(DEFAULT_CATALOG, HOSTS.type)!;
  const { hostId } = launched;
  await berth.store.hosts.launching({
    hostId, instanceType: launched.instanceType, market: launched.market, ...capacityOf(type),
    bootstrapTokenHash: hashBootstrapToken(launched.bootstrapToken!),
  }, Date.now());
  // The provider starts the agent after its boot delay (none locally): the sample before it is
  // taken now, on this turn, before any timer runs.
  const beforeKb = procStatusKb(process.pid, 'VmRSS');
  const deadline = Date.now() + RUNNING_TIMEOUT_MS;
  while ((await berth.store.hosts.get(hostId))?.status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new BenchFailure(`the probe host ${hostId} did not register`);
    await sleep(50);
  }
  await sleep(SETTLE_MS);
  const afterKb = procStatusKb(process.pid, 'VmRSS');
  await provider.terminate([hostId]);
  await berth.store.hosts.transition(hostId, 'TERMINATED', ['LAUNCHING', 'ACTIVE', 'DRAINING'], { endedAt: Date.now() });
  return { beforeKb, afterKb };
}

/** An idle Node.js process started with `args`: what one process costs before it does anything. */
async function idleNodeRssKb(args: string[]): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [...args, '-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  try {
    await sleep(SETTLE_MS);
    return procStatusKb(child.pid!, 'VmRSS');
  } finally {
    child.kill('SIGKILL');
  }
}

const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;

/** The control plane's own V8 isolate (the main thread's; each agent's heap is its thread's): where its memory sits. */
function mainIsolate(): string {
  const m = process.memoryUsage();
  return `control plane's isolate: heap ${mib(m.heapUsed / 1024)} used of ${mib(m.heapTotal / 1024)}, ` +
    `external ${mib(m.external / 1024)} (array buffers ${mib(m.arrayBuffers / 1024)})`;
}

// --- where the time goes ---------------------------------------------------------------------

/** One launch's timeline, epoch ms: this process's marks, the task's own timestamps, the poll. */
type Timeline = Partial<Record<string, number>>;

async function timelineOf(bench: Bench, l: Launch): Promise<Timeline> {
  const task = await bench.local.berth.store.tasks.get({ cluster: DEFAULT_CLUSTER, taskId: l.taskId });
  const m = marks.get(l.taskId) ?? {};
  return {
    sent: l.sentAt,
    returned: l.returnedAt,
    createdAt: task?.createdAt,
    placed: m.placed,
    pullStartedAt: task?.pullStartedAt,
    pullStoppedAt: task?.pullStoppedAt,
    startedAt: task?.startedAt,
    running: m.RUNNING,
    stopping: m.STOPPING,
    stopped: m.STOPPED,
    died: m.died,
    diedAt: m.diedAt,
    seen: l.seenAt,
  };
}

interface Stage {
  label: string;
  from: string;
  to: string;
}

const RUNNING_STAGES: Stage[] = [
  { label: 'RunTask sent → task stamped createdAt (SDK, HTTP, validation, token claim)', from: 'sent', to: 'createdAt' },
  { label: 'createdAt → placed (task written, then reserved and bound, PENDING, by RunTask)', from: 'createdAt', to: 'placed' },
  { label: 'placed → agent begins (host woken, long-poll answer, reconcile)', from: 'placed', to: 'pullStartedAt' },
  { label: 'image check (hasImage)', from: 'pullStartedAt', to: 'pullStoppedAt' },
  { label: 'create + start (agent → podman: the task\'s network and containers)', from: 'pullStoppedAt', to: 'startedAt' },
  { label: 'started → RUNNING written (report)', from: 'startedAt', to: 'running' },
  { label: 'RUNNING written → seen by DescribeTasks (poll)', from: 'running', to: 'seen' },
  { label: 'total: RunTask sent → RUNNING seen', from: 'sent', to: 'seen' },
  { label: '(RunTask response received)', from: 'sent', to: 'returned' },
];

const STOPPED_STAGES: Stage[] = [
  { label: 'RunTask sent → agent begins', from: 'sent', to: 'pullStartedAt' },
  { label: 'image check, create + start (agent → podman)', from: 'pullStartedAt', to: 'startedAt' },
  { label: 'started → RUNNING written (report)', from: 'startedAt', to: 'running' },
  { label: 'RUNNING → STOPPING written (exit seen, report)', from: 'running', to: 'stopping' },
  { label: 'STOPPING → STOPPED written (output drained, report)', from: 'stopping', to: 'stopped' },
  { label: '  RUNNING written → the engine\'s exit event received (bench\'s stream)', from: 'running', to: 'died' },
  { label: '  exit event received → STOPPING written', from: 'died', to: 'stopping' },
  { label: '  exit event received → STOPPED written', from: 'died', to: 'stopped' },
  { label: '  exit, by the event\'s own timestamp → event received', from: 'diedAt', to: 'died' },
  { label: '  exit, by the event\'s own timestamp → STOPPED written', from: 'diedAt', to: 'stopped' },
  { label: 'STOPPED written → seen by DescribeTasks (poll)', from: 'stopped', to: 'seen' },
  { label: 'total: RunTask sent → STOPPED seen', from: 'sent', to: 'seen' },
];

const between = (t: Timeline, from: string, to: string): number | undefined =>
  t[from] !== undefined && t[to] !== undefined ? t[to]! - t[from]! : undefined;

/** Each stage's p50, mean, p99 and count; and its p50 in the `other` launches, when given. */
function stageRows(stages: Stage[], timelines: Timeline[], other?: Timeline[]): string[][] {
  const durations = (ts: Timeline[], s: Stage) => ts.map((t) => between(t, s.from, s.to)).filter((x): x is number => x !== undefined);
  return stages.map((s) => {
    const d = durations(timelines, s);
    const row = d.length === 0
      ? [s.label, '—', '—', '—', '0']
      : [s.label, ms(median(d)), ms(mean(d)), ms(percentile(d, 99)), String(d.length)];
    if (!other) return row;
    const o = durations(other, s);
    return [...row, o.length === 0 ? '—' : ms(median(o))];
  });
}

// --- the parts -------------------------------------------------------------------------------

interface RunningPart {
  polled: Launch[];
  unpolled: Launch[];
  bare: BareRun[];
  timelines: Timeline[];
  unpolledTimelines: Timeline[];
}

/**
 * Blocks of rounds; each round is a bare create+start, a launch seen through DescribeTasks and,
 * every third round, a launch seen through the store's write. After each block its bare
 * containers are removed and its tasks stopped, so hosts never fill.
 */
async function measureRunning(bench: Bench): Promise<RunningPart> {
  const part: RunningPart = { polled: [], unpolled: [], bare: [], timelines: [], unpolledTimelines: [] };
  for (let block = 1; block <= RUNNING_ROUNDS.blocks; block++) {
    const bare: BareRun[] = [];
    const polled: Launch[] = [];
    const unpolled: Launch[] = [];
    for (let i = 0; i < RUNNING_ROUNDS.perBlock; i++) {
      await quietGap(bench);
      bare.push(await bareRun(bench.runtime, LONG_COMMAND, false));
      await quietGap(bench);
      polled.push(await launch(bench, FAMILY.long, 'RUNNING', 'poll'));
      if (i % UNPOLLED_EVERY === UNPOLLED_EVERY - 1) {
        await quietGap(bench);
        unpolled.push(await launch(bench, FAMILY.long, 'RUNNING', 'write'));
      }
    }
    await removeBare(bench.runtime, bare.map((b) => b.id));
    await stopTasks(bench.ecs, [...polled, ...unpolled].map((l) => l.taskArn));
    await untilEngineClear(bench, ENGINE_CLEAR_TIMEOUT_MS);
    part.bare.push(...bare);
    part.polled.push(...polled);
    part.unpolled.push(...unpolled);
    progress(`  block ${block}/${RUNNING_ROUNDS.blocks}: bare create+start p50 ${ms(median(bare.map((b) => b.totalMs)))}, ` +
      `RunTask → RUNNING p50 ${ms(median(polled.map((l) => l.latencyMs)))} (max ${ms(max(polled.map((l) => l.latencyMs)))}), ` +
      `unpolled p50 ${ms(median(unpolled.map((l) => l.latencyMs)))}; load average ${loadAverage()}`);
  }
  part.timelines = await Promise.all(part.polled.map((l) => timelineOf(bench, l)));
  part.unpolledTimelines = await Promise.all(part.unpolled.map((l) => timelineOf(bench, l)));
  return part;
}

interface StoppedPart {
  launches: Launch[];
  bare: BareRun[];
  timelines: Timeline[];
}

async function measureStopped(bench: Bench): Promise<StoppedPart> {
  const launches: Launch[] = [];
  const bare: BareRun[] = [];
  for (let i = 0; i < TO_STOPPED; i++) {
    await quietGap(bench);
    const b = await bareRun(bench.runtime, QUICK_COMMAND, true);
    await removeBare(bench.runtime, [b.id]);
    bare.push(b);
    await quietGap(bench);
    launches.push(await launch(bench, FAMILY.quick, 'STOPPED'));
    await untilEngineClear(bench, ENGINE_CLEAR_TIMEOUT_MS);
  }
  const timelines = await Promise.all(launches.map((l) => timelineOf(bench, l)));
  return { launches, bare, timelines };
}

/** Launches in waves of RunTask count=10, each wave waited to RUNNING. */
async function launchMany(bench: Bench, count: number): Promise<string[]> {
  const taskArns: string[] = [];
  for (let n = 0; n < count; n += MEMORY_WAVE) {
    const wave = await runTasks(bench.ecs, FAMILY.long, Math.min(MEMORY_WAVE, count - n));
    taskArns.push(...wave);
    await untilAll(bench.ecs, wave, 'RUNNING', RUNNING_TIMEOUT_MS);
  }
  return taskArns;
}

interface BurstRound {
  /** First RunTask sent → last task's RUNNING written. */
  berthMs: number;
  /** First create sent → last start answered. */
  bareMs: number;
  /** Each task's timeline, with `sent` the moment the first RunTask went out. */
  timelines: Timeline[];
  /** Ready namespaces on the hosts when the burst began. */
  readyBefore: number;
}

/** Where a burst goes: each mark's time after the first RunTask was sent, for the median task and the last. */
const BURST_MARKS: { label: string; mark: string }[] = [
  { label: 'task stamped createdAt (RunTask in)', mark: 'createdAt' },
  { label: 'placed (bound to its host, PENDING)', mark: 'placed' },
  { label: 'agent begins (pullStartedAt)', mark: 'pullStartedAt' },
  { label: 'image checked (pullStoppedAt)', mark: 'pullStoppedAt' },
  { label: 'containers started (startedAt)', mark: 'startedAt' },
  { label: 'RUNNING written', mark: 'running' },
];

function burstRows(rounds: readonly BurstRound[]): string[][] {
  const after = (mark: string) => rounds.flatMap((r) => r.timelines.map((t) => between(t, 'sent', mark)).filter((x): x is number => x !== undefined));
  const lastOf = (mark: string) => rounds.map((r) => Math.max(...r.timelines.map((t) => between(t, 'sent', mark) ?? -Infinity)));
  const rows = BURST_MARKS.map(({ label, mark }) => {
    const d = after(mark);
    return d.length === 0 ? [label, '—', '—', '0'] : [label, ms(median(d)), ms(mean(lastOf(mark))), String(d.length)];
  });
  // Each task's own agent work: from its agent beginning until its containers started.
  const own = rounds.flatMap((r) => r.timelines.map((t) => between(t, 'pullStartedAt', 'startedAt')).filter((x): x is number => x !== undefined));
  if (own.length > 0) rows.push(['  each task: agent begins → containers started', ms(median(own)), `max ${ms(max(own))}`, String(own.length)]);
  return rows;
}

/**
 * BURST.calls RunTask calls of BURST.perCall sent at once, until every task's RUNNING is written
 * (in process: DescribeTasks polling of 100 tasks would compete with the launches), beside as many
 * bare create + starts sent at once; the two alternate, bare first, then both are cleared.
 */
async function measureBurst(bench: Bench): Promise<BurstRound[]> {
  const rounds: BurstRound[] = [];
  const count = BURST.calls * BURST.perCall;
  for (let round = 1; round <= BURST.rounds; round++) {
    await quietGap(bench);
    const b0 = performance.now();
    const bare = await Promise.all(Array.from({ length: count }, () => bareRun(bench.runtime, LONG_COMMAND, false)));
    const bareMs = performance.now() - b0;
    await removeBare(bench.runtime, bare.map((b) => b.id));
    const readyBefore = await untilQuiet(bench);
    await sleep(GAP_MS);
    const t0 = performance.now();
    const arns = (await Promise.all(Array.from({ length: BURST.calls }, () => runTasks(bench.ecs, FAMILY.long, BURST.perCall)))).flat();
    const written = await Promise.all(arns.map((arn) => untilWritten(taskIdOf(arn), 'RUNNING', RUNNING_TIMEOUT_MS)));
    const berthMs = Math.max(...written) - t0;
    await untilAll(bench.ecs, arns, 'RUNNING', RUNNING_TIMEOUT_MS);
    const sentAt = performance.timeOrigin + t0;
    const timelines = await Promise.all(arns.map((arn) =>
      timelineOf(bench, { taskArn: arn, taskId: taskIdOf(arn), latencyMs: 0, sentAt, returnedAt: sentAt, seenAt: sentAt, requestsBefore: 0 })));
    await stopTasks(bench.ecs, arns);
    await untilEngineClear(bench, ENGINE_CLEAR_TIMEOUT_MS);
    rounds.push({ berthMs, bareMs, timelines, readyBefore });
    progress(`  round ${round}/${BURST.rounds}: ${count} bare create+starts ${ms(bareMs)}, ${count} tasks RUNNING ${ms(berthMs)} ` +
      `(${ratio(berthMs, bareMs)}), ${readyBefore} namespaces ready before it; load average ${loadAverage()}`);
  }
  return rounds;
}

// --- cleanup ---------------------------------------------------------------------------------

/** Stops every task still open, removes every container in the bench's storage, closes it all. */
async function cleanUp(bench: Bench): Promise<void> {
  try {
    const open = (await bench.local.berth.store.tasks.list(DEFAULT_CLUSTER)).filter((t) => t.lastStatus !== 'STOPPED');
    if (open.length > 0) {
      progress(`cleanup: stopping ${open.length} task(s) still open`);
      await stopTasks(bench.ecs, open.map((t) => taskArn(bench.local.berth.partition, t.cluster, t.taskId)));
    }
  } catch (e) {
    fail(`cleanup: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    // The storage is the bench's alone, so every container in it is ours. Agents leave theirs
    // running when they stop, for the next agent to adopt; here there is no next one.
    const hostIds = [...bench.local.fleet.agents.keys()];
    const left = await bench.docker.listContainers({ all: true }).catch(() => []);
    await removeBare(bench.runtime, [...bareContainers, ...left.map((c) => c.Id)])
      .catch((e: unknown) => fail(`cleanup: removing containers: ${String(e)}`));
    // Networks are not in the storage but in podman's shared configuration: only those our
    // hosts made are ours.
    const networks = await bench.docker.listNetworks().catch(() => []);
    await Promise.all(networks
      .filter((n) => hostIds.includes(n.Labels?.[LABELS.host] ?? ''))
      .map((n) => bench.docker.getNetwork(n.Id).remove().catch(() => {})));
    bench.closeEvents?.();
    bench.client?.close();
    bench.ecs.destroy();
    await bench.local.close({ discard: true });
    try {
      removeEngineObjects(bench.dataDir);
      assertNothingLeft([bench.dataDir]);
    } catch (e) {
      fail(`cleanup: ${String(e)}`);
    }
    removeDataDir(bench.dataDir);
  }
}

/** Removes the data directory; what cannot be removed is a failure of the run. */
function removeDataDir(dataDir: string): void {
  try {
    removeStorage(dataDir);
  } catch (e) {
    fail(`cleanup: could not remove ${dataDir}: ${String(e)}`);
  }
}

// --- the run ---------------------------------------------------------------------------------

const goal = (met: boolean, text: string): string => `${text}: ${met ? 'met' : 'NOT met'}`;

type Statistic = 'p50' | 'p99' | 'mean' | 'max';
const STATISTICS: Record<Statistic, (xs: readonly number[]) => number> = {
  p50: median, p99: (xs) => percentile(xs, 99), mean, max,
};

function latencyRows(
  what: string, figures: readonly number[], baseline: readonly number[], baselineWhat: string,
  statistics: Statistic[], goals: Partial<Record<Statistic, (figure: number, baseline: number) => string>> = {},
): string[][] {
  return statistics.map((name) => {
    const f = STATISTICS[name](figures);
    const b = STATISTICS[name](baseline);
    return [`${what} ${name}`, ms(f), `${ms(b)} ${baselineWhat} ${name}`, ratio(f, b), goals[name]?.(f, b) ?? '—'];
  });
}

async function main(): Promise<void> {
  progress(`bench:launch on ${process.version}, ${os.cpus().length} cpus, load average ${loadAverage()}`);

  countDynamoRequests();
  progress('baseline: an idle `node -e`, and one under tsx (what a TypeScript loader adds) ...');
  const bareNodeKb = await idleNodeRssKb([]);
  const tsxNodeKb = await idleNodeRssKb(['--import', 'tsx']);
  progress(`  node -e ${mib(bareNodeKb)}, node --import tsx -e ${mib(tsxNodeKb)}`);

  progress(`starting the local mode: a warm pool of ${HOSTS.count} × ${HOSTS.type}, on a podman storage of its own ...`);
  const t0 = performance.now();
  let bench: Bench;
  try {
    bench = await startBench();
  } catch (e) {
    fail(e instanceof BenchFailure ? e.message : `crashed: ${e instanceof Error ? e.stack : String(e)}`);
    // What the failed start left open (its servers, the store) would keep this process alive;
    // the agents end with it.
    process.exit(1);
  }
  try {
    hookTaskStore(bench.local);
    await watchEngineExits(bench);
    await registerDefinitions(bench.ecs);
    const hosts = (await bench.local.berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE');
    if (hosts.length !== HOSTS.count) throw new BenchFailure(`${hosts.length} ACTIVE host(s), expected ${HOSTS.count}`);
    progress(`  up in ${ms(performance.now() - t0)}: hosts ${hosts.map((h) => `${h.hostId} (${h.cpu} CPU / ${h.memory} MiB)`).join(', ')}`);

    await sleep(SETTLE_MS);
    const idle = sampleMemory(bench, 'VmRSS');
    progress(`memory, idle: this process (control plane and ${idle.agents} agent threads) ${mib(idle.processKb)}, ` +
      `podman service ${mib(idle.podmanKb)}, total ${mib(idle.totalKb)}; this process's other children (HAProxy ...) ${mib(idle.childrenKb)}`);
    progress(`  ${mainIsolate()}`);
    progress('memory: one more idle agent thread (a probe host, launched, registered, settled, then terminated) ...');
    const probe = await probeAgentThread(bench);
    const agentKb = probe.afterKb - probe.beforeKb;
    progress(`  this process ${mib(probe.beforeKb)} → ${mib(probe.afterKb)}: ${mib(agentKb)} per idle agent thread`);

    progress(`warm-up (untimed): ${WARM_UP} launches and ${WARM_UP} bare runs of each container; the timed launches are sent from a client process of their own`);
    bench.client = await startClient(bench);
    for (let i = 0; i < WARM_UP; i++) {
      const running = await launch(bench, FAMILY.long, 'RUNNING');
      await stopTasks(bench.ecs, [running.taskArn]);
      await launch(bench, FAMILY.quick, 'STOPPED');
      const b1 = await bareRun(bench.runtime, LONG_COMMAND, false);
      const b2 = await bareRun(bench.runtime, QUICK_COMMAND, true);
      await removeBare(bench.runtime, [b1.id, b2.id]);
    }

    const rounds = RUNNING_ROUNDS.blocks * RUNNING_ROUNDS.perBlock;
    progress(`RunTask → RUNNING: ${rounds} rounds of a bare create+start and a launch seen through DescribeTasks ` +
      `(polled every ${POLL_INTERVAL_MS} ms), plus, every ${UNPOLLED_EVERY} rounds, a launch seen through the store's write; ` +
      `the engine quiet and ${GAP_MS} ms before each; stopped in blocks of ${RUNNING_ROUNDS.perBlock} ...`);
    const running = await measureRunning(bench);

    progress(`RunTask → STOPPED for \`true\`: ${TO_STOPPED} rounds of a bare create+start+wait and a launch ...`);
    const stopped = await measureStopped(bench);
    progress(`  bare p50 ${ms(median(stopped.bare.map((b) => b.totalMs)))}, Berth p50 ${ms(median(stopped.launches.map((l) => l.latencyMs)))}`);

    bench.client.close();
    bench.client = undefined;
    progress(`memory: launching ${MEMORY_TASKS} tasks, RunTask ×${MEMORY_WAVE} at a time ...`);
    const t1 = performance.now();
    const many = await launchMany(bench, MEMORY_TASKS);
    progress(`  ${MEMORY_TASKS} RUNNING after ${ms(performance.now() - t1)}`);
    await sleep(SETTLE_MS);
    const loaded = sampleMemory(bench, 'VmRSS');
    progress(`memory, ${MEMORY_TASKS} running: this process (control plane and ${loaded.agents} agent threads) ${mib(loaded.processKb)}, ` +
      `podman service ${mib(loaded.podmanKb)}, total ${mib(loaded.totalKb)}; this process's other children (HAProxy ...) ` +
      `${mib(loaded.childrenKb)}, ${loaded.conmons} conmon ${mib(loaded.conmonKb)}`);
    progress(`  ${mainIsolate()}`);

    progress(`stopping the ${MEMORY_TASKS} tasks ...`);
    const t2 = performance.now();
    await stopTasks(bench.ecs, many);
    progress(`  all STOPPED after ${ms(performance.now() - t2)}`);
    const left = await untilEngineClear(bench, ENGINE_CLEAR_TIMEOUT_MS);
    progress(left === 0
      ? `  their containers all removed by the agents after ${ms(performance.now() - t2)}`
      : `  !!! ${left} container(s) of stopped tasks still in the engine after ${ENGINE_CLEAR_TIMEOUT_MS / 1000} s`);
    await sleep(SETTLE_MS);
    const after = sampleMemory(bench, 'VmRSS');
    const peak = sampleMemory(bench, 'VmHWM');
    progress(`memory, idle after the run: total ${mib(after.totalKb)}; peak (VmHWM) total ${mib(peak.totalKb)}`);
    progress(`  ${mainIsolate()}`);

    progress(`burst: ${BURST.calls} RunTask calls of ${BURST.perCall} sent at once, beside ${BURST.calls * BURST.perCall} bare create+starts sent at once; ${BURST.rounds} rounds of each ...`);
    const burst = await measureBurst(bench);
    // The agents keep namespaces ready for another burst as large: what that holds, once made.
    const readyAfterBurst = await untilQuiet(bench);
    const afterBurst = sampleMemory(bench, 'VmRSS');
    progress(`memory after the burst, ${readyAfterBurst} namespaces ready: total ${mib(afterBurst.totalKb)} (podman service ${mib(afterBurst.podmanKb)}), ` +
      `${afterBurst.conmons} conmon ${mib(afterBurst.conmonKb)}`);
    progress(`done; load average ${loadAverage()}`);

    // --- results ---
    const polled = running.polled.map((l) => l.latencyMs);
    const unpolled = running.unpolled.map((l) => l.latencyMs);
    const bareRunning = running.bare.map((b) => b.totalMs);
    const written = running.timelines.map((t) => between(t, 'sent', 'running')).filter((x): x is number => x !== undefined);
    const berthStopped = stopped.launches.map((l) => l.latencyMs);
    const bareStopped = stopped.bare.map((b) => b.totalMs);
    const bareCS = `bare create+start (×${bareRunning.length})`;

    const vsBare = {
      p50: (f: number, b: number) => goal(f <= GOAL.p50VsBare * b, `≤ ${GOAL.p50VsBare}× bare p50`),
      p99: (f: number, b: number) => goal(f <= GOAL.p99VsBare * b, `≤ ${GOAL.p99VsBare}× bare p99`),
    };
    const exitToStopped = stopped.timelines.map((t) => between(t, 'died', 'stopped')).filter((x): x is number => x !== undefined);
    const burstBerth = burst.map((r) => r.berthMs);
    const burstBare = burst.map((r) => r.bareMs);
    const burstCount = BURST.calls * BURST.perCall;
    const rows: string[][] = [
      ...latencyRows(`RunTask → RUNNING (×${polled.length})`, polled, bareRunning, bareCS, ['p50', 'p99', 'mean', 'max'], vsBare),
      ...latencyRows('  same launches, until RUNNING written', written, bareRunning, bareCS, ['p50', 'p99']),
      ...latencyRows(`  no client polling (×${unpolled.length})`, unpolled, bareRunning, bareCS, ['p50', 'p99'], vsBare),
      ...latencyRows(`RunTask → STOPPED, \`true\` (×${berthStopped.length})`, berthStopped, bareStopped,
        `bare create+start+wait (×${bareStopped.length})`, ['p50', 'p99']),
      exitToStopped.length === 0
        ? ['exit event → STOPPED written p50', '—', 'no exit event seen', '—', '—']
        : [`exit event → STOPPED written (×${exitToStopped.length}) p50`, ms(median(exitToStopped)), `${GOAL.exitToStoppedMs} ms goal`,
          ratio(median(exitToStopped), GOAL.exitToStoppedMs), goal(median(exitToStopped) <= GOAL.exitToStoppedMs, `≤ ${GOAL.exitToStoppedMs} ms`)],
      ...burst.map((r, i) => [`${burstCount} at once (${BURST.calls} RunTask of ${BURST.perCall}) → all RUNNING, round ${i + 1} (${r.readyBefore} ready)`,
        ms(r.berthMs), `${ms(r.bareMs)} ${burstCount} bare create+starts at once`, ratio(r.berthMs, r.bareMs), '—']),
      [`${burstCount} at once → all RUNNING, mean of ${burst.length}`, ms(mean(burstBerth)), `${ms(mean(burstBare))} bare, mean`,
        ratio(mean(burstBerth), mean(burstBare)), goal(mean(burstBerth) <= GOAL.burstVsBare * mean(burstBare), `≤ ${GOAL.burstVsBare}× bare`)],
    ];
    const memoryRow = (what: string, m: MemoryParts): string[] =>
      [what, mib(m.totalKb), `${mib(bareNodeKb)} idle node -e`, ratio(m.totalKb, bareNodeKb), '—'];
    rows.push(
      [...memoryRow(`RSS idle, ${idle.agents} hosts (total)`, idle).slice(0, 4), goal(idle.totalKb <= GOAL.idleTotalMib * 1024, `≤ ${GOAL.idleTotalMib} MiB`)],
      [...memoryRow(`RSS ${MEMORY_TASKS} running tasks (total)`, loaded).slice(0, 4), goal(loaded.totalKb <= GOAL.loadedTotalMib * 1024, `≤ ${GOAL.loadedTotalMib} MiB`)],
      memoryRow('RSS peak over the run (VmHWM, total)', peak),
      ['RSS of one more idle agent (thread)', mib(agentKb), `${mib(bareNodeKb)} idle node -e`, ratio(agentKb, bareNodeKb),
        goal(agentKb <= GOAL.agentMib * 1024, `≤ ${GOAL.agentMib} MiB`)],
    );

    console.log('\nResults (each figure beside its baseline, measured in this run)\n');
    console.log(formatTable(['measure', 'figure', 'baseline', 'ratio', 'goal'], rows));
    console.log([
      '',
      `RunTask → RUNNING / STOPPED: from just before RunTask until DescribeTasks (@aws-sdk/client-ecs, in a client process`,
      `of its own, as a user's) first shows the status, polled every ${POLL_INTERVAL_MS} ms, so up to ${POLL_INTERVAL_MS} ms and one DescribeTasks round trip of each figure are the`,
      `poll's. "until RUNNING written": the same launches, until the agent's RUNNING report was written to the task`,
      `store (stamped in process). "no client polling": other launches, waited for in process on that write, so no`,
      `DescribeTasks load competes with the launch. Bare: DockerRuntime create + start (+ wait) of the same container`,
      `(the task's cpu, memory and process limits) on the same podman socket, alternating with the launches; before`,
      `each run of either, the engine quiet (nothing being created or started: the agents' ready namespaces made) and ${GAP_MS} ms.`,
      `"exit event → STOPPED written": from the engine's exit event of the task's container, as an event stream of the`,
      `bench's own receives it, until the agent's STOPPED report is written (the \`true\` launches). "at once": every`,
      `RunTask call sent together, until the last task's RUNNING is written; bare: as many create + starts sent together.`,
    ].join('\n'));

    const memoryParts = (what: string, pick: (m: MemoryParts) => number): string[] => [
      what, mib(pick(idle)), ratio(pick(idle), bareNodeKb), mib(pick(loaded)), ratio(pick(loaded), bareNodeKb),
      mib(pick(after)), mib(pick(peak)), ratio(pick(peak), bareNodeKb),
    ];
    console.log(`\nMemory (RSS), each beside an idle \`node -e\`: ${mib(bareNodeKb)} (an idle node under tsx: ${mib(tsxNodeKb)}; ` +
      `this process runs ${process.execArgv.some((a) => a.includes('tsx')) ? 'under tsx' : 'bundled, as npm start runs the control plane'})\n`);
    console.log(formatTable(
      ['process', 'idle', 'ratio', `${MEMORY_TASKS} running`, 'ratio', 'idle after', 'peak (VmHWM)', 'ratio'],
      [
        memoryParts(`this process: control plane (with the bench's client) and ${idle.agents} agent threads`, (m) => m.processKb),
        memoryParts(`  of which the agents, at ${mib(agentKb)} each (see below)`, (m) => m.agents * agentKb),
        memoryParts('  the rest: the control plane, by difference', (m) => m.processKb - m.agents * agentKb),
        memoryParts('podman service', (m) => m.podmanKb),
        memoryParts('total (control plane, agents, podman service: the goal\'s)', (m) => m.totalKb),
        memoryParts('this process\'s other children: the local ELBv2\'s HAProxy, brief ones (not in the total)', (m) => m.childrenKb),
        memoryParts('  total with them', (m) => m.totalKb + m.childrenKb),
        [`conmon ×${loaded.conmons} (podman's, one per container; not in the total)`,
          mib(idle.conmonKb), '—', mib(loaded.conmonKb), '—', mib(after.conmonKb), '—', '—'],
      ],
    ));
    console.log([
      '',
      `Each agent is a worker thread of this process (local/fleet.ts), so /proc cannot tell one agent's memory from the`,
      `control plane's. An agent's share is what one more costs: this process's RSS growth (VmRSS) from just before a`,
      `third host's agent started until it had registered, filled its ready namespaces and settled ${SETTLE_MS / 1000} s`,
      `(${mib(probe.beforeKb)} → ${mib(probe.afterKb)}), measured once, idle, right after the idle sample; the host was then`,
      `terminated. "of which the agents" is that figure times the agents running; an agent with tasks holds more (its`,
      `tasks' state and streams), which the "control plane, by difference" row then carries. The total is exact: all`,
      `of this process's RSS and podman's service's (with its children); HAProxy and other children are shown apart.`,
    ].join('\n'));

    console.log(`\nWhere RunTask → RUNNING goes (the ×${running.timelines.length} polled launches, and the p50 of the ` +
      `×${running.unpolledTimelines.length} without client polling; the agent's timestamps are whole ms, the control ` +
      'plane\'s marks are taken as each conditional write returns)\n');
    const breakdown = stageRows(RUNNING_STAGES, running.timelines, running.unpolledTimelines);
    breakdown.splice(6, 0, ['  bare create + start, for comparison', ms(median(bareRunning)), ms(mean(bareRunning)),
      ms(percentile(bareRunning, 99)), String(bareRunning.length), '—']);
    console.log(formatTable(['stage', 'p50', 'mean', 'p99', 'n', 'p50, no polling'], breakdown));
    console.log(`bare create alone p50 ${ms(median(running.bare.map((b) => b.createMs)))}, ` +
      `start alone p50 ${ms(median(running.bare.map((b) => b.startMs)))}`);
    const requests = (ls: readonly Launch[]) => ls.map((l) => (requestMarks.get(l.taskId)?.RUNNING ?? NaN) - l.requestsBefore).filter((n) => !Number.isNaN(n));
    const requestRange = (ns: readonly number[]) => (ns.length === 0 ? '—' : `p50 ${median(ns)}, min ${Math.min(...ns)}, max ${max(ns)}`);
    console.log(`DynamoDB requests from RunTask sent until RUNNING written (the background's, heartbeats and scans, included): ` +
      `${requestRange(requests(running.unpolled))} without client polling; ${requestRange(requests(running.polled))} polled (DescribeTasks' reads included)`);

    console.log(`\nWhere the burst goes (${burstCount} tasks at once, ${burst.length} round(s); from the first RunTask sent; ` +
      `bare: ${ms(mean(burstBare))} for ${burstCount} create+starts, mean)\n`);
    console.log(formatTable(['mark', 'p50 task', 'last task (mean of rounds)', 'n'], burstRows(burst)));

    console.log(`\nWhere RunTask → STOPPED goes, \`true\` (×${stopped.timelines.length})\n`);
    const stoppedBreakdown = stageRows(STOPPED_STAGES, stopped.timelines);
    stoppedBreakdown.push(['  bare create + start + wait, for comparison', ms(median(bareStopped)), ms(mean(bareStopped)),
      ms(percentile(bareStopped, 99)), String(bareStopped.length)]);
    console.log(formatTable(['stage', 'p50', 'mean', 'p99', 'n'], stoppedBreakdown));
  } catch (e) {
    fail(e instanceof BenchFailure ? e.message : `crashed: ${e instanceof Error ? e.stack : String(e)}`);
    const tail = bench.logs.slice(-20);
    if (tail.length > 0) console.error(`last lines of the local mode's log:\n  ${tail.join('\n  ')}`);
  } finally {
    progress('cleanup: stopping tasks, removing containers, closing the local mode');
    await cleanUp(bench);
  }

  if (failures.length > 0) {
    console.error(`\nFAILED: ${failures.length} failure(s):`);
    for (const f of failures) console.error(`  - ${f}`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error('bench:launch crashed:', e);
  process.exitCode = 1;
});
