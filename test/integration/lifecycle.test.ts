import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type RunTaskCommandOutput, StopTaskCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import { pollAssignments } from '../../shared/lifecycle/assignments';
import { placementOf } from '../../shared/lifecycle/placer';
import { lifecycleSteps } from '../../shared/lifecycle/steps';
import { compilePlacement, planOn } from '../../shared/scheduler/placement';
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

    const pending = await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');
    expect(pending.hostId).toBe('life-1');
    expect((await h.berth.store.hosts.get('life-1'))!.reservations[id]).toEqual({ cpu: 256, memory: 512, cluster: 'default', group: 'family:life' });

    await report(h, 'life-1', id, 'RUNNING', { timestamps: { startedAt: Date.now() } });
    await h.ecs.send(new StopTaskCommand({ task: id, reason: 'done here' }));
    await report(h, 'life-1', id, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });

    await eventually(async () => !(await h.berth.store.hosts.get('life-1'))!.reservations[id], 20_000, 'release');
    const stopped = (await h.ecs.send(new DescribeTasksCommand({ tasks: [id] }))).tasks![0];
    expect(stopped).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'done here' });
  });

  describe('the long poll', () => {
    // A notifier that never wakes anyone: every notification is missed, only the window ends a
    // wait, and its timer fires a little early, as a Node timer may by the wall clock.
    const deaf = { notify: () => {}, wait: (_h: string, ms: number) => new Promise<void>((r) => { setTimeout(r, Math.max(0, ms - 2)).unref(); }) };

    it("reads no task while the host's version is the agent's, and answers a stop at once", async () => {
      // Prepare: a running task, and the poll with its own view of the store, so only its reads count.
      // The earlier cases' hosts drain, so the task can only go to this one.
      for (const other of await h.berth.store.hosts.list()) await h.berth.store.hosts.transition(other.hostId, 'DRAINING', ['ACTIVE']);
      await registerHost(h.berth, { hostId: 'poll-1', cpu: 1024, memory: 2048 });
      await setup(h, 'polled');
      const [id] = await run(h, 'polled');
      await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');
      await report(h, 'poll-1', id, 'RUNNING', { timestamps: { startedAt: Date.now() } });
      const tasks = Object.create(h.berth.store.tasks) as typeof h.berth.store.tasks;
      const hosts = Object.create(h.berth.store.hosts) as typeof h.berth.store.hosts;
      const polling = { ...h.berth, store: { ...h.berth.store, tasks, hosts } };
      const taskReads = jest.spyOn(tasks, 'get');
      const versionReads = jest.spyOn(hosts, 'versionOf');

      // Act: the agent's first answer, an idle poll with its version, then one that a StopTask interrupts.
      try {
        const first = await pollAssignments(polling, 'poll-1', {}, 0);
        taskReads.mockClear();
        versionReads.mockClear();
        const idle = await pollAssignments(polling, 'poll-1', { [id]: 'RUNNING' }, 300, first.version);
        const idleTaskReads = taskReads.mock.calls.length;
        const idleVersionReads = versionReads.mock.calls.length;
        const stopping = pollAssignments(polling, 'poll-1', { [id]: 'RUNNING' }, 60_000, first.version);
        await h.ecs.send(new StopTaskCommand({ task: id }));
        const woken = await stopping;

        // Assess
        expect(first.tasks!.map((a) => [a.taskId, a.desiredStatus])).toEqual([[id, 'RUNNING']]);
        expect(idle).toEqual({ version: first.version });
        expect(idleVersionReads).toBe(1);
        expect(idleTaskReads).toBe(0);
        expect(woken.tasks!.map((a) => [a.taskId, a.desiredStatus])).toEqual([[id, 'STOPPED']]);
        expect(woken.version).toBeGreaterThan(first.version!);
      } finally {
        taskReads.mockRestore();
        versionReads.mockRestore();
      }
      await report(h, 'poll-1', id, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    });

    it('picks up an assignment written while the agent was between polls', async () => {
      // Prepare: the agent's last answer, then a task placed on its host while no poll waits.
      await registerHost(h.berth, { hostId: 'between-1', cpu: 1024, memory: 2048 });
      for (const other of await h.berth.store.hosts.list()) {
        if (other.hostId !== 'between-1') await h.berth.store.hosts.transition(other.hostId, 'DRAINING', ['ACTIVE']);
      }
      const last = await pollAssignments(h.berth, 'between-1', {}, 0);
      await setup(h, 'between');
      const [id] = await run(h, 'between');
      await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');

      // Act: the next poll, with the version of the last answer and a long window.
      const next = await pollAssignments(h.berth, 'between-1', {}, 60_000, last.version);

      // Assess: it answers at once, with the task.
      expect(next.tasks!.map((a) => a.taskId)).toEqual([id]);
      await report(h, 'between-1', id, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });
    });

    it('falls back to the next poll when the notification is missed', async () => {
      // Prepare: a host whose notifications never arrive, and its agent's last answer.
      await registerHost(h.berth, { hostId: 'unheard-1', cpu: 1024, memory: 2048 });
      const missed = { ...h.berth, notifier: deaf };
      const last = await pollAssignments(missed, 'unheard-1', {}, 0);

      // Act: a change lands during a poll that is never woken (after its read of the version,
      // which would otherwise see it), then the agent polls again.
      const versionOf = h.berth.store.hosts.versionOf.bind(h.berth.store.hosts);
      let read!: () => void;
      const versionRead = new Promise<void>((resolve) => (read = resolve));
      const spy = jest.spyOn(h.berth.store.hosts, 'versionOf').mockImplementationOnce(async (hostId) => {
        const version = await versionOf(hostId);
        read();
        return version;
      });
      const waiting = pollAssignments(missed, 'unheard-1', {}, 400, last.version);
      await versionRead;
      spy.mockRestore();
      await h.berth.store.hosts.touch('unheard-1');
      const ended = await waiting;
      const next = await pollAssignments(missed, 'unheard-1', {}, 5_000, ended.version);

      // Assess: the first answers at its window's end, unchanged; the next sees the change at once.
      expect(ended).toEqual({ version: last.version });
      expect(next).toEqual({ tasks: [], version: last.version! + 1 });
    });

    it("hands a task to its host's waiting poll as its placement binds it, before Start runs", async () => {
      // Prepare: a task record not yet placed, pinned to a host whose agent waits with its last answer.
      await registerHost(h.berth, { hostId: 'handed-1', cpu: 1024, memory: 2048 });
      await setup(h, 'handed');
      const [first] = await run(h, 'handed');
      const template = (await eventually(statusIs(h, first, 'PENDING'), 20_000, 'PENDING'))!;
      await h.ecs.send(new StopTaskCommand({ task: first }));
      const ref = { cluster: 'default', taskId: 'b'.repeat(32) };
      await h.berth.store.tasks.create({
        ...template, taskId: ref.taskId, hostId: undefined, placedAt: undefined, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING',
        targetHostId: 'handed-1',
      });
      const last = await pollAssignments(h.berth, 'handed-1', {}, 0);
      const waiting = pollAssignments(h.berth, 'handed-1', {}, 60_000, last.version);

      // Act: only the placement step, no Start after it.
      const placed = await lifecycleSteps(h.berth).place({ task: ref, placementDeadline: Date.now() + 60_000 });
      const answer = await waiting;

      // Assess: the poll has the task, PENDING as its binding wrote it, before any Start.
      expect(placed).toEqual({ outcome: 'PLACED', hostId: 'handed-1', notified: true, pending: true });
      expect(answer.tasks!.map((a) => a.taskId)).toContain(ref.taskId);
      expect((await task(h, ref.taskId))!.lastStatus).toBe('PENDING');
      await report(h, 'handed-1', ref.taskId, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });
    });
  });

  it('fails a task that finds no room before its deadline: STOPPED, TaskFailedToStart, RESOURCE:MEMORY', async () => {
    await setup(h, 'huge', { cpu: '16384', memory: '122880' });
    const [id] = await run(h, 'huge');
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 20_000, 'STOPPED');
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toContain('RESOURCE:MEMORY');
    expect(await h.berth.store.hosts.holding(id)).toEqual([]);
  });

  it('places a waiting task once room appears', async () => {
    await setup(h, 'later', { cpu: '4096', memory: '8192' });
    const [id] = await run(h, 'later');
    // Its placement found no room and said so by recording demand.
    await eventually(async () => (await h.berth.store.demand.list()).some((d) => d.taskId === id), 20_000, 'demand recorded');
    expect((await task(h, id))!.lastStatus).toBe('PROVISIONING');
    await registerHost(h.berth, { hostId: 'later-1', cpu: 4096, memory: 8192 });
    expect((await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING')).hostId).toBe('later-1');
  });

  it('waits, and never fails the start, when a repeat of its RunTask reserved its room and has not bound it yet', async () => {
    // Prepare: a task whose room a batch placement (a repeat of its RunTask) reserved, the
    // binding still to come; it may only go to that host, so every write of the step's placer loses.
    await registerHost(h.berth, { hostId: 'race-1', cpu: 1024, memory: 2048 });
    await setup(h, 'race');
    const [first] = await run(h, 'race');
    const template = (await eventually(statusIs(h, first, 'PENDING'), 20_000, 'PENDING'))!;
    const ref = { cluster: 'default', taskId: 'a'.repeat(32) };
    await h.berth.store.tasks.create({
      ...template, taskId: ref.taskId, hostId: undefined, placedAt: undefined, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING',
      // Pinned, so the other cases' hosts do not take it.
      targetHostId: 'race-1',
    });
    const plan = planOn((await h.berth.store.hosts.view('race-1'))!, { taskId: ref.taskId, cpu: 256, memory: 512 }, compilePlacement(placementOf(template)));
    expect(await h.berth.store.hosts.reserveAll('race-1', [plan], 'default')).toBeTruthy();

    // Act: the task's own placement step, then the same once the repeat has bound it.
    const steps = lifecycleSteps(h.berth);
    const before = await steps.place({ task: ref, placementDeadline: Date.now() + 60_000 });
    await h.berth.store.tasks.bindHost(ref, 'race-1', Date.now());
    const after = await steps.place({ task: ref, placementDeadline: Date.now() + 60_000 });

    // Assess
    expect(before).toMatchObject({ outcome: 'WAIT' });
    expect(after).toEqual({ outcome: 'PLACED', hostId: 'race-1', pending: true });
    expect((await task(h, ref.taskId))!.lastStatus).toBe('PENDING');
    await h.ecs.send(new StopTaskCommand({ task: first }));
  });

  it.each([
    ['writes PENDING for a task bound while it stayed PROVISIONING (by an earlier version)', undefined, 1],
    ['leaves the task alone when its binding wrote PENDING', true, 0],
  ])('Start %s', async (_what, pending, writes) => {
    // Prepare: a task bound to a live host, PROVISIONING still or already PENDING.
    await registerHost(h.berth, { hostId: `start-${writes}`, cpu: 1024, memory: 2048 });
    await setup(h, `start${writes}`);
    const [first] = await run(h, `start${writes}`);
    const template = (await eventually(statusIs(h, first, 'PENDING'), 20_000, 'PENDING'))!;
    await h.ecs.send(new StopTaskCommand({ task: first }));
    const ref = { cluster: 'default', taskId: `${writes}`.repeat(32) };
    await h.berth.store.tasks.create({
      ...template, taskId: ref.taskId, hostId: `start-${writes}`, placedAt: Date.now(), lastStatus: pending ? 'PENDING' : 'PROVISIONING', desiredStatus: 'RUNNING',
    });
    const advance = jest.spyOn(h.berth.store.tasks, 'advance');

    // Act
    let calls: number;
    try {
      await lifecycleSteps(h.berth).start({ task: ref, placement: { hostId: `start-${writes}`, notified: true, ...(pending ? { pending } : {}) } });
    } finally {
      calls = advance.mock.calls.length;
      advance.mockRestore();
    }

    // Assess
    expect(calls).toBe(writes);
    expect((await task(h, ref.taskId))!.lastStatus).toBe('PENDING');
    await report(h, `start-${writes}`, ref.taskId, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });
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
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 20_000, 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'TaskFailedToStart', stoppedReason: expect.stringContaining('timed out') });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 20_000, 'release');
  });

  it('forces a task STOPPED when its host never confirms the stop, and releases its room', async () => {
    await registerHost(h.berth, { hostId: 'deaf-1', cpu: 1024, memory: 2048 });
    await setup(h, 'deaf', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'deaf');
    const { hostId } = await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');
    await report(h, hostId!, id, 'RUNNING');
    await h.ecs.send(new StopTaskCommand({ task: id, reason: 'go away' }));
    const stopped = await eventually(statusIs(h, id, 'STOPPED'), 20_000, 'STOPPED');
    expect(stopped).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'go away' });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 20_000, 'release');
  });

  it('ends a task whose essential container exits with the agent\'s stop code, and frees its room', async () => {
    await registerHost(h.berth, { hostId: 'exit-1', cpu: 1024, memory: 2048 });
    await setup(h, 'exits', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'exits');
    const { hostId } = await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');
    await report(h, hostId!, id, 'RUNNING');
    const done = await report(h, hostId!, id, 'STOPPED', {
      stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' },
      containers: [{ name: 'app', image: 'busybox', essential: true, lastStatus: 'STOPPED', exitCode: 3 }],
    });
    expect(done.task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    await eventually(async () => (await h.berth.store.hosts.holding(id)).length === 0, 20_000, 'release');
    // A duplicate, late RUNNING report changes nothing.
    const late = await report(h, hostId!, id, 'RUNNING');
    expect(late.applied).toBe(false);
    expect(late.task.lastStatus).toBe('STOPPED');
  });

  it('tells each host once of the tasks one RunTask placed there, and their launches do not tell it again', async () => {
    // Prepare
    await registerHost(h.berth, { hostId: 'batch-1', cpu: 2048, memory: 4096 });
    await setup(h, 'batched');
    const touches = jest.spyOn(h.berth.store.hosts, 'touch');
    let hosts: Set<string>;
    let touchesOfHosts: number;
    let ids: string[];
    try {
      // Act: three tasks, until each launch waits for RUNNING (its Start is over).
      ids = await run(h, 'batched', 3);
      const launching = await Promise.all(ids.map((id) => eventually(async () => {
        const t = await task(h, id);
        return t?.lastStatus === 'PENDING' && t.launchToken ? t : undefined;
      }, 5000, 'PENDING, its launch waiting')));
      hosts = new Set(launching.map((t) => t.hostId!));
      touchesOfHosts = touches.mock.calls.filter(([hostId]) => hosts.has(hostId)).length;
    } finally {
      touches.mockRestore();
    }

    // Assess
    expect(touchesOfHosts).toBe(hosts.size);
    const answers = await Promise.all([...hosts].map((hostId) => pollAssignments(h.berth, hostId, {}, 0)));
    expect(answers.flatMap((a) => a.tasks!.map((t) => t.taskId))).toEqual(expect.arrayContaining(ids));
    for (const t of await Promise.all(ids.map((id) => task(h, id)))) {
      await report(h, t!.hostId!, t!.taskId, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    }
  });

  it('answers and launches every task of a RunTask whose batch placement failed midway: none is left PROVISIONING', async () => {
    // Prepare: the batch's write to the host fails, as a store fault or a bug in the batch would.
    await registerHost(h.berth, { hostId: 'fault-1', cpu: 2048, memory: 4096 });
    await setup(h, 'batchfault');
    const reserveAll = jest.spyOn(h.berth.store.hosts, 'reserveAll').mockRejectedValueOnce(new Error('store fault'));

    // Act
    let answer: RunTaskCommandOutput;
    try {
      answer = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'batchfault', count: 2 }));
    } finally {
      reserveAll.mockRestore();
    }

    // Assess: the call answers with the two tasks it wrote (they exist and will run: a server
    // error would invite a retry that runs them twice), and their own launches place them.
    const written = (await h.berth.store.tasks.list('default')).filter((t) => t.family === 'batchfault');
    expect(written).toHaveLength(2);
    expect(answer.tasks!.map((t) => t.taskArn!.split('/').pop()).sort()).toEqual(written.map((t) => t.taskId).sort());
    const placed = await Promise.all(written.map((t) => eventually(statusIs(h, t.taskId, 'PENDING'), 20_000, 'PENDING')));
    for (const t of placed) {
      expect(t.hostId).toBeDefined();
      await report(h, t.hostId!, t.taskId, 'STOPPED', { timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    }
  });

  describe('a report on a task its host\'s poll read', () => {
    const healthy = { name: 'app', image: 'busybox', essential: true, lastStatus: 'RUNNING' as const, healthStatus: 'HEALTHY' as const };

    /** A task on a host of its own, PENDING, its launch waiting for RUNNING; and that host. */
    async function launching(hostId: string, family: string) {
      await registerHost(h.berth, { hostId, cpu: 1024, memory: 2048 });
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '1024', memory: '2048',
        containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2, healthCheck: { command: ['CMD-SHELL', 'true'] } }],
      }));
      const [id] = await run(h, family);
      const placed = await eventually(async () => {
        const t = await task(h, id);
        return t?.lastStatus === 'PENDING' && t.launchToken ? t : undefined;
      }, 5000, 'PENDING, its launch waiting');
      return { id, hostId: placed!.hostId! };
    }

    it('is written without reading the task first', async () => {
      // Prepare: the agent's poll has read the task.
      const { id, hostId } = await launching('noted-1', 'noted');
      expect((await pollAssignments(h.berth, hostId, {}, 0)).tasks!.map((a) => a.taskId)).toContain(id);
      const reads = jest.spyOn(h.berth.store.tasks, 'get');
      let readsOfTask: number;
      try {
        // Act
        const r = await report(h, hostId, id, 'RUNNING', { containers: [healthy], seq: 1 });
        readsOfTask = reads.mock.calls.filter(([key]) => key.taskId === id).length;

        // Assess
        expect(r.applied).toBe(true);
      } finally {
        reads.mockRestore();
      }
      expect(readsOfTask).toBe(0);
      expect((await task(h, id))!.containers[0]).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'HEALTHY' });
      await report(h, hostId, id, 'STOPPED', { seq: 2, timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    });

    it('never merges onto containers that changed since the poll read them', async () => {
      // Prepare: the poll reads the task; then its containers change where this process did not see it.
      const { id, hostId } = await launching('stale-1', 'stale');
      await pollAssignments(h.berth, hostId, {}, 0);
      const [app] = (await task(h, id))!.containers;
      await h.berth.store.tasks.advance({ cluster: 'default', taskId: id }, { lastStatus: 'RUNNING', containers: [{ ...app, ...healthy }], seq: 1 });

      // Act: a report without a health answer, as from an agent that just restarted.
      const r = await report(h, hostId, id, 'RUNNING', { containers: [{ ...healthy, healthStatus: undefined }], seq: 2 });

      // Assess: applied onto the task as it is, so the health answer it had stays.
      expect(r.applied).toBe(true);
      expect((await task(h, id))!.containers[0]).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'HEALTHY' });
      // And a late report at an earlier status still changes nothing.
      expect((await report(h, hostId, id, 'PENDING', { seq: 3 })).applied).toBe(false);
      expect((await task(h, id))!.lastStatus).toBe('RUNNING');
      await report(h, hostId, id, 'STOPPED', { seq: 4, timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    });

    it('from another host is refused, whatever the poll read', async () => {
      const { id, hostId } = await launching('read-1', 'read');
      await pollAssignments(h.berth, hostId, {}, 0);
      await expect(report(h, 'someone-else', id, 'RUNNING')).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect((await task(h, id))!.lastStatus).toBe('PENDING');
      await report(h, hostId, id, 'STOPPED', { seq: 1, timestamps: { stoppedAt: Date.now() }, stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });
    });
  });

  it('refuses a report from a host that does not run the task', async () => {
    await registerHost(h.berth, { hostId: 'own-1', cpu: 1024, memory: 2048 });
    await setup(h, 'owned', { cpu: '1024', memory: '2048' });
    const [id] = await run(h, 'owned');
    await eventually(statusIs(h, id, 'PENDING'), 20_000, 'PENDING');
    await expect(report(h, 'someone-else', id, 'RUNNING')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect((await task(h, id))!.lastStatus).toBe('PENDING');
  });
});

describe('A launch waiting for room', () => {
  // A first backoff far longer than any wait below: only a wake can place the task in time.
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 300, placementRetrySeconds: 60 } });
    await setup(h, 'roomy', { cpu: '1024', memory: '2048' });
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => expect(h.workflowErrors).toEqual([]));

  const armed = (taskId: string) => async () => (await h.berth.store.demand.waiterOf(taskId)) !== undefined;

  it('is woken when a task releases room, instead of at its backoff', async () => {
    // Prepare: a host full with one task, and a second task waiting on a token for its room.
    await registerHost(h.berth, { hostId: 'room-1', cpu: 1024, memory: 2048 });
    const [first] = await run(h, 'roomy');
    await eventually(statusIs(h, first, 'PENDING'), 20_000, 'first PENDING');
    await report(h, 'room-1', first, 'RUNNING');
    const [second] = await run(h, 'roomy');
    await eventually(armed(second), 20_000, 'second waiting on a token');

    // Act: the first task stops and its room is released.
    await h.ecs.send(new StopTaskCommand({ task: first }));
    await report(h, 'room-1', first, 'STOPPED', { stop: { stopCode: 'UserInitiated', stoppedReason: 'x' } });

    // Assess: placed long before its 60 s backoff would have ended.
    expect((await eventually(statusIs(h, second, 'PENDING'), 20_000, 'second PENDING')).hostId).toBe('room-1');
    expect(await h.berth.store.demand.waiterOf(second)).toBeUndefined();
    await report(h, 'room-1', second, 'STOPPED', { stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'x' } });
    await eventually(async () => (await h.berth.store.hosts.get('room-1'))!.taskCount === 0, 20_000, 'room-1 empty');
    await h.berth.store.hosts.transition('room-1', 'DRAINING', ['ACTIVE']);
  });

  it('is woken when a host joins, and ends at once when stopped while it waits', async () => {
    // Prepare: two tasks waiting on tokens, with no live host at all.
    const [joins, stops] = await run(h, 'roomy', 2);
    await eventually(armed(joins), 20_000, 'waiting on a token');
    await eventually(armed(stops), 20_000, 'waiting on a token');

    // Act
    await h.ecs.send(new StopTaskCommand({ task: stops }));
    await registerHost(h.berth, { hostId: 'room-2', cpu: 1024, memory: 2048 });

    // Assess: one placed on the new host, the other's launch over; neither waited out its backoff.
    expect((await eventually(statusIs(h, joins, 'PENDING'), 20_000, 'PENDING')).hostId).toBe('room-2');
    const launches = h.berth.workflows as unknown as { activeExecutions: number };
    await eventually(async () => launches.activeExecutions <= 1, 5000, 'the stopped task\'s launch to end');
    expect((await task(h, stops))!.lastStatus).toBe('STOPPED');
  });
});
