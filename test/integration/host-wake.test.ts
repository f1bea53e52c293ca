import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent } from '../../agent/agent';
import { agentAwsConfig } from '../../agent/aws';
import { AgentClient } from '../../agent/client';
import { SqsHostWake } from '../../agent/host-wake';
import type { ContainerRuntime } from '../../agent/runtime/container-runtime';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { startLocalSqs } from '../../local/services/sqs';
import { SQS_TARGET_PREFIX } from '../../local/services/sqs/json';
import { createAgentApiHandler } from '../../shared/agent-api/handler';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { SqsHostNotifier } from '../../shared/cloud/aws/sqs-host-notifier';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { TEST_CREDENTIALS, eventually } from '../support/harness';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

/** A host with no containers: the agent lists nothing and is never asked to run anything here. */
const emptyRuntime = new Proxy({}, { get: () => async () => [] }) as unknown as ContainerRuntime;

interface Poll { waitSeconds: number; answered: boolean; changed: boolean; wakeQueueUrl?: string }

/**
 * The agent waiting on its own SQS wake queue (agent/host-wake.ts) instead of in a long poll
 * held in the control plane: the real agent, its real client and SQS code, against the agent
 * API and the local SQS slice, with the control plane's SqsHostNotifier sending the wakes.
 */
describe('Agent wake queue (SQS)', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let server: Awaited<ReturnType<typeof serve>>;
  let url = '';
  const agents: Agent[] = [];

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint, config: { openHostRegistration: true } });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    const sqs = await startLocalSqs(berth, { dynamoEndpoint: dynamo.endpoint, log: () => {}, endpoint: () => url });
    server = await serve({
      'POST /': byTarget({ [SQS_TARGET_PREFIX]: sqs.jsonHandler }, createApiHandler(() => berth, { log: () => {} }), { sqs: sqs.handler }),
      'POST /agent': createAgentApiHandler(() => berth, { log: () => {} }),
    });
    url = server.url;
    // The control plane's side, as on AWS: the agent function's role sends and makes the queues.
    const controlPlaneSqs = new SQSClient({ region: 'us-east-1', endpoint: url, credentials: TEST_CREDENTIALS });
    berth.notifier = new SqsHostNotifier({ region: 'us-east-1', accountId: berth.partition.accountId, queuePrefix: 'berth-host-', sqs: controlPlaneSqs });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    berth?.workflows.close();
    await server?.close();
    await dynamo?.close();
  });

  /** A registered agent waiting on its queue, its polls recorded. */
  async function startAgent(hostId: string, wakeFallbackPollMs: number, credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string }>) {
    const client = new AgentClient(url, hostId, 'us-east-1');
    const polls: Poll[] = [];
    const poll = client.poll.bind(client);
    client.poll = async (known, waitSeconds, version) => {
      const p: Poll = { waitSeconds, answered: false, changed: false };
      polls.push(p);
      const r = await poll(known, waitSeconds, version);
      Object.assign(p, { answered: true, changed: r.tasks !== undefined, wakeQueueUrl: r.wakeQueueUrl });
      return r;
    };
    const aws = agentAwsConfig(client, { region: 'us-east-1', endpoint: url });
    const wake = new SqsHostWake(credentials ? { ...aws, credentials } : aws);
    const agent = new Agent({ client, runtime: emptyRuntime, cpu: 1024, memory: 2048, namespacePoolSize: 0, wake, wakeFallbackPollMs });
    agents.push(agent);
    await agent.start();
    await eventually(async () => polls[0]?.answered, 15_000, `${hostId}'s first poll`);
    return { client, polls, wake, agent };
  }

  it('waits on its queue, not in a held poll, and polls as soon as the control plane wakes it', async () => {
    // Prepare: an agent that would poll on its own only after 10 minutes.
    const { polls } = await startAgent('wake-a', 600_000);
    const before = polls.length;

    // Act: a change the agent must see, and its wake.
    await berth.store.hosts.touch('wake-a');
    berth.notifier.notify('wake-a');

    // Assess: a poll that found the change, and never a poll held open in the control plane.
    await eventually(async () => polls.slice(before).some((p) => p.changed), 15_000, 'a poll after the wake');
    expect(polls.every((p) => p.waitSeconds === 0)).toBe(true);
    expect(polls[0].wakeQueueUrl).toBe(`https://sqs.us-east-1.amazonaws.com/${berth.partition.accountId}/berth-host-wake-a`);
  }, 30_000);

  it('still finds a change whose wake was lost, at its fallback poll', async () => {
    // Prepare: an agent that polls on its own every 2 s.
    const { polls } = await startAgent('wake-b', 2_000);
    const before = polls.length;

    // Act: a change and no wake (the SendMessage lost on the way).
    await berth.store.hosts.touch('wake-b');

    // Assess
    await eventually(async () => polls.slice(before).some((p) => p.changed), 15_000, 'a fallback poll that finds the change');
    expect(polls.every((p) => p.waitSeconds === 0)).toBe(true);
  }, 30_000);

  it('polls through the agent API, held there, when it cannot wait on its queue', async () => {
    // Prepare: an agent whose SQS calls are refused (a host role without the grant).
    const { polls, agent } = await startAgent('wake-d', 600_000, async () => ({ accessKeyId: 'AKIDNOTAKEY', secretAccessKey: 'x' }));

    // Assess: its next poll waits in the control plane, and a wake still ends it at once.
    await eventually(async () => polls.some((p) => p.waitSeconds === 20), 15_000, 'a held poll');
    const before = polls.length;
    await berth.store.hosts.touch('wake-d');
    berth.notifier.notify('wake-d');
    await eventually(async () => polls.slice(before - 1).some((p) => p.changed), 15_000, 'the held poll to answer the change');

    // The next poll is held too: stop the agent, and end that poll with a wake.
    await agent.stop();
    await eventually(async () => {
      berth.notifier.notify('wake-d');
      return polls.every((p) => p.answered);
    }, 25_000, 'the last held poll to answer');
  }, 30_000);

  it('removes an ended host\'s queue, and a host with none is no matter', async () => {
    // Prepare: a host whose queue the control plane made at registration.
    const notifier = berth.notifier as SqsHostNotifier;
    await notifier.prepare('wake-e');
    const asControlPlane = new SQSClient({ region: 'us-east-1', endpoint: url, credentials: TEST_CREDENTIALS });
    const queueUrl = () => asControlPlane.send(new GetQueueUrlCommand({ QueueName: notifier.queueName('wake-e') }));
    await expect(queueUrl()).resolves.toMatchObject({ QueueUrl: expect.stringContaining('berth-host-wake-e') });

    // Act: the host ends (the capacity manager's hostEnded), twice.
    await notifier.forget('wake-e');
    await notifier.forget('wake-e');

    // Assess
    await expect(queueUrl()).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    asControlPlane.destroy();
  }, 30_000);

  it('lets a host key take only its own wakes', async () => {
    const { client, wake } = await startAgent('wake-c', 600_000);
    const other = `${url}/${berth.partition.accountId}/berth-host-wake-a`;
    const own = `${url}/${berth.partition.accountId}/berth-host-wake-c`;
    const asHost = new SQSClient({ region: 'us-east-1', endpoint: url, credentials: async () => client.hostCredentials() });

    await expect(wake.wait(other, 0)).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(asHost.send(new SendMessageCommand({ QueueUrl: own, MessageBody: 'x' }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(wake.wait(own, 0)).resolves.toBe(false);
    asHost.destroy();
  }, 30_000);
});
