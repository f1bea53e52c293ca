import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand,
  DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../agent/client';
import { byTarget, serve } from '../../local/server';
import { createLogsHandler } from '../../local/services/logs/handler';
import { LOGS_TARGET_PREFIX } from '../../local/services/logs/operations';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { DEFAULT_METRICS_LOG_GROUP } from '../../shared/metrics/catalog';
import { type Harness, eventually, startHarness } from '../support/harness';
import { readStream } from '../support/logs-slice';

const MINE = '/berth/access/mine';
const THEIRS = '/berth/access/theirs';

describe('Logs slice: what a host key may do', () => {
  let h: Harness;
  let slice: Awaited<ReturnType<typeof serve>>;
  let dir: string;
  let user: CloudWatchLogsClient;
  let holder: CloudWatchLogsClient;
  let idle: CloudWatchLogsClient;
  /** The stream the task's container writes to, as awslogs names it. */
  let taskStream: string;
  const clients: CloudWatchLogsClient[] = [];
  const logsClient = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const c = new CloudWatchLogsClient({ endpoint: slice.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const denied = (p: Promise<unknown>) => p.then(() => 'allowed', (e: { name: string; $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`);

  beforeAll(async () => {
    h = await startHarness();
    const logs = await createLogsHandler(h.berth, { dynamoEndpoint: h.dynamoEndpoint, log: () => {} });
    slice = await serve({ 'POST /': byTarget({ [LOGS_TARGET_PREFIX]: logs }, createApiHandler(() => h.berth, { log: () => {} })) });
    dir = mkdtempSync(join(tmpdir(), 'berth-logs-access-'));
    // One host holds a task that logs to MINE; the other holds nothing.
    const holderAgent = new AgentClient(h.url, 'log-holder', 'us-east-1', { credentialsFile: join(dir, 'holder.json') });
    await holderAgent.register(1024, 2048);
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'logs-access', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      containerDefinitions: [{
        name: 'app', image: 'localhost/busybox:latest', essential: true,
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': MINE, 'awslogs-stream-prefix': 'svc' } },
      }],
    }));
    const run = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'logs-access' }));
    const taskId = run.tasks![0].taskArn!.split('/').pop()!;
    await eventually(async () => (await h.berth.store.tasks.get({ cluster: 'default', taskId }))?.hostId === 'log-holder', 15_000, 'the task placed');
    const idleAgent = new AgentClient(h.url, 'log-idle', 'us-east-1', { credentialsFile: join(dir, 'idle.json') });
    await idleAgent.register(1024, 2048);
    taskStream = `svc/app/${taskId}`;
    user = logsClient(h.credentials);
    holder = logsClient(holderAgent.hostCredentials());
    idle = logsClient(idleAgent.hostCredentials());
    for (const group of [MINE, THEIRS, DEFAULT_METRICS_LOG_GROUP]) await user.send(new CreateLogGroupCommand({ logGroupName: group }));
    await user.send(new CreateLogStreamCommand({ logGroupName: THEIRS, logStreamName: 'secret' }));
    await user.send(new PutLogEventsCommand({ logGroupName: THEIRS, logStreamName: 'secret', logEvents: [{ timestamp: Date.now(), message: 'password=hunter2' }] }));
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await slice.close();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a host write its own task’s stream and its own metrics stream', async () => {
    // Act
    await holder.send(new CreateLogStreamCommand({ logGroupName: MINE, logStreamName: taskStream }));
    await holder.send(new PutLogEventsCommand({ logGroupName: MINE, logStreamName: taskStream, logEvents: [{ timestamp: Date.now(), message: 'hello' }] }));
    await holder.send(new CreateLogStreamCommand({ logGroupName: DEFAULT_METRICS_LOG_GROUP, logStreamName: 'agent/log-holder' }));

    // Assess
    expect((await readStream(user, MINE, taskStream)).map((e) => e.message)).toEqual(['hello']);
  });

  it.each([
    ['write another group', () => holder.send(new PutLogEventsCommand({ logGroupName: THEIRS, logStreamName: 'secret', logEvents: [{ timestamp: Date.now(), message: 'forged' }] }))],
    ['make a stream in another group', () => holder.send(new CreateLogStreamCommand({ logGroupName: THEIRS, logStreamName: taskStream }))],
    ['make another stream in its task’s group', () => holder.send(new CreateLogStreamCommand({ logGroupName: MINE, logStreamName: 'svc/app/other' }))],
    ['make another host’s metrics stream', () => holder.send(new CreateLogStreamCommand({ logGroupName: DEFAULT_METRICS_LOG_GROUP, logStreamName: 'agent/log-idle' }))],
    ['make a group none of its tasks uses', () => holder.send(new CreateLogGroupCommand({ logGroupName: '/berth/access/new' }))],
    ['read a stream', () => holder.send(new GetLogEventsCommand({ logGroupName: THEIRS, logStreamName: 'secret' }))],
    ['read its own task’s stream', () => holder.send(new GetLogEventsCommand({ logGroupName: MINE, logStreamName: taskStream }))],
    ['filter a group', () => holder.send(new FilterLogEventsCommand({ logGroupName: THEIRS }))],
    ['list groups', () => holder.send(new DescribeLogGroupsCommand({}))],
    ['list streams', () => holder.send(new DescribeLogStreamsCommand({ logGroupName: THEIRS }))],
    ['delete a group', () => holder.send(new DeleteLogGroupCommand({ logGroupName: THEIRS }))],
    ['delete its own task’s group', () => holder.send(new DeleteLogGroupCommand({ logGroupName: MINE }))],
    ['write a group of a task it does not hold', () => idle.send(new PutLogEventsCommand({ logGroupName: MINE, logStreamName: taskStream, logEvents: [{ timestamp: Date.now(), message: 'forged' }] }))],
  ])('denies a host that tries to %s, and changes nothing', async (_what, call) => {
    // Prepare
    const groupsBefore = await user.send(new DescribeLogGroupsCommand({}));
    const secretBefore = await readStream(user, THEIRS, 'secret');

    // Act
    const outcome = await denied(call());

    // Assess
    expect(outcome).toBe('AccessDeniedException 400');
    expect((await user.send(new DescribeLogGroupsCommand({}))).logGroups!.map((g) => g.logGroupName)).toEqual(groupsBefore.logGroups!.map((g) => g.logGroupName));
    expect(await readStream(user, THEIRS, 'secret')).toEqual(secretBefore);
  });
});
