import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { TEST_CREDENTIALS } from '../../support/harness';
import { BUSYBOX, type LocalMode, untilStatus } from '../../support/local-mode';

/**
 * Regions, with real containers: a task run with a client of another region than the local
 * mode's home one runs on that region's own fleet (its capacity manager launches a host for it,
 * whose agent reaches the control plane on the region's own route), and is invisible from home.
 * The naming, the ARNs and the refusals are covered on dynalite in test/integration/regions.test.ts.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Regions', () => {
  const REGION = 'eu-west-1';
  let m: LocalMode;
  let ecs: ECSClient;
  beforeAll(() => {
    m = mode();
    ecs = new ECSClient({ endpoint: m.local.url, region: REGION, maxAttempts: 1, credentials: TEST_CREDENTIALS });
  });
  afterAll(() => ecs.destroy());

  it('runs a task of another region on that region\'s own hosts, out of sight of the home region', async () => {
    // Prepare
    const family = `e2e-region-${Date.now()}`;
    await ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: BUSYBOX, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }],
    }));

    // Act
    const run = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
    const taskArn = run.tasks![0].taskArn!;
    const running = await untilStatus(ecs, taskArn, 'RUNNING', 90_000);
    const fromHome = await m.ecs.send(new DescribeTasksCommand({ tasks: [taskArn.split('/').pop()!] }));

    // Assess
    expect(taskArn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:000000000000:task/default/[a-f0-9]{32}$`));
    expect(running.taskDefinitionArn).toBe(`arn:aws:ecs:${REGION}:000000000000:task-definition/${family}:1`);
    expect(running.containerInstanceArn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:000000000000:container-instance/default/`));
    const hostId = running.containerInstanceArn!.split('/').pop()!;
    const regional = await m.local.regions.stack(REGION);
    expect(regional.fleet.agents.has(hostId)).toBe(true);
    expect(m.local.fleet.agents.has(hostId)).toBe(false);
    expect(await m.local.berth.store.hosts.get(hostId)).toBeUndefined();
    expect(fromHome.tasks).toEqual([]);
    expect(fromHome.failures?.[0]?.reason).toBe('MISSING');

    // Clean up: the next suite starts on an idle fleet.
    await ecs.send(new StopTaskCommand({ task: taskArn }));
    await untilStatus(ecs, taskArn, 'STOPPED', 60_000);
  }, 180_000);
});
}
