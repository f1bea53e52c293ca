/**
 * Application Auto Scaling's controller on dynalite with a moved clock: target tracking from
 * task samples, scheduled actions, MinCapacity and MaxCapacity, each step an activity and a
 * service event. Tasks are made RUNNING by hand (no agents run here); test/e2e/shared/autoscaling.ts
 * runs the same with real busy containers.
 */
import { CreateServiceCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { type AutoscalingOptions, autoscalingPass } from '../../shared/autoscaling/controller';
import { TaskSampleWindow } from '../../shared/autoscaling/metrics';
import { DescribeScalingActivities, PutScalingPolicy, PutScheduledAction, RegisterScalableTarget } from '../../shared/autoscaling/operations';
import { serviceGroup } from '../../shared/services/apply';
import { reconcileService } from '../../shared/services/apply';
import { DIMENSIONS, METRICS } from '../../shared/metrics/catalog';
import { type Harness, startHarness } from '../support/harness';

const PERIOD_MS = 60_000;
const KEY = { ServiceNamespace: 'ecs', ResourceId: 'service/default/web', ScalableDimension: 'ecs:service:DesiredCount' };

describe('Application Auto Scaling controller', () => {
  let h: Harness;
  // Starts at the wall clock, so the SDK's signed calls in beforeAll are fresh; only the controller's calls come after.
  let clock = Date.now();
  let window: TaskSampleWindow;
  let o: AutoscalingOptions;

  beforeAll(async () => {
    h = await startHarness({ now: () => clock, config: { placementTimeoutSeconds: 86_400 } });
    window = new TaskSampleWindow(() => clock);
    o = { metrics: window, periodMs: PERIOD_MS, sampleMaxAgeMs: 2 * PERIOD_MS };
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'busy', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', command: ['sh', '-c', 'while :; do :; done'] }],
    }));
    await h.ecs.send(new CreateServiceCommand({ serviceName: 'web', taskDefinition: 'busy', desiredCount: 1 }));
  });
  afterAll(() => h.close());

  const service = async () => (await h.berth.store.services.get({ cluster: 'default', serviceName: 'web' }))!;

  /** The service reconciler's pass (the local mode runs it on a wake); its new tasks then report RUNNING. */
  async function settle(): Promise<string[]> {
    await reconcileService(h.berth, { cluster: 'default', serviceName: 'web' });
    const tasks = (await h.berth.store.tasks.listByGroup('default', serviceGroup('web'))).filter((t) => t.desiredStatus === 'RUNNING');
    for (const t of tasks) await h.berth.store.tasks.advance(t, { lastStatus: 'RUNNING' });
    return tasks.map((t) => t.taskId);
  }

  /** One period: every running task reports `cpu`%, the clock moves on, a pass runs. */
  async function period(cpu: number) {
    const tasks = await settle();
    await window.publish(tasks.map((taskId) => ({
      name: METRICS.taskCpuUtilization.name, unit: 'Percent', values: [cpu], timestamp: clock,
      dimensions: { [DIMENSIONS.cluster]: 'default', [DIMENSIONS.task]: taskId },
    })));
    clock += PERIOD_MS;
    return autoscalingPass(h.berth, o);
  }

  it('scales a busy service out to MaxCapacity within 3 datapoints each, then in after 15 quiet ones', async () => {
    // Prepare
    await RegisterScalableTarget(h.berth, { ...KEY, MinCapacity: 1, MaxCapacity: 3 }, {});
    await PutScalingPolicy(h.berth, {
      ...KEY, PolicyName: 'cpu50', PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, ScaleOutCooldown: 0, ScaleInCooldown: 0 },
    }, {});

    // Act: busy tasks until the service stops growing.
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      await period(100);
      counts.push((await service()).desiredCount);
    }
    // Quiet tasks.
    const quiet: number[] = [];
    for (let i = 0; i < 16; i++) {
      await period(2);
      quiet.push((await service()).desiredCount);
    }

    // Assess: 1 → 2 at the third datapoint, → 3 (MaxCapacity, not 4) at the next; never above.
    expect(counts).toEqual([1, 1, 2, 3, 3, 3]);
    // The first 15 quiet datapoints are needed; then straight to MinCapacity (ceil(3 × 2 / 50) = 1).
    expect(quiet.slice(0, 14).every((c) => c === 3)).toBe(true);
    expect(quiet[quiet.length - 1]).toBe(1);
    const activities = (await DescribeScalingActivities(h.berth, { ServiceNamespace: 'ecs', ResourceId: KEY.ResourceId }, {}) as { ScalingActivities: any[] }).ScalingActivities;
    expect(activities.map((a) => a.Description)).toEqual(['Setting desired count to 1.', 'Setting desired count to 3.', 'Setting desired count to 2.']);
    expect(activities[2]).toMatchObject({
      StatusCode: 'Successful', StatusMessage: 'Successfully set desired count to 2. Change successfully fulfilled by ecs.',
      Cause: expect.stringMatching(/^monitor alarm TargetTracking-service\/default\/web-AlarmHigh-[0-9a-f-]+ in state ALARM triggered policy cpu50$/),
    });
    expect(activities[0].Cause).toMatch(/AlarmLow-.* in state ALARM triggered policy cpu50$/);
    for (const a of activities) expect(a.EndTime).toBeGreaterThanOrEqual(a.StartTime);
    const events = (await service()).events.map((e) => e.message);
    expect(events.filter((m) => m.includes('by Application Auto Scaling'))).toHaveLength(3);
  });

  it('fires a scheduled action at its time: the new MinCapacity raises the desired count', async () => {
    // Prepare
    const fireAt = new Date(clock + 2 * PERIOD_MS).toISOString().slice(0, 19);
    await PutScheduledAction(h.berth, { ...KEY, ScheduledActionName: 'morning', Schedule: `at(${fireAt})`, ScalableTargetAction: { MinCapacity: 2, MaxCapacity: 3 } }, {});

    // Act
    await period(50);
    const before = (await service()).desiredCount;
    await period(50);
    await period(50);
    const after = (await service()).desiredCount;
    await period(50);

    // Assess
    expect(before).toBe(1);
    expect(after).toBe(2);
    const activities = (await DescribeScalingActivities(h.berth, { ServiceNamespace: 'ecs' }, {}) as { ScalingActivities: any[] }).ScalingActivities;
    expect(activities.slice(0, 2)).toEqual([
      expect.objectContaining({ Description: 'Setting desired count to 2.', Cause: 'minimum capacity was set to 2', StatusCode: 'Successful' }),
      expect.objectContaining({ Description: 'Setting min capacity to 2 and max capacity to 3', Cause: 'scheduled action name morning was triggered', StatusCode: 'Successful' }),
    ]);
    // It fired once.
    expect(activities.filter((a) => a.Cause.includes('morning'))).toHaveLength(1);
  });
});
