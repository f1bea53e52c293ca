import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { Berth } from '../../shared/context';
import type { Service } from '../../shared/domain/service';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { reconcileService, serviceGroup } from '../../shared/services/apply';
import { defaultDeploymentConfiguration, startDeployment } from '../../shared/services/deployments';
import type { ServiceRecord } from '../../shared/store';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * The service applier against dynalite and the local workflows (no containers: tasks are moved
 * along by the same reports an agent sends). The pure rules are in test/unit/service-reconcile.
 */
describe('Service applier', () => {
  let h: Harness;
  let arn: string;
  beforeAll(async () => {
    h = await startHarness();
    const r = await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'svc-web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox' }], tags: [{ key: 'team', value: 'td' }],
    }));
    arn = r.taskDefinition!.taskDefinitionArn!;
    await registerHost(h.berth, { hostId: 'svc-h1', cpu: 4096, memory: 8192 });
    await registerHost(h.berth, { hostId: 'svc-h2', cpu: 4096, memory: 8192 });
  });
  afterAll(async () => {
    await h.close();
  });

  async function createService(name: string, over: Partial<Service> = {}): Promise<ServiceRecord> {
    let n = 0;
    const base: Service = {
      cluster: 'default', serviceName: name, status: 'ACTIVE', schedulingStrategy: 'REPLICA', desiredCount: 3,
      launchType: 'FARGATE', deploymentConfiguration: defaultDeploymentConfiguration(over.schedulingStrategy ?? 'REPLICA'),
      placementStrategy: [], placementConstraints: [], tags: [{ key: 'owner', value: 'svc' }], propagateTags: 'SERVICE',
      enableECSManagedTags: true, deployments: [], events: [], createdAt: h.berth.now(), version: 1, ...over,
    };
    const service = startDeployment(base, arn, h.berth.now(), () => `${name}-${n++}`);
    const { created } = await h.berth.store.services.create(service);
    expect(created).toBe(true);
    return service;
  }

  const tasksOf = (name: string) => h.berth.store.tasks.listByGroup('default', serviceGroup(name));
  const live = async (name: string) => (await tasksOf(name)).filter((t) => t.lastStatus !== 'STOPPED');

  /** Reports every placed, wanted task RUNNING, as its agent would. */
  async function runAll(name: string) {
    const placed = await eventually(async () => {
      const ts = (await live(name)).filter((t) => t.desiredStatus === 'RUNNING');
      return ts.every((t) => t.hostId && (t.lastStatus === 'PENDING' || t.lastStatus === 'RUNNING')) && ts;
    }, 10_000, 'tasks placed');
    for (const t of placed.filter((x) => x.lastStatus === 'PENDING')) await reportTaskState(h.berth, t.hostId!, { task: t, lastStatus: 'RUNNING', timestamps: { startedAt: h.berth.now() } });
  }

  it('starts a service\'s tasks through RunTask, placed by spread, with the service\'s group, deployment and tags', async () => {
    // Prepare
    const service = await createService('web');

    // Act
    const pass = await reconcileService(h.berth, service);

    // Assess
    expect(pass.started).toHaveLength(3);
    const tasks = await tasksOf('web');
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t) => t.startedBy))).toEqual(new Set([service.deployments[0].id]));
    expect(tasks[0].tags).toEqual(expect.arrayContaining([
      { key: 'owner', value: 'svc' }, { key: 'aws:ecs:serviceName', value: 'web' }, { key: 'aws:ecs:clusterName', value: 'default' },
    ]));
    expect(tasks.every((t) => t.placementStrategy === 'spread')).toBe(true);
    expect(pass.service!.events[0].message).toMatch(/^\(service web\) has started 3 tasks: \(task [0-9a-f]{32}\) /);
    expect(pass.service!.version).toBe(service.version + 1);

    await runAll('web');
    const steady = await reconcileService(h.berth, service);
    expect(steady.service!.deployments[0]).toMatchObject({ rolloutState: 'COMPLETED', runningCount: 3 });
    expect(steady.service!.events[0].message).toBe('(service web) has reached a steady state.');
  });

  it('replaces a task that stopped, and says so', async () => {
    const [victim] = await live('web');
    await reportTaskState(h.berth, victim.hostId!, {
      task: victim, lastStatus: 'STOPPED', timestamps: { stoppedAt: h.berth.now() },
      stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
    });
    await eventually(async () => (await h.berth.store.tasks.get(victim))?.lastStatus === 'STOPPED', 20_000, 'victim stopped');

    const pass = await reconcileService(h.berth, { cluster: 'default', serviceName: 'web' });

    expect(pass.started).toHaveLength(1);
    expect(await live('web')).toHaveLength(3);
    expect(pass.service!.events[0].message).toBe(`(service web) has started 1 tasks: (task ${pass.started[0]}).`);
  });

  it('never duplicates tasks: concurrent passes, and a pass re-run after dying before its write', async () => {
    // Prepare: a pass that dies between RunTask and the service write.
    const service = await createService('racy', { desiredCount: 4 });
    const dying: Berth = {
      ...h.berth,
      store: { ...h.berth.store, services: Object.assign(Object.create(Object.getPrototypeOf(h.berth.store.services)), h.berth.store.services, {
        update: async () => { throw new Error('crash before the write'); },
      }) },
    };
    await expect(reconcileService(dying, service)).rejects.toThrow('crash before the write');
    expect(await tasksOf('racy')).toHaveLength(4);

    // Act: the pass again (same version read), and two more racing each other.
    await Promise.all([reconcileService(h.berth, service), reconcileService(h.berth, service), reconcileService(h.berth, service)]);

    // Assess
    expect(await tasksOf('racy')).toHaveLength(4);
  });

  it('rolls a new revision out and stops the old tasks with ServiceSchedulerInitiated', async () => {
    await runAll('web');
    await reconcileService(h.berth, { cluster: 'default', serviceName: 'web' });
    const before = (await h.berth.store.services.get({ cluster: 'default', serviceName: 'web' }))!;
    let n = 0;
    const updated = startDeployment(before, arn, h.berth.now(), () => `force-${n++}`);
    expect(await h.berth.store.services.update(updated, before.version)).toBeDefined();
    const oldIds = new Set((await live('web')).map((t) => t.taskId));

    const surge = await reconcileService(h.berth, before);
    expect(surge.started).toHaveLength(3);
    expect(surge.stopped).toHaveLength(0);
    await runAll('web');
    const drain = await reconcileService(h.berth, before);
    expect(new Set(drain.stopped)).toEqual(oldIds);
    const old = await Promise.all([...oldIds].map((taskId) => h.berth.store.tasks.get({ cluster: 'default', taskId })));
    expect(old.every((t) => t!.desiredStatus === 'STOPPED' && t!.stopCode === 'ServiceSchedulerInitiated')).toBe(true);
    expect(old[0]!.stoppedReason).toBe(`Scaling activity initiated by (deployment ${updated.deployments[0].id})`);
  });

  it('DAEMON: one task pinned to each ACTIVE host', async () => {
    const service = await createService('agentd', { schedulingStrategy: 'DAEMON', desiredCount: 0 });
    const pass = await reconcileService(h.berth, service);
    expect(pass.started).toHaveLength(2);
    expect(pass.service!.desiredCount).toBe(2);
    const placed = await eventually(async () => {
      const ts = await live('agentd');
      return ts.every((t) => t.hostId) && ts;
    }, 10_000, 'daemon tasks placed');
    expect(placed.map((t) => t.hostId).sort()).toEqual(['svc-h1', 'svc-h2']);
    expect(placed.map((t) => t.targetHostId).sort()).toEqual(['svc-h1', 'svc-h2']);
  });
});
