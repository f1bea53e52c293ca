import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { execFileSync } from 'node:child_process';
import { TEST_CREDENTIALS, eventually } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';
import { type LocalMode, describe1, runContainers, startLocalMode, untilStatus } from '../support/local-mode';

/**
 * The local mode's close, as Ctrl-C makes it: it stops everything that uses DynamoDB, waits for
 * the work in flight, and only then stops dynalite, so nothing fails on a closed database and
 * nothing holds the close open. Its own local mode: a close ends it (the shared one closes last).
 */

/** The handles that would keep a process alive or a close waiting: sockets, servers, timers, children. */
const HANDLE_KINDS = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'ProcessWrap'];
function handles(): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(HANDLE_KINDS.map((k) => [k, 0]));
  for (const kind of process.getActiveResourcesInfo()) if (kind in counts) counts[kind]++;
  return counts;
}

/** The containers of this data directory's hosts, running or not (the podman service is stopped by then). */
function containersOf(m: LocalMode): { name: string; running: boolean }[] {
  const out = execFileSync('podman', ['ps', '-a', '--filter', `label=berth.instance=${m.dataDir}`, '--format', 'json'], { env: m.local.podmanEnv, encoding: 'utf8' });
  return (JSON.parse(out || '[]') as { Names: string[]; State: string }[]).map((c) => ({ name: c.Names[0], running: c.State === 'running' }));
}

describe('Local mode close', () => {
  let m: LocalMode | undefined;
  let longTask = '';
  let runtimeId: string | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await m?.close();
  }, 120_000);

  it('stops the work in flight before DynamoDB, logs no failure, leaves no handle, and keeps a running task for the next start', async () => {
    // Prepare: a task running, and work in flight as the close begins: three launches, an SQS
    // long poll, a Step Functions execution waiting on its task (.sync).
    const before = handles();
    m = await startLocalMode({ hosts: 2, maxHosts: 2 });
    // SQS in its query protocol, as the AWS CLI speaks it (the local slice's).
    const sqs = (params: Record<string, string>) => signedFetch(m!.local.url, {
      service: 'sqs', contentType: 'application/x-www-form-urlencoded', credentials: TEST_CREDENTIALS,
      body: new URLSearchParams({ ...params, Version: '2012-11-05' }).toString(),
    });
    const sfn = new SFNClient({ endpoint: m.local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    [longTask] = await runContainers(m.ecs, [{ name: 'long', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'] }]);
    runtimeId = (await untilStatus(m.ecs, longTask, 'RUNNING', 60_000)).containers![0].runtimeId;
    const QueueUrl = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(await (await sqs({ Action: 'CreateQueue', QueueName: `close-${Date.now()}` })).text())![1];
    const machine = await sfn.send(new CreateStateMachineCommand({
      name: `close-${Date.now()}`, roleArn: 'arn:aws:iam::000000000000:role/states',
      definition: JSON.stringify({
        StartAt: 'Run',
        States: { Run: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', End: true, Parameters: { TaskDefinition: (await describe1(m.ecs, longTask)).taskDefinitionArn } } },
      }),
    }));
    await sfn.send(new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, input: '{}' }));
    const launches = await runContainers(m.ecs, [{ name: 'quick', command: ['sh', '-c', 'sleep 1'] }], { count: 3 });
    const poll = sqs({ Action: 'ReceiveMessage', QueueUrl, WaitTimeSeconds: '20' }).then((r) => r.text(), (e: Error) => e);

    // Act: the close Ctrl-C makes (no discard: running tasks stay for the next start), with the
    // control plane's clock standing still: a close that waited for a deadline (an agent's poll
    // window) to pass would never end.
    const frozen = m.local.berth.now();
    m.local.berth.now = () => frozen;
    await m.local.close();
    const left = containersOf(m);
    await poll;
    for (const client of [sfn, m.ecs]) client.destroy();

    // Assess: nothing reached dynalite after it began to close, nothing failed, nothing is left running here.
    expect(launches).toHaveLength(3);
    expect(m.logs.filter((l) => /Database is closed|still had \d+ request|ECONNREFUSED/.test(l))).toEqual([]);
    expect(unhandled).toEqual([]);
    // A child that has exited lets go of its process handle at the end of that turn of the event
    // loop, after its 'exit' (the podman service is the last thing the close stops): a turn or
    // two, where a child never stopped would stay.
    await eventually(async () => JSON.stringify(handles()) === JSON.stringify(before), 2_000, 'the close\'s last handles to be released').catch(() => {});
    expect(handles()).toEqual(before);
    // The running task's container stays, for the next start to adopt.
    expect(left.filter((c) => c.running).map((c) => c.name)).toContainEqual(expect.stringContaining(longTask.split('/').pop()!));
  }, 240_000);

  it('the next start adopts the task the close left running, and a discarding close takes everything', async () => {
    // Prepare
    const dataDir = m!.dataDir;
    m = await startLocalMode({ dataDir, hosts: 2, maxHosts: 2 });

    // Act
    const adopted = await untilStatus(m.ecs, longTask, 'RUNNING', 60_000);
    await m.ecs.send(new StopTaskCommand({ task: longTask }));
    const stopped = await untilStatus(m.ecs, longTask, 'STOPPED', 60_000);
    await m.close();
    const left = containersOf(m);
    m = undefined;

    // Assess
    expect(adopted.containers![0].runtimeId).toBe(runtimeId);
    expect(stopped.stopCode).toBe('UserInitiated');
    expect(left).toEqual([]);
  }, 240_000);
});
