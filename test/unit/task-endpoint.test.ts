import { describe, expect, it } from '@jest/globals';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TaskView, containerMetadata, taskMetadata, taskStats } from '../../agent/task-endpoint/metadata';
import { type EndpointTask, TaskEndpoints, endpointEnvironment, route } from '../../agent/task-endpoint/server';
import { REFRESH_BEFORE_EXPIRY_MS, TaskEndpointSession } from '../../agent/task-endpoint/session';
import { LABELS } from '../../agent/runtime/container-runtime';
import type { Assignment } from '../../shared/agent-wire/responses';
import { checkDockerLabels, clusterArnOfTask, ecsContainerLabels } from '../../shared/domain/docker-labels';
import { ClientException } from '../../shared/domain/errors';
import { readRegisterRequest } from '../../shared/domain/task-definition';
import { caught } from '../support/caught';

const TASK_ARN = 'arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef';

function aView(): TaskView {
  return {
    clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
    taskArn: TASK_ARN, family: 'web', revision: 3, desiredStatus: 'RUNNING', lastStatus: 'RUNNING',
    cpu: 256, memory: 512, pullStartedAt: Date.UTC(2026, 0, 1, 0, 0, 0), pullStoppedAt: Date.UTC(2026, 0, 1, 0, 0, 1),
    availabilityZone: 'us-east-1a', networkMode: 'awsvpc',
    address: { ipv4Address: '10.89.3.7', macAddress: '0a:58:0a:59:03:07', prefixLength: 24, gateway: '10.89.3.1' },
    containers: [
      { name: 'app', runtimeId: 'abc123', runtimeName: 'berth-x-app', image: 'busybox', labels: { team: 'a' }, status: 'RUNNING', cpu: 128, memory: 256, startedAt: Date.UTC(2026, 0, 1, 0, 0, 2) },
      { name: 'side', runtimeName: 'berth-x-side', image: 'busybox', labels: {}, status: 'PENDING' },
    ],
  };
}

describe('Task metadata endpoint', () => {
  describe('taskMetadata', () => {
    it('answers in ECS v4 shape: size in vCPU and MiB, revision as a string, every container with its network', () => {
      // Act
      const m = taskMetadata(aView());

      // Assess
      expect(m).toEqual({
        Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
        TaskARN: TASK_ARN,
        Family: 'web',
        Revision: '3',
        DesiredStatus: 'RUNNING',
        KnownStatus: 'RUNNING',
        Limits: { CPU: 0.25, Memory: 512 },
        PullStartedAt: '2026-01-01T00:00:00.000Z',
        PullStoppedAt: '2026-01-01T00:00:01.000Z',
        AvailabilityZone: 'us-east-1a',
        Containers: [expect.objectContaining({ Name: 'app' }), expect.objectContaining({ Name: 'side' })],
      });
    });
  });

  describe('containerMetadata', () => {
    it('shows one container: its engine id and name, labels, limits, times and the task network', () => {
      const view = aView();
      expect(containerMetadata(view, view.containers[0])).toEqual({
        DockerId: 'abc123',
        Name: 'app',
        DockerName: 'berth-x-app',
        Image: 'busybox',
        Labels: { team: 'a' },
        DesiredStatus: 'RUNNING',
        KnownStatus: 'RUNNING',
        Limits: { CPU: 128, Memory: 256 },
        StartedAt: '2026-01-01T00:00:02.000Z',
        Type: 'NORMAL',
        ContainerARN: 'arn:aws:ecs:us-east-1:000000000000:container/default/0123456789abcdef0123456789abcdef/app',
        Networks: [{
          NetworkMode: 'awsvpc', IPv4Addresses: ['10.89.3.7'], AttachmentIndex: 0, MACAddress: '0a:58:0a:59:03:07',
          IPv4SubnetCIDRBlock: '10.89.3.0/24', SubnetGatewayIpv4Address: '10.89.3.1/24',
        }],
      });
    });

    it.each([
      ['PENDING', undefined, 'NONE'],
      ['PENDING', 'id', 'CREATED'],
      ['RUNNING', 'id', 'RUNNING'],
      ['STOPPED', 'id', 'STOPPED'],
    ] as const)('a %s container (engine id %s) is known as %s', (status, runtimeId, known) => {
      const view = aView();
      expect(containerMetadata(view, { ...view.containers[1], status, runtimeId }).KnownStatus).toBe(known);
    });

    it('says a stopping task\'s containers are desired STOPPED, and has no network before the task has an address', () => {
      const view = { ...aView(), desiredStatus: 'STOPPED', address: undefined };
      const m = containerMetadata(view, view.containers[0]);
      expect(m.DesiredStatus).toBe('STOPPED');
      expect(m.Networks).toBeUndefined();
    });
  });

  it('taskStats: each created container\'s stats by its engine id, null where the engine had none', () => {
    expect(taskStats([{ runtimeId: 'a', stats: { read: 'x' } }, { runtimeId: 'b', stats: undefined }])).toEqual({ a: { read: 'x' }, b: null });
  });

  describe('route', () => {
    it.each([
      ['/v4/ID/app', { kind: 'container', container: 'app' }],
      ['/v4/ID/app/task', { kind: 'task', container: 'app' }],
      ['/v4/ID/app/stats', { kind: 'stats', container: 'app' }],
      ['/v4/ID/app/task/stats', { kind: 'taskStats', container: 'app' }],
      ['/v3/ID/app/task', { kind: 'task', container: 'app' }],
      ['/v1/credentials/ID', { kind: 'credentials' }],
      ['/', { kind: 'aws' }],
      ['/?x=1', { kind: 'aws' }],
      ['/agent', undefined],
      ['/operator', undefined],
      ['/v4/OTHER/app', undefined],
      ['/v4/ID', undefined],
      ['/v4/ID/app/nothing', undefined],
      ['/v1/credentials/OTHER', undefined],
      ['/v1/credentials/ID/more', undefined],
    ])('%s → %j', (path, expected) => {
      expect(route(path, 'ID')).toEqual(expected);
    });
  });

  describe('endpointEnvironment', () => {
    it('gives every container the metadata URIs; credentials only with a token; AWS_ENDPOINT_URL only locally', () => {
      expect(endpointEnvironment({ id: 'ID' }, 'app', { region: 'eu-west-1', localAwsEndpoint: false })).toEqual({
        ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:51679/v4/ID/app',
        ECS_CONTAINER_METADATA_URI: 'http://127.0.0.1:51679/v3/ID/app',
        AWS_REGION: 'eu-west-1',
        AWS_DEFAULT_REGION: 'eu-west-1',
      });
      expect(endpointEnvironment({ id: 'ID', token: 'T' }, 'app', { localAwsEndpoint: true })).toEqual({
        ECS_CONTAINER_METADATA_URI_V4: 'http://127.0.0.1:51679/v4/ID/app',
        ECS_CONTAINER_METADATA_URI: 'http://127.0.0.1:51679/v3/ID/app',
        AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:51679/v1/credentials/ID',
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'T',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:51679',
      });
    });
  });
});

describe('Container labels', () => {
  it('ecsContainerLabels: the five labels ECS\'s agent sets, the cluster as its ARN', () => {
    expect(ecsContainerLabels({ taskArn: TASK_ARN, family: 'web', revision: 3 }, 'app')).toEqual({
      'com.amazonaws.ecs.cluster': 'arn:aws:ecs:us-east-1:000000000000:cluster/default',
      'com.amazonaws.ecs.task-arn': TASK_ARN,
      'com.amazonaws.ecs.container-name': 'app',
      'com.amazonaws.ecs.task-definition-family': 'web',
      'com.amazonaws.ecs.task-definition-version': '3',
    });
    expect(clusterArnOfTask('arn:aws-cn:ecs:cn-north-1:000000000000:task/my-cluster/abc')).toBe('arn:aws-cn:ecs:cn-north-1:000000000000:cluster/my-cluster');
  });

  const body = (dockerLabels: unknown) => ({
    family: 'web', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, dockerLabels }],
  });

  it('RegisterTaskDefinition keeps dockerLabels', () => {
    expect(readRegisterRequest(body({ 'com.example.team': 'a', tier: '' })).spec.containerDefinitions[0].dockerLabels)
      .toEqual({ 'com.example.team': 'a', tier: '' });
  });

  it.each([
    ['a label that claims Berth\'s own', { 'berth.task-id': 'x' }, /reserved prefix 'berth\.'/],
    ['the same in capitals', { 'BERTH.host-id': 'x' }, /reserved prefix/],
    ['an empty key', { '': 'x' }, /1 to 255 characters/],
    ['a key with a space', { 'a b': 'x' }, /without whitespace/],
    ['a value that is not a string', { a: 1 }, /dockerLabels\.a': expected a string/],
  ])('RegisterTaskDefinition refuses %s with ClientException naming the field', (_what, labels, message) => {
    const e = caught(() => readRegisterRequest(body(labels)));
    expect(e).toBeInstanceOf(ClientException);
    expect((e as Error).message).toMatch(/containerDefinitions\[0\]\.dockerLabels/);
    expect((e as Error).message).toMatch(message);
  });

  it('checkDockerLabels lets a map without labels through as absent', () => {
    expect(checkDockerLabels(undefined, 'f')).toBeUndefined();
  });
});

/** A task served on loopback: loopback is both its gateway and, unless said otherwise, its address. */
function aTask(over: Partial<EndpointTask> = {}): EndpointTask {
  const view = aView();
  return {
    id: 'a'.repeat(32), token: 'the-token', address: '127.0.0.1', gateway: '127.0.0.1',
    view: async () => view,
    stats: async (id) => ({ id, cpu_stats: {} }),
    credentials: async () => ({
      accessKeyId: 'BTEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session', expiration: Date.UTC(2030, 0, 1), roleArn: 'arn:aws:iam::000000000000:role/app',
    }),
    ...over,
  };
}

async function get(port: number, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, body: await res.json() as any };
}

describe('TaskEndpoints', () => {
  const endpoints = new TaskEndpoints({ port: 0 });
  afterAll(() => endpoints.closeAll());

  it('serves the container, its task and their stats to the task', async () => {
    // Prepare
    const task = aTask();
    const port = await endpoints.open(task);

    // Act
    const [container, whole, stats, taskStatsAnswer] = await Promise.all([
      get(port, `/v4/${task.id}/app`), get(port, `/v4/${task.id}/app/task`), get(port, `/v4/${task.id}/app/stats`), get(port, `/v4/${task.id}/side/task/stats`),
    ]);

    // Assess
    expect(container).toMatchObject({ status: 200, body: { Name: 'app', DockerId: 'abc123' } });
    expect(whole).toMatchObject({ status: 200, body: { TaskARN: TASK_ARN, Containers: [{ Name: 'app' }, { Name: 'side' }] } });
    expect(stats).toEqual({ status: 200, body: { id: 'abc123', cpu_stats: {} } });
    expect(taskStatsAnswer).toEqual({ status: 200, body: { abc123: { id: 'abc123', cpu_stats: {} } } });
    await endpoints.close(task.id);
  });

  it('answers 404 for another id or container, and 403 to any address but the task\'s', async () => {
    const mine = aTask();
    const port = await endpoints.open(mine);
    expect((await get(port, `/v4/${'b'.repeat(32)}/app/task`)).status).toBe(404);
    expect((await get(port, `/v4/${mine.id}/nobody`)).status).toBe(404);
    await endpoints.close(mine.id);

    const elsewhere = aTask({ address: '10.0.0.9' });
    const port2 = await endpoints.open(elsewhere);
    expect((await get(port2, `/v4/${elsewhere.id}/app/task`)).status).toBe(403);
    expect((await get(port2, `/v1/credentials/${elsewhere.id}`, { authorization: 'the-token' })).status).toBe(403);
    await endpoints.close(elsewhere.id);
  });

  it('gives credentials only with the task\'s token, in the shape the AWS SDK reads', async () => {
    // Prepare
    const task = aTask();
    const port = await endpoints.open(task);
    const uri = `http://127.0.0.1:${port}/v1/credentials/${task.id}`;

    // Act
    const none = await get(port, `/v1/credentials/${task.id}`);
    const wrong = await get(port, `/v1/credentials/${task.id}`, { authorization: 'another-task-token' });
    const sdk = await fromHttp({ awsContainerCredentialsFullUri: uri, awsContainerAuthorizationToken: 'the-token' })();
    const refused = await fromHttp({ awsContainerCredentialsFullUri: uri, awsContainerAuthorizationToken: 'nope', maxRetries: 0 })().catch((e: Error) => e);

    // Assess
    expect(none.status).toBe(401);
    expect(wrong.status).toBe(403);
    expect(sdk).toMatchObject({ accessKeyId: 'BTEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session', expiration: new Date(Date.UTC(2030, 0, 1)) });
    expect(refused).toBeInstanceOf(Error);
    await endpoints.close(task.id);
  });

  it('has no credentials for a task without a role', async () => {
    const task = aTask({ token: undefined, credentials: undefined });
    const port = await endpoints.open(task);
    expect((await get(port, `/v1/credentials/${task.id}`, { authorization: 'the-token' })).status).toBe(404);
    await endpoints.close(task.id);
  });

  it('forwards any other call to the AWS endpoint as it came, the signed Host header included', async () => {
    // Prepare: an AWS endpoint that records what reaches it
    const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders; body?: string }[] = [];
    const aws = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c)).on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end('{"__type":"AccessDeniedException"}');
      });
    });
    await new Promise<void>((r) => aws.listen(0, '127.0.0.1', () => r()));
    const proxying = new TaskEndpoints({ port: 0, awsEndpoint: `http://127.0.0.1:${(aws.address() as AddressInfo).port}` });
    const task = aTask();
    const port = await proxying.open(task);

    // Act
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST', body: '{"SecretId":"x"}', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ __type: 'AccessDeniedException' });
    expect(seen).toEqual([expect.objectContaining({ method: 'POST', url: '/', body: '{"SecretId":"x"}' })]);
    expect(seen[0].headers).toMatchObject({ host: `127.0.0.1:${port}`, 'x-amz-target': 'secretsmanager.GetSecretValue' });
    await proxying.closeAll();
    aws.close();
  });
});

describe('TaskEndpointSession', () => {
  const task: Assignment = {
    cluster: 'default', taskId: '0123456789abcdef0123456789abcdef', taskArn: TASK_ARN, family: 'web', revision: 3, taskRoleArn: 'arn:aws:iam::000000000000:role/app',
    desiredStatus: 'RUNNING', lastStatus: 'PENDING', createdAt: 0, cpu: 256, memory: 512, containers: [],
  };

  it('keeps the id and token a restarted agent finds on the containers; a task without a role gets no token', () => {
    const access = { endpoints: new TaskEndpoints(), credentials: async () => { throw new Error('unused'); }, stats: async () => undefined };
    const adopted = new TaskEndpointSession(access, task, { adoptedLabels: { [LABELS.endpointId]: 'ID', [LABELS.endpointToken]: 'TOKEN' }, view: async () => aView() });
    expect(adopted.labels()).toEqual({ [LABELS.endpointId]: 'ID', [LABELS.endpointToken]: 'TOKEN' });
    const fresh = new TaskEndpointSession(access, task, { view: async () => aView() });
    expect(fresh.labels()[LABELS.endpointId]).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh.labels()[LABELS.endpointToken]).toMatch(/^[\w-]{32}$/);
    const roleless = new TaskEndpointSession(access, { ...task, taskRoleArn: undefined }, { view: async () => aView() });
    expect(Object.keys(roleless.labels())).toEqual([LABELS.endpointId]);
    expect(roleless.environment('app').AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
  });

  it('fetches credentials once, and again only when they are near expiry', async () => {
    // Prepare: credentials valid for an hour, and a clock the test moves
    let now = 0;
    let fetched = 0;
    const endpoints = new TaskEndpoints({ port: 0 });
    const access = {
      endpoints, stats: async () => undefined,
      credentials: async () => ({ accessKeyId: `K${++fetched}`, secretAccessKey: 's', sessionToken: 't', expiration: now + 3_600_000, roleArn: 'r' }),
    };
    const session = new TaskEndpointSession(access, task, {
      address: { ipv4Address: '127.0.0.1', macAddress: '00:00:00:00:00:00', gateway: '127.0.0.1' }, view: async () => aView(), now: () => now,
    });
    const opened = jest.spyOn(endpoints, 'open');
    await session.open();
    const served = opened.mock.calls[0][0];

    // Act + assess
    expect((await served.credentials!()).accessKeyId).toBe('K1');
    expect((await served.credentials!()).accessKeyId).toBe('K1');
    now = 3_600_000 - REFRESH_BEFORE_EXPIRY_MS + 1;
    expect((await served.credentials!()).accessKeyId).toBe('K2');
    await session.close();
  });
});
