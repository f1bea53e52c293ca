import {
  ClientException, ClusterNotFoundException, ConflictException, CreateClusterCommand, DescribeTaskDefinitionCommand,
  DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerHost } from '../../shared/lifecycle/reports';
import { awsEcs } from '../support/aws-cli';
import { signedFetch } from '../support/signed-fetch';
import { expectConforms, expectEcsError } from '../support/ecs-model';
import { type Harness, eventually, settledSnapshot, startHarness, storeSnapshot } from '../support/harness';

const TARGET = 'AmazonEC2ContainerServiceV20141113';
const dir = mkdtempSync(join(tmpdir(), 'berth-protocol-'));
const file = (name: string, body: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(body));
  return `file://${p}`;
};

const webDefinition = {
  family: 'web',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  cpu: '0.5 vCPU',
  memory: '1 GB',
  executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
  containerDefinitions: [{
    name: 'app', image: 'localhost/busybox:latest', command: ['sh', '-c', 'echo hi'],
    environment: [{ name: 'A', value: '1' }], portMappings: [{ containerPort: 8080 }],
    secrets: [{ name: 'TOKEN', valueFrom: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tok' }],
    healthCheck: { command: ['CMD-SHELL', 'true'] }, ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 1024 }],
    logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
  }],
  tags: [{ key: 'team', value: 'core' }],
};

describe('ECS API protocol', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await registerHost(h.berth, { hostId: 'proto-1', cpu: 8192, memory: 16384 });
  });
  afterAll(() => h.close());

  // Conformance: every body that crossed the wire in these tests, against awscli's ECS model.
  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  describe('with the AWS CLI v2', () => {
    it('registers, describes and lists task definitions', async () => {
      const reg = await awsEcs(h.url, ['register-task-definition', '--cli-input-json', file('web.json', webDefinition)]);
      expect(reg.code).toBe(0);
      expect(reg.json.taskDefinition).toMatchObject({
        family: 'web', revision: 1, status: 'ACTIVE', cpu: '512', memory: '1024',
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
      });
      await awsEcs(h.url, ['register-task-definition', '--cli-input-json', file('web.json', webDefinition)]);

      const described = await awsEcs(h.url, ['describe-task-definition', '--task-definition', 'web', '--include', 'TAGS']);
      expect(described.json.taskDefinition.revision).toBe(2);
      expect(described.json.tags).toEqual([{ key: 'team', value: 'core' }]);
      expect(described.json.taskDefinition.containerDefinitions[0].secrets).toEqual(webDefinition.containerDefinitions[0].secrets);

      const list = await awsEcs(h.url, ['list-task-definitions', '--family-prefix', 'web']);
      expect(list.json.taskDefinitionArns).toEqual([
        'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
        'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2',
      ]);
      const families = await awsEcs(h.url, ['list-task-definition-families']);
      expect(families.json.families).toContain('web');
    });

    it('creates, describes and lists clusters', async () => {
      const created = await awsEcs(h.url, ['create-cluster', '--cluster-name', 'batch', '--tags', 'key=env,value=test']);
      expect(created.json.cluster).toMatchObject({ clusterName: 'batch', status: 'ACTIVE' });
      const described = await awsEcs(h.url, ['describe-clusters', '--clusters', 'batch', 'nope', '--include', 'TAGS']);
      expect(described.json.clusters[0].tags).toEqual([{ key: 'env', value: 'test' }]);
      expect(described.json.failures).toEqual([{ arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/nope', reason: 'MISSING' }]);
      const listed = await awsEcs(h.url, ['list-clusters']);
      expect(listed.json.clusterArns).toContain('arn:aws:ecs:us-east-1:000000000000:cluster/batch');
    });

    it('runs, describes, lists and stops tasks', async () => {
      const run = await awsEcs(h.url, [
        'run-task', '--cluster', 'batch', '--task-definition', 'web:1', '--count', '2', '--launch-type', 'FARGATE',
        '--started-by', 'cli-test', '--overrides', JSON.stringify({ containerOverrides: [{ name: 'app', command: ['echo', 'override'] }] }),
        '--network-configuration', 'awsvpcConfiguration={subnets=[subnet-1]}',
      ]);
      expect(run.code).toBe(0);
      expect(run.json.tasks).toHaveLength(2);
      expect(run.json.tasks[0]).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', launchType: 'FARGATE', cpu: '512', memory: '1024', startedBy: 'cli-test' });
      const arns: string[] = run.json.tasks.map((t: any) => t.taskArn);
      expect(arns[0]).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/batch\/[0-9a-f]{32}$/);

      const described = await awsEcs(h.url, ['describe-tasks', '--cluster', 'batch', '--tasks', ...arns]);
      expect(described.json.tasks.map((t: any) => t.taskArn).sort()).toEqual([...arns].sort());
      expect(described.json.tasks[0].overrides.containerOverrides[0].command).toEqual(['echo', 'override']);

      const listed = await awsEcs(h.url, ['list-tasks', '--cluster', 'batch', '--started-by', 'cli-test']);
      expect(listed.json.taskArns.sort()).toEqual([...arns].sort());

      const stopped = await awsEcs(h.url, ['stop-task', '--cluster', 'batch', '--task', arns[0], '--reason', 'enough']);
      expect(stopped.json.task).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'enough' });
    });

    it('tags and untags a task definition', async () => {
      const arn = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
      expect((await awsEcs(h.url, ['tag-resource', '--resource-arn', arn, '--tags', 'key=a,value=1', 'key=b,value=2'])).code).toBe(0);
      expect((await awsEcs(h.url, ['untag-resource', '--resource-arn', arn, '--tag-keys', 'team'])).code).toBe(0);
      const tags = await awsEcs(h.url, ['list-tags-for-resource', '--resource-arn', arn]);
      expect(tags.json.tags).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
    });

    it('deregisters a revision: still describable, no longer runnable', async () => {
      const dereg = await awsEcs(h.url, ['deregister-task-definition', '--task-definition', 'web:2']);
      expect(dereg.json.taskDefinition.status).toBe('INACTIVE');
      const described = await awsEcs(h.url, ['describe-task-definition', '--task-definition', 'web:2']);
      expect(described.json.taskDefinition.status).toBe('INACTIVE');
      // `web` alone now means the newest ACTIVE revision.
      expect((await awsEcs(h.url, ['describe-task-definition', '--task-definition', 'web'])).json.taskDefinition.revision).toBe(1);
    });

    describe('refuses bad input with the ECS error and changes nothing', () => {
      it.each([
        ['an unknown cluster', ['run-task', '--cluster', 'ghost', '--task-definition', 'web:1'], 'ClusterNotFoundException'],
        ['an invalid Fargate size', ['register-task-definition', '--family', 'bad', '--requires-compatibilities', 'FARGATE', '--network-mode', 'awsvpc',
          '--cpu', '256', '--memory', '4096', '--container-definitions', '[{"name":"a","image":"i"}]'], 'ClientException'],
        ['an unknown task definition', ['run-task', '--task-definition', 'nope:1'], 'ClientException'],
        ['an INACTIVE task definition', ['run-task', '--task-definition', 'web:2'], 'ClientException'],
        ['count 11', ['run-task', '--task-definition', 'web:1', '--count', '11'], 'InvalidParameterException'],
        ['stopping an unknown task', ['stop-task', '--cluster', 'batch', '--task', '0123456789abcdef0123456789abcdef'], 'InvalidParameterException'],
      ])('%s', async (_what, args, type) => {
        const before = await settledSnapshot(h);
        const r = await awsEcs(h.url, args);
        expect(r.code).not.toBe(0);
        expect(r.errorType).toBe(type);
        expect(h.exchanges.at(-1)!.status).toBeGreaterThanOrEqual(400);
        expect(h.exchanges.at(-1)!.status).toBeLessThan(500);
        expect(await storeSnapshot(h)).toEqual(before);
      });
    });
  });

  describe('with @aws-sdk/client-ecs', () => {
    beforeAll(async () => {
      await h.ecs.send(new CreateClusterCommand({ clusterName: 'sdk' }));
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'sdk', cpu: '256', memory: '512', networkMode: 'awsvpc', requiresCompatibilities: ['FARGATE'],
        containerDefinitions: [{ name: 'c', image: 'busybox', essential: true }],
      }));
    });

    it('runs, describes, lists and stops a task', async () => {
      const run = await h.ecs.send(new RunTaskCommand({ cluster: 'sdk', taskDefinition: 'sdk', launchType: 'FARGATE', placementStrategy: [{ type: 'spread' }] }));
      const arn = run.tasks![0].taskArn!;
      const described = await h.ecs.send(new DescribeTasksCommand({ cluster: 'sdk', tasks: [arn] }));
      expect(described.tasks![0].createdAt).toBeInstanceOf(Date);
      expect((await h.ecs.send(new ListTasksCommand({ cluster: 'sdk' }))).taskArns).toContain(arn);
      const stopped = await h.ecs.send(new StopTaskCommand({ cluster: 'sdk', task: arn }));
      expect(stopped.task!.desiredStatus).toBe('STOPPED');
      const def = await h.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: run.tasks![0].taskDefinitionArn }));
      expect(def.taskDefinition!.family).toBe('sdk');
    });

    it('creates one set of tasks for 20 concurrent RunTask calls with one clientToken', async () => {
      const calls = Array.from({ length: 20 }, () =>
        h.ecs.send(new RunTaskCommand({ cluster: 'sdk', taskDefinition: 'sdk', count: 3, clientToken: 'same-token', startedBy: 'idem' })));
      const results = await Promise.all(calls);
      const sets = new Set(results.map((r) => r.tasks!.map((t) => t.taskArn).sort().join(',')));
      expect(sets.size).toBe(1);
      const all = await h.berth.store.tasks.list('sdk');
      expect(all.filter((t) => t.startedBy === 'idem')).toHaveLength(3);
    });

    it('refuses the same clientToken with other parameters: ConflictException, nothing created', async () => {
      await h.ecs.send(new RunTaskCommand({ cluster: 'sdk', taskDefinition: 'sdk', clientToken: 'tok-2', startedBy: 'one' }));
      const before = await settledSnapshot(h);
      await expect(h.ecs.send(new RunTaskCommand({ cluster: 'sdk', taskDefinition: 'sdk', clientToken: 'tok-2', startedBy: 'two' })))
        .rejects.toBeInstanceOf(ConflictException);
      expect(await storeSnapshot(h)).toEqual(before);
    });

    it('maps errors to the SDK\'s exception classes', async () => {
      await expect(h.ecs.send(new ListTasksCommand({ cluster: 'ghost' }))).rejects.toBeInstanceOf(ClusterNotFoundException);
      await expect(h.ecs.send(new RegisterTaskDefinitionCommand({ family: 'x', containerDefinitions: [] }))).rejects.toBeInstanceOf(ClientException);
    });
  });

  describe('over raw HTTP', () => {
    const post = (target: string | undefined, body: string | Buffer, contentType = 'application/x-amz-json-1.1') =>
      signedFetch(h.url, { target, body, contentType, credentials: h.credentials });

    // The cases above leave launches under way: a task whose room a repeated RunTask reserved
    // waits its retry (a second, more on a loaded machine) before it moves on, longer than the
    // settled snapshot's quiet spell. Each case below judges "changes nothing" once none is left.
    beforeAll(async () => {
      await eventually(async () => {
        const clusters = await h.berth.store.clusters.list();
        const tasks = (await Promise.all(clusters.map((c) => h.berth.store.tasks.list(c.name)))).flat();
        return tasks.every((t) => t.lastStatus !== 'PROVISIONING');
      }, 60_000, 'every launch past placement');
    }, 90_000);

    it.each([
      ['malformed JSON', `${TARGET}.ListClusters`, '{"maxResults": ', 400, 'SerializationException'],
      ['a JSON array body', `${TARGET}.ListClusters`, '[1,2]', 400, 'SerializationException'],
      ['a map member named __proto__', `${TARGET}.RegisterTaskDefinition`, JSON.stringify({ family: 'proto', containerDefinitions: [{
        name: 'app', image: 'x', memory: 128, logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
      }] }).replace('"awslogs-group"', '"__proto__":"","awslogs-group"'), 400, 'SerializationException'],
      ['an unknown operation', `${TARGET}.LaunchRockets`, '{}', 400, 'UnknownOperationException'],
      ['an inherited property name as operation', `${TARGET}.toString`, '{}', 400, 'UnknownOperationException'],
      ['no X-Amz-Target', undefined, '{}', 400, 'UnknownOperationException'],
      ['a 1 MB body', `${TARGET}.RegisterTaskDefinition`, JSON.stringify({ family: 'big', pad: 'x'.repeat(1024 * 1024) }), 413, 'ClientException'],
    ])('refuses %s with an ECS-shaped 4xx and changes nothing', async (_what, target, body, status, type) => {
      const before = await settledSnapshot(h);
      const res = await post(target, body);
      expect([res.status, res.status === status ? '' : await res.clone().text()]).toEqual([status, '']);
      expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
      const json = await res.json();
      expectEcsError(json, type);
      expect(await storeSnapshot(h)).toEqual(before);
    });
  });
});
