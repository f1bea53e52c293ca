import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { jest } from '@jest/globals';
import type { Berth } from '../../shared/context';
import { recoverInFlight } from '../../shared/lifecycle/recovery';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { runTask } from '../../shared/lifecycle/run-task';
import { placementOf } from '../../shared/lifecycle/placer';
import { placerFor } from '../../shared/lifecycle/steps';
import { markTaskStopped, releaseTask } from '../../shared/lifecycle/stop';
import type { TaskRef } from '../../shared/lifecycle/task-ref';
import type { TaskStore } from '../../shared/store';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * Restart recovery against dynalite: the store as a crash left it, then recoverInFlight, as the
 * local mode runs it at start. (test/e2e/crash.test.ts kills a real process at every step.)
 */
describe('recoverInFlight', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'recover', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'busybox' }],
    }));
  });
  afterAll(async () => {
    await h.close();
  });

  /** RunTask in a process that dies as its task is written: before placing it, before its launch workflow starts. */
  const runThenCrash = async () => {
    let written: TaskRef | undefined;
    const tasks = Object.create(h.berth.store.tasks) as TaskStore;
    tasks.create = async (task) => {
      await h.berth.store.tasks.create(task);
      written = task;
      throw new Error('the process died');
    };
    const crashed: Berth = { ...h.berth, store: { ...h.berth.store, tasks }, workflows: { start: async () => {}, succeed: async () => {}, fail: async () => {} } };
    await expect(runTask(crashed, {
      cluster: 'default', taskDefinition: 'recover', count: 1, overrides: { containerOverrides: [] }, tags: [], placementStrategy: 'binpack',
    })).rejects.toThrow('the process died');
    return (await h.berth.store.tasks.get(written!))!;
  };

  const holders = async (taskId: string) =>
    (await h.berth.store.hosts.holding(taskId)).map((x) => [x.hostId, x.reservations[taskId].cpu]);

  it('frees the room a crash between reserve and bind left, and places the task once', async () => {
    // Prepare: room reserved on one host for a task bound to none, as a crash in place leaves it.
    await registerHost(h.berth, { hostId: 'rec-a', cpu: 1024, memory: 2048 });
    await registerHost(h.berth, { hostId: 'rec-b', cpu: 1024, memory: 2048 });
    const task = await runThenCrash();
    await h.berth.store.hosts.reserve({ hostId: 'rec-a', taskId: task.taskId, cpu: 256, memory: 512, maxReservedCpu: 768, maxReservedMemory: 1536 }, 'default');

    // Act
    const recovered = await recoverInFlight(h.berth);

    // Assess: the stray room is freed, and the relaunched task holds room on its own host only.
    expect(recovered).toMatchObject({ launches: 1, released: 1 });
    const placed = await eventually(async () => (await h.berth.store.tasks.get(task))?.hostId, 20_000, 'placement');
    expect(await holders(task.taskId)).toEqual([[placed, 256]]);
    const hosts = await Promise.all(['rec-a', 'rec-b'].map((id) => h.berth.store.hosts.get(id)));
    expect(hosts.map((x) => x!.reservedCpu).reduce((a, b) => a + b)).toBe(256);
    // Settle it, so the next recovery has nothing of this test's to launch.
    await reportTaskState(h.berth, placed, { task, lastStatus: 'RUNNING' });
  });

  it('keeps the room of a task bound to its host, and frees only what it holds elsewhere', async () => {
    // Prepare: a task placed and running, plus a stray reservation on the other host.
    const task = await runThenCrash();
    await h.berth.store.hosts.reserve({ hostId: 'rec-a', taskId: task.taskId, cpu: 256, memory: 512, maxReservedCpu: 768, maxReservedMemory: 1536 }, 'default');
    await h.berth.store.hosts.reserve({ hostId: 'rec-b', taskId: task.taskId, cpu: 256, memory: 512, maxReservedCpu: 768, maxReservedMemory: 1536 }, 'default');
    await h.berth.store.tasks.bindHost(task, 'rec-b');
    await reportTaskState(h.berth, 'rec-b', { task, lastStatus: 'RUNNING' });

    // Act
    const recovered = await recoverInFlight(h.berth);

    // Assess
    expect(recovered).toMatchObject({ launches: 0, released: 1 });
    expect(await holders(task.taskId)).toEqual([['rec-b', 256]]);
  });

  it("frees a stopped task's room on every host its placements reserved on, reading only those hosts", async () => {
    // Prepare: the placer reserves for a task (the note on the task first), the process dies before
    // the binding, and a later placement binds the task elsewhere; then the task stops.
    await registerHost(h.berth, { hostId: 'rec-c', cpu: 1024, memory: 2048 });
    const task = await runThenCrash();
    const stray = await placerFor(h.berth).place({ taskId: task.taskId, cpu: 256, memory: 512 }, 'default', placementOf(task));
    const other = stray!.hostId === 'rec-c' ? 'rec-a' : 'rec-c';
    await h.berth.store.hosts.reserve({ hostId: other, taskId: task.taskId, cpu: 256, memory: 512, maxReservedCpu: 768, maxReservedMemory: 1536 }, 'default');
    await h.berth.store.tasks.bindHost(task, other);
    await markTaskStopped(h.berth, task, { stopCode: 'UserInitiated', stoppedReason: 'x' });
    const scans = jest.spyOn(h.berth.store.hosts, 'holding');

    // Act
    const released = await releaseTask(h.berth, task);

    // Assess
    expect(scans).not.toHaveBeenCalled();
    scans.mockRestore();
    expect(released).toBe(2);
    expect(await holders(task.taskId)).toEqual([]);
  });
});
