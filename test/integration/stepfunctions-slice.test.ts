import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateStateMachineCommand, DescribeExecutionCommand, GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand,
  SFNClient, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { readFileSync } from 'node:fs';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { createStepFunctionsHandler } from '../../local/services/stepfunctions/handler';
import { serve } from '../../local/server';
import { type Harness, eventually, startHarness } from '../support/harness';
import { deferred } from '../support/deferred';

/**
 * The local Step Functions slice over dynalite and the real lifecycle workflows, driven by
 * @aws-sdk/client-sfn; the hosts' agents are played through the core (the real ones run in
 * the e2e suite, test/e2e/shared/batch.ts).
 */
const SFN_MODEL = '/usr/lib/python3/dist-packages/awscli/botocore/data/stepfunctions/2016-11-23/service-2.json';
const EVENT_TYPES: string[] = JSON.parse(readFileSync(SFN_MODEL, 'utf8')).shapes.HistoryEventType.enum;
const ROLE = 'arn:aws:iam::000000000000:role/batch';
const HOST = 'sfn-1';

const definition = (d: object) => JSON.stringify(d);
/** What the call is refused with (undefined when it is not). */
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
const runTaskParams = { Cluster: 'default', TaskDefinition: 'item' };
const withItem = (value: string) => ({
  ...runTaskParams,
  Overrides: { ContainerOverrides: [{ Name: 'main', Environment: [{ Name: 'ITEM', 'Value.$': value }] }] },
});

describe('Local Step Functions slice', () => {
  let h: Harness;
  let sfn: SFNClient;
  let close: () => Promise<void>;
  let closeStates: () => Promise<void>;
  /** Plays the host's agent: each task runs, then exits with the code its ITEM names (`exit:N`), or stays up. */
  let agent: NodeJS.Timeout;

  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 5 } });
    const states = await createStepFunctionsHandler(h.berth, { dynamoEndpoint: h.dynamoEndpoint, log: (l) => process.env.BERTH_TEST_LOG && console.log(JSON.stringify(l)) });
    closeStates = states.close;
    const server = await serve({ 'POST /': states.handler });
    close = server.close;
    sfn = new SFNClient({ endpoint: server.url, region: 'us-east-1', credentials: h.credentials, maxAttempts: 1 });
    await registerHost(h.berth, { hostId: HOST, cpu: 16384, memory: 32768 });
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'item', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'main', image: 'busybox', essential: true }],
    }));
    const busy = new Set<string>();
    agent = setInterval(async () => {
      for (const t of await h.berth.store.tasks.list('default')) {
        if (busy.has(t.taskId) || t.lastStatus === 'STOPPED' || t.hostId !== HOST) continue;
        busy.add(t.taskId);
        const item = t.overrides.containerOverrides?.[0]?.environment?.find((e) => e.name === 'ITEM')?.value ?? '';
        const exit = /^exit:(\d+)$/.exec(item);
        const ref = { cluster: 'default', taskId: t.taskId };
        try {
          if (t.desiredStatus === 'STOPPED' || exit) {
            if (t.lastStatus === 'PENDING' || t.lastStatus === 'RUNNING') {
              await reportTaskState(h.berth, HOST, { task: ref, lastStatus: 'RUNNING' });
              await reportTaskState(h.berth, HOST, {
                task: ref, lastStatus: 'STOPPED', stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'exited' },
                containers: [{ name: 'main', lastStatus: 'STOPPED', exitCode: exit ? Number(exit[1]) : 137 }],
              });
            }
          } else if (t.lastStatus === 'PENDING') {
            await reportTaskState(h.berth, HOST, { task: ref, lastStatus: 'RUNNING' });
          }
        } finally {
          busy.delete(t.taskId);
        }
      }
    }, 50);
  });

  afterAll(async () => {
    clearInterval(agent);
    sfn?.destroy();
    await close?.();
    await h?.close();
  });

  async function machine(name: string, d: object): Promise<string> {
    return (await sfn.send(new CreateStateMachineCommand({ name, definition: definition(d), roleArn: ROLE }))).stateMachineArn!;
  }

  const finished = (executionArn: string) => eventually(async () => {
    const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return e.status !== 'RUNNING' && e;
  }, 20_000, `${executionArn} to finish`);

  describe('CreateStateMachine', () => {
    it.each([
      ['not JSON', '{"StartAt":', 'InvalidDefinition', /INVALID_JSON_DESCRIPTION/],
      ['not ASL', definition({ StartAt: 'A', States: { A: { Type: 'Nope', End: true } } }), 'InvalidDefinition', /SCHEMA_VALIDATION_FAILED/],
      ['an unknown resource', definition({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } }), 'InvalidDefinition', /sqs:sendMessage is not recognized/],
      ['a state name used twice', definition({
        StartAt: 'A', States: { A: { Type: 'Map', ItemProcessor: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }, End: true } },
      }), 'InvalidDefinition', /DUPLICATE_STATE_NAME/],
    ])('refuses %s with AWS\'s error, and creates nothing', async (_what, text, type, message) => {
      // Act
      const e = await refusal(sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: text, roleArn: ROLE })));

      // Assess
      expect(e).toMatchObject({ name: type, message: expect.stringMatching(message), $metadata: { httpStatusCode: 400 } });
      expect((await sfn.send(new ListStateMachinesCommand({}))).stateMachines!.map((m) => m.name)).not.toContain('bad');
    });

    it.each([
      ['a name with a space', { name: 'a b', roleArn: ROLE }, 'InvalidName'],
      ['a role that is not an IAM role', { name: 'ok', roleArn: 'arn:aws:s3:::bucket' }, 'InvalidArn'],
    ])('refuses %s', async (_what, input, type) => {
      const e = await refusal(sfn.send(new CreateStateMachineCommand({ ...input, definition: definition({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }) })));
      expect(e).toMatchObject({ name: type });
    });
  });

  it('maps ecs:runTask.sync over items within MaxConcurrency; a Catch takes the item that exits 3 (States.TaskFailed)', async () => {
    // Prepare
    const arn = await machine('fan-out', {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map', MaxConcurrency: 2, ItemsPath: '$.items', End: true,
          ItemProcessor: {
            StartAt: 'Run',
            States: {
              Run: {
                Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', Parameters: withItem('$.item'),
                ResultSelector: { 'exit.$': '$.Containers[0].ExitCode', 'status.$': '$.LastStatus' },
                Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Failed' }], End: true,
              },
              Failed: { Type: 'Pass', Parameters: { 'failed.$': '$.error.Error' }, End: true },
            },
          },
        },
      },
    });
    const items = ['exit:0', 'exit:0', 'exit:3', 'exit:0', 'exit:0'];

    // Act
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'five', input: JSON.stringify({ items: items.map((item) => ({ item })) }) }));
    const done = await finished(executionArn!);

    // Assess
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual(items.map((i) => (i === 'exit:3' ? { failed: 'States.TaskFailed' } : { exit: 0, status: 'STOPPED' })));
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const types = events!.map((e) => e.type!);
    expect(types.filter((t) => !EVENT_TYPES.includes(t))).toEqual([]);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types[types.length - 1]).toBe('ExecutionSucceeded');
    expect(types.filter((t) => t === 'TaskScheduled')).toHaveLength(5);
    expect(types.filter((t) => t === 'TaskSucceeded')).toHaveLength(4);
    const failed = events!.find((e) => e.type === 'TaskFailed')!;
    expect(failed.taskFailedEventDetails).toMatchObject({ resourceType: 'ecs', resource: 'runTask.sync', error: 'States.TaskFailed' });
    expect(events!.map((e) => e.id)).toEqual(events!.map((_e, i) => i + 1));
    // Each task's events in Step Functions' order.
    const scheduled = events!.find((e) => e.type === 'TaskScheduled')!;
    expect(scheduled.taskScheduledEventDetails).toMatchObject({ resourceType: 'ecs', resource: 'runTask.sync', region: 'us-east-1' });
    expect(types.filter((t) => t === 'TaskSubmitted')).toHaveLength(5);
    expect(types.indexOf('TaskStarted')).toBeLessThan(types.indexOf('TaskSubmitted'));
    expect(types.indexOf('TaskSubmitted')).toBeLessThan(types.indexOf('TaskSucceeded'));
    expect(types.indexOf('MapStateEntered')).toBeLessThan(types.indexOf('TaskStateEntered'));
    expect(types.indexOf('TaskStateEntered')).toBeLessThan(types.indexOf('TaskScheduled'));
  });

  it('waits on a .waitForTaskToken task until SendTaskSuccess with its token, which reached the task in its overrides', async () => {
    // Prepare
    const arn = await machine('callback', {
      StartAt: 'Hand',
      States: { Hand: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken', Parameters: withItem('$$.Task.Token'), End: true } },
    });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }));
    const token = await eventually(async () => {
      const t = (await h.berth.store.tasks.list('default')).find((x) => x.overrides.containerOverrides?.[0]?.environment?.[0]?.value?.startsWith('berth1.'));
      return t?.overrides.containerOverrides![0].environment![0].value;
    }, 10_000, 'the task with the token');

    // Act
    const wrong = await refusal(sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })));
    const notJson = await refusal(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{nope' })));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ result: 42 }) }));
    const done = await finished(executionArn!);
    const spent = await refusal(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })));

    // Assess
    expect(wrong).toMatchObject({ name: 'InvalidToken' });
    expect(notJson).toMatchObject({ name: 'InvalidOutput' });
    expect(done).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ result: 42 }) });
    expect(spent).toMatchObject({ name: 'TaskDoesNotExist' });
  });

  it('fails a .waitForTaskToken state whose task sends no heartbeat within HeartbeatSeconds (States.HeartbeatTimeout)', async () => {
    // Prepare
    const arn = await machine('silent', {
      StartAt: 'Silent',
      States: { Silent: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken', HeartbeatSeconds: 1, Parameters: withItem('$$.Task.Token'), End: true } },
    });

    // Act
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{}' }));
    const done = await finished(executionArn!);

    // Assess
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
  });

  it('starts an execution once per name: the same input again is the same execution, other input is ExecutionAlreadyExists', async () => {
    // Prepare
    const arn = await machine('hold', {
      StartAt: 'Run', States: { Run: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', Parameters: withItem('$.item'), End: true } },
    });

    // Act
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{"item":"stay"}' }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{"item":"stay"}' }));
    const other = await refusal(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{"item":"other"}' })));
    const badInput = await refusal(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'bad-input', input: '{' })));

    // Assess
    expect(again.executionArn).toBe(first.executionArn);
    expect(other).toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(badInput).toMatchObject({ name: 'InvalidExecutionInput' });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions!.map((e) => e.name)).toEqual(['once']);
  });

  it('StopExecution aborts the execution and stops the task it runs', async () => {
    // Prepare: the execution named `once` above holds a task that stays up
    const arn = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines!.find((m) => m.name === 'hold')!.stateMachineArn!;
    const executionArn = arn.replace(':stateMachine:', ':execution:') + ':once';
    const running = await eventually(async () => (await h.berth.store.tasks.list('default')).find((t) =>
      t.overrides.containerOverrides?.[0]?.environment?.[0]?.value === 'stay' && t.lastStatus === 'RUNNING'), 10_000, 'its task RUNNING');

    // Act
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Stop', cause: 'by the test' }));

    // Assess
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Stop', cause: 'by the test' });
    await eventually(async () => (await h.berth.store.tasks.get(running))?.lastStatus === 'STOPPED', 10_000, 'its task STOPPED');
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }));
    expect(events![0].type).toBe('ExecutionAborted');
  });

  it('StopExecution of an execution that is recording its own end leaves that end alone, with one terminal event', async () => {
    // Prepare: a Pass machine whose success is held on its way to the store until StopExecution
    // has either written ABORTED or stood aside for the end under way
    const arn = await machine('quick', { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    type Engine = { store: { closeExecution: (...a: any[]) => Promise<unknown> }; claimStop: (arn: string) => Promise<boolean> };
    const engine = h.berth.callbacks as unknown as Engine;
    const close = engine.store.closeExecution.bind(engine.store);
    const claim = engine.claimStop.bind(engine);
    const closing = deferred();
    const held = deferred();
    const spies = [
      jest.spyOn(engine.store, 'closeExecution').mockImplementation(async (e, end) => {
        if (e.name !== 'racing') return close(e, end);
        if (end.status === 'SUCCEEDED') {
          closing.resolve();
          await held.promise;
          return close(e, end);
        }
        const closed = await close(e, end);
        held.resolve();
        return closed;
      }),
      jest.spyOn(engine, 'claimStop').mockImplementation((executionArn) => {
        const claimed = claim(executionArn);
        held.resolve();
        return claimed;
      }),
    ];

    try {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'racing', input: '{}' }));
      await closing.promise;

      // Act: StopExecution while the success is on its way
      await sfn.send(new StopExecutionCommand({ executionArn, error: 'Stop' }));

      // Assess
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'SUCCEEDED' });
      const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      expect(events!.map((e) => e.type).filter((t) => /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(t!))).toEqual(['ExecutionSucceeded']);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('marks an execution a previous run left RUNNING as ABORTED when the slice starts again', async () => {
    // Prepare: a running execution whose executor is abandoned, as a process exit would
    const arn = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines!.find((m) => m.name === 'hold')!.stateMachineArn!;
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'orphan', input: '{"item":"stay"}' }));
    await eventually(async () => (await h.berth.store.tasks.list('default')).some((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING'), 10_000, 'its task RUNNING');
    (h.berth.callbacks as unknown as { close(): void }).close();

    // Act
    await createStepFunctionsHandler(h.berth, { dynamoEndpoint: h.dynamoEndpoint, log: () => {} });

    // Assess
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'States.Runtime' });
    await eventually(async () => !(await h.berth.store.tasks.list('default')).some((t) =>
      t.overrides.containerOverrides?.[0]?.environment?.[0]?.value === 'stay' && t.desiredStatus === 'RUNNING'), 10_000, 'its task stopped');
  });

  it('closes once the states it runs have ended, a stopped execution\'s .sync state among them', async () => {
    // Act: the close the local mode makes as it stops. A state left waiting on the token of the
    // execution stopped above would hold it for ever (the test's timeout).
    await closeStates();

    // Assess: a stopped execution records nothing after its ExecutionAborted.
    const arn = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines!.find((m) => m.name === 'hold')!.stateMachineArn!;
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:once`, reverseOrder: true, maxResults: 1 }));
    expect(events![0].type).toBe('ExecutionAborted');
  }, 15_000);
});
