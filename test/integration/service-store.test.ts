import { createTables, startDynalite, type Dynalite } from '../../local/dynalite';
import type { Service } from '../../shared/domain/service';
import type { Task } from '../../shared/domain/task';
import { type Store, createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';

let dynamo: Dynalite;
let store: Store;

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  store = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), tableNames());
});
afterAll(() => dynamo.close());

let n = 0;
const newService = (over: Partial<Service> = {}): Service => ({
  cluster: 'default',
  serviceName: `web-${++n}`,
  status: 'ACTIVE',
  schedulingStrategy: 'REPLICA',
  desiredCount: 3,
  launchType: 'FARGATE',
  deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } },
  placementStrategy: [],
  placementConstraints: [],
  tags: [],
  propagateTags: 'NONE',
  enableECSManagedTags: false,
  deployments: [{
    id: 'ecs-svc/1234567890123456789', status: 'PRIMARY', taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
    desiredCount: 3, failedTasks: 0, rolloutState: 'IN_PROGRESS', createdAt: 1_000, updatedAt: 1_000,
  }],
  events: [],
  createdAt: 1_000,
  version: 1,
  ...over,
});

const newTask = (over: Partial<Task>): Task => ({
  cluster: 'default',
  taskId: (++n).toString(16).padStart(32, '0'),
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
  family: 'web',
  revision: 1,
  containers: [],
  overrides: { containerOverrides: [] },
  cpu: 256,
  memory: 512,
  lastStatus: 'PROVISIONING',
  desiredStatus: 'RUNNING',
  version: 1,
  createdAt: 1_000,
  launchType: 'FARGATE',
  placementStrategy: 'spread',
  tags: [],
  ...over,
});

describe('ServiceStore', () => {
  describe('create', () => {
    it('creates a service once; a second create of the name returns the first, unchanged', async () => {
      // Prepare
      const service = newService();

      // Act
      const first = await store.services.create(service);
      const second = await store.services.create({ ...service, desiredCount: 9 });

      // Assess
      expect(first.created).toBe(true);
      expect(second).toEqual({ created: false, service: expect.objectContaining({ desiredCount: 3 }) });
      expect((await store.services.get(service))!.desiredCount).toBe(3);
    });

    it('lets exactly one of 20 concurrent creates of one name win', async () => {
      // Prepare
      const base = newService();

      // Act
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.services.create({ ...base, desiredCount: i })));

      // Assess
      const winners = results.filter((r) => r.created);
      expect(winners).toHaveLength(1);
      expect((await store.services.get(base))!.desiredCount).toBe(winners[0].service.desiredCount);
      expect(new Set(results.map((r) => r.service.desiredCount))).toEqual(new Set([winners[0].service.desiredCount]));
    });

    it('replaces an INACTIVE service of the same name, continuing its version', async () => {
      // Prepare
      const old = newService();
      await store.services.create(old);
      const inactive = (await store.services.update({ ...old, status: 'INACTIVE', desiredCount: 0 }, 1))!;

      // Act
      const revived = await store.services.create({ ...newService(), serviceName: old.serviceName, desiredCount: 7 });
      // A reconciler that still holds the draining service loses its write.
      const stale = await store.services.update({ ...inactive, desiredCount: 1 }, inactive.version);

      // Assess
      expect(revived).toEqual({ created: true, service: expect.objectContaining({ status: 'ACTIVE', desiredCount: 7, version: inactive.version + 1 }) });
      expect(stale).toBeUndefined();
      expect(await store.services.get(old)).toMatchObject({ status: 'ACTIVE', desiredCount: 7 });
    });
  });

  describe('update', () => {
    it('writes on the expected version and bumps it; a stale version changes nothing', async () => {
      // Prepare
      const s = newService();
      await store.services.create(s);

      // Act
      const written = await store.services.update({ ...s, desiredCount: 5 }, 1);
      const stale = await store.services.update({ ...s, desiredCount: 8 }, 1);

      // Assess
      expect(written).toMatchObject({ desiredCount: 5, version: 2 });
      expect(stale).toBeUndefined();
      expect(await store.services.get(s)).toMatchObject({ desiredCount: 5, version: 2 });
    });

    it('lets exactly one of 20 concurrent writers at one version win', async () => {
      // Prepare
      const s = newService();
      await store.services.create(s);

      // Act
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.services.update({ ...s, desiredCount: 100 + i }, 1)));

      // Assess
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(await store.services.get(s)).toMatchObject({ desiredCount: winners[0]!.desiredCount, version: 2 });
    });

    it('never writes a service that does not exist', async () => {
      const s = newService();
      expect(await store.services.update(s, 0)).toBeUndefined();
      expect(await store.services.get(s)).toBeUndefined();
    });
  });

  describe('list', () => {
    it("lists a cluster's services, and only live ones across clusters", async () => {
      // Prepare
      const a = newService({ cluster: 'svc-list' });
      const b = newService({ cluster: 'svc-list', status: 'INACTIVE' });
      const c = newService({ cluster: 'svc-list-other', status: 'DRAINING' });
      for (const s of [a, b, c]) await store.services.create(s);

      // Act
      const inCluster = await store.services.list('svc-list');
      const live = await store.services.listLive();

      // Assess
      expect(inCluster.map((s) => s.serviceName).sort()).toEqual([a.serviceName, b.serviceName].sort());
      const liveNames = live.map((s) => s.serviceName);
      expect(liveNames).toEqual(expect.arrayContaining([a.serviceName, c.serviceName]));
      expect(liveNames).not.toContain(b.serviceName);
    });
  });
});

describe('TaskStore', () => {
  describe('listByGroup', () => {
    it("finds a service's tasks by group, and no other task of the cluster", async () => {
      // Prepare
      const mine = [newTask({ group: 'service:api' }), newTask({ group: 'service:api', lastStatus: 'STOPPED' })];
      const others = [newTask({ group: 'service:api-2' }), newTask({ group: 'family:web' }), newTask({ cluster: 'other', group: 'service:api' })];
      for (const t of [...mine, ...others]) await store.tasks.create(t);

      // Act
      const found = await store.tasks.listByGroup('default', 'service:api');

      // Assess
      expect(found.map((t) => t.taskId).sort()).toEqual(mine.map((t) => t.taskId).sort());
    });

    it('sees a task the moment it is written (a consistent read)', async () => {
      const t = newTask({ group: 'service:fresh' });
      await store.tasks.create(t);
      await store.tasks.advance(t, { lastStatus: 'RUNNING' });
      expect(await store.tasks.listByGroup('default', 'service:fresh')).toEqual([expect.objectContaining({ taskId: t.taskId, lastStatus: 'RUNNING' })]);
    });
  });
});
