/**
 * Berth's answers compared member by member with answers AWS recorded: the outputs of the AWS
 * CLI's own ECS examples (awscli/examples/ecs/*.rst, shipped beside the model). Each case sends
 * Berth the example's request (on dynalite) and checks that every member the recorded answer
 * has, Berth's has too, but for the differences listed here with their reason. Members Berth
 * adds are checked against the model by the conformance check after each case.
 */
import { expectConforms, expectEcsError, memberPaths, recordedExamples } from '../support/ecs-model';
import { type Harness, startHarness } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

/**
 * Members the recorded answers have that Berth's do not, and why. Each example shows a resource
 * as it was on AWS; where its state is one a fresh resource has not reached, the members that
 * state brings are listed.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, readonly string[]>> = {
  // The recorded service had run for a while: its events say so. A new service has none yet.
  'describe-services': ['services[].events[].id', 'services[].events[].createdAt', 'services[].events[].message'],
  // The recorded definition maps a port, links a container and sets a variable; the one sent here
  // gives none, so only the emptied lists are compared, not their items.
  'describe-task-definition': [
    'taskDefinition.containerDefinitions[].portMappings[].containerPort', 'taskDefinition.containerDefinitions[].portMappings[].hostPort',
    'taskDefinition.containerDefinitions[].environment[].name', 'taskDefinition.containerDefinitions[].environment[].value',
    // `links` is for the bridge network mode, which Fargate and Berth do not have.
    'taskDefinition.containerDefinitions[].links',
  ],
};

const SAMPLE_FARGATE = {
  family: 'sample-fargate', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
  containerDefinitions: [{ name: 'fargate-app', image: 'localhost/busybox:latest', memory: 512 }],
};

describe('ECS answers, member by member against answers AWS recorded', () => {
  let h: Harness;
  const call = async (operation: string, body: object): Promise<unknown> => {
    const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });
    expect(r.status).toBe(200);
    return r.json();
  };
  /** The recorded answer's members that Berth's lacks, less the known differences. */
  const missing = (command: string, example: number, berth: unknown): string[] => {
    const ours = memberPaths(berth);
    const known = new Set(KNOWN_DIFFERENCES[command] ?? []);
    return [...memberPaths(recordedExamples(command)[example])].filter((p) => !ours.has(p) && !known.has(p));
  };

  beforeAll(async () => {
    h = await startHarness();
    await call('CreateCluster', {});
    await call('RegisterTaskDefinition', SAMPLE_FARGATE);
  });
  afterAll(() => h.close());
  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  it.each([
    ['create-cluster', 0, 'CreateCluster', { clusterName: 'MyCluster' }],
    ['describe-clusters', 0, 'DescribeClusters', { clusters: ['default'] }],
    ['describe-task-definition', 0, 'DescribeTaskDefinition', { taskDefinition: 'sample-fargate' }],
    ['create-service', 0, 'CreateService', {
      cluster: 'MyCluster', serviceName: 'MyService', taskDefinition: 'sample-fargate:1', desiredCount: 2, launchType: 'FARGATE', platformVersion: 'LATEST',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-12344321'], securityGroups: ['sg-12344321'], assignPublicIp: 'ENABLED' } },
      tags: [{ key: 'key1', value: 'value1' }, { key: 'key2', value: 'value2' }, { key: 'key3', value: 'value3' }],
    }],
    ['describe-services', 0, 'DescribeServices', { cluster: 'MyCluster', services: ['MyService'] }],
    ['list-clusters', 0, 'ListClusters', {}],
    ['list-task-definitions', 0, 'ListTaskDefinitions', {}],
    ['list-account-settings', 0, 'ListAccountSettings', { effectiveSettings: true }],
  ] as const)('%s: every member of example %i\'s recorded answer', async (command, example, operation, body) => {
    // Act
    const answer = await call(operation, body);

    // Assess
    expect(missing(command, example, answer)).toEqual([]);
  });

  it('fills in what ECS fills in on a container definition that left it out', async () => {
    // Act
    const answer = await call('DescribeTaskDefinition', { taskDefinition: 'sample-fargate' }) as { taskDefinition: { containerDefinitions: object[] } };

    // Assess
    expect(answer.taskDefinition.containerDefinitions[0]).toMatchObject({
      cpu: 0, essential: true, portMappings: [], environment: [], mountPoints: [], volumesFrom: [],
    });
  });
});
