import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { PollingHostNotifier } from '../../shared/cloud/aws/polling-host-notifier';
import { pollAssignments } from '../../shared/lifecycle/assignments';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import type { TaskStatus } from '../../shared/domain/task';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * The lifecycle workflows end to end through aws-local-stepfunctions, with hosts stood up and
 * agents played through the core's entry points (the real agent comes with the local mode).
 */
const idOf = (arn: string) => arn.split('/').pop()!;

async function setup(h: Harness, family: string, size = { cpu: '256', memory: '512' }) {
  await h.ecs.send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', ...size,
    containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
  }));
}

async function run(h: Harness, family: string, count = 1) {
  const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: family, count }));
  return r.tasks!.map((t) => idOf(t.taskArn!));
}

const task = (h: Harness, taskId: string) => h.berth.store.tasks.get({ cluster: 'default', taskId });
const statusIs = (h: Harness, taskId: string, s: TaskStatus) => async () => {
  const t = await task(h, taskId);
  return t?.lastStatus === s ? t : undefined;
};
const report = (h: Harness, hostId: string, taskId: string, lastStatus: TaskStatus, extra = {}) =>
  reportTaskState(h.berth, hostId, { task: { cluster: 'default', taskId }, lastStatus, ...extra });

describe('Task lifecycle workflows', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 2 }, timeoutSeconds: { AwaitRunning: 2, AwaitStopped: 2 } });
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => expect(h.workflowErrors).toEqual([]));

  it('places a task, runs it when its agent reports, stops it and releases its room', async () => {
    await registerHost(h.berth, { hostId: 'life-1', cpu: 1024, memory: 2048 });
    await setup(h, 'life');
    const [id] = await run(h, 'life');

    const pending = await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING');
    expect(pending.hostId).toBe('life-1');
    expect((await h.berth.store.hosts.get('life-1'))!.reservations[id]).toEqual({ cpu: 256, memory: 512, cluster: 'default', group: 'family:life' });

    await report(h, 'life-1', id, 'RUNNING', { timestamps: { startedAt: Date.now() } });
    await h.ecs.send(new StopTaskCommand({ task: id, reason: 'done here' }));
    await report(h, 'life-1', id, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });

    await eventually(async () => !(await h.berth.store.hosts.get('life-1'))!.reservations[id], 5000, 'release');
    const stopped = (await h.ecs.send(new DescribeTasksCommand({ tasks: [id] }))).tasks![0];
    expect(stopped).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'done here' });
  });

  it("re-reads a host's work in an AWS long poll only when the host's version moves, and a stop moves it", async () => {
    // Prepare: a running task, and the poll as the agent API runs it on AWS (a timer, no signal).
    // The earlier cases' hosts drain, so the task can only go to this one.
    for (const other of await h.berth.store.hosts.list()) await h.berth.store.hosts.transition(other.hostId, 'DRAINING', ['ACTIVE']);
    await registerHost(h.berth, { hostId: 'poll-1', cpu: 1024, memory: 2048 });
    await setup(h, 'polled');
    const [id] = await run(h, 'polled');
    await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING');
    await report(h, 'poll-1', id, 'RUNNING', { timestamps: { startedAt: Date.now() } });
    // Its own view of the store, so only the poll's reads are counted.
    const tasks = Object.create(h.berth.store.tasks) as typeof h.berth.store.tasks;
    const hosts = Object.create(h.berth.store.hosts) as typeof h.berth.store.hosts;
    const onAws = { ...h.berth, store: { ...h.berth.store, tasks, hosts }, notifier: new PollingHostNotifier(5) };
    const taskReads = jest.spyOn(tasks, 'get');
    const versionReads = jest.spyOn(hosts, 'versionOf');

    // Act: an idle poll, then one that a StopTask interrupts.
    try {
      const idle = await pollAssignments(onAws, 'poll-1', { [id]: 'RUNNING' }, 2000);
      const idleTaskReads = taskReads.mock.calls.length;
      const idleVersionReads = versionReads.mock.calls.length;
      const stopping = pollAssignments(onAws, 'poll-1', { [id]: 'RUNNING' }, 60_000);
      await h.ecs.send(new StopTaskCommand({ task: id }));
      const woken = await stopping;

      // Assess
      expect(idle.map((a) => [a.taskId, a.desiredStatus])).toEqual([[id, 'RUNNING']]);
      expect(idleVersionReads).toBeGreaterThan(1);
      expect(idleTaskReads).toBe(1);
      expect(woken.map((a) => [a.taskId, a.desiredStatus])).toEqual([[id, 'STOPPED']]);
    } finally {
      taskReads.mockRestore();
      versionReads.mockRestore();
    }
    await report(h, 'poll-1', id, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
  });

  it('fails a task that finds no room before its deadline: STOPPED, TaskFailedToStart, RESOURCE:MEMORY', async () => {
    await setup(h, 'huge', { cpu: '16384', memory: '122880' });
    const [id] = await run(h, 'huge');
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 8000, 'STOPPED');
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toContain('RESOURCE:MEMORY');
    expect(await h.berth.store.hosts.holding(id)).toEqual([]);
  });

  it('places a waiting task once room appears', async () => {
    await setup(h, 'later', { cpu: '4096', memory: '8192' });
    const [id] = await run(h, 'later');
    // Its placement found no room and said so by recording demand.
    await eventually(async () => (await h.berth.store.demand.list()).some((d) => d.taskId === id), 5000, 'demand recorded');
    expect((await task(h, id))!.lastStatus).toBe('PROVISIONING');
    await registerHost(h.berth, { hostId: 'later-1', cpu: 4096, memory: 8192 });
    expect((await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING')).hostId).toBe('later-1');
  });

  it('stops a task at once when StopTask comes before placement, and it never takes room', async () => {
    await setup(h, 'early', { cpu: '16384', memory: '32768' });
    const [id] = await run(h, 'early');
    const r = await h.ecs.send(new StopTaskCommand({ task: id }));
    expect(r.task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    await registerHost(h.berth, { hostId: 'early-1', cpu: 16384, memory: 32768 });
    // Its launch workflow, still retrying placement, has ended: whatever it did, it did by now.
    await h.berth.workflows.idle();
    expect(await h.berth.store.hosts.holding(id)).toEqual([]);
    expect((await task(h, id))!.lastStatus).toBe('STOPPED');
  });

  it('fails a task whose host never runs it: TaskFailedToStart after the launch timeout, room released', async () => {
    await registerHost(h.berth, { hostId: 'mute-1', cpu: 1024, memory: 2048 });
    await setup(h, 'mute', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'mute');
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 8000, 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: expect.stringContaining('timed out') });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 5000, 'release');
  });

  it('forces a task STOPPED when its host never confirms the stop, and releases its room', async () => {
    await registerHost(h.berth, { hostId: 'deaf-1', cpu: 1024, memory: 2048 });
    await setup(h, 'deaf', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'deaf');
    const { hostId } = await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING');
    await report(h, hostId!, id, 'RUNNING');
    await h.ecs.send(new StopTaskCommand({ task: id, reason: 'go away' }));
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 8000, 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'go away' });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 5000, 'release');
  });

  it('ends a task whose essential container exits with the agent\'s stop code, and frees its room', async () => {
    await registerHost(h.berth, { hostId: 'exit-1', cpu: 1024, memory: 2048 });
    await setup(h, 'exits', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'exits');
    const { hostId } = await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING');
    await report(h, hostId!, id, 'RUNNING');
    const done = await report(h, hostId!, id, 'STOPPED', {
      stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
      containers: [{ name: 'app', image: 'busybox', essential: true, lastStatus: 'STOPPED', exitCode: 3 }],
    });
    expect(done.task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 5000, 'release');
    // A duplicate, late RUNNING report changes nothing.
    const late = await report(h, hostId!, id, 'RUNNING');
    expect(late.applied).toBe(false);
    expect(late.task.lastStatus).toBe('STOPPED');
  });

  it('refuses a report from a host that does not run the task', async () => {
    await registerHost(h.berth, { hostId: 'own-1', cpu: 1024, memory: 2048 });
    await setup(h, 'owned', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'owned');
    await eventually(statusIs(h, id, 'PENDING'), 5000, 'PENDING');
    await expect(report(h, 'someone-else', id, 'RUNNING')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect((await task(h, id))!.lastStatus).toBe('PENDING');
  });
});
