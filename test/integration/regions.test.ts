/**
 * ECS is regional: one endpoint serves each region its callers sign for, from tables of that
 * region's own. Driven with the AWS CLI v2 (`--region`) and @aws-sdk/client-ecs over the API on dynalite: the same names
 * in two regions are separate resources, every ARN carries its region, another region's ARN is
 * refused as ECS refuses it, and a region not served gets AWS's error and starts nothing.
 */
import {
  CreateClusterCommand, CreateServiceCommand, DescribeClustersCommand, ECSClient, ListClustersCommand, ListServicesCommand,
  ListTagsForResourceCommand, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand, RunTaskCommand, TagResourceCommand,
} from '@aws-sdk/client-ecs';
import { AgentClient } from '../../agent/client';
import { awsCli, type CliResult } from '../support/aws-cli';
import { expectConforms, expectEcsError } from '../support/ecs-model';
import { type Harness, startHarness, storeSnapshot } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

const ACCOUNT = '000000000000';
const arnIn = (region: string, resource: string) => `arn:aws:ecs:${region}:${ACCOUNT}:${resource}`;

describe('regions', () => {
  let h: Harness;
  const clients = new Map<string, ECSClient>();
  /** @aws-sdk/client-ecs signed for `region` (the CLI, slower to start, drives the first case's creates). */
  const sdk = (region: string): ECSClient => {
    if (!clients.has(region)) clients.set(region, new ECSClient({ endpoint: h.url, region, credentials: h.credentials, maxAttempts: 1 }));
    return clients.get(region)!;
  };
  const cli = (region: string, args: string[]): Promise<CliResult> => awsCli(h.url, 'ecs', args, h.credentials, region);
  const register = (region: string, family: string) => sdk(region).send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
    containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest' }],
  }));
  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: { name: string; message: string }) => ({ name: e.name, message: e.message }));

  beforeAll(async () => {
    h = await startHarness({ regions: ['us-east-1', 'us-east-2', 'eu-west-1'] });
  });
  afterAll(async () => {
    for (const c of clients.values()) c.destroy();
    await h.close();
  });
  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  it('keeps the same names apart in two regions, each ARN carrying its region', async () => {
    // Act
    const east1 = await cli('us-east-1', ['create-cluster', '--cluster-name', 'web', '--tags', 'key=team,value=one']);
    const east2 = await cli('us-east-2', ['create-cluster', '--cluster-name', 'web', '--tags', 'key=team,value=two']);
    const def1 = await register('us-east-1', 'app');
    const def2 = await register('us-east-2', 'app');
    const def2again = await register('us-east-2', 'app');
    const svc = await sdk('us-east-2').send(new CreateServiceCommand({ cluster: 'web', serviceName: 'api', taskDefinition: 'app', desiredCount: 0 }));
    const clusters1 = await sdk('us-east-1').send(new ListClustersCommand({}));
    const clusters2 = await sdk('us-east-2').send(new ListClustersCommand({}));
    const defs1 = await sdk('us-east-1').send(new ListTaskDefinitionsCommand({}));
    const services1 = await sdk('us-east-1').send(new ListServicesCommand({ cluster: 'web' }));
    const services2 = await sdk('us-east-2').send(new ListServicesCommand({ cluster: 'web' }));
    const tags1 = await sdk('us-east-1').send(new ListTagsForResourceCommand({ resourceArn: arnIn('us-east-1', 'cluster/web') }));
    const tags2 = await sdk('us-east-2').send(new ListTagsForResourceCommand({ resourceArn: arnIn('us-east-2', 'cluster/web') }));
    const elsewhere = await sdk('eu-west-1').send(new DescribeClustersCommand({ clusters: ['web'] }));

    // Assess
    expect(east1.json.cluster.clusterArn).toBe(arnIn('us-east-1', 'cluster/web'));
    expect(east2.json.cluster.clusterArn).toBe(arnIn('us-east-2', 'cluster/web'));
    expect(def1.taskDefinition?.taskDefinitionArn).toBe(arnIn('us-east-1', 'task-definition/app:1'));
    expect(def2.taskDefinition?.taskDefinitionArn).toBe(arnIn('us-east-2', 'task-definition/app:1'));
    expect(def2again.taskDefinition?.revision).toBe(2);
    expect(svc.service?.serviceArn).toBe(arnIn('us-east-2', 'service/web/api'));
    expect(svc.service?.clusterArn).toBe(arnIn('us-east-2', 'cluster/web'));
    expect(svc.service?.taskDefinition).toBe(arnIn('us-east-2', 'task-definition/app:2'));
    expect(clusters1.clusterArns).toEqual([arnIn('us-east-1', 'cluster/web')]);
    expect(clusters2.clusterArns).toEqual([arnIn('us-east-2', 'cluster/web')]);
    expect(defs1.taskDefinitionArns).toEqual([arnIn('us-east-1', 'task-definition/app:1')]);
    expect(services1.serviceArns).toEqual([]);
    expect(services2.serviceArns).toEqual([arnIn('us-east-2', 'service/web/api')]);
    expect(tags1.tags).toEqual([{ key: 'team', value: 'one' }]);
    expect(tags2.tags).toEqual([{ key: 'team', value: 'two' }]);
    expect(elsewhere.clusters).toEqual([]);
    expect(elsewhere.failures).toEqual([{ arn: arnIn('eu-west-1', 'cluster/web'), reason: 'MISSING' }]);
  });

  it('refuses another region\'s ARN as ECS does, even where a resource of that name exists', async () => {
    // Prepare
    await sdk('us-east-1').send(new CreateClusterCommand({ clusterName: 'same-name' }));
    await sdk('us-east-2').send(new CreateClusterCommand({ clusterName: 'same-name' }));
    const before = await storeSnapshot(h);

    // Act
    const described = await refusal(sdk('us-east-1').send(new DescribeClustersCommand({ clusters: [arnIn('us-east-2', 'cluster/same-name')] })));
    const tagged = await refusal(sdk('us-east-1').send(new TagResourceCommand({ resourceArn: arnIn('us-east-2', 'cluster/same-name'), tags: [{ key: 'a', value: 'b' }] })));
    const run = await refusal(sdk('us-east-2').send(new RunTaskCommand({ cluster: 'same-name', taskDefinition: arnIn('us-east-1', 'task-definition/app:1') })));

    // Assess
    const invalidRegion = { name: 'InvalidParameterException', message: 'Invalid Region in ARN' };
    expect([described, tagged, run]).toEqual([invalidRegion, invalidRegion, invalidRegion]);
    expect(await storeSnapshot(h)).toEqual(before);
  });

  it('refuses a region it does not serve with AWS\'s error, and starts nothing for it', async () => {
    // Act
    const r = await signedFetch(h.url, {
      target: 'AmazonEC2ContainerServiceV20141113.CreateCluster', body: JSON.stringify({ clusterName: 'web' }),
      credentials: h.credentials, region: 'ap-south-1',
    });
    const body = await r.json();

    // Assess
    expect(r.status).toBe(403);
    expect(body).toEqual({ __type: 'InvalidSignatureException', message: "Credential should be scoped to a valid region, not 'ap-south-1'. " });
    expect(h.regions.started()).toEqual(['us-east-2', 'eu-west-1'].sort());
  });

  it('takes an agent\'s calls signed for its control plane\'s region, and refuses one signed for another', async () => {
    // Prepare: both register (unsigned, with the harness's open registration), then sign.
    const own = new AgentClient(h.url, 'i-0regionown00000001', 'us-east-1');
    const stray = new AgentClient(h.url, 'i-0regionstray000001', 'us-east-2');
    await own.register(2048, 4096);
    await stray.register(2048, 4096);

    // Act
    const heartbeat = await own.heartbeat();
    const refused = await refusal(stray.heartbeat());

    // Assess
    expect(heartbeat).toBeDefined();
    expect(refused).toEqual({ name: 'AgentApiError', message: "InvalidSignatureException: Credential should be scoped to a valid region, not 'us-east-2'. " });
    expect((await h.berth.store.hosts.get('i-0regionown00000001'))?.status).toBe('ACTIVE');
  });
});
