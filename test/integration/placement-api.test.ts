import {
  DescribeContainerInstancesCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type RunTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * RunTask's placementConstraints and placementStrategy through the ECS API, the lifecycle
 * workflows and the host store (hosts stood up through the store; no containers run).
 */
const idOf = (arn: string) => arn.split('/').pop()!;

describe('RunTask placement', () => {
  let h: Harness;
  const task = (taskId: string) => h.berth.store.tasks.get({ cluster: 'default', taskId });

  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 2 }, timeoutSeconds: { AwaitRunning: 2, AwaitStopped: 2 } });
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'pl', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
    }));
    for (const [hostId, instanceType] of [['pl-c6i', 'c6i.large'], ['pl-m6i', 'm6i.large']]) {
      await h.berth.store.hosts.launching({ hostId, instanceType, market: 'on-demand', cpu: 2048, memory: 4096 }, 0);
      await h.berth.store.hosts.register({ hostId, cpu: 2048, memory: 4096 }, 0, { open: true });
    }
  });
  afterAll(async () => {
    await h.close();
  });

  it('memberOf puts every task on a host whose attributes match', async () => {
    // Act
    const r = await h.ecs.send(new RunTaskCommand({
      taskDefinition: 'pl', count: 3,
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type =~ m6i.* and attribute:ecs.os-type == linux' }],
      placementStrategy: [{ type: 'spread', field: 'instanceId' }],
    }));

    // Assess
    const ids = r.tasks!.map((t) => idOf(t.taskArn!));
    const hosts = await eventually(async () => {
      const all = await Promise.all(ids.map(task));
      return all.every((t) => t?.hostId) ? all.map((t) => t!.hostId) : undefined;
    });
    expect(hosts).toEqual(['pl-m6i', 'pl-m6i', 'pl-m6i']);
    expect((await task(ids[0]))!.placementConstraints).toEqual([
      { type: 'memberOf', expression: 'attribute:ecs.instance-type =~ m6i.* and attribute:ecs.os-type == linux' },
    ]);
  });

  it('distinctInstance puts a group one task per host, and the task no host can take fails with ECS\'s reason', async () => {
    // Act
    const r = await h.ecs.send(new RunTaskCommand({
      taskDefinition: 'pl', count: 3, group: 'spread-me', placementConstraints: [{ type: 'distinctInstance' }],
    }));

    // Assess
    const ids = r.tasks!.map((t) => idOf(t.taskArn!));
    const settled = await eventually(async () => {
      const all = await Promise.all(ids.map(task));
      return all.every((t) => t?.hostId || t?.lastStatus === 'STOPPED') ? all.map((t) => t!) : undefined;
    }, 30_000);
    const placed = settled.filter((t) => t.hostId);
    expect(placed.map((t) => t.hostId).sort()).toEqual(['pl-c6i', 'pl-m6i']);
    const stopped = settled.filter((t) => !t.hostId);
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ stopCode: 'TaskFailedToStart' });
    expect(stopped[0].stoppedReason).toContain('DistinctInstance placement constraint unsatisfied.');
  });

  it.each<[string, Partial<RunTaskCommandInput>, RegExp]>([
    ['six strategies', { placementStrategy: Array.from({ length: 6 }, () => ({ type: 'random' as const })) }, /placementStrategy/],
    ['eleven constraints', { placementConstraints: Array.from({ length: 11 }, () => ({ type: 'distinctInstance' as const })) }, /placementConstraints/],
    ['a distinctInstance expression', { placementConstraints: [{ type: 'distinctInstance', expression: 'attribute:x == y' }] }, /distinctInstance expression should not be specified/],
    ['a memberOf on task:group', { placementConstraints: [{ type: 'memberOf', expression: 'task:group == service:web' }] }, /task:group is not supported/],
    ['a memberOf that does not parse', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.instance-type ==' }] }, /missing argument/],
    ['binpack by disk', { placementStrategy: [{ type: 'binpack', field: 'disk' }] }, /Invalid field for binpack/],
    ['an unknown strategy', { placementStrategy: [{ type: 'cheapest' as 'random' }] }, /Invalid placement strategy type: cheapest/],
  ])('refuses %s with InvalidParameterException and creates nothing', async (_what, input, message) => {
    // Prepare
    const before = (await h.berth.store.tasks.list('default')).length;

    // Act
    const error = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'pl', ...input })).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toMatch(message);
    expect((await h.berth.store.tasks.list('default')).length).toBe(before);
  });

  it('DescribeContainerInstances shows the attributes memberOf judges', async () => {
    // Act
    const r = await h.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: ['pl-c6i'] }));

    // Assess
    expect(r.containerInstances![0].attributes).toEqual(expect.arrayContaining([
      { name: 'ecs.instance-type', value: 'c6i.large' },
      { name: 'ecs.cpu-architecture', value: 'x86_64' },
      { name: 'ecs.os-type', value: 'linux' },
    ]));
  });

  it('places the tasks of one call as one batch: bound when RunTask answers, one write per host', async () => {
    // Prepare: count the host writes that reserve room.
    const hosts = h.berth.store.hosts;
    const reserveAll = hosts.reserveAll.bind(hosts);
    let writes = 0;
    hosts.reserveAll = async (...args) => {
      writes++;
      return reserveAll(...args);
    };
    try {
      // Act
      const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'pl', count: 6, placementStrategy: [{ type: 'binpack', field: 'memory' }] }));

      // Assess: every task already holds a host, and six tasks took at most one write per host.
      const bound = await Promise.all(r.tasks!.map((t) => task(idOf(t.taskArn!))));
      expect(bound.every((t) => t?.hostId !== undefined)).toBe(true);
      expect(writes).toBeLessThanOrEqual(2);
    } finally {
      hosts.reserveAll = reserveAll;
    }
  });
});

describe('RunTask placement by cpu architecture', () => {
  let h: Harness;
  const hostOf = async (arn: string) => (await h.berth.store.tasks.get({ cluster: 'default', taskId: idOf(arn) }))?.hostId;

  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 2 }, timeoutSeconds: { AwaitRunning: 2, AwaitStopped: 2 } });
    for (const [family, cpuArchitecture] of [['arch-arm', 'ARM64'], ['arch-x86', 'X86_64']] as const) {
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        runtimePlatform: { cpuArchitecture, operatingSystemFamily: 'LINUX' },
        containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
      }));
    }
    // The x86_64 host first and emptier: binpack alone would pick either.
    for (const [hostId, instanceType, cpuArchitecture] of [['arch-x86', 'm6i.large', 'x86_64'], ['arch-arm', 'm7g.large', 'arm64']] as const) {
      await h.berth.store.hosts.launching({ hostId, instanceType, market: 'on-demand', cpu: 2048, memory: 4096 }, 0);
      await h.berth.store.hosts.register({ hostId, cpu: 2048, memory: 4096, cpuArchitecture }, 0, { open: true });
    }
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([1, 4])('puts a RunTask of %i ARM64 task(s) on the arm64 host only, bound when RunTask answers', async (count) => {
    // Act
    const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'arch-arm', count }));

    // Assess: placed by RunTask itself (its answer already holds the host), never on x86_64.
    expect(await Promise.all(r.tasks!.map((t) => hostOf(t.taskArn!)))).toEqual(Array(count).fill('arch-arm'));
  });

  it('puts X86_64 tasks on the x86_64 host only', async () => {
    // Act
    const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'arch-x86', count: 3 }));

    // Assess
    expect(await Promise.all(r.tasks!.map((t) => hostOf(t.taskArn!)))).toEqual(['arch-x86', 'arch-x86', 'arch-x86']);
  });
});
