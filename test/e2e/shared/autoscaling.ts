import { CreateServiceCommand, DeleteServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { awsCli } from '../../support/aws-cli';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode } from '../../support/local-mode';

/**
 * Application Auto Scaling end to end, with the AWS CLI v2: a service of busy-loop busybox tasks
 * grows under a CPU target-tracking policy from 1 task to MaxCapacity and never past it, shrinks
 * back to MinCapacity once its tasks go quiet, and a scheduled action sets its capacity at its
 * time; describe-scaling-activities tells each step. The shared local mode samples tasks every
 * 2 s and takes an autoscaling datapoint every second (AWS: one a minute), so AWS's 3 and 15
 * datapoint rules take seconds here.
 */
const SERVICE = 'autoscale-busy';
const RESOURCE = `service/default/${SERVICE}`;
const KEY = ['--service-namespace', 'ecs', '--scalable-dimension', 'ecs:service:DesiredCount', '--resource-id', RESOURCE];
/** Busy until /tmp/idle exists, then quiet; a shell as PID 1 ignores SIGTERM unless it traps it. */
const LOAD = "trap 'exit 0' TERM; while [ ! -f /tmp/idle ]; do :; done; while true; do sleep 0.2; done";

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Application Auto Scaling', () => {
  let m: LocalMode;
  let runtime: DockerRuntime;
  const aas = (args: string[]) => awsCli(m.local.url, 'application-autoscaling', args);
  const desired = async () => (await m.ecs.send(new DescribeServicesCommand({ services: [SERVICE] }))).services![0].desiredCount!;

  beforeAll(async () => {
    m = mode();
    runtime = new DockerRuntime({ socketPath: m.local.dockerSocket });
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family: SERVICE, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'load', image: BUSYBOX, command: ['sh', '-c', LOAD], stopTimeout: 2 }],
    }));
    await m.ecs.send(new CreateServiceCommand({ serviceName: SERVICE, taskDefinition: SERVICE, desiredCount: 1 }));
  });
  afterAll(async () => {
    await m.ecs.send(new DeleteServiceCommand({ service: SERVICE, force: true })).catch(() => {});
    await aas(['deregister-scalable-target', ...KEY]);
  }, 60_000);

  /** `eventually`, failing with what the controller saw: its policies' datapoints and its log lines. */
  async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    try {
      await eventually(check, timeoutMs, what);
    } catch (e) {
      const policies = await m.local.berth.store.autoscaling.listPolicies({ resourceId: RESOURCE });
      const state = policies.map((p) => ({ ...p.state, datapoints: p.state.datapoints.map((d) => `${d.t % 100_000}:${Math.round(d.v)}`).join(' ') }));
      const lines = m.logs.filter((l) => l.includes('autoscaling')).slice(-10);
      throw new Error(`${(e as Error).message}; policy state ${JSON.stringify(state)} at ${Date.now() % 100_000}; log ${JSON.stringify(lines)}`);
    }
  }

  /** Every running task of the service goes quiet. */
  async function quietAll(): Promise<number> {
    const arns = (await m.ecs.send(new ListTasksCommand({ serviceName: SERVICE, desiredStatus: 'RUNNING' }))).taskArns ?? [];
    if (arns.length === 0) return 0;
    const tasks = (await m.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks ?? [];
    let quieted = 0;
    for (const t of tasks) {
      const id = t.containers?.[0]?.runtimeId;
      if (id && (await runtime.exec(id, ['touch', '/tmp/idle'], 5).catch(() => 1)) === 0) quieted++;
    }
    return quieted;
  }

  it('scales busy tasks from 1 up to MaxCapacity and no further, then back to MinCapacity once they go quiet', async () => {
    // Prepare
    expect((await aas(['register-scalable-target', ...KEY, '--min-capacity', '1', '--max-capacity', '3'])).code).toBe(0);
    const put = await aas(['put-scaling-policy', ...KEY, '--policy-name', 'cpu40', '--policy-type', 'TargetTrackingScaling',
      '--target-tracking-scaling-policy-configuration', JSON.stringify({
        TargetValue: 40, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleOutCooldown: 0, ScaleInCooldown: 0,
      })]);
    expect(put.code).toBe(0);

    // Act: the load is on until the service is at MaxCapacity, watched all along.
    const seen: number[] = [];
    await until(async () => {
      seen.push(await desired());
      return seen[seen.length - 1] === 3;
    }, 60_000, 'the service to scale out to MaxCapacity');
    // Off: every task, including any the last scale-out started since, goes quiet.
    await eventually(async () => {
      await quietAll();
      const running = (await m.ecs.send(new DescribeServicesCommand({ services: [SERVICE] }))).services![0].runningCount;
      return running === 3 && (await quietAll()) === 3;
    }, 60_000, 'three running tasks, all quiet');
    await until(async () => {
      seen.push(await desired());
      return seen[seen.length - 1] === 1;
    }, 60_000, 'the service to scale in to MinCapacity');

    // Assess
    expect(Math.max(...seen)).toBe(3);
    const activities = (await aas(['describe-scaling-activities', '--service-namespace', 'ecs', '--resource-id', RESOURCE])).json.ScalingActivities;
    const steps = [...activities].reverse();
    expect(steps.every((a: { StatusCode: string }) => a.StatusCode === 'Successful')).toBe(true);
    expect(steps[0].Cause).toMatch(/AlarmHigh-.* in state ALARM triggered policy cpu40$/);
    expect(steps[steps.length - 1]).toMatchObject({ Description: 'Setting desired count to 1.', Cause: expect.stringMatching(/AlarmLow-.* triggered policy cpu40$/) });
    expect(steps.map((a: { Description: string }) => a.Description)).toContain('Setting desired count to 3.');
  }, 180_000);

  it('sets the capacity at a scheduled action\'s time', async () => {
    // Prepare: no policy, so only the schedule moves the count.
    await aas(['delete-scaling-policy', ...KEY, '--policy-name', 'cpu40']);
    // Far enough ahead that the CLI's put (a Python start-up: seconds on a busy machine) and the
    // read after it land before the action's time; whole seconds, so 14 s to 15 s ahead.
    const at = new Date(Date.now() + 15_000).toISOString().slice(0, 19);

    // Act
    const put = await aas(['put-scheduled-action', ...KEY, '--scheduled-action-name', 'morning', '--schedule', `at(${at})`,
      '--scalable-target-action', 'MinCapacity=2,MaxCapacity=3']);
    const before = await desired();
    await until(async () => (await desired()) === 2, 45_000, 'the scheduled action to raise the count');

    // Assess
    expect(put.code).toBe(0);
    expect(before).toBe(1);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(`${at}Z`));
    const activities = (await aas(['describe-scaling-activities', '--service-namespace', 'ecs', '--resource-id', RESOURCE])).json.ScalingActivities;
    expect(activities.slice(0, 2)).toEqual([
      expect.objectContaining({ Description: 'Setting desired count to 2.', Cause: 'minimum capacity was set to 2', StatusCode: 'Successful' }),
      expect.objectContaining({ Description: 'Setting min capacity to 2 and max capacity to 3', Cause: 'scheduled action name morning was triggered', StatusCode: 'Successful' }),
    ]);
    const events = (await m.ecs.send(new DescribeServicesCommand({ services: [SERVICE] }))).services![0].events!.map((e) => e.message);
    expect(events).toContain(`(service ${SERVICE}) desired count set to 2 by Application Auto Scaling: minimum capacity was set to 2.`);
  }, 90_000);
});
}
