import {
  CreateCapacityProviderCommand, type CreateCapacityProviderCommandInput, DeleteCapacityProviderCommand, DeleteClusterCommand,
  DeleteServiceCommand, DescribeCapacityProvidersCommand, ListTagsForResourceCommand, TagResourceCommand, UpdateCapacityProviderCommand,
  CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, UpdateServiceCommand, DescribeClustersCommand, DescribeTasksCommand, PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand, RunTaskCommand, type RunTaskCommandInput, StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { reconcileService, serviceGroup } from '../../shared/services/apply';
import { expectConforms } from '../support/ecs-model';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * Capacity provider strategies through the ECS API, the lifecycle workflows and the host store:
 * one on-demand host and one spot host stood up through the store (no containers run).
 */
const idOf = (arn: string) => arn.split('/').pop()!;
const MARKET_OF_HOST: Record<string, string> = { 'cp-od': 'on-demand', 'cp-spot': 'spot' };
const MARKET_OF_PROVIDER: Record<string, string> = { FARGATE: 'on-demand', FARGATE_SPOT: 'spot' };

describe('capacity provider strategies', () => {
  let h: Harness;

  /** The tasks of a RunTask once each holds a host: its provider and its host's market. */
  const placed = (cluster: string, arns: string[]) => eventually(async () => {
    const all = await Promise.all(arns.map((a) => h.berth.store.tasks.get({ cluster, taskId: idOf(a) })));
    return all.every((t) => t?.hostId) ? all.map((t) => ({ provider: t!.capacityProviderName, market: MARKET_OF_HOST[t!.hostId!] })) : undefined;
  });
  const taskCount = async (cluster: string) => (await h.berth.store.tasks.list(cluster)).length;

  beforeAll(async () => {
    // No agent runs here: tasks must stay pending, not fail to start, while the split is checked.
    h = await startHarness({ config: { placementTimeoutSeconds: 60 }, timeoutSeconds: { AwaitRunning: 600, AwaitStopped: 2 } });
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'cp', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
    }));
    for (const [hostId, market] of [['cp-od', 'on-demand'], ['cp-spot', 'spot']] as const) {
      await h.berth.store.hosts.launching({ hostId, instanceType: 'm6i.xlarge', market, cpu: 4096, memory: 16384 }, 0);
      await h.berth.store.hosts.register({ hostId, cpu: 4096, memory: 16384 }, 0, { open: true });
    }
    for (const clusterName of ['split', 'defaults', 'bad', 'demand', 'svc']) await h.ecs.send(new CreateClusterCommand({ clusterName }));
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    // Every answer, PutClusterCapacityProviders' included, has the shape the ECS model gives it.
    for (const x of h.exchanges.splice(0)) if (x.status === 200) expectConforms(x.operation, x.body);
  });

  it('splits a run base first, then by weight, each task on a host of its market', async () => {
    // Act
    const r = await h.ecs.send(new RunTaskCommand({
      cluster: 'split', taskDefinition: 'cp', count: 6,
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 2 }],
    }));

    // Assess: one for the base, the other five split 1:2 (two and three).
    const shown = r.tasks!.map((t) => t.capacityProviderName).sort();
    expect(shown).toEqual(['FARGATE', 'FARGATE', 'FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT']);
    const tasks = await placed('split', r.tasks!.map((t) => t.taskArn!));
    for (const t of tasks) expect(t.market).toBe(MARKET_OF_PROVIDER[t.provider!]);
    const described = await h.ecs.send(new DescribeTasksCommand({ cluster: 'split', tasks: [r.tasks![0].taskArn!] }));
    expect(described.tasks![0].capacityProviderName).toBe(r.tasks![0].capacityProviderName);
  });

  it('a task run by launch type names no provider', async () => {
    const r = await h.ecs.send(new RunTaskCommand({ cluster: 'split', taskDefinition: 'cp', launchType: 'FARGATE' }));
    expect(r.tasks![0].capacityProviderName).toBeUndefined();
    expect(r.tasks![0].launchType).toBe('FARGATE');
  });

  it('a bare run follows the cluster default that PutClusterCapacityProviders sets', async () => {
    // Prepare
    const put = await h.ecs.send(new PutClusterCapacityProvidersCommand({
      cluster: 'defaults', capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    }));
    expect(put.cluster!.defaultCapacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }]);

    // Act
    const r = await h.ecs.send(new RunTaskCommand({ cluster: 'defaults', taskDefinition: 'cp', count: 2 }));

    // Assess
    expect(await placed('defaults', r.tasks!.map((t) => t.taskArn!))).toEqual([
      { provider: 'FARGATE_SPOT', market: 'spot' }, { provider: 'FARGATE_SPOT', market: 'spot' },
    ]);
    const described = await h.ecs.send(new DescribeClustersCommand({ clusters: ['defaults'] }));
    expect(described.clusters![0].defaultCapacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }]);
  });

  it('CreateCluster takes a default strategy and a provider list', async () => {
    const r = await h.ecs.send(new CreateClusterCommand({
      clusterName: 'od-only', capacityProviders: ['FARGATE'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 2, weight: 1 }],
    }));
    expect(r.cluster).toMatchObject({
      capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 2, weight: 1 }],
    });

    // A provider the cluster does not have is refused.
    const error = await h.ecs.send(new RunTaskCommand({
      cluster: 'od-only', taskDefinition: 'cp', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    })).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/not associated with the cluster/) });
    expect(await taskCount('od-only')).toBe(0);
  });

  it.each<[string, Partial<RunTaskCommandInput>, RegExp]>([
    ['a launch type with a strategy', { launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] },
      /Specifying both a launch type and capacity provider strategy is not supported/],
    ['an unknown provider', { capacityProviderStrategy: [{ capacityProvider: 'MY_ASG', weight: 1 }] }, /not associated with the cluster/],
    ['weight 1001', { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1001 }] }, /weight/],
    ['a base on two providers', {
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 1 }],
    }, /base value for more than one/],
    ['no weight above zero', { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1 }] }, /weight value greater than zero/],
  ])('refuses %s and creates nothing', async (_what, input, message) => {
    // Act
    const error = await h.ecs.send(new RunTaskCommand({ cluster: 'bad', taskDefinition: 'cp', ...input })).catch((e: Error) => e);

    // Assess
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toMatch(message);
    expect(await taskCount('bad')).toBe(0);
  });

  it('PutClusterCapacityProviders refuses a default naming a provider off its list, and changes nothing', async () => {
    const error = await h.ecs.send(new PutClusterCapacityProvidersCommand({
      cluster: 'bad', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    })).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'InvalidParameterException' });
    const unknown = await h.ecs.send(new PutClusterCapacityProvidersCommand({
      cluster: 'bad', capacityProviders: ['NOPE'], defaultCapacityProviderStrategy: [],
    })).catch((e: Error) => e);
    expect(unknown).toMatchObject({ name: 'InvalidParameterException' });
    const c = (await h.ecs.send(new DescribeClustersCommand({ clusters: ['bad'] }))).clusters![0];
    expect(c).toMatchObject({ capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] });
  });

  it('a spot task no host can take asks the capacity manager for spot capacity', async () => {
    // Prepare: larger than either host.
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'cp-big', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '4096', memory: '30720',
      containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
    }));

    // Act
    const r = await h.ecs.send(new RunTaskCommand({
      cluster: 'demand', taskDefinition: 'cp-big', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    }));

    // Assess
    const taskId = idOf(r.tasks![0].taskArn!);
    const demand = await eventually(async () => (await h.berth.store.demand.list()).find((d) => d.taskId === taskId));
    expect(demand).toMatchObject({ market: 'spot' });
    await h.ecs.send(new StopTaskCommand({ cluster: 'demand', task: taskId }));
  });

  describe('services', () => {
    const key = { cluster: 'svc', serviceName: 'mixed' };
    /** The service's live tasks by provider, once a pass has run and each holds a host of its market. */
    const split = async (desired: number) => {
      // Passes until the service holds its desired count (a pass may stop short of it).
      const live = await eventually(async () => {
        await reconcileService(h.berth, key);
        const all = (await h.berth.store.tasks.listByGroup('svc', serviceGroup('mixed'))).filter((t) => t.desiredStatus === 'RUNNING');
        return all.length === desired ? all : undefined;
      });
      const tasks = await placed('svc', live.map((t) => t.taskId));
      for (const t of tasks) expect(t.market).toBe(MARKET_OF_PROVIDER[t.provider!]);
      const counts: Record<string, number> = {};
      for (const t of tasks) counts[t.provider!] = (counts[t.provider!] ?? 0) + 1;
      return counts;
    };

    it('CreateService refuses a launch type with a strategy, and makes no service', async () => {
      const error = await h.ecs.send(new CreateServiceCommand({
        cluster: 'svc', serviceName: 'refused', taskDefinition: 'cp', desiredCount: 1, launchType: 'FARGATE',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      })).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/Specifying both a launch type/) });
      expect(await h.berth.store.services.get({ cluster: 'svc', serviceName: 'refused' })).toBeUndefined();
    });

    it('keeps its split as it starts, scales and replaces tasks', async () => {
      // Prepare
      const created = await h.ecs.send(new CreateServiceCommand({
        cluster: 'svc', serviceName: 'mixed', taskDefinition: 'cp', desiredCount: 6,
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 2 }],
      }));
      expect(created.service!.launchType).toBeUndefined();
      expect(created.service!.capacityProviderStrategy).toEqual([
        { capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 0, weight: 2 },
      ]);

      // Act, assess: one for the base, five split 1:2.
      expect(await split(6)).toEqual({ FARGATE: 3, FARGATE_SPOT: 3 });

      // Scaling out adds where the split falls short.
      await h.ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'mixed', desiredCount: 9 }));
      expect(await split(9)).toEqual({ FARGATE: 4, FARGATE_SPOT: 5 });

      // Spot tasks lost (as to an interruption) are replaced on spot.
      const spot = (await h.berth.store.tasks.listByGroup('svc', serviceGroup('mixed')))
        .filter((t) => t.desiredStatus === 'RUNNING' && t.capacityProviderName === 'FARGATE_SPOT');
      for (const t of spot) await h.ecs.send(new StopTaskCommand({ cluster: 'svc', task: t.taskId }));
      expect(await split(9)).toEqual({ FARGATE: 4, FARGATE_SPOT: 5 });
    });

    it('UpdateService changes the strategy new tasks follow', async () => {
      const updated = await h.ecs.send(new UpdateServiceCommand({
        cluster: 'svc', service: 'mixed', desiredCount: 12, capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
      }));
      expect(updated.service!.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE', base: 0, weight: 1 }]);
      expect(await split(12)).toEqual({ FARGATE: 7, FARGATE_SPOT: 5 });
      const described = await h.ecs.send(new DescribeServicesCommand({ cluster: 'svc', services: ['mixed'] }));
      expect(described.services![0].capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE', base: 0, weight: 1 }]);

      // Scaling in stops the tasks on the provider the strategy no longer names first.
      await h.ecs.send(new UpdateServiceCommand({ cluster: 'svc', service: 'mixed', desiredCount: 6 }));
      expect(await split(6)).toEqual({ FARGATE: 6 });
    });
  });

  describe('custom capacity providers', () => {
    /** A pool of r6i.large hosts, as ECS Managed Instances describes one. */
    const poolInput = (name: string, extra: Partial<CreateCapacityProviderCommandInput> = {}): CreateCapacityProviderCommandInput => ({
      name, cluster: 'pools',
      managedInstancesProvider: {
        infrastructureRoleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRole',
        instanceLaunchTemplate: {
          ec2InstanceProfileArn: 'arn:aws:iam::000000000000:instance-profile/ecsInstanceRole',
          networkConfiguration: { subnets: ['subnet-1'] },
          capacityOptionType: 'ON_DEMAND',
          instanceRequirements: { vCpuCount: { min: 2, max: 2 }, memoryMiB: { min: 16384 }, allowedInstanceTypes: ['r6i.large'] },
        },
      },
      ...extra,
    });
    const described = async (names?: string[]) =>
      (await h.ecs.send(new DescribeCapacityProvidersCommand({ cluster: 'pools', ...(names ? { capacityProviders: names } : {}) }))).capacityProviders!.map((p) => p.name);
    const failed = (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e);

    beforeAll(async () => {
      await h.ecs.send(new CreateClusterCommand({ clusterName: 'pools' }));
      // Larger than the pool's host.
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'cp-pool-big', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '2048', memory: '16384',
        containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
      }));
      // The pool's host, as the capacity manager records one it launched for the pool.
      await h.berth.store.hosts.launching({ hostId: 'cp-pool', instanceType: 'r6i.large', market: 'on-demand', capacityProvider: 'pool-r', cpu: 2048, memory: 15564 }, 0);
      await h.berth.store.hosts.register({ hostId: 'cp-pool', cpu: 2048, memory: 15564 }, 0, { open: true });
    });

    it('CreateCapacityProvider makes a pool its cluster may use, and DescribeCapacityProviders pages it with its tags', async () => {
      // Act
      const created = await h.ecs.send(new CreateCapacityProviderCommand(poolInput('pool-r', { tags: [{ key: 'team', value: 'ml' }] })));

      // Assess
      expect(created.capacityProvider).toMatchObject({
        name: 'pool-r', cluster: 'pools', status: 'ACTIVE', type: 'MANAGED_INSTANCES',
        capacityProviderArn: 'arn:aws:ecs:us-east-1:000000000000:capacity-provider/pool-r', tags: [{ key: 'team', value: 'ml' }],
        managedInstancesProvider: { instanceLaunchTemplate: { capacityOptionType: 'ON_DEMAND', instanceRequirements: { allowedInstanceTypes: ['r6i.large'] } } },
      });
      const c = (await h.ecs.send(new DescribeClustersCommand({ clusters: ['pools'] }))).clusters![0];
      expect(c.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT', 'pool-r']);
      const pages: string[][] = [];
      let nextToken: string | undefined;
      do {
        const r = await h.ecs.send(new DescribeCapacityProvidersCommand({ cluster: 'pools', include: ['TAGS'], maxResults: 2, nextToken }));
        pages.push(r.capacityProviders!.map((p) => p.name!));
        if (r.capacityProviders!.some((p) => p.name === 'pool-r')) expect(r.capacityProviders!.find((p) => p.name === 'pool-r')!.tags).toEqual([{ key: 'team', value: 'ml' }]);
        nextToken = r.nextToken;
      } while (nextToken);
      expect(pages).toEqual([['FARGATE', 'FARGATE_SPOT'], ['pool-r']]);
      const byArn = await h.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: [created.capacityProvider!.capacityProviderArn!, 'nope'] }));
      expect(byArn.capacityProviders!.map((p) => [p.name, p.tags])).toEqual([['pool-r', undefined]]);
      expect(byArn.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:000000000000:capacity-provider/nope', reason: 'MISSING' }]);
      await h.ecs.send(new TagResourceCommand({ resourceArn: created.capacityProvider!.capacityProviderArn!, tags: [{ key: 'tier', value: 'gold' }] }));
      const tags = await h.ecs.send(new ListTagsForResourceCommand({ resourceArn: created.capacityProvider!.capacityProviderArn! }));
      expect(tags.tags).toEqual([{ key: 'team', value: 'ml' }, { key: 'tier', value: 'gold' }]);
    });

    it('runs the tasks of a strategy naming the pool on its hosts only, and asks for pool capacity when they are full', async () => {
      // Act
      const r = await h.ecs.send(new RunTaskCommand({
        cluster: 'pools', taskDefinition: 'cp', count: 3, capacityProviderStrategy: [{ capacityProvider: 'pool-r', weight: 1 }],
      }));
      const big = await h.ecs.send(new RunTaskCommand({
        cluster: 'pools', taskDefinition: 'cp-pool-big', capacityProviderStrategy: [{ capacityProvider: 'pool-r', weight: 1 }],
      }));

      // Assess
      expect(r.tasks!.map((t) => t.capacityProviderName)).toEqual(['pool-r', 'pool-r', 'pool-r']);
      const hosts = await eventually(async () => {
        const all = await Promise.all(r.tasks!.map((t) => h.berth.store.tasks.get({ cluster: 'pools', taskId: idOf(t.taskArn!) })));
        return all.every((t) => t?.hostId) ? all.map((t) => t!.hostId) : undefined;
      });
      expect(hosts).toEqual(['cp-pool', 'cp-pool', 'cp-pool']);
      const bigId = idOf(big.tasks![0].taskArn!);
      const demand = await eventually(async () => (await h.berth.store.demand.list()).find((d) => d.taskId === bigId));
      expect(demand).toMatchObject({ capacityProvider: 'pool-r' });
      for (const t of [...r.tasks!, ...big.tasks!]) await h.ecs.send(new StopTaskCommand({ cluster: 'pools', task: t.taskArn! }));
    });

    it('UpdateCapacityProvider changes the requirements; requirements no type meets change nothing', async () => {
      const template = { instanceRequirements: { vCpuCount: { min: 2 }, memoryMiB: { min: 16384 }, allowedInstanceTypes: ['r6i.*'] } };
      const updated = await h.ecs.send(new UpdateCapacityProviderCommand({
        name: 'pool-r', managedInstancesProvider: { infrastructureRoleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRole', instanceLaunchTemplate: template },
      }));
      expect(updated.capacityProvider).toMatchObject({ updateStatus: 'UPDATE_COMPLETE', managedInstancesProvider: { instanceLaunchTemplate: { ...template, capacityOptionType: 'ON_DEMAND' } } });
      const refused = await failed(h.ecs.send(new UpdateCapacityProviderCommand({
        name: 'pool-r', managedInstancesProvider: { infrastructureRoleArn: 'r', instanceLaunchTemplate: { instanceRequirements: { vCpuCount: { min: 1 }, memoryMiB: { min: 1, max: 2 } } } },
      })));
      expect(refused).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/No instance type/) });
      const p = (await h.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['pool-r'] }))).capacityProviders![0];
      expect(p.managedInstancesProvider!.instanceLaunchTemplate!.instanceRequirements!.allowedInstanceTypes).toEqual(['r6i.*']);
    });

    it.each([
      ['an Auto Scaling group', { autoScalingGroupProvider: { autoScalingGroupArn: 'arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:x' } }, 'InvalidParameterException', /no Auto Scaling groups/],
      ['a reserved name', { name: 'fargate-pool' }, 'InvalidParameterException', /cannot be prefixed/],
      ['a name taken', { name: 'pool-r' }, 'ClientException', /already exists/],
      ['an unknown cluster', { cluster: 'nowhere' }, 'ClusterNotFoundException', /Cluster not found/],
      ['no cluster', { cluster: undefined }, 'InvalidParameterException', /cluster is required/],
      ['requirements no type meets', {
        managedInstancesProvider: { ...poolInput('x').managedInstancesProvider!, instanceLaunchTemplate: { ...poolInput('x').managedInstancesProvider!.instanceLaunchTemplate!, instanceRequirements: { vCpuCount: { min: 64 }, memoryMiB: { min: 0 } } } },
      }, 'InvalidParameterException', /No instance type/],
    ] as [string, Partial<CreateCapacityProviderCommandInput>, string, RegExp][])('CreateCapacityProvider refuses %s and makes nothing', async (_, extra, name, message) => {
      const error = await failed(h.ecs.send(new CreateCapacityProviderCommand(poolInput('pool-bad', extra))));
      expect(error).toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
      expect((error as Error).message).toMatch(message);
      expect(await described()).toEqual(['FARGATE', 'FARGATE_SPOT', 'pool-r']);
    });

    it('refuses to delete or detach a provider a service uses, and FARGATE_SPOT at all; changes nothing', async () => {
      // Prepare
      for (const [serviceName, capacityProvider] of [['pool-user', 'pool-r'], ['spot-user', 'FARGATE_SPOT']]) {
        await h.ecs.send(new CreateServiceCommand({ cluster: 'pools', serviceName, taskDefinition: 'cp', desiredCount: 0, capacityProviderStrategy: [{ capacityProvider, weight: 1 }] }));
      }

      // Act
      const deleted = await failed(h.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'pool-r' })));
      const detached = await failed(h.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'pools', capacityProviders: ['FARGATE', 'FARGATE_SPOT'], defaultCapacityProviderStrategy: [] })));
      const spotDetached = await failed(h.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'pools', capacityProviders: ['FARGATE', 'pool-r'], defaultCapacityProviderStrategy: [] })));
      const spotDeleted = await failed(h.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'FARGATE_SPOT' })));
      const clusterDeleted = await failed(h.ecs.send(new DeleteClusterCommand({ cluster: 'pools' })));

      // Assess
      expect(deleted).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/in use by pool-user/) });
      expect(detached).toMatchObject({ name: 'ResourceInUseException', message: 'The specified capacity provider is in use and cannot be removed.' });
      expect(spotDetached).toMatchObject({ name: 'ResourceInUseException' });
      expect(spotDeleted).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/reserved/) });
      expect(clusterDeleted).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/Cluster Scoped Capacity Providers/) });
      expect(await described()).toEqual(['FARGATE', 'FARGATE_SPOT', 'pool-r']);
      const c = (await h.ecs.send(new DescribeClustersCommand({ clusters: ['pools'] }))).clusters![0];
      expect(c.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT', 'pool-r']);
    });

    it('deletes a provider no ACTIVE service uses: it leaves its cluster', async () => {
      await h.ecs.send(new DeleteServiceCommand({ cluster: 'pools', service: 'pool-user', force: true }));

      const deleted = await h.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'pool-r' }));

      expect(deleted.capacityProvider).toMatchObject({ name: 'pool-r', status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' });
      expect(await described()).toEqual(['FARGATE', 'FARGATE_SPOT']);
      const c = (await h.ecs.send(new DescribeClustersCommand({ clusters: ['pools'] }))).clusters![0];
      expect(c.capacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
      const again = await failed(h.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'pool-r' })));
      expect(again).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/does not exist/) });
      // FARGATE_SPOT stays in use by spot-user: the cluster keeps it.
      const spotDetached = await failed(h.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: 'pools', capacityProviders: ['FARGATE'], defaultCapacityProviderStrategy: [] })));
      expect(spotDetached).toMatchObject({ name: 'ResourceInUseException' });
    });
  });
});
