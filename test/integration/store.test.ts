import { jest } from '@jest/globals';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, ensureTables, startDynalite, type Dynalite } from '../../local/dynalite';
import { sweepExpired } from '../../local/ttl-sweep';
import { type Task, statusRank } from '../../shared/domain/task';
import { planOn } from '../../shared/scheduler/placement';
import { CLIENT_TOKEN_TTL_MS, type Store, createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { FLEET_ITEM } from '../../shared/store/host-store';
import { CLUSTER_STATUS_MAX_AGE_MS } from '../../shared/store/cluster-store';
import { STOPPED_TASK_RETENTION_SECONDS, tableNames } from '../../shared/store/tables';
import { ManualClock } from '../support/manual-clock';
import { deferred } from '../support/deferred';

let dynamo: Dynalite;
let store: Store;

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  store = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), tableNames());
});
afterAll(() => dynamo.close());

describe('Tables', () => {
  it('rebuilds a tasks table an older version made without its indexes, keeping every item', async () => {
    // Prepare: the tasks table as it was before services, holding tasks.
    const old = tableNames('older-');
    await ensureTables(dynamo.endpoint, [{ name: old.tasks, hashKey: 'cluster', rangeKey: 'taskId' }]);
    const before = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), old);
    const tasks = Array.from({ length: 30 }, () => newTask({ group: 'service:web' }));
    for (const t of tasks) await before.tasks.create(t);
    const lines: string[] = [];

    // Act
    await createTables(dynamo.endpoint, 'older-', (line) => lines.push(line));

    // Assess: the index is there and answers, every task kept, and the log says what happened.
    const d = await describeTable(old.tasks);
    expect([...(d.LocalSecondaryIndexes ?? []), ...(d.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName)).toEqual(expect.arrayContaining(['byGroup']));
    const after = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), old);
    expect((await after.tasks.list('default')).map((t) => t.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect((await after.tasks.listByGroup('default', 'service:web'))).toHaveLength(30);
    expect(lines.join('\n')).toMatch(new RegExp(`rebuilding table ${old.tasks}.*byGroup[\\s\\S]*30 item\\(s\\) kept`));
    expect(await describeTable(`${old.tasks}.upgrading`).catch(() => undefined)).toBeUndefined();
  });

  it('finishes a rebuild cut short after the old table was deleted, from the copy it kept', async () => {
    // Prepare: a crash between deleting the outdated table and putting its items back.
    const old = tableNames('cut-');
    await ensureTables(dynamo.endpoint, [{ name: `${old.tasks}.upgrading`, hashKey: 'cluster', rangeKey: 'taskId' }]);
    const copy = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), { ...old, tasks: `${old.tasks}.upgrading` });
    const tasks = Array.from({ length: 3 }, () => newTask());
    for (const t of tasks) await copy.tasks.create(t);

    // Act
    await createTables(dynamo.endpoint, 'cut-');

    // Assess
    const after = createStore(createDocumentClient({ endpoint: dynamo.endpoint }), old);
    expect((await after.tasks.list('default')).map((t) => t.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(await describeTable(`${old.tasks}.upgrading`).catch(() => undefined)).toBeUndefined();
  });
});

const describeTable = async (name: string) => {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table!;
  } finally {
    client.destroy();
  }
};

let n = 0;
const newTask = (over: Partial<Task> = {}): Task => ({
  cluster: 'default',
  taskId: (++n).toString(16).padStart(32, '0'),
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
  family: 'web',
  revision: 1,
  containers: [{ name: 'app', image: 'busybox', essential: true, lastStatus: 'PENDING' }],
  overrides: { containerOverrides: [] },
  cpu: 256,
  memory: 512,
  lastStatus: 'PROVISIONING',
  desiredStatus: 'RUNNING',
  version: 1,
  createdAt: 1_000,
  launchType: 'FARGATE',
  placementStrategy: 'binpack',
  tags: [],
  ...over,
});

describe('Document client', () => {
  it('writes and reads back a map with a member named constructor, whatever it holds', async () => {
    // Prepare: what the marshaller once took for a class instance, a Set and a string.
    const db = createDocumentClient({ endpoint: dynamo.endpoint });
    const item = {
      name: 'constructor-members',
      options: { constructor: 'fuzz', other: '1' },
      posing: [{ constructor: { name: 'Set' } }, { constructor: { name: 'String' }, length: 3 }],
      nested: { a: { constructor: null, b: [{ constructor: 1 }] } },
      plain: { c: 'd' },
    };

    // Act
    await db.send(new PutCommand({ TableName: tableNames().clusters, Item: item }));
    const read = await db.send(new GetCommand({ TableName: tableNames().clusters, Key: { name: item.name } }));

    // Assess
    expect(read.Item).toEqual(item);
    expect(Object.hasOwn(read.Item!.options, 'constructor')).toBe(true);
  });
});

describe('TaskStore', () => {
  describe('create', () => {
    it('writes a task once; a second create of the same id changes nothing', async () => {
      const task = newTask();
      expect(await store.tasks.create(task)).toBe(true);
      expect(await store.tasks.create({ ...task, memory: 9999 })).toBe(false);
      expect((await store.tasks.get(task))!.memory).toBe(512);
    });
  });

  describe('advance', () => {
    it('moves forward and bumps the version', async () => {
      const task = newTask();
      await store.tasks.create(task);
      const r = await store.tasks.advance(task, { lastStatus: 'RUNNING', timestamps: { startedAt: 5 } });
      expect(r).toMatchObject({ lastStatus: 'RUNNING', startedAt: 5, version: 2 });
    });

    it('never moves a task backward: a late report is ignored', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.advance(task, { lastStatus: 'RUNNING' });
      const late = await store.tasks.advance(task, { lastStatus: 'PENDING' });
      expect(late).toBeUndefined();
      expect((await store.tasks.get(task))!.lastStatus).toBe('RUNNING');
    });

    it('applies a repeat at the same status only with a newer seq', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.advance(task, { lastStatus: 'RUNNING', seq: 2 });
      expect(await store.tasks.advance(task, { lastStatus: 'RUNNING', seq: 2 })).toBeUndefined();
      expect(await store.tasks.advance(task, { lastStatus: 'RUNNING', seq: 1 })).toBeUndefined();
      expect(await store.tasks.advance(task, { lastStatus: 'RUNNING', seq: 3 })).toBeDefined();
    });

    it('accepts nothing after STOPPED, and keeps the first stop cause and timestamps', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.advance(task, {
        lastStatus: 'STOPPED', stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'first' }, timestamps: { stoppedAt: 10 }, seq: 1,
      });
      const again = await store.tasks.advance(task, {
        lastStatus: 'STOPPED', stop: { stopCode: 'UserInitiated', stoppedReason: 'second' }, timestamps: { stoppedAt: 20 }, seq: 9,
      });
      expect(again).toBeUndefined();
      expect(await store.tasks.get(task)).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'first', stoppedAt: 10 });
    });

    it('under concurrent out-of-order reports, ends at the furthest status', async () => {
      const task = newTask();
      await store.tasks.create(task);
      const order = ['RUNNING', 'PENDING', 'STOPPED', 'ACTIVATING', 'STOPPING', 'PENDING'] as const;
      await Promise.all(order.map((s) => store.tasks.advance(task, { lastStatus: s })));
      expect((await store.tasks.get(task))!.lastStatus).toBe('STOPPED');
    });
  });

  describe('requestStop', () => {
    it('stops a task with no host at once', async () => {
      const task = newTask();
      await store.tasks.create(task);
      const r = await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => 50);
      expect(r).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedAt: 50 });
    });

    it('leaves a placed task for its agent to stop', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.bindHost(task, 'h1');
      const r = await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => 50);
      expect(r).toMatchObject({ lastStatus: 'PENDING', desiredStatus: 'STOPPED', stopCode: 'UserInitiated' });
      // Not stopping yet: its agent may still start it, and sets stoppingAt when it stops it.
      expect(r!.stoppingAt).toBeUndefined();
    });

    it('sets stoppingAt on a RUNNING task, after its startedAt', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.bindHost(task, 'h1');
      await store.tasks.advance(task, { lastStatus: 'RUNNING', timestamps: { startedAt: 40 }, seq: 1 });
      const r = await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => 50);
      expect(r).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED', startedAt: 40, stoppingAt: 50 });
    });

    it('sets stoppingAt as it writes it: never before the startedAt of a RUNNING that landed after the call began', async () => {
      // Prepare: StopTask reads the clock at 50; the task's RUNNING, started at 60, lands before its writes.
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.bindHost(task, 'h1');
      await store.tasks.advance(task, { lastStatus: 'RUNNING', timestamps: { startedAt: 60 }, seq: 1 });
      const readings = [50];

      // Act
      const r = await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => readings.shift() ?? 61);

      // Assess
      expect(r).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'STOPPED', startedAt: 60, stoppingAt: 61 });
    });

    it('lets the agent set stoppingAt of a task stopped while launching, after it started', async () => {
      // Prepare: StopTask reaches the store before the agent hears of it and starts the task.
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.bindHost(task, 'h1');
      await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => 50);

      // Act
      await store.tasks.advance(task, { lastStatus: 'RUNNING', timestamps: { pullStartedAt: 55, pullStoppedAt: 56, startedAt: 60 }, seq: 1 });
      const r = await store.tasks.advance(task, { lastStatus: 'STOPPED', timestamps: { stoppingAt: 61, stoppedAt: 62 }, stop: { stopCode: 'UserInitiated', stoppedReason: 'Task stopped' }, seq: 2 });

      // Assess: in order, and StopTask's cause kept.
      expect(r).toMatchObject({ startedAt: 60, stoppingAt: 61, stoppedAt: 62, stoppedReason: 'bye' });
    });

    it('refuses to bind a host once the task is stopped', async () => {
      const task = newTask();
      await store.tasks.create(task);
      await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'bye' }, () => 50);
      expect(await store.tasks.bindHost(task, 'h1')).toBeUndefined();
    });

    it('binds a task to its host as PENDING, once, and never moves a status back', async () => {
      // Prepare: a new task, and one that is somehow past PENDING with no host.
      const task = newTask();
      await store.tasks.create(task);
      const ahead = { ...newTask(), lastStatus: 'RUNNING' as const };
      await store.tasks.create(ahead);

      // Act
      const bound = await store.tasks.bindHost(task, 'h1', 40);
      const again = await store.tasks.bindHost(task, 'h2', 41);
      const backward = await store.tasks.bindHost(ahead, 'h1', 42);

      // Assess
      expect(bound).toMatchObject({ hostId: 'h1', placedAt: 40, lastStatus: 'PENDING', statusRank: statusRank('PENDING') });
      expect(again).toBeUndefined();
      expect(backward).toBeUndefined();
      expect(await store.tasks.get(ahead)).toMatchObject({ lastStatus: 'RUNNING' });
    });
  });
});

describe('HostStore', () => {
  describe('reserve', () => {
    it('returns the host\'s sums after the write, others\' commits included', async () => {
      const host = await store.hosts.register({ hostId: 'sums-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      await store.hosts.reserve(planOn(host, { taskId: 'other', cpu: 1024, memory: 1024 }), 'default');
      // `host` is the stale view from before the other commit.
      expect(await store.hosts.reserve(planOn(host, { taskId: 'mine', cpu: 256, memory: 512 }), 'default'))
        .toEqual({ reservedCpu: 1280, reservedMemory: 1536, taskCount: 2 });
    });

    it('lets exactly as many of 50 concurrent reservations win as the host holds', async () => {
      const host = await store.hosts.register({ hostId: 'race-1', cpu: 1024, memory: 4096 }, 0, { open: true });
      const plans = Array.from({ length: 50 }, (_, i) => planOn(host, { taskId: `t${i}`, cpu: 256, memory: 512 }));
      const won = await Promise.all(plans.map((p) => store.hosts.reserve(p, 'default')));
      const after = (await store.hosts.get('race-1'))!;
      expect(won.filter(Boolean)).toHaveLength(4);
      expect(after.reservedCpu).toBe(1024);
      expect(Object.keys(after.reservations)).toHaveLength(4);
    });

    it('is idempotent per task id', async () => {
      const host = await store.hosts.register({ hostId: 'idem-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      const plan = planOn(host, { taskId: 'same', cpu: 256, memory: 512 });
      expect(await store.hosts.reserve(plan, 'default')).toEqual({ reservedCpu: 256, reservedMemory: 512, taskCount: 1 });
      expect(await store.hosts.reserve(plan, 'default')).toBeUndefined();
      expect((await store.hosts.get('idem-1'))!.reservedCpu).toBe(256);
    });

    it('refuses a host that is not ACTIVE', async () => {
      const host = await store.hosts.register({ hostId: 'drain-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      await store.hosts.setStatus('drain-1', 'DRAINING');
      expect(await store.hosts.reserve(planOn(host, { taskId: 'x', cpu: 1, memory: 1 }), 'default')).toBeUndefined();
    });
  });

  describe('release', () => {
    it('frees a reservation once, however often it is called', async () => {
      const host = await store.hosts.register({ hostId: 'rel-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      await store.hosts.reserve(planOn(host, { taskId: 'a', cpu: 256, memory: 512 }), 'default');
      await store.hosts.reserve(planOn(host, { taskId: 'b', cpu: 256, memory: 512 }), 'default');
      const results = await Promise.all([1, 2, 3].map(() => store.hosts.release('rel-1', 'a', { cpu: 256, memory: 512 })));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.hosts.get('rel-1')).toMatchObject({ reservedCpu: 256, reservedMemory: 512, taskCount: 1 });
    });
  });

  describe('host ports', () => {
    it('lets exactly one of 20 concurrent reservations of one host port win, on a host with room for all', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'port-race-1', cpu: 16384, memory: 65536 }, 0, { open: true });
      const plans = Array.from({ length: 20 }, (_, i) => planOn(host, { taskId: `p${i}`, cpu: 256, memory: 512, ports: ['8080/tcp'] }));

      // Act
      const won = await Promise.all(plans.map((p) => store.hosts.reserve(p, 'default')));

      // Assess
      const after = (await store.hosts.get('port-race-1'))!;
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(won.find(Boolean)!.reservedPorts).toEqual(['8080/tcp']);
      expect(Object.keys(after.reservations)).toHaveLength(1);
      expect(after.taskCount).toBe(1);
    });

    it('keeps tcp and udp of one number apart, and lets other ports and portless tasks in beside', async () => {
      const host = await store.hosts.register({ hostId: 'port-mix-1', cpu: 16384, memory: 65536 }, 0, { open: true });
      const reserve = (taskId: string, ports?: string[]) => store.hosts.reserve(planOn(host, { taskId, cpu: 1, memory: 1, ports }), 'default');

      expect(await reserve('tcp', ['53/tcp'])).toBeDefined();
      expect(await reserve('udp', ['53/udp', '8125/udp'])).toBeDefined();
      expect(await reserve('none')).toBeDefined();
      expect(await reserve('clash', ['9000/tcp', '8125/udp'])).toBeUndefined();

      const views = await store.hosts.views();
      expect([...views.find((v) => v.hostId === 'port-mix-1')!.reservedPorts!].sort()).toEqual(['53/tcp', '53/udp', '8125/udp']);
      expect((await store.hosts.get('port-mix-1'))!.reservations.udp).toEqual({ cpu: 1, memory: 1, cluster: 'default', ports: ['53/udp', '8125/udp'] });
    });

    it('frees a task\'s ports with its reservation, once, so the next task may take them', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'port-rel-1', cpu: 16384, memory: 65536 }, 0, { open: true });
      await store.hosts.reserve(planOn(host, { taskId: 'first', cpu: 1, memory: 1, ports: ['80/tcp'] }), 'default');
      const held = (await store.hosts.get('port-rel-1'))!.reservations.first;

      // Act
      const released = await Promise.all([1, 2].map(() => store.hosts.release('port-rel-1', 'first', held)));
      const next = await store.hosts.reserve(planOn(host, { taskId: 'next', cpu: 1, memory: 1, ports: ['80/tcp'] }), 'default');

      // Assess
      expect(released.filter(Boolean)).toHaveLength(1);
      expect(next?.reservedPorts).toEqual(['80/tcp']);
    });
  });

  describe('holding', () => {
    it('finds every host that holds a task', async () => {
      const a = await store.hosts.register({ hostId: 'hold-a', cpu: 4096, memory: 8192 }, 0, { open: true });
      const b = await store.hosts.register({ hostId: 'hold-b', cpu: 4096, memory: 8192 }, 0, { open: true });
      await store.hosts.reserve(planOn(a, { taskId: 'twice', cpu: 1, memory: 1 }), 'default');
      await store.hosts.reserve(planOn(b, { taskId: 'twice', cpu: 1, memory: 1 }), 'default');
      expect((await store.hosts.holding('twice')).map((h) => h.hostId).sort()).toEqual(['hold-a', 'hold-b']);
    });
  });
});

describe('TaskDefinitionStore', () => {
  it('gives concurrent registrations of one family distinct, consecutive revisions', async () => {
    const spec = { family: 'conc', containerDefinitions: [{ name: 'a', image: 'i', essential: true, memory: 64 }] };
    const defs = await Promise.all(Array.from({ length: 10 }, () => store.taskDefinitions.register(spec, [], 0)));
    expect(defs.map((d) => d.revision).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('resolves a family to its newest ACTIVE revision', async () => {
    const spec = { family: 'latest', containerDefinitions: [{ name: 'a', image: 'i', essential: true, memory: 64 }] };
    for (let i = 0; i < 3; i++) await store.taskDefinitions.register(spec, [], 0);
    await store.taskDefinitions.deregister('latest', 3, 1);
    expect((await store.taskDefinitions.latestActive('latest'))!.revision).toBe(2);
    expect((await store.taskDefinitions.get('latest', 3))!.status).toBe('INACTIVE');
  });
});

describe('HostStore fleetViews', () => {
  /** A store on tables of its own, counting the Scans its client sends. */
  async function counted(prefix: string) {
    await createTables(dynamo.endpoint, prefix);
    const db = createDocumentClient({ endpoint: dynamo.endpoint });
    const scans = { n: 0 };
    db.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'ScanCommand') scans.n++;
      return next(args);
    }, { step: 'initialize', name: 'countScans' });
    return { s: createStore(db, tableNames(prefix)), db, scans, names: tableNames(prefix) };
  }

  it('reads every live host by key, without a Scan, and leaves out ended ones', async () => {
    // Prepare: launched, registered and ended hosts.
    // A new table's fleet item needs no seed scan.
    const { s, scans } = await counted('fleet-a-');
    await s.hosts.launching({ hostId: 'i-1', instanceType: 'c6i.large', market: 'spot', cpu: 2048, memory: 3840 }, 0);
    await s.hosts.register({ hostId: 'h-2', cpu: 1024, memory: 2048 }, 0, { open: true });
    await s.hosts.register({ hostId: 'h-3', cpu: 1024, memory: 2048 }, 0, { open: true });
    await s.hosts.reserve(planOn((await s.hosts.view('h-2'))!, { taskId: 't', cpu: 256, memory: 512 }), 'default');
    expect(await s.hosts.transition('h-3', 'TERMINATED', ['ACTIVE'], { empty: true })).toBe(true);

    // Act
    const views = await s.hosts.fleetViews();

    // Assess: the live hosts with their sums as of now, no Scan, and the item is no host.
    expect(views.map((h) => [h.hostId, h.status, h.reservedCpu]).sort()).toEqual([['h-2', 'ACTIVE', 256], ['i-1', 'LAUNCHING', 0]]);
    expect(scans.n).toBe(0);
    expect((await s.hosts.list()).map((h) => h.hostId).sort()).toEqual(['h-2', 'h-3', 'i-1']);
    expect((await s.hosts.views()).map((h) => h.hostId).sort()).toEqual(['h-2', 'h-3', 'i-1']);
  });

  it('finds the hosts an older Berth recorded with one Scan, once', async () => {
    // Prepare: host items written without the fleet item, as before it existed.
    const { s, db, scans, names } = await counted('fleet-b-');
    await db.send(new DeleteCommand({ TableName: names.hosts, Key: { hostId: FLEET_ITEM } }));
    for (const hostId of ['old-1', 'old-2']) {
      await db.send(new PutCommand({ TableName: names.hosts, Item: {
        hostId, status: 'ACTIVE', cpu: 1024, memory: 2048, reservedCpu: 0, reservedMemory: 0, taskCount: 0, reservations: {}, lastHeartbeatAt: 0, version: 1,
      } }));
    }
    await db.send(new PutCommand({ TableName: names.hosts, Item: {
      hostId: 'old-gone', status: 'LOST', cpu: 1024, memory: 2048, reservedCpu: 0, reservedMemory: 0, taskCount: 0, reservations: {}, lastHeartbeatAt: 0, version: 1,
    } }));

    // Act
    const first = await s.hosts.fleetViews();
    const second = await s.hosts.fleetViews();

    // Assess
    expect(first.map((h) => h.hostId).sort()).toEqual(['old-1', 'old-2']);
    expect(second.map((h) => h.hostId).sort()).toEqual(['old-1', 'old-2']);
    expect(scans.n).toBe(1);
  });

  it('takes out a host that ended without leaving (a crash between the two writes)', async () => {
    const { s, db, names } = await counted('fleet-c-');
    await s.hosts.register({ hostId: 'crashed', cpu: 1024, memory: 2048 }, 0, { open: true });
    await s.hosts.setStatus('crashed', 'TERMINATED');

    expect(await s.hosts.fleetViews()).toEqual([]);

    const item = (await db.send(new GetCommand({ TableName: names.hosts, Key: { hostId: FLEET_ITEM }, ConsistentRead: true }))).Item;
    expect(item?.members).toBeUndefined();
  });

  it('refuses a host that calls itself the fleet item', async () => {
    await expect(store.hosts.register({ hostId: FLEET_ITEM, cpu: 1, memory: 1 }, 0, { open: true })).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('HostStore registration', () => {
  it('activates a host Berth launched, at its launched capacity, once, with its own token', async () => {
    await store.hosts.launching({ hostId: 'i-launched', instanceType: 'c6i.large', market: 'spot', cpu: 2048, memory: 3840, bootstrapTokenHash: 'h1' }, 5);
    await expect(store.hosts.register({ hostId: 'i-launched', cpu: 1, memory: 1 }, 6, { tokenHash: 'forged' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    const host = await store.hosts.register({ hostId: 'i-launched', cpu: 9999, memory: 9999 }, 10, { tokenHash: 'h1' });
    // The token is spent: replaying it does not register anything again.
    await expect(store.hosts.register({ hostId: 'i-launched', cpu: 1, memory: 1 }, 11, { tokenHash: 'h1' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(host).toMatchObject({ status: 'ACTIVE', cpu: 2048, memory: 3840, instanceType: 'c6i.large', registeredAt: 10 });
  });

  it('refuses a machine no launch accounts for, and writes nothing', async () => {
    await expect(store.hosts.register({ hostId: 'i-stranger', cpu: 2048, memory: 4096 }, 0)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(await store.hosts.get('i-stranger')).toBeUndefined();
  });

  it('refuses a LOST host that comes back', async () => {
    await store.hosts.launching({ hostId: 'i-lost', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840, bootstrapTokenHash: 't' }, 0);
    await store.hosts.register({ hostId: 'i-lost', cpu: 1, memory: 1 }, 1, { tokenHash: 't' });
    expect(await store.hosts.transition('i-lost', 'LOST', ['ACTIVE', 'DRAINING'], { heartbeatAt: 1 })).toBe(true);
    await expect(store.hosts.register({ hostId: 'i-lost', cpu: 1, memory: 1 }, 2, { authenticatedHostId: 'i-lost' })).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('never terminates a host that holds a task', async () => {
    const host = await store.hosts.register({ hostId: 'busy-1', cpu: 4096, memory: 8192 }, 0, { open: true });
    await store.hosts.reserve(planOn(host, { taskId: 'keep', cpu: 256, memory: 512 }), 'default');
    expect(await store.hosts.transition('busy-1', 'TERMINATED', ['ACTIVE', 'DRAINING'], { empty: true })).toBe(false);
    expect((await store.hosts.get('busy-1'))!.status).toBe('ACTIVE');
  });

  it('does not write off a host whose heartbeat arrived after the check', async () => {
    await store.hosts.register({ hostId: 'beat-1', cpu: 4096, memory: 8192 }, 0, { open: true });
    await store.hosts.heartbeat('beat-1', 50);
    expect(await store.hosts.transition('beat-1', 'LOST', ['ACTIVE'], { heartbeatAt: 0 })).toBe(false);
  });
});

describe('Index reads that replace scans', () => {
  const DAY = 86_400_000;
  const midnight = Date.UTC(2031, 5, 1);

  it('definitionsRunSince reads the tasks created in the window across a day boundary, and no older ones', async () => {
    // Prepare: one task each side of midnight inside the window, one before it.
    const cluster = `runs-${n}`;
    await store.tasks.create(newTask({ cluster, family: 'late', createdAt: midnight - 60_000 }));
    await store.tasks.create(newTask({ cluster, family: 'early', createdAt: midnight + 60_000 }));
    await store.tasks.create(newTask({ cluster, family: 'old', createdAt: midnight - 2 * 3_600_000 }));

    // Act
    const runs = await store.tasks.definitionsRunSince(midnight - 3_600_000, midnight + 3_600_000);

    // Assess
    expect(runs.map((r) => r.family).sort()).toEqual(['early', 'late']);
    expect(runs[0]).toEqual({ family: expect.any(String), revision: 1 });
  });

  it('listAwaited holds a task from its callback token until the token is taken', async () => {
    // Prepare
    const task = newTask({ cluster: 'awaited' });
    await store.tasks.create(task);
    const before = await store.tasks.listAwaited();

    // Act
    await store.tasks.setToken(task, 'callbackToken', 'token-1', 'STOPPED');
    const waiting = await store.tasks.listAwaited();
    await store.tasks.advance(task, { lastStatus: 'STOPPED', stop: { stopCode: 'UserInitiated', stoppedReason: 'done' } });
    const stopped = await store.tasks.listAwaited();
    await store.tasks.takeCallbackToken(task, 'token-1');

    // Assess
    expect(before.some((t) => t.taskId === task.taskId)).toBe(false);
    expect(waiting.filter((t) => t.taskId === task.taskId)).toEqual([expect.objectContaining({ cluster: 'awaited', taskId: task.taskId, callbackToken: 'token-1' })]);
    expect(stopped.some((t) => t.taskId === task.taskId)).toBe(false);
    expect((await store.tasks.get(task))!.awaiting).toBeUndefined();
  });

  it('stoppedSince reads the usage records stopped in the window, day by day, and returns them as written', async () => {
    // Prepare
    const usage = (taskId: string, stoppedAt: number | undefined) => ({
      cluster: 'usage-days', taskId, family: 'web', revision: 1, tags: {}, cpu: 256, memory: 512, stoppedAt,
    });
    await store.usage.record(usage('a', midnight - 10 * DAY));
    await store.usage.record(usage('b', midnight - DAY + 1));
    await store.usage.record(usage('c', midnight + 5));
    await store.usage.record(usage('d', undefined));

    // Act
    const found = await store.usage.stoppedSince(midnight - 2 * DAY, midnight + DAY);

    // Assess
    expect(found.map((u) => u.taskId).sort()).toEqual(['b', 'c']);
    expect(found.find((u) => u.taskId === 'c')).toEqual(usage('c', midnight + 5));
    expect(await store.usage.get({ cluster: 'usage-days', taskId: 'c' })).toEqual(usage('c', midnight + 5));
  });
});

describe('TaskStore.getMany', () => {
  it('reads tasks by key in one batch, leaving out missing ones and repeats', async () => {
    // Prepare
    const a = newTask({ cluster: 'many' });
    const b = newTask({ cluster: 'many' });
    await store.tasks.create(a);
    await store.tasks.create(b);

    // Act
    const found = await store.tasks.getMany([a, { cluster: 'many', taskId: 'f'.repeat(32) }, b, a]);

    // Assess
    expect(found.map((t) => t.taskId).sort()).toEqual([a.taskId, b.taskId].sort());
    expect(found.find((t) => t.taskId === a.taskId)).toEqual(await store.tasks.get(a));
  });
});

describe('TTL attributes (deleted by DynamoDB on AWS)', () => {
  it('gives a task a ttl an hour after it stops, and none while it runs', async () => {
    // Prepare
    const task = newTask({ cluster: 'ttl' });
    await store.tasks.create(task);
    const stoppedAt = Date.UTC(2031, 0, 1);

    // Act
    const running = await store.tasks.advance(task, { lastStatus: 'RUNNING', seq: 1 });
    const stopped = await store.tasks.advance(task, { lastStatus: 'STOPPED', timestamps: { stoppedAt }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });

    // Assess
    expect(running!.ttl).toBeUndefined();
    expect(stopped!.ttl).toBe(stoppedAt / 1000 + 3600);
  });

  it('gives a task StopTask stops before placement a ttl too', async () => {
    const task = newTask({ cluster: 'ttl' });
    await store.tasks.create(task);
    const stopped = await store.tasks.requestStop(task, { stopCode: 'UserInitiated', stoppedReason: 'x' }, () => 5_000_000);
    expect(stopped).toMatchObject({ lastStatus: 'STOPPED', ttl: 5000 + 3600 });
  });
});

describe('The local TTL sweep (dynalite has no TTL)', () => {
  const db = () => createDocumentClient({ endpoint: dynamo.endpoint });

  it('deletes STOPPED tasks past their retention and spent client tokens once the clock passes their ttl, and keeps the rest', async () => {
    // Prepare: on one clock, a task that stops now, one still running, and a client token claimed now.
    const clock = new ManualClock(Date.UTC(2032, 5, 1));
    const stopped = newTask({ cluster: 'ttl-sweep' });
    const running = newTask({ cluster: 'ttl-sweep' });
    for (const t of [stopped, running]) await store.tasks.create(t);
    await store.tasks.advance(running, { lastStatus: 'RUNNING', seq: 1 });
    await store.tasks.advance(stopped, { lastStatus: 'STOPPED', timestamps: { stoppedAt: clock.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    const token = { key: 'ttl-sweep/token-1', requestHash: 'h', taskIds: [running.taskId], createdAt: clock.now(), expiresAt: clock.now() + CLIENT_TOKEN_TTL_MS };
    await store.clientTokens.claim(token, clock.now());
    const present = async () => ({
      stopped: (await store.tasks.get(stopped)) !== undefined,
      running: (await store.tasks.get(running)) !== undefined,
      token: (await store.clientTokens.claim({ ...token, key: token.key, requestHash: 'other' }, clock.now())).requestHash === 'h',
    });

    // Act: a sweep within the task's retention, one past it, one past the token's 24 hours.
    await sweepExpired(db(), tableNames(), clock.now());
    const atFirst = await present();
    await clock.advance(STOPPED_TASK_RETENTION_SECONDS * 1000 + 1000);
    await sweepExpired(db(), tableNames(), clock.now());
    const pastRetention = await present();
    await clock.advance(CLIENT_TOKEN_TTL_MS);
    await sweepExpired(db(), tableNames(), clock.now());

    // Assess
    expect(atFirst).toEqual({ stopped: true, running: true, token: true });
    expect(pastRetention).toEqual({ stopped: false, running: true, token: true });
    expect(await store.tasks.get(running)).toMatchObject({ lastStatus: 'RUNNING' });
    expect(await store.tasks.get(stopped)).toBeUndefined();
    const r = await db().send(new GetCommand({ TableName: tableNames().clientTokens, Key: { key: token.key }, ConsistentRead: true }));
    expect(r.Item).toBeUndefined();
  });
});

describe('ClusterStore.recentStatus', () => {
  const otherProcess = () => createStore(createDocumentClient({ endpoint: dynamo.endpoint }), tableNames());

  it('answers again from what it read within CLUSTER_STATUS_MAX_AGE_MS, and reads anew after', async () => {
    // Prepare
    const name = `recent-${Date.now()}`;
    await store.clusters.create(name, [], 0);
    const reads = jest.spyOn(store.clusters, 'get');
    try {
      // Act
      const first = await store.clusters.recentStatus(name, 10_000);
      const again = await store.clusters.recentStatus(name, 10_000 + CLUSTER_STATUS_MAX_AGE_MS - 1);
      const readsWithin = reads.mock.calls.length;
      await otherProcess().clusters.deactivate(name);
      const later = await store.clusters.recentStatus(name, 10_000 + CLUSTER_STATUS_MAX_AGE_MS);

      // Assess: one read for the first two, and another process's delete seen once that read aged out.
      expect([first, again, later]).toEqual(['ACTIVE', 'ACTIVE', 'INACTIVE']);
      expect(readsWithin).toBe(1);
      expect(reads).toHaveBeenCalledTimes(2);
    } finally {
      reads.mockRestore();
    }
  });

  it("sees this process's own delete and create at once", async () => {
    // Prepare
    const name = `recent-own-${Date.now()}`;
    await store.clusters.create(name, [], 0);
    expect(await store.clusters.recentStatus(name, 20_000)).toBe('ACTIVE');

    // Act + Assess
    await store.clusters.deactivate(name);
    expect(await store.clusters.recentStatus(name, 20_001)).toBe('INACTIVE');
    await store.clusters.create(name, [], 1);
    expect(await store.clusters.recentStatus(name, 20_002)).toBe('ACTIVE');
  });

  it('keeps no status it read while this process was changing it', async () => {
    // Prepare: the delete's write is held until a status read has started and ended beside it.
    const name = `recent-race-${Date.now()}`;
    await store.clusters.create(name, [], 0);
    const db = (store.clusters as unknown as { db: { send: (c: unknown) => Promise<unknown> } }).db;
    const send = db.send.bind(db);
    const held = deferred();
    const spy = jest.spyOn(db, 'send').mockImplementation(async (command: unknown) => {
      if ((command as { input?: { UpdateExpression?: string } }).input?.UpdateExpression === 'SET #s = :inactive') await held.promise;
      return send(command);
    });
    try {
      // Act: a read while the delete is on its way sees ACTIVE; the one after the delete must not reuse it.
      const deleting = store.clusters.deactivate(name);
      const during = await store.clusters.recentStatus(name, 30_000);
      held.resolve();
      await deleting;
      const after = await store.clusters.recentStatus(name, 30_001);

      // Assess
      expect(during).toBe('ACTIVE');
      expect(after).toBe('INACTIVE');
    } finally {
      spy.mockRestore();
    }
  });
});
