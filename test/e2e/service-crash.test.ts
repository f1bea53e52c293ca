import {
  CreateServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand,
  type Service, type Task, UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_CREDENTIALS } from '../support/harness';
import { BUSYBOX } from '../support/local-mode';
import { type LocalProcess, discardLocalData, freePort, killHard, spawnLocalMode, stopGently } from '../support/local-process';

/**
 * The local mode killed with SIGKILL in the middle of a rolling deployment, then started again
 * on the same data: the service scheduler picks the deployment up from DynamoDB alone and
 * completes it with exactly desiredCount tasks of the new revision, none started twice.
 */

const DESIRED = 4;
const POLL_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A call cut off by the crash, or made before the restart listens, is retried.
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

describe('Service scheduler crash-stop', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-service-crash-'));
  let port = 0;
  let proc: LocalProcess | undefined;
  const processes: LocalProcess[] = [];
  let ecs: ECSClient;

  const start = async () => {
    proc = await spawnLocalMode({
      BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port),
      BERTH_LOCAL_HOSTS: '2', BERTH_HOST_TYPE: 'c6i.large', BERTH_MAX_HOSTS: '2',
      BERTH_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, BERTH_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
    processes.push(proc);
  };
  const service = async (): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ services: ['roll'] }))).services![0];
  const tasks = async (desiredStatus: 'RUNNING' | 'STOPPED'): Promise<Task[]> => {
    const arns = (await ecs.send(new ListTasksCommand({ serviceName: 'roll', desiredStatus }))).taskArns!;
    return arns.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks!;
  };

  beforeAll(async () => {
    port = await freePort();
    ecs = new ECSClient({
      endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS,
      requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
    });
  });
  afterAll(async () => {
    ecs?.destroy();
    if (proc) await stopGently(proc);
    processes.forEach((p, i) => writeFileSync(join(dataDir, `process-${i}.log`), p.output.join('')));
    await discardLocalData(dataDir);
  }, 60_000);

  it('completes a rolling deployment cut short by SIGKILL with exactly desiredCount new tasks', async () => {
    // Prepare: a steady service of v1, rolling one task at a time (maximumPercent 125).
    await start();
    for (const text of ['v1', 'v2']) {
      await ecs.send(new RegisterTaskDefinitionCommand({
        family: 'roll', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'app', image: BUSYBOX, stopTimeout: 2, command: ['sh', '-c', `trap "exit 0" TERM; echo ${text}; sleep 3600 & wait`] }],
      }));
    }
    await ecs.send(new CreateServiceCommand({
      serviceName: 'roll', taskDefinition: 'roll:1', desiredCount: DESIRED,
      deploymentConfiguration: { maximumPercent: 125, minimumHealthyPercent: 100 },
    }));
    await poll('v1 steady', 180_000, async () => {
      const s = await service();
      return s.runningCount === DESIRED && s.deployments!.length === 1 ? s : undefined;
    });

    // Act: roll to v2; kill the control plane once the roll has begun but is not done.
    const updated = await ecs.send(new UpdateServiceCommand({ service: 'roll', taskDefinition: 'roll:2' }));
    const v2 = updated.service!.deployments![0].id!;
    const midway = await poll('the roll to be under way', 180_000, async () => {
      const live = await tasks('RUNNING');
      const fresh = live.filter((t) => t.startedBy === v2);
      return fresh.length >= 1 && live.some((t) => t.startedBy !== v2) ? { fresh: fresh.length, total: live.length } : undefined;
    });
    await killHard(proc!);
    await start();

    // Assess: the deployment completes, with exactly DESIRED tasks, all of v2.
    const done = await poll('the roll to complete after the restart', 300_000, async () => {
      const s = await service();
      return s.deployments!.length === 1 && s.deployments![0].id === v2 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === DESIRED ? s : undefined;
    });
    expect(midway.fresh).toBeGreaterThanOrEqual(1);
    expect(done.taskDefinition).toMatch(/task-definition\/roll:2$/);
    const live = await tasks('RUNNING');
    expect(live).toHaveLength(DESIRED);
    expect(live.every((t) => t.startedBy === v2 && t.lastStatus === 'RUNNING')).toBe(true);
    // None started twice: a pass re-run after the crash made no extra v2 task (one would show
    // here even if the scheduler had stopped it again as surplus).
    const stopped = await tasks('STOPPED');
    expect(stopped.filter((t) => t.startedBy === v2)).toEqual([]);
    expect(stopped.filter((t) => t.startedBy !== v2).length).toBeGreaterThanOrEqual(DESIRED);
  }, 900_000);
});
