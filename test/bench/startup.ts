/**
 * bench:launch, part two — the local mode as a user runs it (`npm start`, its own processes),
 * each figure beside a baseline measured in the same run:
 *
 * 1. Start-up: `npm start` until it prints "ready" (2 warm hosts registered), on a warm machine
 *    (podman and the busybox image present), beside podman's own service start on the same
 *    storage (until its socket answers).
 * 2. RSS of each process it runs — the control plane, each agent, podman's service, and what
 *    else is in its process tree (npm itself, HAProxy) — idle with 2 hosts and with 10 running
 *    tasks, beside an idle `node -e`.
 * 3. CPU of podman's service over 30 s, idle and with the 10 tasks: what the agents' watching
 *    (waits, events, polls) costs the engine, beside one core.
 * 4. Ctrl-C: SIGINT to `npm start` until it has exited (its close: controllers, agents, the
 *    endpoint, workflows, then dynalite), beside podman's own service stop on the same storage.
 *
 * At its end everything it started must be gone (containers, networks, conmon, HAProxy, podman's
 * services): what a Ctrl-C leaves for the next start is removed, and anything still there fails it.
 *
 * Exits 1 only when something breaks, never because a figure is slow.
 */
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService } from '../../local/podman';
import { freePort } from '../support/local-process';
import { leftBehindOnceGone, privateStorage, removeDataDir, removeEngineObjects, stopPodmanService } from './support/bench-storage';
import { progress } from './support/progress';
import { formatTable, ms, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const ROOT = join(__dirname, '..', '..');
const HOSTS = 2;
const TASKS = 10;
const SETTLE_MS = 2_000;
const CPU_WINDOW_MS = 30_000;
const READY_TIMEOUT_MS = 180_000;
const RUNNING_TIMEOUT_MS = 120_000;
const TICKS_PER_SECOND = 100;

const failures: string[] = [];
const sleep = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));
const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;

function statusKb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** utime + stime of one process, in clock ticks. */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processTree(root: number): Proc[] {
  const all: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      all.push({ pid: Number(entry), ppid, cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // exited while we looked
    }
  }
  const tree = all.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

type Role = 'control plane' | 'agent' | 'podman service' | 'npm (launcher)' | 'HAProxy (local ELBv2)' | 'other';

function roleOf(p: Proc): Role {
  // npm's shell, whose command line names the control plane's bundle too.
  if (/^(\/bin\/)?sh -c /.test(p.cmdline)) return 'other';
  if (/agent\.js/.test(p.cmdline)) return 'agent';
  if (/podman system service/.test(p.cmdline)) return 'podman service';
  if (/^npm( |$)|npm-cli\.js/.test(p.cmdline)) return 'npm (launcher)';
  if (/haproxy/.test(p.cmdline)) return 'HAProxy (local ELBv2)';
  if (/node/.test(p.cmdline) && /control-plane|local\/main/.test(p.cmdline)) return 'control plane';
  return 'other';
}

interface Sample {
  byRole: Map<Role, { kb: number; count: number }>;
  agentsKb: number[];
  podmanPid?: number;
}

function sample(root: number): Sample {
  const byRole = new Map<Role, { kb: number; count: number }>();
  const agentsKb: number[] = [];
  let podmanPid: number | undefined;
  for (const p of processTree(root)) {
    const role = roleOf(p);
    if (role === 'other' && /^(sh|conmon|\/bin\/sh)/.test(p.cmdline)) continue;
    const kb = statusKb(p.pid);
    const r = byRole.get(role) ?? { kb: 0, count: 0 };
    byRole.set(role, { kb: r.kb + kb, count: r.count + 1 });
    if (role === 'agent') agentsKb.push(kb);
    if (role === 'podman service') podmanPid = p.pid;
  }
  return { byRole, agentsKb, podmanPid };
}

/** The Berth total the goal speaks of: control plane, agents, podman's service. */
const berthKb = (s: Sample) => (['control plane', 'agent', 'podman service'] as Role[]).reduce((t, r) => t + (s.byRole.get(r)?.kb ?? 0), 0);

async function podmanCpu(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const before = cpuTicks(pid);
  await sleep(CPU_WINDOW_MS);
  return ((cpuTicks(pid) - before) / TICKS_PER_SECOND) / (CPU_WINDOW_MS / 1000);
}

async function idleNodeKb(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  await sleep(SETTLE_MS);
  const kb = statusKb(child.pid!);
  child.kill('SIGKILL');
  return kb;
}

function untilReady(child: ChildProcess, output: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      if (chunk.toString().includes('berth: ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => output.push(...c.toString().split('\n').filter(Boolean)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before it was ready:\n  ${output.slice(-15).join('\n  ')}`));
    });
  });
}

async function runTasks(ecs: ECSClient): Promise<string[]> {
  await ecs.send(new RegisterTaskDefinitionCommand({
    family: 'bench-startup', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
    containerDefinitions: [{ name: 'app', image: BUSYBOX_IMAGE, essential: true, command: ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'] }],
  }));
  const r = await ecs.send(new RunTaskCommand({ taskDefinition: 'bench-startup', count: TASKS }));
  const arns = (r.tasks ?? []).map((t) => t.taskArn!);
  if (arns.length !== TASKS) throw new Error(`RunTask ×${TASKS} failed: ${JSON.stringify(r.failures)}`);
  await untilAll(ecs, arns, 'RUNNING');
  return arns;
}

/** Polls DescribeTasks until every task is `status`; a task that stops before RUNNING fails it. */
async function untilAll(ecs: ECSClient, arns: string[], status: 'RUNNING' | 'STOPPED'): Promise<void> {
  const deadline = performance.now() + RUNNING_TIMEOUT_MS;
  for (;;) {
    const tasks = (await ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks ?? [];
    if (status === 'RUNNING' && tasks.some((t) => t.lastStatus === 'STOPPED')) throw new Error('a task stopped before RUNNING');
    if (tasks.every((t) => t.lastStatus === status)) return;
    if (performance.now() > deadline) throw new Error(`not all ${TASKS} tasks ${status} within ${RUNNING_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
}

async function main(): Promise<void> {
  progress(`bench:launch (start-up and processes) on ${process.version}, ${os.cpus().length} cpus, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const storageDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-startup-storage-'));
  privateStorage(storageDir);

  progress('baseline: podman\'s own service start on this storage (the image made first, untimed) ...');
  const podmanDir = join(storageDir, 'podman-alone');
  const warm = await startPodmanService({ dataDir: podmanDir, log: () => {} });
  await ensureBusyboxImage({ env: warm.env, log: () => {} });
  await warm.stop();
  const p0 = performance.now();
  const alone = await startPodmanService({ dataDir: podmanDir, log: () => {} });
  const podmanStartMs = performance.now() - p0;
  const s0 = performance.now();
  await alone.stop();
  const podmanStopMs = performance.now() - s0;
  progress(`  podman service answered after ${ms(podmanStartMs)}, stopped in ${ms(podmanStopMs)}`);
  const nodeKb = await idleNodeKb();

  const dataDir = join(storageDir, 'berth');
  const port = await freePort();
  progress(`npm start (${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start}), ${HOSTS} hosts, port ${port} ...`);
  const output: string[] = [];
  const t0 = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port), BERTH_LOCAL_HOSTS: String(HOSTS) },
  });
  const rows: string[][] = [];
  let idle: Sample | undefined;
  let loaded: Sample | undefined;
  let cpuIdle = NaN;
  let cpuLoaded = NaN;
  let startMs = NaN;
  let stopMs = NaN;
  try {
    await untilReady(child, output);
    startMs = performance.now() - t0;
    progress(`  ready after ${ms(startMs)}`);
    await sleep(SETTLE_MS);
    idle = sample(child.pid!);
    progress(`  idle: ${mib(berthKb(idle))} (control plane, agents, podman); podman's CPU over ${CPU_WINDOW_MS / 1000} s ...`);
    cpuIdle = await podmanCpu(idle.podmanPid);

    const credentials = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    const ecs = new ECSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials, maxAttempts: 1 });
    progress(`running ${TASKS} tasks ...`);
    const arns = await runTasks(ecs);
    await sleep(SETTLE_MS);
    loaded = sample(child.pid!);
    progress(`  ${TASKS} running: ${mib(berthKb(loaded))}; podman's CPU over ${CPU_WINDOW_MS / 1000} s ...`);
    cpuLoaded = await podmanCpu(loaded.podmanPid);
    await Promise.all(arns.map((task) => ecs.send(new StopTaskCommand({ task, reason: 'bench' }))));
    // Until the agents have stopped them: a local mode stopped sooner leaves its tasks' containers
    // running (for the next agent to adopt), and their storage goes with the data directory.
    await untilAll(ecs, arns, 'STOPPED');
    ecs.destroy();
  } catch (e) {
    failures.push(e instanceof Error ? e.message : String(e));
  } finally {
    progress('stopping the local mode (Ctrl-C) ...');
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    const c0 = performance.now();
    try {
      // npm passes SIGINT on to the control plane, as a terminal's Ctrl-C reaches both.
      process.kill(-child.pid!, 'SIGINT');
    } catch {
      // gone
    }
    await exited;
    stopMs = performance.now() - c0;
    progress(`  exited after ${ms(stopMs)}`);
    stopPodmanService(dataDir);
    try {
      // What a Ctrl-C leaves for the next start (running tasks' containers, their networks).
      removeEngineObjects(dataDir);
      const left = await leftBehindOnceGone([dataDir, podmanDir], [storageDir]);
      if (left.length > 0) failures.push(`left behind:\n    ${left.join('\n    ')}`);
      removeDataDir(storageDir);
    } catch (e) {
      failures.push(`cleanup: ${String(e)}`);
    }
  }

  if (idle && loaded) {
    rows.push(['npm start → ready (2 hosts)', ms(startMs), `${ms(podmanStartMs)} podman service start`, ratio(startMs, podmanStartMs)]);
    rows.push(['Ctrl-C → npm start exited', ms(stopMs), `${ms(podmanStopMs)} podman service stop`, ratio(stopMs, podmanStopMs)]);
    rows.push([`RSS idle, ${HOSTS} hosts (control plane, agents, podman)`, mib(berthKb(idle)), `${mib(nodeKb)} idle node -e`, ratio(berthKb(idle), nodeKb)]);
    rows.push([`RSS ${TASKS} running tasks (same)`, mib(berthKb(loaded)), `${mib(nodeKb)} idle node -e`, ratio(berthKb(loaded), nodeKb)]);
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    rows.push([`podman service CPU, idle (${CPU_WINDOW_MS / 1000} s)`, pct(cpuIdle), '100 % one core', ratio(cpuIdle, 1)]);
    rows.push([`podman service CPU, ${TASKS} tasks (${CPU_WINDOW_MS / 1000} s)`, pct(cpuLoaded), '100 % one core', ratio(cpuLoaded, 1)]);
    console.log('\nStart-up, memory and the engine\'s CPU of `npm start` (each beside its baseline, measured in this run)\n');
    console.log(formatTable(['measure', 'figure', 'baseline', 'ratio'], rows));
    const roles: Role[] = ['control plane', 'agent', 'podman service', 'npm (launcher)', 'HAProxy (local ELBv2)', 'other'];
    const line = (r: Role) => {
      const a = idle!.byRole.get(r);
      const b = loaded!.byRole.get(r);
      if (!a && !b) return undefined;
      // The capacity manager may add hosts for the tasks: each column says how many agents it counts.
      const label = r === 'agent'
        ? `agents ×${a?.count ?? 0} idle (each ${idle!.agentsKb.map(mib).join(', ')}), ×${b?.count ?? 0} with tasks (each ${loaded!.agentsKb.map(mib).join(', ')})`
        : r === 'control plane' ? 'control plane, with its agents (each a worker thread of it: local/fleet.ts)'
          : `${r}${(a?.count ?? 1) > 1 ? ` ×${a!.count}` : ''}`;
      return [label, mib(a?.kb ?? 0), ratio(a?.kb ?? 0, nodeKb), mib(b?.kb ?? 0), ratio(b?.kb ?? 0, nodeKb)];
    };
    console.log(`\nRSS by process, each beside an idle \`node -e\` (${mib(nodeKb)}); the goal's total counts the first three\n`);
    console.log(formatTable(['process', 'idle', 'ratio', `${TASKS} running`, 'ratio'], roles.map(line).filter((l): l is string[] => l !== undefined)));
  }
  if (failures.length > 0) {
    console.error(`\nFAILED:\n  ${failures.join('\n  ')}\n  last lines of npm start:\n  ${output.slice(-15).join('\n  ')}`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error('bench startup crashed:', e);
  process.exitCode = 1;
});
