import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type ContainerDefinition, type Task } from '@aws-sdk/client-ecs';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CANNOT_REMOVE, type LocalBerthRuntime, type LocalOptions, startLocal } from '../../local/runtime';
import { registerDataDir } from './data-dirs';
import { TEST_CREDENTIALS, eventually } from './harness';
import { PinnableClock } from './manual-clock';

export const BUSYBOX = 'localhost/busybox:latest';

export interface LocalMode {
  local: LocalBerthRuntime;
  ecs: ECSClient;
  dataDir: string;
  logs: string[];
  /** The clock the local mode's schedules fire by: the wall clock unless a test pins it. */
  scheduleClock: PinnableClock;
  close(): Promise<void>;
}

/** The whole local mode, in process, on a free port with its own data directory (a new one unless given). */
export async function startLocalMode(options: Partial<LocalOptions> = {}): Promise<LocalMode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  registerDataDir(dataDir);
  const logs: string[] = [];
  const scheduleClock = new PinnableClock();
  const local = await startLocal({
    scheduleClock: scheduleClock.now,
    port: 0, hosts: 2, heartbeatIntervalMs: 1000, capacityIntervalMs: 1000, credentials: TEST_CREDENTIALS,
    log: (line) => {
      logs.push(line);
      // BERTH_E2E_LOG=1 shows the local mode's own log as a test runs.
      if (process.env.BERTH_E2E_LOG) process.stderr.write(`berth: ${line}\n`);
    },
    ...options,
    dataDir,
  });
  const ecs = new ECSClient({
    endpoint: local.url, region: 'us-east-1', maxAttempts: 1,
    credentials: TEST_CREDENTIALS,
  });
  return {
    local, ecs, dataDir, logs, scheduleClock,
    async close() {
      ecs.destroy();
      // A test's data directory never starts again: its tasks' containers would only be left behind.
      await local.close({ discard: true });
      // What the close could not remove would fail the whole run at its end, naming no test: fail this one.
      const left = logs.filter((l) => l.startsWith(CANNOT_REMOVE));
      if (left.length > 0) throw new Error(left.join('\n'));
    },
  };
}

/**
 * The local mode test/e2e/shared.test.ts starts once for every suite in test/e2e/shared/: a
 * fleet of exactly 2 hosts (the capacity manager may add none), placement that waits up to
 * 2 minutes on this loaded machine, and every request logged (the secrets suite reads the log).
 */
export const SHARED_LOCAL_MODE: Partial<LocalOptions> = {
  hosts: 2, maxHosts: 2, config: { placementTimeoutSeconds: 120, efsVolumes: true }, logRequests: true, scheduleRetryBaseMs: 1000,
  // Target groups' health checks every 0.5 s for a 5 s interval, ELBv2's shortest.
  healthCheckTimeScale: 0.1,
  // Application Auto Scaling's datapoints every second (AWS: a minute) from samples every 2 s, so its suite takes seconds.
  metricsIntervalMs: 2000, autoscalingPeriodMs: 1000,
  // The isolation suite counts each host's ready namespaces to find leaks: its pool keeps its own
  // size rather than growing after a burst (test/unit/task-namespaces-pool.test.ts tests growth).
  agentSettings: { BERTH_NAMESPACE_BURST_POOL_SIZE: '2' },
};

/** Stops every task not yet STOPPED, in every cluster, and waits until each is and no room is held. */
export async function stopEveryTask(m: LocalMode, timeoutMs = 90_000): Promise<void> {
  const store = m.local.berth.store;
  const unfinished = async () => (await Promise.all((await store.clusters.list()).map((c) => store.tasks.list(c.name))))
    .flat().filter((t) => t.lastStatus !== 'STOPPED');
  for (const t of await unfinished()) {
    if (t.desiredStatus !== 'STOPPED') await m.ecs.send(new StopTaskCommand({ cluster: t.cluster, task: t.taskId })).catch(() => {});
  }
  await eventually(async () => (await unfinished()).length === 0
    && (await store.hosts.list()).every((h) => h.taskCount === 0), timeoutMs, 'every task STOPPED and no room held');
}

let families = 0;

/** The execution role the tests' definitions name: locally no role is assumed, so any ARN serves. */
export const EXECUTION_ROLE = 'arn:aws:iam::000000000000:role/exec';

/** Registers a one-off definition and runs it; returns the task ARNs. */
export async function runContainers(
  ecs: ECSClient,
  containers: ContainerDefinition[],
  run: { count?: number; overrides?: object; size?: { cpu: string; memory: string }; networkMode?: 'bridge' } = {},
): Promise<string[]> {
  const family = `e2e-${++families}-${Date.now()}`;
  // bridge (an EC2 task) publishes its port mappings on the host; awsvpc keeps them on the task's own address.
  const bridge = run.networkMode === 'bridge';
  await ecs.send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: [bridge ? 'EC2' : 'FARGATE'], networkMode: bridge ? 'bridge' : 'awsvpc',
    cpu: run.size?.cpu ?? '256', memory: run.size?.memory ?? '512',
    // What only an execution role may fetch (secrets, awslogs, registry logins) needs one named, as in ECS.
    executionRoleArn: containers.some((c) => c.secrets?.length || c.logConfiguration || c.repositoryCredentials) ? EXECUTION_ROLE : undefined,
    containerDefinitions: containers.map((c) => ({ image: BUSYBOX, ...c })),
  }));
  const r = await ecs.send(new RunTaskCommand({
    taskDefinition: family, count: run.count ?? 1, overrides: run.overrides as any, launchType: bridge ? 'EC2' : undefined,
  }));
  return r.tasks!.map((t) => t.taskArn!);
}

export async function describe1(ecs: ECSClient, taskArn: string): Promise<Task> {
  return (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks![0];
}

export const untilStatus = (ecs: ECSClient, taskArn: string, status: string, timeoutMs = 30_000) =>
  eventually(async () => {
    const t = await describe1(ecs, taskArn);
    return t.lastStatus === status ? t : undefined;
  }, timeoutMs, `${taskArn} to be ${status}`);

/** What a container printed, as the agent wrote it under the data directory. */
export function containerLog(dataDir: string, taskArn: string, container: string): string[] {
  const file = join(dataDir, 'logs', taskArn.split('/').pop()!, `${container}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
