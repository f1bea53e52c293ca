import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, type ContainerDefinition, type Task } from '@aws-sdk/client-ecs';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBerthRuntime, type LocalOptions, startLocal } from '../../local/runtime';
import { TEST_CREDENTIALS, eventually } from './harness';

export const BUSYBOX = 'localhost/busybox:latest';

export interface LocalMode {
  local: LocalBerthRuntime;
  ecs: ECSClient;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

/** The whole local mode, in process, on a free port with its own data directory. */
export async function startLocalMode(options: Partial<LocalOptions> = {}): Promise<LocalMode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const logs: string[] = [];
  const local = await startLocal({
    dataDir, port: 0, hosts: 2, heartbeatIntervalMs: 1000, capacityIntervalMs: 1000, credentials: TEST_CREDENTIALS,
    log: (line) => logs.push(line),
    ...options,
  });
  const ecs = new ECSClient({
    endpoint: local.url, region: 'us-east-1', maxAttempts: 1,
    credentials: TEST_CREDENTIALS,
  });
  return {
    local, ecs, dataDir, logs,
    async close() {
      ecs.destroy();
      await local.close();
    },
  };
}

let families = 0;

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
