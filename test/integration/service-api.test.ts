/**
 * The service API with the AWS CLI v2 and the SDK, against the ECS model: shapes, defaults,
 * ECS's errors, and that a refused call changes nothing in the store. No reconciler runs here,
 * so what is checked is the API's own doing (test/e2e/services.test.ts runs real services).
 */
import { CreateServiceCommand, ECSClient } from '@aws-sdk/client-ecs';
import { awsEcs } from '../support/aws-cli';
import { signedFetch } from '../support/signed-fetch';
import { expectConforms, expectEcsError } from '../support/ecs-model';
import { type Harness, startHarness, storeSnapshot } from '../support/harness';

const ARN = 'arn:aws:ecs:us-east-1:000000000000';

/** ECS's own words, as AWS answers them (these four without a closing full stop, as ECS's are). */
const DAEMON_WITH_COUNT = 'The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again';
const DAEMON_WITH_STRATEGY = 'The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again';
const DAEMON_ABOVE_100 = 'The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. '
  + 'Change the maximumPercent value to 100, and try again';
const LAUNCH_TYPE_AND_STRATEGY = 'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.';
/** Messages matched whole; the rest of the table's texts are Berth's and matched in part. */
const ECS_WORDS = [
  DAEMON_WITH_COUNT, DAEMON_WITH_STRATEGY, DAEMON_ABOVE_100, LAUNCH_TYPE_AND_STRATEGY,
  'Creation of service was not idempotent.', 'Service not found.', 'Cluster not found.',
  'The service cannot be stopped while it is scaled above 0.', 'Services cannot be empty.',
];

const definition = (family: string) => ({
  family,
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', command: ['httpd', '-f', '-p', '8080'], portMappings: [{ containerPort: 8080 }] }],
});

describe('Service API', () => {
  let h: Harness;
  const ecs = (args: string[]) => awsEcs(h.url, args);
  const call = async (operation: string, body: object): Promise<{ status: number; body: any }> => {
    const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });
    return { status: r.status, body: await r.json() };
  };

  beforeAll(async () => {
    h = await startHarness();
    for (const f of ['web', 'web', 'web', 'worker']) expect((await call('RegisterTaskDefinition', definition(f))).status).toBe(200);
    await call('CreateCluster', { clusterName: 'other' });
  });
  afterAll(() => h.close());

  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  describe('CreateService', () => {
    it("creates a REPLICA service with ECS's defaults and shape", async () => {
      // Act
      const r = await ecs(['create-service', '--service-name', 'api', '--task-definition', 'web:1', '--desired-count', '3',
        '--tags', 'key=team,value=core', '--network-configuration', 'awsvpcConfiguration={subnets=[subnet-1],assignPublicIp=DISABLED}']);

      // Assess
      expect(r.code).toBe(0);
      expect(r.json.service).toMatchObject({
        serviceArn: `${ARN}:service/default/api`,
        serviceName: 'api',
        clusterArn: `${ARN}:cluster/default`,
        status: 'ACTIVE',
        desiredCount: 3,
        runningCount: 0,
        pendingCount: 0,
        launchType: 'FARGATE',
        taskDefinition: `${ARN}:task-definition/web:1`,
        schedulingStrategy: 'REPLICA',
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } },
        deploymentController: { type: 'ECS' },
        propagateTags: 'NONE',
        enableECSManagedTags: false,
        createdBy: 'arn:aws:iam::000000000000:root',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], assignPublicIp: 'DISABLED' } },
        tags: [{ key: 'team', value: 'core' }],
        events: [],
      });
      expect(r.json.service.deployments).toEqual([expect.objectContaining({
        id: expect.stringMatching(/^ecs-svc\/\d{19}$/), status: 'PRIMARY', taskDefinition: `${ARN}:task-definition/web:1`,
        desiredCount: 3, runningCount: 0, pendingCount: 0, failedTasks: 0, rolloutState: 'IN_PROGRESS',
      })]);
    });

    it('gives a DAEMON service minimumHealthyPercent 0 and maximumPercent 100', async () => {
      const r = await ecs(['create-service', '--service-name', 'agent', '--task-definition', 'worker', '--scheduling-strategy', 'DAEMON']);
      expect(r.json.service).toMatchObject({
        schedulingStrategy: 'DAEMON',
        deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
        taskDefinition: `${ARN}:task-definition/worker:1`,
      });
    });

    it('returns the same service for a repeat with the same clientToken, and refuses another call of that name', async () => {
      // Prepare
      const sdk = new ECSClient({ endpoint: h.url, region: 'us-east-1', credentials: h.credentials, maxAttempts: 1 });
      const input = { serviceName: 'tokened', taskDefinition: 'web:1', desiredCount: 1, clientToken: 'token-1' };

      // Act
      const first = await sdk.send(new CreateServiceCommand(input));
      const again = await sdk.send(new CreateServiceCommand(input));
      const before = await storeSnapshot(h);
      const other = await sdk.send(new CreateServiceCommand({ ...input, desiredCount: 2 })).catch((e) => e);
      const noToken = await ecs(['create-service', '--service-name', 'tokened', '--task-definition', 'web:1', '--desired-count', '1']);

      // Assess
      expect(again.service!.deployments![0].id).toBe(first.service!.deployments![0].id);
      expect(other).toMatchObject({ name: 'InvalidParameterException', message: 'Creation of service was not idempotent.' });
      expect(noToken.errorType).toBe('InvalidParameterException');
      expect(await storeSnapshot(h)).toEqual(before);
      sdk.destroy();
    });
  });

  describe('refuses bad input with ECS errors and changes nothing', () => {
    it.each([
      ['a duplicate name (CLI)', ['create-service', '--service-name', 'api', '--task-definition', 'web:1', '--desired-count', '1'], 'InvalidParameterException', 'Creation of service was not idempotent.'],
      ['desiredCount -1 (CLI)', ['create-service', '--service-name', 'neg', '--task-definition', 'web:1', '--desired-count', '-1'], 'InvalidParameterException', 'desiredCount'],
      ['update of a service in another cluster (CLI)', ['update-service', '--cluster', 'other', '--service', 'api', '--desired-count', '1'], 'ServiceNotFoundException', 'Service not found.'],
    ])('%s', async (_what, args, type, message) => {
      const before = await storeSnapshot(h);
      const r = await ecs(args as string[]);
      expect(r.code).not.toBe(0);
      expect(r.errorType).toBe(type);
      expect(r.stderr).toContain(message);
      expect(await storeSnapshot(h)).toEqual(before);
    });

    const create = (over: object) => ['CreateService', { serviceName: 'x', taskDefinition: 'web:1', ...over }] as const;
    it.each([
      ['a duplicate name', create({ serviceName: 'api', desiredCount: 1 }), 'InvalidParameterException', 'Creation of service was not idempotent.'],
      ['desiredCount -1', create({ desiredCount: -1 }), 'InvalidParameterException', 'desiredCount'],
      ['maximumPercent below 100', create({ deploymentConfiguration: { maximumPercent: 90, minimumHealthyPercent: 50 } }), 'InvalidParameterException', 'maximumPercent'],
      ['minimumHealthyPercent above 100', create({ deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 150 } }), 'InvalidParameterException', 'minimumHealthyPercent'],
      ['a circuit breaker without rollback', create({ deploymentConfiguration: { deploymentCircuitBreaker: { enable: true } } }), 'InvalidParameterException', 'rollback'],
      ['a bad placement strategy', create({ placementStrategy: [{ type: 'scatter' }] }), 'InvalidParameterException', 'placement strategy'],
      ['a bad binpack field', create({ placementStrategy: [{ type: 'binpack', field: 'disk' }] }), 'InvalidParameterException', 'binpack'],
      ['a memberOf constraint without expression', create({ placementConstraints: [{ type: 'memberOf' }] }), 'InvalidParameterException', 'memberOf'],
      ['a bad constraint type', create({ placementConstraints: [{ type: 'sameHost' }] }), 'InvalidParameterException', 'placement constraint'],
      ['a bad scheduling strategy', create({ schedulingStrategy: 'SOMETIMES' }), 'InvalidParameterException', 'schedulingStrategy'],
      ['a DAEMON with a desired count', create({ schedulingStrategy: 'DAEMON', desiredCount: 2 }), 'InvalidParameterException', DAEMON_WITH_COUNT],
      ['a DAEMON with a placement strategy', create({ schedulingStrategy: 'DAEMON', placementStrategy: [{ type: 'spread', field: 'host' }] }), 'InvalidParameterException', DAEMON_WITH_STRATEGY],
      ['a DAEMON above 100 percent', create({ schedulingStrategy: 'DAEMON', deploymentConfiguration: { maximumPercent: 200 } }), 'InvalidParameterException', DAEMON_ABOVE_100],
      ['a launch type with a capacity provider strategy', create({ launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }), 'InvalidParameterException', LAUNCH_TYPE_AND_STRATEGY],
      ['a bad spread field', create({ placementStrategy: [{ type: 'spread', field: 'rack' }] }), 'InvalidParameterException', 'Invalid field for spread placement strategy: rack.'],
      ['an unknown cluster', create({ cluster: 'nowhere' }), 'ClusterNotFoundException', 'Cluster not found.'],
      ['an unknown task definition', create({ taskDefinition: 'nothing:1' }), 'ClientException', 'TaskDefinition'],
      ['no task definition', create({ taskDefinition: undefined }), 'InvalidParameterException', 'TaskDefinition'],
      ['a bad service name', create({ serviceName: 'no spaces' }), 'InvalidParameterException', 'Service name'],
      ['a bad launch type', create({ launchType: 'EXTERNAL' }), 'InvalidParameterException', 'launchType'],
      ['a bad propagateTags', create({ propagateTags: 'ALL' }), 'ClientException', 'propagateTags'],
      ['a reserved tag key', create({ tags: [{ key: 'aws:x', value: '1' }] }), 'ClientException', 'aws:'],
      ['a string desiredCount', create({ desiredCount: 'three' }), 'ClientException', 'desiredCount'],
      ['update of an unknown service', ['UpdateService', { service: 'ghost', desiredCount: 1 }], 'ServiceNotFoundException', 'Service not found.'],
      ['update of a service in another cluster', ['UpdateService', { cluster: 'other', service: 'api', desiredCount: 1 }], 'ServiceNotFoundException', 'Service not found.'],
      ['update by an ARN of another cluster', ['UpdateService', { service: `${ARN}:service/other/api`, desiredCount: 1 }], 'ServiceNotFoundException', 'Service not found.'],
      ['update to desiredCount -1', ['UpdateService', { service: 'api', desiredCount: -1 }], 'InvalidParameterException', 'desiredCount'],
      ['update to maximumPercent below 100', ['UpdateService', { service: 'api', deploymentConfiguration: { maximumPercent: 50 } }], 'InvalidParameterException', 'maximumPercent'],
      ['update to a bad strategy', ['UpdateService', { service: 'api', placementStrategy: [{ type: 'closest' }] }], 'InvalidParameterException', 'placement strategy'],
      ['update of a DAEMON count', ['UpdateService', { service: 'agent', desiredCount: 3 }], 'InvalidParameterException', DAEMON_WITH_COUNT],
      ['update of a DAEMON to a placement strategy', ['UpdateService', { service: 'agent', placementStrategy: [{ type: 'binpack' }] }], 'InvalidParameterException', DAEMON_WITH_STRATEGY],
      ['update to a memberOf constraint without expression', ['UpdateService', { service: 'api', placementConstraints: [{ type: 'memberOf' }] }], 'InvalidParameterException', 'memberOf'],
      ['update to an unknown revision', ['UpdateService', { service: 'api', taskDefinition: 'web:99' }], 'ClientException', 'TaskDefinition'],
      ['update in an unknown cluster', ['UpdateService', { cluster: 'nowhere', service: 'api', desiredCount: 1 }], 'ClusterNotFoundException', 'Cluster not found.'],
      ['delete of a scaled service without force', ['DeleteService', { service: 'api' }], 'InvalidParameterException', 'The service cannot be stopped while it is scaled above 0.'],
      ['delete of an unknown service', ['DeleteService', { service: 'ghost' }], 'ServiceNotFoundException', 'Service not found.'],
      ['describe with no services', ['DescribeServices', { services: [] }], 'InvalidParameterException', 'Services cannot be empty.'],
      ['describe of 11 services', ['DescribeServices', { services: Array.from({ length: 11 }, (_, i) => `s${i}`) }], 'ClientException', 'services'],
      ['describe including something else', ['DescribeServices', { services: ['api'], include: ['EVERYTHING'] }], 'ClientException', 'include'],
      ['list with a bad launch type', ['ListServices', { launchType: 'MOON' }], 'InvalidParameterException', 'launchType'],
      ['list with a bad token', ['ListServices', { nextToken: 'garbage' }], 'InvalidParameterException', 'nextToken'],
      ['list-tasks of an unknown service', ['ListTasks', { serviceName: 'ghost' }], 'ServiceNotFoundException', 'Service not found.'],
    ] as [string, readonly [string, object], string, string][])('%s', async (_what, [operation, body], type, message) => {
      // Prepare
      const before = await storeSnapshot(h);

      // Act
      const r = await call(operation, body);

      // Assess
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ __type: type, message: ECS_WORDS.includes(message) ? message : expect.stringContaining(message) });
      expect(await storeSnapshot(h)).toEqual(before);
    });
  });

  describe('DescribeServices and ListServices', () => {
    it('describes by name and ARN, tags only on request, unknown ones as failures', async () => {
      const r = await ecs(['describe-services', '--services', 'api', `${ARN}:service/default/agent`, 'ghost', `${ARN}:service/other/api`]);
      expect(r.json.services.map((s: any) => s.serviceName)).toEqual(['api', 'agent']);
      expect(r.json.services[0].tags).toBeUndefined();
      expect(r.json.failures).toEqual([
        { arn: `${ARN}:service/default/ghost`, reason: 'MISSING' },
        { arn: `${ARN}:service/other/api`, reason: 'MISSING' },
      ]);
      const tagged = await ecs(['describe-services', '--services', 'api', '--include', 'TAGS']);
      expect(tagged.json.services[0].tags).toEqual([{ key: 'team', value: 'core' }]);
    });

    it('lists page by page and filters by launch type and scheduling strategy', async () => {
      const created = ['p-1', 'p-2', 'p-3'];
      for (const n of created) await call('CreateService', { cluster: 'other', serviceName: n, taskDefinition: 'web', launchType: 'EC2' });
      await call('CreateService', { cluster: 'other', serviceName: 'p-d', taskDefinition: 'worker', schedulingStrategy: 'DAEMON' });

      const first = await call('ListServices', { cluster: 'other', maxResults: 2 });
      const second = await call('ListServices', { cluster: 'other', maxResults: 2, nextToken: first.body.nextToken });
      expect(second.body.nextToken).toBeUndefined();
      expect([...first.body.serviceArns, ...second.body.serviceArns]).toEqual(['p-1', 'p-2', 'p-3', 'p-d'].map((n) => `${ARN}:service/other/${n}`));
      const ec2 = await ecs(['list-services', '--cluster', 'other', '--launch-type', 'EC2']);
      expect(ec2.json.serviceArns).toEqual(created.map((n) => `${ARN}:service/other/${n}`));
      const daemons = await ecs(['list-services', '--cluster', 'other', '--scheduling-strategy', 'DAEMON']);
      expect(daemons.json.serviceArns).toEqual([`${ARN}:service/other/p-d`]);
    });

    it('counts active services in DescribeClusters', async () => {
      const r = await ecs(['describe-clusters', '--clusters', 'other']);
      expect(r.json.clusters[0].activeServicesCount).toBe(4);
    });
  });

  describe('UpdateService', () => {
    it('scales without a new deployment', async () => {
      const r = await ecs(['update-service', '--service', 'api', '--desired-count', '5']);
      expect(r.json.service.desiredCount).toBe(5);
      expect(r.json.service.deployments).toEqual([expect.objectContaining({ status: 'PRIMARY', desiredCount: 5 })]);
    });

    it('starts a new PRIMARY deployment for a new revision, keeping the old one ACTIVE', async () => {
      const before = (await ecs(['describe-services', '--services', 'api'])).json.services[0].deployments[0];
      const r = await ecs(['update-service', '--service', 'api', '--task-definition', 'web:2',
        '--deployment-configuration', 'deploymentCircuitBreaker={enable=true,rollback=true}']);
      expect(r.json.service.taskDefinition).toBe(`${ARN}:task-definition/web:2`);
      expect(r.json.service.deployments).toEqual([
        expect.objectContaining({ status: 'PRIMARY', taskDefinition: `${ARN}:task-definition/web:2`, desiredCount: 5, rolloutState: 'IN_PROGRESS' }),
        expect.objectContaining({ id: before.id, status: 'ACTIVE', taskDefinition: `${ARN}:task-definition/web:1` }),
      ]);
      // The percentages left out keep their values.
      expect(r.json.service.deploymentConfiguration).toEqual({
        minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true },
      });
    });

    it('starts a new deployment of the same revision with --force-new-deployment', async () => {
      const r = await ecs(['update-service', '--service', 'api', '--force-new-deployment']);
      expect(r.json.service.deployments).toHaveLength(3);
      expect(r.json.service.deployments[0]).toMatchObject({ status: 'PRIMARY', taskDefinition: `${ARN}:task-definition/web:2` });
      expect(r.json.service.deployments.slice(1).map((d: any) => d.status)).toEqual(['ACTIVE', 'ACTIVE']);
    });
  });

  describe('DeleteService', () => {
    it('drains a service scaled to 0, keeps it describable, and refuses to update it', async () => {
      await call('CreateService', { serviceName: 'doomed', taskDefinition: 'web', desiredCount: 2 });
      await call('UpdateService', { service: 'doomed', desiredCount: 0 });

      const r = await ecs(['delete-service', '--service', 'doomed']);
      const described = await ecs(['describe-services', '--services', 'doomed']);
      const update = await ecs(['update-service', '--service', 'doomed', '--desired-count', '1']);
      const listed = await call('ListServices', {});
      const active = await call('DescribeClusters', {});

      expect(r.json.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
      expect(described.json.services[0].status).toBe('DRAINING');
      expect(update.errorType).toBe('ServiceNotActiveException');
      expect(update.stderr).toContain('Service was not ACTIVE.');
      expect(listed.body.serviceArns).toContain(`${ARN}:service/default/doomed`);
      expect(active.body.clusters[0].activeServicesCount).toBe(3);
    });

    it('deletes a scaled service with --force', async () => {
      await call('CreateService', { serviceName: 'forced', taskDefinition: 'web', desiredCount: 2 });
      const r = await ecs(['delete-service', '--service', 'forced', '--force']);
      expect(r.json.service).toMatchObject({ status: 'DRAINING', desiredCount: 0 });
      expect(r.json.service.deployments[0].desiredCount).toBe(0);
    });
  });

  describe('ListTasks and tags', () => {
    it("finds a service's tasks by --service-name", async () => {
      const run = await ecs(['run-task', '--task-definition', 'web', '--group', 'service:api', '--count', '2']);
      await call('RunTask', { taskDefinition: 'web' });
      const listed = await ecs(['list-tasks', '--service-name', 'api']);
      expect(listed.json.taskArns.sort()).toEqual(run.json.tasks.map((t: any) => t.taskArn).sort());
    });

    it('tags a service by its ARN', async () => {
      const arn = `${ARN}:service/default/api`;
      expect((await ecs(['tag-resource', '--resource-arn', arn, '--tags', 'key=tier,value=web'])).code).toBe(0);
      const tags = await ecs(['list-tags-for-resource', '--resource-arn', arn]);
      expect(tags.json.tags).toEqual([{ key: 'team', value: 'core' }, { key: 'tier', value: 'web' }]);
    });
  });

  describe('a deleted service (DRAINING, then INACTIVE)', () => {
    const gone = { cluster: 'default', serviceName: 'gone' };
    const refused = async (operation: string, body: object, type: string, message: string) => {
      const before = await storeSnapshot(h);
      const r = await call(operation, body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ __type: type, message });
      expect(await storeSnapshot(h)).toEqual(before);
    };

    beforeAll(async () => {
      await call('CreateService', { serviceName: 'gone', taskDefinition: 'web:1', desiredCount: 0 });
      expect((await call('DeleteService', { service: 'gone' })).body.service.status).toBe('DRAINING');
    });

    it('while DRAINING: refuses CreateService of its name and UpdateService, and DeleteService returns it as it is', async () => {
      await refused('CreateService', { serviceName: 'gone', taskDefinition: 'web:1' }, 'InvalidParameterException', 'Unable to Start a service that is still Draining.');
      await refused('UpdateService', { service: 'gone', desiredCount: 1 }, 'ServiceNotActiveException', 'Service was not ACTIVE.');
      const again = await call('DeleteService', { service: 'gone', force: true });
      expect(again.body.service).toMatchObject({ serviceName: 'gone', status: 'DRAINING', desiredCount: 0 });
    });

    it('once INACTIVE: refuses UpdateService and DeleteService, and CreateService may use its name again', async () => {
      // Prepare: what the reconciler does once a draining service has no task left (none runs in this test).
      await h.berth.store.services.mutate(gone, (s) => ({ ...s, status: 'INACTIVE' }));

      // Act, assess
      await refused('UpdateService', { service: 'gone', desiredCount: 1 }, 'ServiceNotActiveException', 'Service was not ACTIVE.');
      await refused('DeleteService', { service: 'gone', force: true }, 'ServiceNotActiveException', 'Service was not ACTIVE.');
      const r = await ecs(['create-service', '--service-name', 'gone', '--task-definition', 'web:2', '--desired-count', '1']);
      expect(r.json.service).toMatchObject({ status: 'ACTIVE', desiredCount: 1, taskDefinition: `${ARN}:task-definition/web:2` });
    });
  });
});
