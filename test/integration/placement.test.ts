import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTables, startDynalite, type Dynalite } from '../../local/dynalite';
import { ConcurrentUpdateError } from '../../shared/domain/errors';
import { Placer } from '../../shared/lifecycle/placer';
import { type Demand, type PlacementRules, type Plan, compilePlacement, planOn, planPlacement } from '../../shared/scheduler/placement';
import { type Store, createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';

let dynamo: Dynalite;
let store: Store;
let db: ReturnType<typeof createDocumentClient>;

beforeAll(async () => {
  dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  db = createDocumentClient({ endpoint: dynamo.endpoint });
  store = createStore(db, tableNames());
});
afterAll(async () => {
  db.destroy();
  await dynamo.close();
});

const web = (extra: Partial<PlacementRules> = {}): PlacementRules => ({ strategies: [], constraints: [], group: 'service:web', ...extra });

describe('HostStore', () => {
  describe('register', () => {
    it("records the architecture the agent reports, which placement then judges over the instance type's", async () => {
      // Prepare: a launch of an x86_64 type, and a host that joins on its own.
      await store.hosts.launching({ hostId: 'arch-1', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840 }, 0);

      // Act
      await store.hosts.register({ hostId: 'arch-1', cpu: 2048, memory: 3840, cpuArchitecture: 'arm64' }, 1, { open: true });
      await store.hosts.register({ hostId: 'arch-2', cpu: 2048, memory: 3840, cpuArchitecture: 'arm64' }, 1, { open: true });

      // Assess
      for (const hostId of ['arch-1', 'arch-2']) {
        const view = (await store.hosts.view(hostId))!;
        expect(view.attributes?.['ecs.cpu-architecture']).toBe('arm64');
        expect(planPlacement([view], { taskId: 'x86', cpu: 256, memory: 512 }, 'binpack')).toBeUndefined();
        expect(planPlacement([view], { taskId: 'arm', cpu: 256, memory: 512, architecture: 'arm64' }, 'binpack')?.hostId).toBe(hostId);
      }
    });
  });

  describe('reserveAll', () => {
    it('reserves several tasks in one write and counts them by group', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'batch-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      const rules = compilePlacement(web());
      const plans = ['a', 'b', 'c'].map((t) => planOn(host, { taskId: t, cpu: 1024, memory: 1024 }, rules));

      // Act
      const reserved = await store.hosts.reserveAll('batch-1', plans, 'default', 5);

      // Assess
      expect(reserved).toMatchObject({ reservedCpu: 3072, reservedMemory: 3072, taskCount: 3 });
      const after = (await store.hosts.get('batch-1'))!;
      expect(after.groupTasks).toEqual({ 'service:web': 3 });
      expect(after.reservations.a).toEqual({ cpu: 1024, memory: 1024, cluster: 'default', group: 'service:web' });
      expect(await store.hosts.view('batch-1')).toMatchObject({ taskCount: 3, groupTasks: { 'service:web': 3 } });
    });

    it('reserves none of a batch that does not fit whole, nor one that holds a task already', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'batch-2', cpu: 2048, memory: 8192 }, 0, { open: true });
      await store.hosts.reserve(planOn(host, { taskId: 'held', cpu: 512, memory: 512 }), 'default');

      // Act
      const tooBig = await store.hosts.reserveAll('batch-2', ['x', 'y'].map((t) => planOn(host, { taskId: t, cpu: 1024, memory: 512 })), 'default');
      const again = await store.hosts.reserveAll('batch-2', ['z', 'held'].map((t) => planOn(host, { taskId: t, cpu: 256, memory: 256 })), 'default');

      // Assess
      expect([tooBig, again]).toEqual([undefined, undefined]);
      expect(await store.hosts.get('batch-2')).toMatchObject({ reservedCpu: 512, reservedMemory: 512, taskCount: 1 });
    });

    it('refuses a distinctInstance task on a host that holds one of its group, and frees the group on release', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'distinct-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      const rules = compilePlacement(web({ constraints: [{ type: 'distinctInstance' }] }));
      const first = planOn(host, { taskId: 'd1', cpu: 256, memory: 256 }, rules);
      await store.hosts.reserve(first, 'default');

      // Act
      const second = await store.hosts.reserve(planOn(host, { taskId: 'd2', cpu: 256, memory: 256 }, rules), 'default');
      const released = await store.hosts.release('distinct-1', 'd1', { cpu: 256, memory: 256, group: 'service:web' });
      const third = await store.hosts.reserve(planOn(host, { taskId: 'd3', cpu: 256, memory: 256 }, rules), 'default');

      // Assess
      expect(second).toBeUndefined();
      expect(released).toBe(true);
      expect(third).toBeDefined();
      expect((await store.hosts.get('distinct-1'))!.groupTasks).toEqual({ 'service:web': 1 });
    });

    it('never releases a grouped reservation twice or with another group', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'release-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      await store.hosts.reserve(planOn(host, { taskId: 'r1', cpu: 256, memory: 256 }, compilePlacement(web())), 'default');

      // Act
      const wrongGroup = await store.hosts.release('release-1', 'r1', { cpu: 256, memory: 256, group: 'service:api' });
      const noGroup = await store.hosts.release('release-1', 'r1', { cpu: 256, memory: 256 });
      const right = await store.hosts.release('release-1', 'r1', { cpu: 256, memory: 256, group: 'service:web' });
      const twice = await store.hosts.release('release-1', 'r1', { cpu: 256, memory: 256, group: 'service:web' });

      // Assess
      expect([wrongGroup, noGroup, right, twice]).toEqual([false, false, true, false]);
      expect(await store.hosts.get('release-1')).toMatchObject({ reservedCpu: 0, taskCount: 0, groupTasks: { 'service:web': 0 } });
    });

    it('takes the host ports of every plan in a batch, and none of a batch that wants a taken one', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'ports-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      const rules = compilePlacement(web());
      const plan = (taskId: string, ports: string[]): Plan => planOn(host, { taskId, cpu: 256, memory: 256, ports }, rules);

      // Act
      const batch = await store.hosts.reserveAll('ports-1', [plan('p1', ['8080/tcp']), plan('p2', ['8081/tcp', '53/udp'])], 'default');
      const clash = await store.hosts.reserveAll('ports-1', [plan('p3', ['9000/tcp']), plan('p4', ['8081/tcp'])], 'default');
      const twice = store.hosts.reserveAll('ports-1', [plan('p5', ['9001/tcp']), plan('p6', ['9001/tcp'])], 'default');

      // Assess
      expect([...batch!.reservedPorts!].sort()).toEqual(['53/udp', '8080/tcp', '8081/tcp']);
      expect(clash).toBeUndefined();
      await expect(twice).rejects.toThrow(RangeError);
      const after = (await store.hosts.get('ports-1'))!;
      expect(after).toMatchObject({ taskCount: 2, groupTasks: { 'service:web': 2 } });
      expect(after.reservations.p2).toEqual({ cpu: 256, memory: 256, cluster: 'default', group: 'service:web', ports: ['8081/tcp', '53/udp'] });
      expect([...(await store.hosts.view('ports-1'))!.reservedPorts!].sort()).toEqual(['53/udp', '8080/tcp', '8081/tcp']);
    });

    it('frees a reservation\'s host ports on release, only with its group', async () => {
      // Prepare
      const host = await store.hosts.register({ hostId: 'ports-2', cpu: 4096, memory: 8192 }, 0, { open: true });
      const plan = planOn(host, { taskId: 'q1', cpu: 256, memory: 256, ports: ['8080/tcp'] }, compilePlacement(web()));
      await store.hosts.reserve(plan, 'default');

      // Act
      const wrongGroup = await store.hosts.release('ports-2', 'q1', { cpu: 256, memory: 256, ports: plan.ports, group: 'service:api' });
      const held = (await store.hosts.view('ports-2'))!.reservedPorts;
      const right = await store.hosts.release('ports-2', 'q1', plan);
      const again = await store.hosts.reserve(planOn(host, { taskId: 'q2', cpu: 256, memory: 256, ports: ['8080/tcp'] }), 'default');

      // Assess
      expect([wrongGroup, right]).toEqual([false, true]);
      expect(held).toEqual(['8080/tcp']);
      expect(again?.reservedPorts).toEqual(['8080/tcp']);
    });

    it('gives a host item from before group counts its map on the first grouped reservation', async () => {
      // Prepare: an item as older Berth wrote it, without groupTasks.
      const host = await store.hosts.register({ hostId: 'old-1', cpu: 4096, memory: 8192 }, 0, { open: true });
      await db.send(new UpdateCommand({ TableName: tableNames().hosts, Key: { hostId: 'old-1' }, UpdateExpression: 'REMOVE groupTasks' }));

      // Act
      const reserved = await store.hosts.reserve(planOn(host, { taskId: 'o1', cpu: 256, memory: 256 }, compilePlacement(web())), 'default');

      // Assess
      expect(reserved).toMatchObject({ taskCount: 1 });
      expect((await store.hosts.get('old-1'))!.groupTasks).toEqual({ 'service:web': 1 });
    });
  });
});

describe('Placer on dynalite', () => {
  it('concurrent batch and single placers never overcommit, never break distinctInstance or memberOf, and report what they hold', async () => {
    // Prepare: a small fleet so the placers keep racing for the same room.
    const types = ['c6i.large', 'm6i.large', 'c6i.large', 'm6i.large', 'c6i.large', 'c6i.large'];
    await Promise.all(types.map((instanceType, i) => store.hosts.launching({
      hostId: `race-host-${i}`, instanceType, market: 'on-demand', cpu: 2048, memory: 4096,
    }, 0)));
    await Promise.all(types.map((_, i) => store.hosts.register({ hostId: `race-host-${i}`, cpu: 2048, memory: 4096 }, 0, { open: true })));
    const memberOf = { type: 'memberOf' as const, expression: 'attribute:ecs.instance-type == c6i.large' };
    const jobs: { rules: PlacementRules; batch: boolean; count: number }[] = [
      { rules: web({ constraints: [{ type: 'distinctInstance' }] }), batch: true, count: 8 },
      { rules: web({ constraints: [{ type: 'distinctInstance' }] }), batch: false, count: 4 },
      { rules: { strategies: [{ type: 'spread', field: 'instanceId' }], constraints: [memberOf], group: 'service:api' }, batch: true, count: 12 },
      { rules: { strategies: [{ type: 'binpack', field: 'memory' }], constraints: [memberOf], group: 'service:api' }, batch: false, count: 6 },
      { rules: { strategies: [], constraints: [], group: 'family:batch' }, batch: true, count: 20 },
      { rules: { strategies: [{ type: 'random' }], constraints: [], group: 'family:batch' }, batch: false, count: 10 },
      { rules: { strategies: [], constraints: [], group: 'family:batch' }, batch: true, count: 20 },
      { rules: { strategies: [{ type: 'spread', field: 'host' }], constraints: [], group: 'family:other' }, batch: false, count: 10 },
    ];

    // Act
    const results = await Promise.all(jobs.map(async (job, j) => {
      const placer = new Placer(store.hosts, Date.now, { maxSnapshotAgeMs: 0 });
      const demands: Demand[] = Array.from({ length: job.count }, (_, i) => ({ taskId: `job${j}-task${i}`, cpu: 256 * (1 + (i % 2)), memory: 512 }));
      if (job.batch) return (await placer.placeBatch(demands, 'default', job.rules)).placed;
      const placed: Plan[] = [];
      for (const d of demands) {
        try {
          const plan = await placer.place(d, 'default', job.rules);
          if (plan) placed.push(plan);
        } catch (e) {
          if (!(e instanceof ConcurrentUpdateError)) throw e;
        }
      }
      return placed;
    }));

    // Assess
    // Every host in the table, those of the tests above included: the placers saw them all.
    const hosts = await store.hosts.list();
    const reported = new Map(results.flat().map((p) => [p.taskId, p]));
    let held = 0;
    for (const h of hosts) {
      const reservations = Object.entries(h.reservations);
      held += reservations.filter(([taskId]) => taskId.startsWith('job')).length;
      expect(h.reservedCpu).toBeLessThanOrEqual(h.cpu);
      expect(h.reservedMemory).toBeLessThanOrEqual(h.memory);
      expect(h.reservedCpu).toBe(reservations.reduce((s, [, r]) => s + r.cpu, 0));
      expect(h.taskCount).toBe(reservations.length);
      const byGroup: Record<string, number> = {};
      for (const [taskId, r] of reservations) {
        if (taskId.startsWith('job')) expect(reported.get(taskId)?.hostId).toBe(h.hostId);
        if (r.group !== undefined) byGroup[r.group] = (byGroup[r.group] ?? 0) + 1;
      }
      expect(Object.fromEntries(Object.entries(h.groupTasks ?? {}).filter(([, n]) => n > 0))).toEqual(byGroup);
      // distinctInstance: a host given a task of service:web by the placers held no other of the group.
      const distinctHeld = reservations.filter(([taskId, r]) => taskId.startsWith('job') && r.group === 'service:web').length;
      if (distinctHeld > 0) expect(byGroup['service:web']).toBe(1);
      if (h.instanceType !== 'c6i.large') expect(byGroup['service:api'] ?? 0).toBe(0);
    }
    expect(held).toBe(reported.size);
    // The fleet was contended: it could not take all 90 tasks.
    expect(reported.size).toBeGreaterThan(20);
    expect(reported.size).toBeLessThan(90);
  });
});
