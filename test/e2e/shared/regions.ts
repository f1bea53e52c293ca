import {
  CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput, RunTaskCommand, StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { awsCli } from '../../support/aws-cli';
import { TEST_CREDENTIALS } from '../../support/harness';
import { BUSYBOX, type LocalMode, untilStatus } from '../../support/local-mode';

/**
 * Regions, with real containers: a task run with a client of another region than the local
 * mode's home one runs on that region's own fleet (its capacity manager launches a host for it,
 * whose agent reaches the control plane on the region's own route), and is invisible from home.
 * The other surfaces (Scheduler, Application Auto Scaling, ELBv2) are regional too, each
 * agreeing with its region's ECS. ECS's naming, ARNs and refusals are covered on dynalite in
 * test/integration/regions.test.ts.
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

  it('keeps the same names apart in two regions in Scheduler, Application Auto Scaling and ELBv2, each agreeing with its region\'s ECS', async () => {
    // Prepare: a service of one name in each region.
    const name = `e2e-regional-${Date.now()}`;
    const cli = (region: string, service: string, args: string[]) => awsCli(m.local.url, service, args, TEST_CREDENTIALS, region);
    const homeRegion = m.local.berth.partition.region;
    const arn = (region: string, resource: string) => `arn:aws:ecs:${region}:000000000000:${resource}`;
    const definition: RegisterTaskDefinitionCommandInput = {
      family: name, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: BUSYBOX }],
    };
    for (const client of [m.ecs, ecs]) {
      await client.send(new RegisterTaskDefinitionCommand(definition));
      await client.send(new CreateServiceCommand({ serviceName: name, taskDefinition: name, desiredCount: 0 }));
    }
    const target = (region: string) => JSON.stringify({
      Arn: arn(region, 'cluster/default'), RoleArn: 'arn:aws:iam::000000000000:role/berth-scheduler', EcsParameters: { TaskDefinitionArn: name },
    });
    const schedule = (region: string, targetRegion = region) => cli(region, 'scheduler', ['create-schedule', '--name', name, '--state', 'DISABLED',
      '--schedule-expression', 'rate(1 day)', '--flexible-time-window', 'Mode=OFF', '--target', target(targetRegion)]);
    const key = ['--service-namespace', 'ecs', '--resource-id', `service/default/${name}`, '--scalable-dimension', 'ecs:service:DesiredCount'];

    try {
      // Act
      const schedules = [await schedule(homeRegion), await schedule(REGION)];
      const crossRegion = await cli(REGION, 'scheduler', ['create-schedule', '--name', `${name}-x`, '--state', 'DISABLED',
        '--schedule-expression', 'rate(1 day)', '--flexible-time-window', 'Mode=OFF', '--target', target(homeRegion)]);
      const listed = await cli(REGION, 'scheduler', ['list-schedules', '--name-prefix', name]);
      await cli(homeRegion, 'scheduler', ['delete-schedule', '--name', name]);
      const kept = await cli(REGION, 'scheduler', ['get-schedule', '--name', name]);
      const registered = [
        await cli(homeRegion, 'application-autoscaling', ['register-scalable-target', ...key, '--min-capacity', '0', '--max-capacity', '2']),
        await cli(REGION, 'application-autoscaling', ['register-scalable-target', ...key, '--min-capacity', '1', '--max-capacity', '5']),
      ];
      const policy = await cli(REGION, 'application-autoscaling', ['put-scaling-policy', ...key, '--policy-name', 'cpu', '--policy-type', 'TargetTrackingScaling',
        '--target-tracking-scaling-policy-configuration', JSON.stringify({ TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } })]);
      const targets = await Promise.all([homeRegion, REGION].map((r) => cli(r, 'application-autoscaling', ['describe-scalable-targets', '--service-namespace', 'ecs', '--resource-ids', `service/default/${name}`])));
      const homePolicies = await cli(homeRegion, 'application-autoscaling', ['describe-scaling-policies', '--service-namespace', 'ecs', '--resource-id', `service/default/${name}`]);
      const noService = await cli(REGION, 'application-autoscaling', ['register-scalable-target', '--service-namespace', 'ecs', '--resource-id', 'service/default/only-at-home',
        '--scalable-dimension', 'ecs:service:DesiredCount', '--min-capacity', '0', '--max-capacity', '1']);
      const groups = await Promise.all([homeRegion, REGION].map((r) => cli(r, 'elbv2', ['create-target-group', '--name', name.slice(0, 32), '--protocol', 'HTTP', '--port', '8080', '--target-type', 'ip', '--vpc-id', 'vpc-local'])));
      const described = await cli(REGION, 'elbv2', ['describe-target-groups', '--names', name.slice(0, 32)]);

      // Assess
      expect(schedules.map((r) => r.json?.ScheduleArn)).toEqual([homeRegion, REGION].map((r) => `arn:aws:scheduler:${r}:000000000000:schedule/default/${name}`));
      expect(crossRegion).toMatchObject({ code: 254, errorType: 'ValidationException' });
      expect(crossRegion.stderr).toContain('Invalid Region in ARN');
      expect(listed.json.Schedules.map((x: { Arn: string }) => x.Arn)).toEqual([`arn:aws:scheduler:${REGION}:000000000000:schedule/default/${name}`]);
      expect(kept.json.Target.Arn).toBe(arn(REGION, 'cluster/default'));
      expect(registered.map((r) => r.code)).toEqual([0, 0]);
      expect(policy.json.PolicyARN).toMatch(new RegExp(`^arn:aws:autoscaling:${REGION}:000000000000:scalingPolicy:`));
      expect(targets.map((t) => t.json.ScalableTargets.map((x: { MinCapacity: number; MaxCapacity: number }) => [x.MinCapacity, x.MaxCapacity]))).toEqual([[[0, 2]], [[1, 5]]]);
      expect(homePolicies.json.ScalingPolicies).toEqual([]);
      expect(noService).toMatchObject({ code: 254, errorType: 'ValidationException' });
      expect(groups.map((g) => g.json.TargetGroups[0].TargetGroupArn.split(':')[3])).toEqual([homeRegion, REGION]);
      expect(described.json.TargetGroups.map((g: { TargetGroupArn: string }) => g.TargetGroupArn)).toEqual([groups[1].json.TargetGroups[0].TargetGroupArn]);
    } finally {
      await cli(REGION, 'scheduler', ['delete-schedule', '--name', name]);
      for (const r of [homeRegion, REGION]) await cli(r, 'application-autoscaling', ['deregister-scalable-target', ...key]);
      for (const client of [m.ecs, ecs]) await client.send(new DeleteServiceCommand({ service: name, force: true }));
    }
  }, 120_000);
});
}
