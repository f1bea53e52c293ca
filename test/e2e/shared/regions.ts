import {
  CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionCommandInput, RunTaskCommand, StopTaskCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand, DeleteTargetGroupCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { awsCli } from '../../support/aws-cli';
import { signedFetch } from '../../support/signed-fetch';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { parsePrometheus, samplesOf } from '../../support/prometheus';
import { METRICS } from '../../../shared/metrics/catalog';
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
    // `GET /metrics` shows every region, each series labelled with its own: the task's samples
    // and its region's counts under eu-west-1, the home region's counts under the home region.
    const homeRegion = m.local.berth.partition.region;
    const samples = await eventually(async () => {
      const scraped = parsePrometheus(await (await fetch(`${m.local.url}/metrics`)).text());
      return samplesOf(scraped, METRICS.taskCpuUtilization.prometheus, { task_id: taskArn.split('/').pop()! }).length > 0
        && samplesOf(scraped, METRICS.taskCount.prometheus, { region: REGION, last_status: 'RUNNING' }).some((s) => s.value > 0) && scraped;
    }, 30_000, 'the task\'s samples and its region\'s counts at /metrics');
    expect(samplesOf(samples, METRICS.taskCpuUtilization.prometheus, { task_id: taskArn.split('/').pop()! }).map((s) => s.labels.region)).toEqual([REGION]);
    expect(samplesOf(samples, METRICS.taskCount.prometheus, { region: homeRegion }).length).toBeGreaterThan(0);

    // Clean up: the next suite starts on an idle fleet.
    await ecs.send(new StopTaskCommand({ task: taskArn }));
    await untilStatus(ecs, taskArn, 'STOPPED', 60_000);
  }, 180_000);

  it('keeps the same names apart in two regions in Scheduler, Application Auto Scaling, ELBv2 and SQS, each agreeing with its region\'s ECS', async () => {
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

    const tg = name.slice(0, 32);
    const tgArns: string[] = [];
    // The CLI drives the creates, each signed for its --region; the SDKs (in process, much
    // cheaper than a CLI run apiece) read back and clean up.
    const scheduler = (region: string) => new SchedulerClient({ endpoint: m.local.url, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const elbv2 = (region: string) => new ElasticLoadBalancingV2Client({ endpoint: m.local.url, region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const aas = async (region: string, operation: string, body: object): Promise<any> => (await signedFetch(m.local.url, {
      target: `AnyScaleFrontendService.${operation}`, body: JSON.stringify(body), credentials: TEST_CREDENTIALS, service: 'application-autoscaling', region,
    })).json();
    const keyBody = { ServiceNamespace: 'ecs', ResourceId: `service/default/${name}`, ScalableDimension: 'ecs:service:DesiredCount' };

    try {
      // Act: the CLI's creates side by side (each run is a process of its own).
      const [homeSchedule, schedule2, registeredHome, registered2, queue2] = await Promise.all([
        schedule(homeRegion),
        schedule(REGION),
        cli(homeRegion, 'application-autoscaling', ['register-scalable-target', ...key, '--min-capacity', '0', '--max-capacity', '2']),
        cli(REGION, 'application-autoscaling', ['register-scalable-target', ...key, '--min-capacity', '1', '--max-capacity', '5']),
        cli(REGION, 'sqs', ['create-queue', '--queue-name', name]),
      ]);
      const [queueHome, sent2] = await Promise.all([
        cli(homeRegion, 'sqs', ['create-queue', '--queue-name', name]),
        cli(REGION, 'sqs', ['send-message', '--queue-url', queue2.json?.QueueUrl, '--message-body', 'in one region']),
      ]);
      const queues = await Promise.all([homeRegion, REGION].map((r) => cli(r, 'sqs', ['get-queue-attributes', '--queue-url', queue2.json?.QueueUrl,
        '--attribute-names', 'QueueArn', 'ApproximateNumberOfMessages'])));
      const crossRegion = await scheduler(REGION).send(new CreateScheduleCommand({
        Name: `${name}-x`, State: 'DISABLED', ScheduleExpression: 'rate(1 day)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: JSON.parse(target(homeRegion)),
      })).then(() => undefined, (e: Error) => ({ name: e.name, message: e.message }));
      const noService = await aas(REGION, 'RegisterScalableTarget', { ...keyBody, ResourceId: 'service/default/only-at-home', MinCapacity: 0, MaxCapacity: 1 });
      for (const r of [homeRegion, REGION]) {
        const made = await elbv2(r).send(new CreateTargetGroupCommand({ Name: tg, Protocol: 'HTTP', Port: 8080, TargetType: 'ip', VpcId: 'vpc-local' }));
        tgArns.push(made.TargetGroups![0].TargetGroupArn!);
      }
      const listed = await scheduler(REGION).send(new ListSchedulesCommand({ NamePrefix: name }));
      await scheduler(homeRegion).send(new DeleteScheduleCommand({ Name: name }));
      const kept = await scheduler(REGION).send(new GetScheduleCommand({ Name: name }));
      const policy = await aas(REGION, 'PutScalingPolicy', {
        ...keyBody, PolicyName: 'cpu', PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
      });
      const targets = await Promise.all([homeRegion, REGION].map((r) => aas(r, 'DescribeScalableTargets', { ServiceNamespace: 'ecs', ResourceIds: [keyBody.ResourceId] })));
      const homePolicies = await aas(homeRegion, 'DescribeScalingPolicies', { ServiceNamespace: 'ecs', ResourceId: keyBody.ResourceId });
      const described = await elbv2(REGION).send(new DescribeTargetGroupsCommand({ Names: [tg] }));

      // Assess
      expect([homeSchedule, schedule2].map((r) => r.json?.ScheduleArn)).toEqual([homeRegion, REGION].map((r) => `arn:aws:scheduler:${r}:000000000000:schedule/default/${name}`));
      expect(crossRegion).toEqual({ name: 'ValidationException', message: 'Invalid Region in ARN' });
      expect(listed.Schedules!.map((x) => x.Arn)).toEqual([`arn:aws:scheduler:${REGION}:000000000000:schedule/default/${name}`]);
      expect(kept.Target!.Arn).toBe(arn(REGION, 'cluster/default'));
      expect([registeredHome.code, registered2.code]).toEqual([0, 0]);
      expect(policy.PolicyARN).toMatch(new RegExp(`^arn:aws:autoscaling:${REGION}:000000000000:scalingPolicy:`));
      expect(targets.map((t) => t.ScalableTargets.map((x: { MinCapacity: number; MaxCapacity: number }) => [x.MinCapacity, x.MaxCapacity]))).toEqual([[[0, 2]], [[1, 5]]]);
      expect(homePolicies.ScalingPolicies).toEqual([]);
      expect(noService).toEqual({ __type: 'ValidationException', message: "ECS service doesn't exist: service/default/only-at-home" });
      expect(tgArns.map((a) => a.split(':')[3])).toEqual([homeRegion, REGION]);
      expect(described.TargetGroups!.map((g) => g.TargetGroupArn)).toEqual([tgArns[1]]);
      expect([queueHome.code, sent2.code]).toEqual([0, 0]);
      expect(queues.map((q) => q.json?.Attributes)).toEqual([homeRegion, REGION].map((r, i) => ({
        QueueArn: `arn:aws:sqs:${r}:000000000000:${name}`, ApproximateNumberOfMessages: String(i),
      })));
    } finally {
      await scheduler(REGION).send(new DeleteScheduleCommand({ Name: name })).catch(() => {});
      for (const r of [homeRegion, REGION]) await aas(r, 'DeregisterScalableTarget', keyBody);
      for (const a of tgArns) await elbv2(a.split(':')[3]).send(new DeleteTargetGroupCommand({ TargetGroupArn: a }));
      for (const client of [m.ecs, ecs]) await client.send(new DeleteServiceCommand({ service: name, force: true }));
    }
  }, 120_000);
});
}
