/**
 * Berth's answers compared member by member with answers AWS recorded: the outputs of the AWS
 * CLI's own ECS examples (awscli/examples/ecs/*.rst, shipped beside the model). Each case sends
 * Berth the example's request (on dynalite) and checks that every member the recorded answer
 * has, Berth's has too, but for the differences listed here with their reason. Members Berth
 * adds are checked against the model by the conformance check after each case.
 */
import { expectConforms, expectEcsError, memberPaths, recordedExamples } from '../support/ecs-model';
import { AgentClient } from '../../agent/client';
import { type Harness, eventually, startHarness, storeSnapshot } from '../support/harness';
import { readmeOperations } from '../support/readme-operations';
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
  // The recorded EC2 task was placed within the call. Berth answers RunTask before placing, as
  // Fargate does (whose tasks have no container instance at all): DescribeTasks shows it once placed.
  'run-task': ['tasks[].containerInstanceArn'],
};

/** The register-task-definition example's own request (sleep360.json). */
const SLEEP360 = {
  family: 'sleep360',
  containerDefinitions: [{ name: 'sleep', image: 'busybox', cpu: 10, command: ['sleep', '360'], memory: 10, essential: true }],
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
    h = await startHarness({ timeoutSeconds: { AwaitRunning: 60 } });
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
    ['register-task-definition', 0, 'RegisterTaskDefinition', SLEEP360],
    ['run-task', 0, 'RunTask', { cluster: 'default', taskDefinition: 'sleep360:1' }],
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

  it('keeps map members named as Object\'s own properties (`constructor` once made RegisterTaskDefinition answer 500)', async () => {
    // Prepare: the fuzzer's counterexample, and a label of each kind beside it.
    const options = { constructor: 'fuzz', 'awslogs-group': 'g', toString: 'x', hasOwnProperty: 'y' };
    const dockerLabels = { constructor: 'a', valueOf: 'b' };

    // Act
    await call('RegisterTaskDefinition', {
      ...SAMPLE_FARGATE,
      family: 'constructor-keys',
      executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      containerDefinitions: [{ ...SAMPLE_FARGATE.containerDefinitions[0], dockerLabels, logConfiguration: { logDriver: 'awslogs', options } }],
    });
    const answer = await call('DescribeTaskDefinition', { taskDefinition: 'constructor-keys' }) as { taskDefinition: { containerDefinitions: any[] } };

    // Assess
    expect(answer.taskDefinition.containerDefinitions[0].logConfiguration.options).toEqual(options);
    expect(answer.taskDefinition.containerDefinitions[0].dockerLabels).toEqual(dockerLabels);
  });

  it('describe-tasks: every member of example 1\'s recorded answer (a running Fargate task)', async () => {
    // Prepare: a host, played through the agent API, runs the task and reports it RUNNING.
    const agent = new AgentClient(h.url, 'i-0compare000000001', 'us-east-1');
    await agent.register(4096, 8192);
    const run = await call('RunTask', { taskDefinition: 'sample-fargate', launchType: 'FARGATE', startedBy: 'ecs-svc/988401040018', group: 'service:web' }) as { tasks: { taskArn: string }[] };
    const taskId = run.tasks[0].taskArn.split('/').pop()!;
    await eventually(async () => (await h.berth.store.tasks.get({ cluster: 'default', taskId }))?.launchToken, 10_000, 'the launch to wait for RUNNING');
    const now = Date.now();
    await agent.report({
      task: { cluster: 'default', taskId }, lastStatus: 'RUNNING', seq: now, network: { privateIPv4Address: '10.0.1.184', macAddress: '0e:89:76:28:07:b3' },
      timestamps: { pullStartedAt: now - 3000, pullStoppedAt: now - 2000, startedAt: now },
      containers: [{ name: 'fargate-app', image: 'localhost/busybox:latest', essential: true, lastStatus: 'RUNNING', runtimeId: 'a'.repeat(64), networkBindings: [] }],
    });

    // Act
    const answer = await call('DescribeTasks', { tasks: [taskId] });

    // Assess
    expect(missing('describe-tasks', 1, answer)).toEqual([]);
  });

  describe('Fargate\'s restrictions, refused in ECS\'s own words (as AWS documents and answers them)', () => {
    const { cpu: _cpu, memory: _memory, ...sizeless } = SAMPLE_FARGATE;
    const logged = { logDriver: 'awslogs', options: { 'awslogs-group': 'g', 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'p' } };
    it.each([
      ['a network mode other than awsvpc', { ...SAMPLE_FARGATE, networkMode: 'bridge' }, 'Fargate only supports network mode ‘awsvpc’.'],
      ['no task-level cpu', { ...sizeless, memory: '512' }, "Fargate requires that 'cpu' be defined at the task level."],
      ['no task-level memory', { ...sizeless, cpu: '256' }, "Fargate requires that 'memory' be defined at the task level."],
      ['a cpu Fargate has not', { ...SAMPLE_FARGATE, cpu: '1000', memory: '2048' }, "Invalid 'cpu' setting for task."],
      ['a memory its cpu does not come with', { ...SAMPLE_FARGATE, cpu: '256', memory: '4096' }, 'No Fargate configuration exists for given values.'],
      ['awslogs without an execution role', { ...SAMPLE_FARGATE, containerDefinitions: [{ ...SAMPLE_FARGATE.containerDefinitions[0], logConfiguration: logged }] },
        'Fargate requires task definition to have execution role ARN to support log driver awslogs.'],
      ['an ECR image without an execution role', {
        ...SAMPLE_FARGATE, containerDefinitions: [{ ...SAMPLE_FARGATE.containerDefinitions[0], image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1' }],
      }, 'Fargate requires task definition to have execution role ARN to support ECR images.'],
    ])('%s', async (_what, body, message) => {
      // Prepare: the earlier cases' tasks may still move; a refused definition concerns the definitions.
      const definitions = async () => (await storeSnapshot(h)).taskDefinitions;
      const before = await definitions();

      // Act
      const r = await signedFetch(h.url, { target: 'AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition', body: JSON.stringify({ ...body, family: 'refused' }), credentials: h.credentials });

      // Assess
      expect(r.status).toBe(400);
      expect(await r.json()).toEqual({ __type: 'ClientException', message });
      expect(await definitions()).toEqual(before);
    });
  });

  it.each([
    ['RunTask', { taskDefinition: 'sleep360:1', launchType: 'FARGATE' }],
    ['CreateService', { serviceName: 'on-fargate', taskDefinition: 'sleep360:1', desiredCount: 1, launchType: 'FARGATE' }],
  ])('%s refuses to run an EC2-only definition (sleep360: no awsvpc, no task size) on Fargate, in ECS\'s words', async (operation, body) => {
    // Prepare: its compatibilities say so.
    const described = await call('DescribeTaskDefinition', { taskDefinition: 'sleep360:1' }) as { taskDefinition: { compatibilities: string[] } };
    const tasksBefore = (await storeSnapshot(h)).tasks.length;

    // Act
    const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });

    // Assess
    expect(described.taskDefinition.compatibilities).toEqual(['EC2']);
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ __type: 'InvalidParameterException', message: 'Task definition does not support launch_type FARGATE.' });
    const after = await storeSnapshot(h);
    expect(after.tasks.length).toBe(tasksBefore);
    expect(after.services.filter((x) => (x as { serviceName?: string }).serviceName === 'on-fargate')).toEqual([]);
  });

  // Last: an empty request to a served operation may act on the default cluster.
  describe('the README\'s lists of operations, through the API\'s own dispatch', () => {
    const send = async (operation: string) => {
      const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: '{}', credentials: h.credentials });
      return { status: r.status, type: ((await r.json()) as { __type?: string }).__type };
    };

    it('refuses every operation it lists as refused with UnknownOperationException (HTTP 400)', async () => {
      // Act
      const answers = await Promise.all(readmeOperations('refused').map(send));

      // Assess
      expect(answers).toEqual(readmeOperations('refused').map(() => ({ status: 400, type: 'UnknownOperationException' })));
    });

    it('serves every operation it lists as served: none is unknown to it', async () => {
      // Act
      const unknown = [];
      for (const operation of readmeOperations('served')) if ((await send(operation)).type === 'UnknownOperationException') unknown.push(operation);

      // Assess
      expect(unknown).toEqual([]);
    });
  });
});
