import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { awsEcs } from '../../support/aws-cli';
import { eventually } from '../../support/harness';
import { type LocalMode, describe1, runContainers, untilStatus } from '../../support/local-mode';

/** ECS's shortest interval and fewest retries: one failed probe makes the container UNHEALTHY. */
const CHECK = { command: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 5, timeout: 2, retries: 1, startPeriod: 0 };
// A shell as PID 1 ignores SIGTERM unless it traps it.
const SERVE = "touch /tmp/ok; trap 'exit 0' TERM; while true; do sleep 0.2; done";
/** Long enough for a probe or two on a loaded machine. */
const HEALTH_WAIT_MS = 60_000;

/**
 * Container health checks with real containers: the agent runs the definition's healthCheck
 * inside the container and reports each change, and DescribeTasks (the SDK and the AWS CLI)
 * shows it on the container and the task. An UNHEALTHY container does not stop a task that no
 * service runs, as in ECS: it keeps running and turns HEALTHY again when its check passes.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Container health checks', () => {
  let m: LocalMode;
  let runtime: DockerRuntime;
  beforeAll(() => {
    m = mode();
    runtime = new DockerRuntime({ socketPath: m.local.dockerSocket });
  });

  const untilHealth = (arn: string, status: string) => eventually(async () => {
    const t = await describe1(m.ecs, arn);
    return t.healthStatus === status && t;
  }, HEALTH_WAIT_MS, `${arn} to be ${status}`);

  it('goes HEALTHY, UNHEALTHY when its check fails (the task keeps running), and HEALTHY again', async () => {
    // Prepare: app's check passes while /tmp/ok exists; side has no check and counts for nothing.
    const [arn] = await runContainers(m.ecs, [
      { name: 'app', essential: true, command: ['sh', '-c', SERVE], healthCheck: CHECK },
      { name: 'side', essential: false, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] },
    ]);
    await untilStatus(m.ecs, arn, 'RUNNING');
    const healthy = await untilHealth(arn, 'HEALTHY');
    const app = healthy.containers!.find((c) => c.name === 'app')!;

    // Act: the check's file goes away.
    expect(await runtime.exec(app.runtimeId!, ['rm', '/tmp/ok'], 30)).toBe(0);
    const unhealthy = await untilHealth(arn, 'UNHEALTHY');
    const cli = (await awsEcs(m.local.url, ['describe-tasks', '--tasks', arn])).json.tasks[0];
    // ... and comes back.
    expect(await runtime.exec(app.runtimeId!, ['touch', '/tmp/ok'], 30)).toBe(0);
    const again = await untilHealth(arn, 'HEALTHY');

    // Assess
    expect(healthy.containers!.map((c) => [c.name, c.healthStatus]).sort()).toEqual([['app', 'HEALTHY'], ['side', 'UNKNOWN']]);
    expect(unhealthy).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(unhealthy.containers!.map((c) => [c.name, c.lastStatus, c.healthStatus]).sort())
      .toEqual([['app', 'RUNNING', 'UNHEALTHY'], ['side', 'RUNNING', 'UNKNOWN']]);
    expect(cli).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY' });
    expect(cli.containers.find((c: { name: string }) => c.name === 'app').healthStatus).toBe('UNHEALTHY');
    // The same container all along: nothing stopped or replaced it.
    expect(again).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(again.containers!.find((c) => c.name === 'app')!.runtimeId).toBe(app.runtimeId);
    expect(again.version!).toBeGreaterThan(unhealthy.version!);

    await m.ecs.send(new StopTaskCommand({ task: arn, reason: 'done' }));
    await untilStatus(m.ecs, arn, 'STOPPED');
  }, 240_000);

  it('keeps a task whose only check is on a nonessential container UNKNOWN, as ECS does', async () => {
    // Prepare
    const [arn] = await runContainers(m.ecs, [
      { name: 'app', essential: true, command: ['sh', '-c', SERVE] },
      { name: 'probe', essential: false, command: ['sh', '-c', SERVE], healthCheck: CHECK },
    ]);
    await untilStatus(m.ecs, arn, 'RUNNING');

    // Act
    const t = await eventually(async () => {
      const d = await describe1(m.ecs, arn);
      return d.containers!.find((c) => c.name === 'probe')!.healthStatus === 'HEALTHY' && d;
    }, HEALTH_WAIT_MS, 'the nonessential container HEALTHY');

    // Assess
    expect(t.healthStatus).toBe('UNKNOWN');
    expect(t.containers!.find((c) => c.name === 'app')!.healthStatus).toBe('UNKNOWN');

    await m.ecs.send(new StopTaskCommand({ task: arn, reason: 'done' }));
    await untilStatus(m.ecs, arn, 'STOPPED');
  }, 240_000);
});
}
