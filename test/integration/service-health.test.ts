import { DescribeTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { Service } from '../../shared/domain/service';
import type { HealthStatus } from '../../shared/domain/health';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { reconcileService, serviceGroup } from '../../shared/services/apply';
import { defaultDeploymentConfiguration, startDeployment } from '../../shared/services/deployments';
import type { TaskRecord } from '../../shared/store';
import { expectConforms } from '../support/ecs-model';
import { type Harness, eventually, startHarness } from '../support/harness';

const GRACE_SECONDS = 60;

/**
 * The service applier sees container health as agents report it: a task of a definition with a
 * health check counts only once HEALTHY, and one that turns UNHEALTHY is stopped and replaced
 * once the service's grace period is over. Against dynalite and the local workflows, with the
 * reports an agent sends (the agent's own checks are in test/e2e/health.test.ts) and a clock the
 * test moves.
 */
describe('Service applier: container health', () => {
  let h: Harness;
  // SigV4 checks request times against this clock: it starts at the real time.
  let clock = Date.now();
  let seq = 0;
  const key = { cluster: 'default', serviceName: 'checked' };
  beforeAll(async () => {
    h = await startHarness({ now: () => clock });
    await registerHost(h.berth, { hostId: 'health-h1', cpu: 4096, memory: 8192 });
    const r = await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'svc-checked', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [
        { name: 'app', image: 'busybox', healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ok'], interval: 5, retries: 1 } },
        { name: 'side', image: 'busybox', essential: false },
      ],
    }));
    const base: Service = {
      ...key, status: 'ACTIVE', schedulingStrategy: 'REPLICA', desiredCount: 2, launchType: 'FARGATE',
      deploymentConfiguration: defaultDeploymentConfiguration('REPLICA'), healthCheckGracePeriodSeconds: GRACE_SECONDS,
      placementStrategy: [], placementConstraints: [], tags: [], propagateTags: 'NONE', enableECSManagedTags: false,
      deployments: [], events: [], createdAt: clock, version: 1,
    };
    let n = 0;
    await h.berth.store.services.create(startDeployment(base, r.taskDefinition!.taskDefinitionArn!, clock, () => `checked-${n++}`));
  });
  afterAll(async () => {
    await h.close();
  });

  const live = async () => (await h.berth.store.tasks.listByGroup(key.cluster, serviceGroup(key.serviceName)))
    .filter((t) => t.lastStatus !== 'STOPPED' && t.desiredStatus === 'RUNNING');

  /** What the agent reports when app's check answers: the task stays RUNNING, its health moves. */
  const reportHealth = (t: TaskRecord, healthStatus: HealthStatus) => reportTaskState(h.berth, t.hostId!, {
    task: t, lastStatus: 'RUNNING', seq: ++seq,
    containers: [{ name: 'app', lastStatus: 'RUNNING', healthStatus }, { name: 'side', lastStatus: 'RUNNING' }],
  });

  it('counts a task only once its health check passes', async () => {
    // Prepare: the service's two tasks, placed and RUNNING, their checks not answered yet.
    await reconcileService(h.berth, key);
    const placed = await eventually(async () => {
      const ts = await live();
      return ts.length === 2 && ts.every((t) => t.hostId && t.lastStatus === 'PENDING') && ts;
    }, 10_000, 'tasks placed');
    for (const t of placed) await reportTaskState(h.berth, t.hostId!, { task: t, lastStatus: 'RUNNING', seq: ++seq, timestamps: { startedAt: clock } });

    // Act
    const unanswered = await reconcileService(h.berth, key);
    for (const t of placed) await reportHealth(t, 'HEALTHY');
    const answered = await reconcileService(h.berth, key);

    // Assess
    expect(unanswered.service!.deployments[0].rolloutState).toBe('IN_PROGRESS');
    expect(answered.service!.deployments[0].rolloutState).toBe('COMPLETED');
    expect(answered.service!.events[0].message).toBe('(service checked) has reached a steady state.');
  });

  it('shows the reported health in DescribeTasks, as ECS does', async () => {
    // Act
    const [t] = await live();
    const r = await h.ecs.send(new DescribeTasksCommand({ cluster: 'default', tasks: [t.taskId] }));

    // Assess
    expect(r.tasks![0]).toMatchObject({
      lastStatus: 'RUNNING', healthStatus: 'HEALTHY',
      containers: expect.arrayContaining([
        expect.objectContaining({ name: 'app', healthStatus: 'HEALTHY' }),
        expect.objectContaining({ name: 'side', healthStatus: 'UNKNOWN' }),
      ]),
    });
    expectConforms('DescribeTasks', h.exchanges.at(-1)!.body);
  });

  it('replaces a task that turns UNHEALTHY, once the grace period is over', async () => {
    // Prepare
    const [sick, well] = await live();
    await reportHealth(sick, 'UNHEALTHY');

    // Act: within the grace period, then past it.
    const within = await reconcileService(h.berth, key);
    clock += (GRACE_SECONDS + 1) * 1000;
    const past = await reconcileService(h.berth, key);

    // Assess
    expect(within.stopped).toEqual([]);
    expect(within.wakeAt).toBe(sick.startedAt! + GRACE_SECONDS * 1000);
    expect(past.stopped).toEqual([sick.taskId]);
    const stopped = (await h.berth.store.tasks.get(sick))!;
    expect(stopped).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed container health checks' });
    expect(past.service!.events.map((e) => e.message)).toContain(`(service checked) (task ${sick.taskId}) failed container health checks.`);
    expect((await h.berth.store.tasks.get(well))!.desiredStatus).toBe('RUNNING');
    // The replacement: started by this pass or, past a backoff, by a later one.
    await eventually(async () => {
      await reconcileService(h.berth, key);
      const ts = await live();
      return ts.length === 2 && !ts.some((t) => t.taskId === sick.taskId);
    }, 10_000, 'a replacement task');
  });

  it('never lets a health report move a task backward', async () => {
    // Prepare: the stopped task's agent reports STOPPING; a health report from before arrives late.
    const sick = (await h.berth.store.tasks.listByGroup(key.cluster, serviceGroup(key.serviceName))).find((t) => t.desiredStatus === 'STOPPED')!;
    const late = ++seq;
    await reportTaskState(h.berth, sick.hostId!, { task: sick, lastStatus: 'STOPPING', seq: ++seq, timestamps: { stoppingAt: clock } });

    // Act
    const r = await reportTaskState(h.berth, sick.hostId!, {
      task: sick, lastStatus: 'RUNNING', seq: late,
      containers: [{ name: 'app', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }],
    });

    // Assess
    expect(r.applied).toBe(false);
    expect(r.task.lastStatus).toBe('STOPPING');
    expect(r.task.containers.find((c) => c.name === 'app')!.healthStatus).toBe('UNHEALTHY');
  });
});
