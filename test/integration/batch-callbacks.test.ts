import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { runTaskForToken } from '../../shared/batch/run-for-token';
import { heartbeatTaskCallbacks } from '../../shared/batch/task-callbacks';
import { SfnTaskCallbacks } from '../../shared/cloud/aws/sfn-task-callbacks';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * The AWS path of batch workflows (Berth's batch function behind
 * `lambda:invoke.waitForTaskToken`), through its core on dynalite and the real lifecycle
 * workflows; only the SFN client under the thin adapter is a recording stand-in.
 */
type Sent = { command: string; input: Record<string, any> };

describe('Task callbacks (the batch function\'s core)', () => {
  let h: Harness;
  const sent: Sent[] = [];
  const sfn = { send: async (c: { constructor: { name: string }; input: object }) => void sent.push({ command: c.constructor.name, input: c.input as Record<string, any> }) };
  const sentFor = (token: string) => sent.filter((s) => s.input.taskToken === token);

  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 2 } });
    h.berth.callbacks = new SfnTaskCallbacks(sfn as unknown as SFNClient);
    await registerHost(h.berth, { hostId: 'batch-1', cpu: 4096, memory: 8192 });
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'job', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [
        { name: 'main', image: 'busybox', essential: true },
        { name: 'side', image: 'busybox', essential: false },
      ],
    }));
  });
  afterAll(() => h.close());
  afterEach(() => expect(h.workflowErrors).toEqual([]));

  /** Runs one task for `token` and plays its agent: RUNNING, then STOPPED with these exit codes. */
  async function runToEnd(token: string, exitCodes: { main: number; side: number }) {
    const submitted = await runTaskForToken(h.berth, {
      taskToken: token,
      parameters: { Cluster: 'default', TaskDefinition: 'job', Overrides: { ContainerOverrides: [{ Name: 'main', Environment: [{ Name: 'ITEM', Value: token }] }] } },
    });
    const taskArn = (submitted.Tasks as { TaskArn: string }[])[0].TaskArn;
    const ref = { cluster: 'default', taskId: taskArn.split('/').pop()! };
    await eventually(async () => (await h.berth.store.tasks.get(ref))?.lastStatus === 'PENDING', 20_000, 'PENDING');
    await reportTaskState(h.berth, 'batch-1', { task: ref, lastStatus: 'RUNNING' });
    await reportTaskState(h.berth, 'batch-1', {
      task: ref, lastStatus: 'STOPPED', stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
      containers: [{ name: 'main', lastStatus: 'STOPPED', exitCode: exitCodes.main }, { name: 'side', lastStatus: 'STOPPED', exitCode: exitCodes.side }],
    });
    // The stop workflow's release sweeps the token again: it must not answer twice.
    await eventually(async () => !(await h.berth.store.hosts.get('batch-1'))!.reservations[ref.taskId], 20_000, 'release');
    await h.berth.workflows.idle();
    return { submitted, taskArn };
  }

  it('answers SendTaskSuccess once, with the stopped task in PascalCase, when its essential container exits 0', async () => {
    // Act
    const { submitted, taskArn } = await runToEnd('token-ok', { main: 0, side: 1 });

    // Assess
    expect(submitted).toMatchObject({ Failures: [], SdkHttpMetadata: { HttpStatusCode: 200 }, SdkResponseMetadata: { RequestId: expect.any(String) } });
    const answers = sentFor('token-ok');
    expect(answers.map((a) => a.command)).toEqual(['SendTaskSuccessCommand']);
    const output = JSON.parse(answers[0].input.output);
    expect(output).toMatchObject({
      TaskArn: taskArn, LastStatus: 'STOPPED', StopCode: 'EssentialContainerExited',
      Containers: expect.arrayContaining([expect.objectContaining({ Name: 'main', ExitCode: 0 })]),
      // Every container, as ECS lists them: the one overridden, and the other by its name.
      Overrides: { ContainerOverrides: [{ Name: 'main', Environment: [{ Name: 'ITEM', Value: 'token-ok' }] }, { Name: 'side' }] },
    });
    // Timestamps in epoch milliseconds, as Step Functions renders ECS's.
    expect(output.CreatedAt).toBeGreaterThan(1e12);
  });

  it('answers SendTaskFailure with States.TaskFailed and the task as its cause when the essential container exits 3', async () => {
    // Act
    const { taskArn } = await runToEnd('token-bad', { main: 3, side: 0 });

    // Assess
    const answers = sentFor('token-bad');
    expect(answers.map((a) => a.command)).toEqual(['SendTaskFailureCommand']);
    expect(answers[0].input.error).toBe('States.TaskFailed');
    expect(JSON.parse(answers[0].input.cause)).toMatchObject({ TaskArn: taskArn, Containers: expect.arrayContaining([expect.objectContaining({ Name: 'main', ExitCode: 3 })]) });
  });

  it.each([
    ['an unknown definition', { TaskDefinition: 'no-such-family' }, 'ECS.ClientException'],
    ['a count out of range', { TaskDefinition: 'job', Count: 11 }, 'ECS.InvalidParameterException'],
  ])('fails the token at once for %s, and runs nothing', async (_what, parameters, error) => {
    // Prepare
    const before = (await h.berth.store.tasks.list('default')).length;

    // Act
    await runTaskForToken(h.berth, { taskToken: `token-${error}`, parameters });

    // Assess
    expect(sentFor(`token-${error}`)).toEqual([expect.objectContaining({ command: 'SendTaskFailureCommand', input: expect.objectContaining({ error }) })]);
    expect((await h.berth.store.tasks.list('default')).length).toBe(before);
  });

  it('heartbeats the tasks still awaited, and only them', async () => {
    // Prepare: one task left RUNNING under a token
    const submitted = await runTaskForToken(h.berth, { taskToken: 'token-long', parameters: { TaskDefinition: 'job' } });
    const ref = { cluster: 'default', taskId: (submitted.Tasks as { TaskArn: string }[])[0].TaskArn.split('/').pop()! };
    await eventually(async () => (await h.berth.store.tasks.get(ref))?.lastStatus === 'PENDING', 20_000, 'PENDING');
    await reportTaskState(h.berth, 'batch-1', { task: ref, lastStatus: 'RUNNING' });

    // Act
    const count = await heartbeatTaskCallbacks(h.berth);

    // Assess
    expect(count).toBe(1);
    expect(sent.filter((s) => s.command === 'SendTaskHeartbeatCommand').map((s) => s.input.taskToken)).toEqual(['token-long']);
  });
});
