/**
 * Application Auto Scaling's API with the AWS CLI v2 against the application-autoscaling model
 * awscli ships: shapes, AWS's errors, and that a refused call changes nothing in the store. No
 * controller runs here (test/integration/autoscaling-controller.test.ts runs one).
 */
import { CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { createAutoscalingHandler } from '../../shared/autoscaling/handler';
import { serve } from '../../local/server';
import { awsCli } from '../support/aws-cli';
import { loadServiceModel, validateError, validateOutput } from '../support/ecs-model';
import { type Exchange, type Harness, recording, startHarness, storeSnapshot } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

const model = loadServiceModel('application-autoscaling/2016-02-06');
const KEY = ['--service-namespace', 'ecs', '--scalable-dimension', 'ecs:service:DesiredCount'];

describe('Application Auto Scaling API', () => {
  let h: Harness;
  let url: string;
  let close: () => Promise<void>;
  const exchanges: Exchange[] = [];
  const aas = (args: string[]) => awsCli(url, 'application-autoscaling', args);

  beforeAll(async () => {
    h = await startHarness();
    const api = createAutoscalingHandler(() => h.berth, { log: () => {} });
    const server = await serve({ 'POST /': recording(api, exchanges) });
    url = server.url;
    close = server.close;
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', command: ['sleep', '3600'] }],
    }));
    for (const name of ['web', 'api']) await h.ecs.send(new CreateServiceCommand({ serviceName: name, taskDefinition: 'web', desiredCount: 1 }));
  });
  afterAll(async () => {
    await close();
    await h.close();
  });
  afterEach(() => {
    for (const x of exchanges.splice(0)) {
      const problems = x.status === 200 ? validateOutput(x.operation, x.body, model) : validateError(x.body, model);
      expect(problems.map((p) => `${x.operation}: ${p}`)).toEqual([]);
    }
  });

  /** A refused call: AWS's error type, a 4xx, and the store as it was. */
  async function expectRefused(args: string[], type: string): Promise<string> {
    const before = await storeSnapshot(h);
    const r = await aas(args);
    expect(r.code).not.toBe(0);
    expect(r.errorType).toBe(type);
    expect(exchanges[exchanges.length - 1].status).toBe(400);
    expect(await storeSnapshot(h)).toEqual(before);
    return r.stderr;
  }

  describe('RegisterScalableTarget', () => {
    it('registers a service and describes it with the service-linked role', async () => {
      // Act
      const r = await aas(['register-scalable-target', ...KEY, '--resource-id', 'service/default/web', '--min-capacity', '1', '--max-capacity', '4']);
      const d = await aas(['describe-scalable-targets', '--service-namespace', 'ecs']);

      // Assess
      expect(r.code).toBe(0);
      expect(d.json.ScalableTargets).toEqual([expect.objectContaining({
        ServiceNamespace: 'ecs', ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount',
        MinCapacity: 1, MaxCapacity: 4,
        RoleARN: 'arn:aws:iam::000000000000:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService',
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
      })]);
    });

    it('updates one bound of a registered target and keeps the other', async () => {
      await aas(['register-scalable-target', ...KEY, '--resource-id', 'service/default/web', '--max-capacity', '5']);
      const d = await aas(['describe-scalable-targets', '--service-namespace', 'ecs', '--resource-ids', 'service/default/web']);
      expect(d.json.ScalableTargets[0]).toMatchObject({ MinCapacity: 1, MaxCapacity: 5 });
      await aas(['register-scalable-target', ...KEY, '--resource-id', 'service/default/web', '--max-capacity', '4']);
    });

    it('refuses MinCapacity above MaxCapacity with a ValidationException and changes nothing', async () => {
      const stderr = await expectRefused(['register-scalable-target', ...KEY, '--resource-id', 'service/default/api', '--min-capacity', '5', '--max-capacity', '2'], 'ValidationException');
      expect(stderr).toContain('Minimum capacity cannot be greater than maximum capacity');
    });

    it('refuses a MinCapacity above the MaxCapacity a registered target keeps', async () => {
      await expectRefused(['register-scalable-target', ...KEY, '--resource-id', 'service/default/web', '--min-capacity', '9'], 'ValidationException');
    });

    it.each([
      [['--resource-id', 'service/default/nope', '--min-capacity', '1', '--max-capacity', '2'], 'ECS service doesn\'t exist: service/default/nope'],
      [['--resource-id', 'service/default/api'], 'MinCapacity and MaxCapacity are required'],
      [['--resource-id', 'cluster/default', '--min-capacity', '1', '--max-capacity', '2'], 'Unsupported resource ID'],
    ])('refuses %j with a ValidationException', async (args, message) => {
      expect(await expectRefused(['register-scalable-target', ...KEY, ...args], 'ValidationException')).toContain(message);
    });

    it('refuses a namespace other than ecs, and one the model does not know', async () => {
      await expectRefused(['register-scalable-target', '--service-namespace', 'dynamodb', '--scalable-dimension', 'dynamodb:table:ReadCapacityUnits',
        '--resource-id', 'table/t', '--min-capacity', '1', '--max-capacity', '2'], 'ValidationException');
      const r = await signedFetch(url, {
        target: 'AnyScaleFrontendService.DescribeScalableTargets', service: 'application-autoscaling', credentials: h.credentials,
        body: JSON.stringify({ ServiceNamespace: 'nope' }),
      });
      expect(r.status).toBe(400);
      const body = (await r.json()) as { __type: string; message: string };
      expect(body.__type).toBe('ValidationException');
      expect(body.message).toContain("at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set");
      exchanges.push({ operation: 'DescribeScalableTargets', status: r.status, body });
    });

    it('refuses a call signed for another service', async () => {
      const r = await signedFetch(url, {
        target: 'AnyScaleFrontendService.DescribeScalableTargets', service: 'ecs', credentials: h.credentials,
        body: JSON.stringify({ ServiceNamespace: 'ecs' }),
      });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { __type: string }).__type).toMatch(/InvalidSignatureException|UnrecognizedClientException/);
      exchanges.splice(0);
    });
  });

  describe('PutScalingPolicy', () => {
    const policy = (name: string, config: object) => ['put-scaling-policy', ...KEY, '--resource-id', 'service/default/web',
      '--policy-name', name, '--policy-type', 'TargetTrackingScaling', '--target-tracking-scaling-policy-configuration', JSON.stringify(config)];

    it('puts a CPU target-tracking policy with its two alarms and AWS\'s default cooldowns', async () => {
      // Act
      const r = await aas(policy('cpu50', { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }));
      const d = await aas(['describe-scaling-policies', '--service-namespace', 'ecs', '--resource-id', 'service/default/web']);

      // Assess
      expect(r.code).toBe(0);
      expect(r.json.PolicyARN).toMatch(/^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:[0-9a-f-]{36}:resource\/ecs\/service\/default\/web:policyName\/cpu50$/);
      expect(r.json.Alarms.map((a: { AlarmName: string }) => a.AlarmName)).toEqual([
        expect.stringMatching(/^TargetTracking-service\/default\/web-AlarmHigh-/), expect.stringMatching(/^TargetTracking-service\/default\/web-AlarmLow-/),
      ]);
      expect(d.json.ScalingPolicies).toEqual([expect.objectContaining({
        PolicyName: 'cpu50', PolicyARN: r.json.PolicyARN, PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          ScaleOutCooldown: 300, ScaleInCooldown: 300, DisableScaleIn: false,
        },
      })]);
    });

    it('keeps the ARN when a policy is put again', async () => {
      const first = (await aas(['describe-scaling-policies', '--service-namespace', 'ecs'])).json.ScalingPolicies[0].PolicyARN;
      const r = await aas(policy('cpu50', { TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleInCooldown: 10 }));
      expect(r.json.PolicyARN).toBe(first);
    });

    it('refuses a policy for an unregistered target with ObjectNotFoundException and changes nothing', async () => {
      const stderr = await expectRefused(['put-scaling-policy', ...KEY, '--resource-id', 'service/default/api', '--policy-name', 'p',
        '--policy-type', 'TargetTrackingScaling', '--target-tracking-scaling-policy-configuration',
        JSON.stringify({ TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } })], 'ObjectNotFoundException');
      expect(stderr).toContain('No scalable target registered for service namespace: ecs, resource ID: service/default/api, scalable dimension: ecs:service:DesiredCount');
    });

    it.each([
      ['a metric of another service', { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'DynamoDBReadCapacityUtilization' } }],
      ['ALBRequestCountPerTarget without a ResourceLabel', { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget' } }],
      ['a target value of 0', { TargetValue: 0, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }],
      ['no metric', { TargetValue: 50 }],
    ])('refuses %s with a ValidationException', async (_what, config) => {
      await expectRefused(policy('bad', config), 'ValidationException');
    });

    it('refuses a StepScaling policy: Berth has no CloudWatch alarms to drive one', async () => {
      await expectRefused(['put-scaling-policy', ...KEY, '--resource-id', 'service/default/web', '--policy-name', 'steps',
        '--step-scaling-policy-configuration', 'AdjustmentType=ChangeInCapacity,StepAdjustments=[{MetricIntervalLowerBound=0,ScalingAdjustment=1}]'], 'ValidationException');
    });

    it('deletes a policy; deleting it again is ObjectNotFoundException', async () => {
      await aas(policy('mem', { TargetValue: 70, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageMemoryUtilization' } }));
      const del = ['delete-scaling-policy', ...KEY, '--resource-id', 'service/default/web', '--policy-name', 'mem'];
      expect((await aas(del)).code).toBe(0);
      const names = (await aas(['describe-scaling-policies', '--service-namespace', 'ecs'])).json.ScalingPolicies.map((p: { PolicyName: string }) => p.PolicyName);
      expect(names).toEqual(['cpu50']);
      await expectRefused(del, 'ObjectNotFoundException');
    });
  });

  describe('Scheduled actions', () => {
    const put = (name: string, schedule: string, extra: string[] = []) => ['put-scheduled-action', ...KEY, '--resource-id', 'service/default/web',
      '--scheduled-action-name', name, '--schedule', schedule, ...extra];

    it('puts cron, rate and at actions and describes them', async () => {
      // Act
      for (const [name, schedule] of [['nightly', 'cron(0 22 ? * MON-FRI *)'], ['often', 'rate(5 minutes)'], ['once', 'at(2030-01-01T00:00:00)']]) {
        expect((await aas(put(name, schedule, ['--scalable-target-action', 'MinCapacity=2,MaxCapacity=3', '--timezone', 'Europe/Berlin']))).code).toBe(0);
      }
      const d = await aas(['describe-scheduled-actions', '--service-namespace', 'ecs', '--resource-id', 'service/default/web']);

      // Assess
      expect(d.json.ScheduledActions.map((a: { Schedule: string }) => a.Schedule).sort()).toEqual(['at(2030-01-01T00:00:00)', 'cron(0 22 ? * MON-FRI *)', 'rate(5 minutes)']);
      expect(d.json.ScheduledActions[0]).toMatchObject({ ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 3 }, Timezone: 'Europe/Berlin' });
    });

    it.each([
      ['a schedule croner cannot read', put('bad', 'cron(0 25 * * ? *)')],
      ['a cron without ? in a day field', put('bad', 'cron(0 12 * * * *)')],
      ['rate(1 minutes)', put('bad', 'rate(1 minutes)')],
      ['MinCapacity above MaxCapacity', put('bad', 'rate(5 minutes)', ['--scalable-target-action', 'MinCapacity=4,MaxCapacity=2'])],
      ['an unknown timezone', put('bad', 'rate(5 minutes)', ['--timezone', 'Mars/Olympus'])],
    ])('refuses %s with a ValidationException', async (_what, args) => {
      await expectRefused(args, 'ValidationException');
    });

    it('refuses an action for an unregistered target, and deleting one that does not exist', async () => {
      await expectRefused(['put-scheduled-action', ...KEY, '--resource-id', 'service/default/api', '--scheduled-action-name', 'x', '--schedule', 'rate(5 minutes)'], 'ObjectNotFoundException');
      await expectRefused(['delete-scheduled-action', ...KEY, '--resource-id', 'service/default/web', '--scheduled-action-name', 'nope'], 'ObjectNotFoundException');
    });
  });

  describe('DescribeScalingActivities and DeregisterScalableTarget', () => {
    it('lists no activity before any decision', async () => {
      const r = await aas(['describe-scaling-activities', '--service-namespace', 'ecs', '--resource-id', 'service/default/web']);
      expect(r.json.ScalingActivities).toEqual([]);
    });

    it('deregisters a target with its policies and actions; again is ObjectNotFoundException', async () => {
      const args = ['deregister-scalable-target', ...KEY, '--resource-id', 'service/default/web'];
      expect((await aas(args)).code).toBe(0);
      expect((await aas(['describe-scalable-targets', '--service-namespace', 'ecs'])).json.ScalableTargets).toEqual([]);
      expect((await aas(['describe-scaling-policies', '--service-namespace', 'ecs'])).json.ScalingPolicies).toEqual([]);
      expect((await aas(['describe-scheduled-actions', '--service-namespace', 'ecs'])).json.ScheduledActions).toEqual([]);
      await expectRefused(args, 'ObjectNotFoundException');
    });
  });
});
