import { describe, expect, it } from '@jest/globals';
import {
  expectConforms,
  expectEcsError,
  loadEcsModel,
  validateError,
  validateOutput,
  type StructureShape,
} from '../support/ecs-model';

const CLUSTER_ARN = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef';

function aDescribeClustersOutput() {
  return {
    clusters: [
      {
        clusterArn: CLUSTER_ARN,
        clusterName: 'default',
        status: 'ACTIVE',
        registeredContainerInstancesCount: 2,
        runningTasksCount: 3,
        pendingTasksCount: 0,
        activeServicesCount: 0,
        statistics: [{ name: 'runningFargateTasksCount', value: '3' }],
        tags: [{ key: 'team', value: 'platform' }],
        settings: [{ name: 'containerInsights', value: 'disabled' }],
        capacityProviders: [],
        defaultCapacityProviderStrategy: [],
      },
    ],
    failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/gone', reason: 'MISSING' }],
  };
}

// Typed loosely so each test can break one member without fighting the types.
type LooseTask = Record<string, unknown> & { containers: Array<Record<string, unknown>> };

function aDescribeTasksOutput(): { tasks: LooseTask[] } {
  return {
    tasks: [
      {
        taskArn: TASK_ARN,
        clusterArn: CLUSTER_ARN,
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1',
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        launchType: 'FARGATE',
        connectivity: 'CONNECTED',
        connectivityAt: 1_700_000_000.123,
        createdAt: 1_700_000_000,
        cpu: '256',
        memory: '512',
        version: 3,
        enableExecuteCommand: false,
        ephemeralStorage: { sizeInGiB: 20 },
        attributes: [{ name: 'ecs.capability.secrets' }],
        containers: [
          { containerArn: `${TASK_ARN}/web`, name: 'web', lastStatus: 'RUNNING', healthStatus: 'HEALTHY' },
          {
            containerArn: `${TASK_ARN}/sidecar`,
            name: 'sidecar',
            lastStatus: 'STOPPED',
            exitCode: 0,
            healthStatus: 'UNKNOWN',
          },
        ],
      },
    ],
  };
}

describe('ecs-model', () => {
  describe('loadEcsModel', () => {
    it('reads the botocore ECS model once', () => {
      // Act
      const first = loadEcsModel();
      const second = loadEcsModel();

      // Assess
      expect(first.metadata.targetPrefix).toBe('AmazonEC2ContainerServiceV20141113');
      expect(second).toBe(first);
    });

    it('has the enum and required members the tests below lean on', () => {
      // Prepare: Task.lastStatus is a plain String in the model, so enum tests use these.
      const model = loadEcsModel();
      const task = model.shapes.Task as StructureShape;
      const container = model.shapes.Container as StructureShape;

      // Act
      const enumOf = (shape: StructureShape, member: string) => {
        const target = model.shapes[shape.members[member].shape];
        return target.type === 'string' ? target.enum : undefined;
      };

      // Assess
      expect(enumOf(task, 'lastStatus')).toBeUndefined();
      expect(enumOf(task, 'launchType')).toEqual(['EC2', 'FARGATE', 'EXTERNAL']);
      expect(enumOf(task, 'stopCode')).toContain('EssentialContainerExited');
      expect(enumOf(container, 'healthStatus')).toEqual(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);
      expect((model.shapes.EphemeralStorage as StructureShape).required).toEqual(['sizeInGiB']);
    });
  });

  describe('validateOutput', () => {
    it('accepts a valid DescribeClusters output', () => {
      // Prepare
      const body = aDescribeClustersOutput();

      // Act
      const problems = validateOutput('DescribeClusters', body);

      // Assess
      expect(problems).toEqual([]);
    });

    it('accepts a valid DescribeTasks output with fractional epoch timestamps', () => {
      // Prepare
      const body = aDescribeTasksOutput();

      // Act
      const problems = validateOutput('DescribeTasks', body);

      // Assess
      expect(problems).toEqual([]);
    });

    it('accepts a map of strings and rejects a non-string map value', () => {
      // Prepare
      const body = {
        taskDefinition: {
          family: 'web',
          revision: 1,
          status: 'ACTIVE',
          containerDefinitions: [{ name: 'web', image: 'nginx', dockerLabels: { tier: 'front', port: 80 } }],
        },
      };

      // Act
      const problems = validateOutput('DescribeTaskDefinition', body);

      // Assess
      expect(problems).toEqual([
        'taskDefinition.containerDefinitions[0].dockerLabels["port"]: expected a string (String), got 80',
      ]);
    });

    it.each([
      {
        what: 'an unknown member',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].colour = 'blue';
        },
        problems: ['tasks[0].colour: unknown member of Task'],
      },
      {
        what: 'a wrong enum value',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].launchType = 'LAMBDA';
        },
        problems: ['tasks[0].launchType: "LAMBDA" is not one of [EC2, FARGATE, EXTERNAL] (LaunchType)'],
      },
      {
        what: 'a missing required member',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].ephemeralStorage = {};
        },
        problems: ['tasks[0].ephemeralStorage.sizeInGiB: required member is missing (EphemeralStorage)'],
      },
      {
        what: 'a string where an integer belongs',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].containers[1].exitCode = '0';
        },
        problems: ['tasks[0].containers[1].exitCode: expected a 32-bit integer (BoxedInteger), got "0"'],
      },
      {
        what: 'a fraction where a long belongs',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].version = 1.5;
        },
        problems: ['tasks[0].version: expected an integer (Long), got 1.5'],
      },
      {
        what: 'a null',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].stoppedReason = null;
        },
        problems: ['tasks[0].stoppedReason: null is not allowed (the wire never carries null; omit the member)'],
      },
      {
        what: 'a wrong value in a nested list item',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].containers[1].healthStatus = 'FOO';
        },
        problems: [
          'tasks[0].containers[1].healthStatus: "FOO" is not one of [HEALTHY, UNHEALTHY, UNKNOWN] (HealthStatus)',
        ],
      },
      {
        what: 'a list item that is not an object',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          (body.tasks[0].containers as unknown[])[0] = 'web';
        },
        problems: ['tasks[0].containers[0]: expected an object (Container), got "web"'],
      },
      {
        what: 'a timestamp given as an ISO string',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].createdAt = '2023-11-14T22:13:20.000Z';
        },
        problems: [
          'tasks[0].createdAt: expected a timestamp as epoch seconds (Timestamp), got "2023-11-14T22:13:20.000Z"',
        ],
      },
      {
        what: 'a string where a boolean belongs',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].enableExecuteCommand = 'false';
        },
        problems: ['tasks[0].enableExecuteCommand: expected a boolean (Boolean), got "false"'],
      },
      {
        what: 'an object where a list belongs',
        breakIt: (body: ReturnType<typeof aDescribeTasksOutput>) => {
          body.tasks[0].attributes = { name: 'ecs.capability.secrets' };
        },
        problems: ['tasks[0].attributes: expected an array (Attributes), got an object'],
      },
    ])('reports $what with its path', ({ breakIt, problems: expected }) => {
      // Prepare
      const body = aDescribeTasksOutput();
      breakIt(body);

      // Act
      const problems = validateOutput('DescribeTasks', body);

      // Assess
      expect(problems).toEqual(expected);
    });

    it('reports every problem, not just the first', () => {
      // Prepare
      const body = aDescribeClustersOutput() as { clusters: Array<Record<string, unknown>> };
      body.clusters[0].runningTasksCount = '3';
      body.clusters[0].status = null;
      body.clusters[0].settings = [{ name: 'containerInsights', value: 'enabled', scope: 'all' }];

      // Act
      const problems = validateOutput('DescribeClusters', body);

      // Assess
      expect(problems).toEqual([
        'clusters[0].status: null is not allowed (the wire never carries null; omit the member)',
        'clusters[0].runningTasksCount: expected a 32-bit integer (Integer), got "3"',
        'clusters[0].settings[0].scope: unknown member of ClusterSetting',
      ]);
    });

    it('reports a body that is not an object', () => {
      // Act
      const problems = validateOutput('ListTasks', ['arn']);

      // Assess
      expect(problems).toEqual(['(body): expected an object (ListTasksResponse), got an array']);
    });

    it('throws on an operation the model does not have', () => {
      // Act
      const act = () => validateOutput('LaunchRocket', {});

      // Assess
      expect(act).toThrow('ECS model has no operation LaunchRocket');
    });
  });

  describe('validateError', () => {
    it.each([
      { __type: 'ClusterNotFoundException', message: 'x' },
      { __type: 'com.amazonaws.ecs.v20141113#ClusterNotFoundException', message: 'Cluster not found.' },
      { __type: 'ValidationException', message: 'x' },
    ])('accepts %j', (body) => {
      // Act
      const problems = validateError(body);

      // Assess
      expect(problems).toEqual([]);
    });

    it.each([
      {
        body: { __type: 'Nope', message: 'x' },
        problems: ['__type: "Nope" is neither an ECS error shape nor a common AWS JSON error'],
      },
      {
        // A shape that exists but is not an error must not pass as one.
        body: { __type: 'Cluster', message: 'x' },
        problems: ['__type: "Cluster" is neither an ECS error shape nor a common AWS JSON error'],
      },
      { body: { message: 'x' }, problems: ['__type: expected a string, got nothing'] },
      { body: { __type: 'ClientException' }, problems: ['message: expected a string, got nothing'] },
      { body: { __type: 'ClientException', message: 42 }, problems: ['message: expected a string, got 42'] },
      { body: 'ClientException', problems: ['(body): expected an error object, got "ClientException"'] },
    ])('rejects $body', ({ body, problems: expected }) => {
      // Act
      const problems = validateError(body);

      // Assess
      expect(problems).toEqual(expected);
    });
  });

  describe('expectConforms', () => {
    it('passes a conforming body', () => {
      // Act
      const act = () => expectConforms('DescribeClusters', aDescribeClustersOutput());

      // Assess
      expect(act).not.toThrow();
    });

    it('fails with the operation and the problem in the message', () => {
      // Prepare
      const body = aDescribeTasksOutput();
      body.tasks[0].stopCode = 'Tired';

      // Act
      const act = () => expectConforms('DescribeTasks', body);

      // Assess: jest prints the array, so the quotes around Tired arrive escaped.
      expect(act).toThrow(/DescribeTasks: tasks\[0\]\.stopCode: \W*Tired\W* is not one of/);
    });
  });

  describe('expectEcsError', () => {
    it('passes an error of the expected type', () => {
      // Prepare
      const body = { __type: 'ClusterNotFoundException', message: 'Cluster not found.' };

      // Act
      const act = () => expectEcsError(body, 'ClusterNotFoundException');

      // Assess
      expect(act).not.toThrow();
    });

    it('fails on a well-formed error of another type', () => {
      // Act
      const act = () => expectEcsError({ __type: 'ClientException', message: 'x' }, 'ClusterNotFoundException');

      // Assess
      expect(act).toThrow(/expected \W*ClusterNotFoundException\W*, got \W*ClientException/);
    });

    it('fails on a malformed error', () => {
      // Act
      const act = () => expectEcsError({ message: 'x' });

      // Assess
      expect(act).toThrow(/__type: expected a string/);
    });
  });
});
