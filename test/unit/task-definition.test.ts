import { describe, expect, it } from '@jest/globals';
import { ClientException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import {
  type ContainerDefinition,
  checkContainersFit,
  readRegisterRequest,
  reservationOf,
} from '../../shared/domain/task-definition';
import { caught } from '../support/caught';

/** A FARGATE definition ECS accepts; each case below breaks one thing in a fresh copy. */
function aFargateBody(): Json & { containerDefinitions: Array<Record<string, unknown>> } {
  return {
    family: 'web',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '1 vCPU',
    memory: '2 GB',
    containerDefinitions: [
      { name: 'app', image: 'nginx:1.27', cpu: 512, memory: 1024, portMappings: [{ containerPort: 80 }] },
    ],
  };
}

/** An EC2 definition with no task size, where each container must say its memory. */
function anEc2Body(): Json & { containerDefinitions: Array<Record<string, unknown>> } {
  return {
    family: 'batch',
    requiresCompatibilities: ['EC2'],
    containerDefinitions: [{ name: 'worker', image: 'busybox', memory: 256 }],
  };
}

function aContainer(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, image: 'busybox', ...extra };
}


describe('TaskDefinition', () => {
  describe('readRegisterRequest', () => {
    describe('with a valid definition', () => {
      it.each([
        ['unit strings', '1024', '2048'],
        ['vCPU and GB with a space', '1 vCPU', '2 GB'],
        ['GB without a space', '1 vcpu', '2GB'],
        ['numbers', 1024, 2048],
      ])('normalises the task size given as %s to unit strings', (_notation, cpu, memory) => {
        // Prepare
        const body = { ...aFargateBody(), cpu, memory };

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.cpu).toBe('1024');
        expect(spec.memory).toBe('2048');
      });

      it('keeps the family, network mode, compatibilities and containers', () => {
        // Prepare
        const body = aFargateBody();

        // Act
        const { spec, tags } = readRegisterRequest(body);

        // Assess
        expect(spec).toMatchObject({
          family: 'web',
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          containerDefinitions: [{ name: 'app', image: 'nginx:1.27', cpu: 512, memory: 1024 }],
        });
        expect(tags).toEqual([]);
      });

      it('accepts the smallest Fargate size in fractional vCPU', () => {
        // Prepare
        const body = { ...aFargateBody(), cpu: '0.25 vCPU', memory: '0.5 GB' };
        body.containerDefinitions[0] = aContainer('app');

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.cpu).toBe('256');
        expect(spec.memory).toBe('512');
      });

      it('accepts an EC2 definition whose containers carry their own memory', () => {
        // Prepare
        const body = anEc2Body();

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.cpu).toBeUndefined();
        expect(spec.memory).toBeUndefined();
        expect(spec.containerDefinitions[0].memory).toBe(256);
      });

      it('accepts an acyclic chain of dependencies with their conditions satisfied', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions = [
          aContainer('init', { essential: false }),
          aContainer('db', { healthCheck: { command: ['CMD', 'true'] } }),
          aContainer('app', {
            dependsOn: [
              { containerName: 'init', condition: 'SUCCESS' },
              { containerName: 'db', condition: 'HEALTHY' },
            ],
          }),
        ];

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions.map((c) => c.name)).toEqual(['init', 'db', 'app']);
      });
    });

    describe('defaults', () => {
      it('makes a container essential unless it says otherwise', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions = [aContainer('a'), aContainer('b', { essential: false })];

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions.map((c) => c.essential)).toEqual([true, false]);
      });

      it('gives a port mapping protocol tcp and a hostPort equal to its containerPort', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions[0].portMappings = [{ containerPort: 8080 }, { containerPort: 53, protocol: 'udp' }];

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions[0].portMappings).toEqual([
          { containerPort: 8080, hostPort: 8080, protocol: 'tcp' },
          { containerPort: 53, hostPort: 53, protocol: 'udp' },
        ]);
      });

      it.each([
        ['bridge', 'bridge'],
        ['no networkMode (bridge, ECS\'s EC2 default)', undefined],
      ])('in %s mode, gives a port mapping without hostPort hostPort 0, a dynamic port, and keeps a fixed one', (_mode, networkMode) => {
        // Prepare
        const body = { ...anEc2Body(), ...(networkMode ? { networkMode } : {}) };
        body.containerDefinitions[0].portMappings = [{ containerPort: 8080 }, { containerPort: 53, hostPort: 5353, protocol: 'udp' }];

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions[0].portMappings).toEqual([
          { containerPort: 8080, hostPort: 0, protocol: 'tcp' },
          { containerPort: 53, hostPort: 5353, protocol: 'udp' },
        ]);
      });

      it('gives a health check interval 30, timeout 5 and retries 3', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions[0].healthCheck = { command: ['CMD-SHELL', 'curl -f http://localhost/'] };

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions[0].healthCheck).toEqual({
          command: ['CMD-SHELL', 'curl -f http://localhost/'],
          interval: 30,
          timeout: 5,
          retries: 3,
        });
      });

      it('keeps health check settings that were given', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions[0].healthCheck = { command: ['CMD', 'true'], interval: 10, timeout: 2, retries: 1, startPeriod: 0 };

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(spec.containerDefinitions[0].healthCheck).toEqual({
          command: ['CMD', 'true'], interval: 10, timeout: 2, retries: 1, startPeriod: 0,
        });
      });

      it('leaves out the fields that were not given', () => {
        // Prepare
        const body = aFargateBody();
        body.containerDefinitions = [aContainer('app')];

        // Act
        const { spec } = readRegisterRequest(body);

        // Assess
        expect(Object.keys(spec.containerDefinitions[0]).sort()).toEqual(['essential', 'image', 'name']);
      });
    });

    type Case = [description: string, body: () => Json, field: string];
    const invalid: Case[] = [
      ['missing family', () => {
        const b = aFargateBody();
        delete b.family;
        return b;
      }, 'family'],
      ['bad characters in family', () => ({ ...aFargateBody(), family: 'web app!' }), 'family'],
      ['a family longer than 255 characters', () => ({ ...aFargateBody(), family: 'f'.repeat(256) }), 'family'],
      ['no containerDefinitions', () => {
        const b = aFargateBody();
        delete (b as Json).containerDefinitions;
        return b;
      }, 'containerDefinitions'],
      ['an empty containerDefinitions', () => ({ ...aFargateBody(), containerDefinitions: [] }), 'containerDefinitions'],
      ['11 containers', () => ({
        ...aFargateBody(),
        containerDefinitions: Array.from({ length: 11 }, (_, i) => aContainer(`c${i}`)),
      }), 'containerDefinitions'],
      ['a container that is not an object', () => ({ ...aFargateBody(), containerDefinitions: ['app'] }), 'containerDefinitions[0]'],
      ['duplicate container names', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app'), aContainer('app')],
      }), 'containerDefinitions'],
      ['bad characters in a container name', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('my app')],
      }), 'containerDefinitions[0].name'],
      ['a container without image', () => ({
        ...aFargateBody(),
        containerDefinitions: [{ name: 'app' }],
      }), 'containerDefinitions[0].image'],
      ['the second container without image', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app'), { name: 'sidecar', image: '' }],
      }), 'containerDefinitions[1].image'],
      ['FARGATE without networkMode', () => {
        const b = aFargateBody();
        delete b.networkMode;
        return b;
      }, 'Fargate only supports network mode ‘awsvpc’.'],
      ['FARGATE with networkMode bridge', () => ({ ...aFargateBody(), networkMode: 'bridge' }), 'Fargate only supports network mode ‘awsvpc’.'],
      ['an unknown networkMode', () => ({ ...anEc2Body(), networkMode: 'overlay' }), 'networkMode'],
      ['an unknown compatibility', () => ({ ...anEc2Body(), requiresCompatibilities: ['LAMBDA'] }), 'requiresCompatibilities[0]'],
      ['FARGATE without task cpu', () => {
        const b = aFargateBody();
        delete b.cpu;
        return b;
      }, 'cpu'],
      ['FARGATE without task memory', () => {
        const b = aFargateBody();
        delete b.memory;
        return b;
      }, 'memory'],
      ['an invalid Fargate size', () => ({ ...aFargateBody(), cpu: '256', memory: '4096' }), 'No Fargate configuration exists for given values.'],
      ['a Fargate cpu that does not exist', () => ({ ...aFargateBody(), cpu: '1000', memory: '2048' }), 'cpu'],
      ['unparseable task cpu', () => ({ ...aFargateBody(), cpu: 'one' }), 'cpu'],
      ['unparseable task memory', () => ({ ...aFargateBody(), memory: 'two gigs' }), 'memory'],
      ['container memory larger than task memory', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { memory: 4096 })],
      }), 'memory'],
      ['the containers\' memory reservations summing above task memory', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('a', { memoryReservation: 1024 }), aContainer('b', { memoryReservation: 1025 })],
      }), 'memory'],
      ['the containers\' cpu summing above task cpu', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('a', { cpu: 512 }), aContainer('b', { cpu: 513 })],
      }), 'cpu'],
      ['memoryReservation above memory', () => ({
        ...anEc2Body(),
        containerDefinitions: [aContainer('worker', { memory: 256, memoryReservation: 512 })],
      }), 'memoryReservation'],
      ['container memory below 6 MiB', () => ({
        ...anEc2Body(),
        containerDefinitions: [aContainer('worker', { memory: 4 })],
      }), 'containerDefinitions[0].memory'],
      ['dependsOn an unknown container', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] })],
      }), 'dependsOn'],
      ['dependsOn itself', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { dependsOn: [{ containerName: 'app', condition: 'START' }] })],
      }), 'dependsOn'],
      ['a dependsOn cycle', () => ({
        ...aFargateBody(),
        containerDefinitions: [
          aContainer('a', { dependsOn: [{ containerName: 'c', condition: 'START' }] }),
          aContainer('b', { dependsOn: [{ containerName: 'a', condition: 'START' }] }),
          aContainer('c', { dependsOn: [{ containerName: 'b', condition: 'START' }] }),
        ],
      }), 'dependsOn'],
      ['an unknown dependsOn condition', () => ({
        ...aFargateBody(),
        containerDefinitions: [
          aContainer('db'),
          aContainer('app', { dependsOn: [{ containerName: 'db', condition: 'READY' }] }),
        ],
      }), 'containerDefinitions[1].dependsOn[0].condition'],
      ['HEALTHY on a container without healthCheck', () => ({
        ...aFargateBody(),
        containerDefinitions: [
          aContainer('db'),
          aContainer('app', { dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] }),
        ],
      }), 'dependsOn'],
      ['COMPLETE on an essential container', () => ({
        ...aFargateBody(),
        containerDefinitions: [
          aContainer('init'),
          aContainer('app', { dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] }),
        ],
      }), 'dependsOn'],
      ['SUCCESS on an essential container', () => ({
        ...aFargateBody(),
        containerDefinitions: [
          aContainer('init', { essential: true }),
          aContainer('app', { dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] }),
        ],
      }), 'dependsOn'],
      ['no essential container', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('a', { essential: false }), aContainer('b', { essential: false })],
      }), 'essential'],
      ['a healthCheck without command', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { healthCheck: { interval: 10 } })],
      }), 'containerDefinitions[0].healthCheck.command'],
      ['a healthCheck interval of 4', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { healthCheck: { command: ['CMD', 'true'], interval: 4 } })],
      }), 'containerDefinitions[0].healthCheck.interval'],
      ['a bad ulimit name', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { ulimits: [{ name: 'openfiles', softLimit: 1, hardLimit: 2 }] })],
      }), 'containerDefinitions[0].ulimits[0].name'],
      ['a ulimit softLimit above its hardLimit', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { ulimits: [{ name: 'nofile', softLimit: 2048, hardLimit: 1024 }] })],
      }), 'containerDefinitions[0].ulimits[0].softLimit'],
      ['a ulimit without hardLimit', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { ulimits: [{ name: 'nofile', softLimit: 2048 }] })],
      }), 'containerDefinitions[0].ulimits[0]'],
      ['a bad log driver', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { logConfiguration: { logDriver: 'stdout' } })],
      }), 'containerDefinitions[0].logConfiguration.logDriver'],
      ['a log option that is not a string', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 7 } } })],
      }), 'containerDefinitions[0].logConfiguration.options.awslogs-group'],
      ['portMappings hostPort different from containerPort on FARGATE (awsvpc)', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { portMappings: [{ containerPort: 80, hostPort: 8080 }] })],
      }), 'containerDefinitions[0].portMappings[0].hostPort'],
      ['portMappings hostPort 0 (dynamic) in awsvpc mode', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { portMappings: [{ containerPort: 80, hostPort: 0 }] })],
      }), 'containerDefinitions[0].portMappings[0].hostPort'],
      ['portMappings hostPort different from containerPort on EC2 in awsvpc mode', () => ({
        ...anEc2Body(),
        networkMode: 'awsvpc',
        containerDefinitions: [aContainer('worker', { memory: 256, portMappings: [{ containerPort: 80, hostPort: 8080 }] })],
      }), 'containerDefinitions[0].portMappings[0].hostPort'],
      ['portMappings hostPort different from containerPort in host mode', () => ({
        ...anEc2Body(),
        networkMode: 'host',
        containerDefinitions: [aContainer('worker', { memory: 256, portMappings: [{ containerPort: 80, hostPort: 8080 }] })],
      }), 'containerDefinitions[0].portMappings[0].hostPort'],
      ['a port mapping without containerPort', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { portMappings: [{ hostPort: 80 }] })],
      }), 'containerDefinitions[0].portMappings[0].containerPort'],
      ['a port mapping protocol sctp', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { portMappings: [{ containerPort: 80, protocol: 'sctp' }] })],
      }), 'containerDefinitions[0].portMappings[0].protocol'],
      ['stopTimeout 121', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { stopTimeout: 121 })],
      }), 'containerDefinitions[0].stopTimeout'],
      ['task cpu as an object', () => ({ ...aFargateBody(), cpu: { units: 1024 } }), 'cpu'],
      ['container cpu as an object', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { cpu: { units: 256 } })],
      }), 'containerDefinitions[0].cpu'],
      ['container cpu as a string', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { cpu: '256' })],
      }), 'containerDefinitions[0].cpu'],
      ['command as a string', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { command: 'nginx -g daemon off;' })],
      }), 'containerDefinitions[0].command'],
      ['an environment value as a number', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { environment: [{ name: 'PORT', value: 80 }] })],
      }), 'containerDefinitions[0].environment[0].value'],
      ['essential as "yes"', () => ({
        ...aFargateBody(),
        containerDefinitions: [aContainer('app', { essential: 'yes' })],
      }), 'containerDefinitions[0].essential'],
      ['a tag with the aws: prefix', () => ({ ...aFargateBody(), tags: [{ key: 'aws:owner', value: 'me' }] }), 'tags[0].key'],
    ];

    it.each(invalid.map(([description, body, field]) => [description, field, body] as const))('rejects %s, naming %s', (_description, field, body) => {
      // Act
      const error = caught(() => readRegisterRequest(body()));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain(field);
    });

    it('rejects an EC2 definition without any memory, naming the container', () => {
      // Prepare
      const body = anEc2Body();
      body.containerDefinitions = [aContainer('worker', { memory: 128 }), aContainer('logger')];

      // Act
      const error = caught(() => readRegisterRequest(body));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain("'logger'");
      expect((error as Error).message).toContain('memory');
    });

    it('rejects container memory larger than task memory, naming the container', () => {
      // Prepare
      const body = aFargateBody();
      body.containerDefinitions = [aContainer('app', { memory: 1024 }), aContainer('big', { memory: 4096 })];

      // Act
      const error = caught(() => readRegisterRequest(body));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain("'big'");
    });
  });

  describe('the execution role', () => {
    const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
    const AWSLOGS = { logDriver: 'awslogs', options: { 'awslogs-group': 'g', 'awslogs-stream-prefix': 'p' } };
    const ECR_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1';
    it.each([
      ['container secrets', { secrets: [{ name: 'DB', valueFrom: SECRET }] }, "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."],
      ['log secretOptions', { logConfiguration: { logDriver: 'splunk', secretOptions: [{ name: 't', valueFrom: SECRET }] } }, "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."],
      ['repositoryCredentials', { repositoryCredentials: { credentialsParameter: SECRET } }, "When you are specifying private repository credentials, you must also specify a value for 'executionRoleArn'."],
      ['awslogs on Fargate', { logConfiguration: AWSLOGS }, 'Fargate requires task definition to have execution role ARN to support log driver awslogs.'],
      ['an ECR image on Fargate', { image: ECR_IMAGE }, 'Fargate requires task definition to have execution role ARN to support ECR images.'],
    ])('is required for %s: refused in ECS\'s words without one, accepted with one', (_, extra, message) => {
      // Prepare
      const body = aFargateBody();
      body.containerDefinitions = [aContainer('app', { memory: 512 }), aContainer('side', { memory: 512, ...extra })];

      // Act
      const error = caught(() => readRegisterRequest(body));
      const { spec } = readRegisterRequest({ ...body, executionRoleArn: 'arn:aws:iam::123456789012:role/exec' });

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toBe(message);
      expect(spec.executionRoleArn).toBe('arn:aws:iam::123456789012:role/exec');
    });

    it('is not required on EC2 for awslogs or ECR images, which the host role serves there as in ECS', () => {
      // Prepare
      const body = anEc2Body();
      body.containerDefinitions = [aContainer('worker', { memory: 256, image: ECR_IMAGE, logConfiguration: AWSLOGS })];

      // Act
      const { spec } = readRegisterRequest(body);

      // Assess
      expect(spec.executionRoleArn).toBeUndefined();
      expect(spec.containerDefinitions[0].image).toBe(ECR_IMAGE);
    });
  });

  describe('checkContainersFit', () => {
    const container = (name: string, c: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
      name, image: 'busybox', essential: true, ...c,
    });

    it.each<[string, ContainerDefinition[], number | undefined, number | undefined]>([
      ['containers that exactly fill the task', [container('a', { cpu: 512, memory: 1024 }), container('b', { cpu: 512, memory: 1024 })], 1024, 2048],
      ['containers without sizes inside a task size', [container('a'), container('b')], 256, 512],
      ['containers with their own memory and no task size', [container('a', { memory: 128 }), container('b', { memoryReservation: 64 })], undefined, undefined],
      ['a reservation below a memory hard limit larger than the rest', [container('a', { memory: 2048, memoryReservation: 512 }), container('b', { memoryReservation: 1536 })], undefined, 2048],
    ])('accepts %s', (_description, containers, cpu, memory) => {
      // Act
      const error = caught(() => checkContainersFit(containers, cpu, memory));

      // Assess
      expect(error).toBeUndefined();
    });

    it.each<[string, ContainerDefinition[], number | undefined, number | undefined, string]>([
      ['cpu above the task by one unit', [container('a', { cpu: 512 }), container('b', { cpu: 513 })], 1024, 2048, 'cpu'],
      ['one container\'s memory above the task', [container('a', { memory: 2049 })], 1024, 2048, "'a'"],
      ['reservations summing above the task', [container('a', { memoryReservation: 1024 }), container('b', { memory: 1025 })], 1024, 2048, 'memory'],
      ['a container without memory and no task memory', [container('a', { memory: 64 }), container('b')], undefined, undefined, "'b'"],
    ])('rejects %s', (_description, containers, cpu, memory, named) => {
      // Act
      const error = caught(() => checkContainersFit(containers, cpu, memory));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
      expect((error as Error).message).toContain(named);
    });
  });

  describe('reservationOf', () => {
    it.each<[string, Array<{ cpu?: number; memory?: number; memoryReservation?: number }>, number | undefined, number | undefined, { cpu: number; memory: number }]>([
      ['the task size when there is one', [{ cpu: 128, memory: 256 }], 1024, 2048, { cpu: 1024, memory: 2048 }],
      ['the containers\' sums when there is no task size', [{ cpu: 128, memory: 256 }, { cpu: 256, memory: 512 }], undefined, undefined, { cpu: 384, memory: 768 }],
      ['the larger of memory and memoryReservation per container', [{ memory: 512, memoryReservation: 256 }, { memoryReservation: 300 }], undefined, undefined, { cpu: 0, memory: 812 }],
      ['task cpu with the containers\' memory', [{ cpu: 64, memory: 100 }, { memory: 50 }], 512, undefined, { cpu: 512, memory: 150 }],
      ['the containers\' cpu with task memory', [{ cpu: 64 }, { cpu: 32 }], undefined, 1024, { cpu: 96, memory: 1024 }],
      ['zero for containers without sizes', [{}, {}], undefined, undefined, { cpu: 0, memory: 0 }],
    ])('reserves %s', (_description, containers, cpu, memory, expected) => {
      // Act
      const reservation = reservationOf(containers, cpu, memory);

      // Assess
      expect(reservation).toEqual(expected);
    });
  });
});
