import { settleTaskCallback } from '../batch/task-callbacks';
import type { Berth } from '../context';
import type { ContainerState, StopOutcome } from '../domain/task';
import type { TaskRecord } from '../store';
import { tellHost } from './assignments';
import { wakeServiceOf } from './service-wake';
import { type TaskRef, stopExecutionName } from './task-ref';

/** Starts the stop workflow for a task; safe to call again, and for a task already STOPPED. */
export async function startStopWorkflow(b: Berth, task: TaskRecord): Promise<void> {
  const ref: TaskRef = { cluster: task.cluster, taskId: task.taskId };
  await b.workflows.start('stop', stopExecutionName(ref), { task: ref });
}

/** Ends a task STOPPED by the control plane's own decision, with every container stopped. */
export async function markTaskStopped(b: Berth, ref: TaskRef, stop: StopOutcome, containerReason?: string): Promise<TaskRecord | undefined> {
  const task = await b.store.tasks.get(ref);
  if (!task || task.lastStatus === 'STOPPED') return task;
  const now = b.now();
  const containers: ContainerState[] = task.containers.map((c) =>
    c.lastStatus === 'STOPPED' ? c : { ...c, lastStatus: 'STOPPED', reason: c.reason ?? containerReason ?? stop.stoppedReason },
  );
  const stopped = await b.store.tasks.advance(ref, {
    lastStatus: 'STOPPED',
    containers,
    stop,
    timestamps: { stoppingAt: now, stoppedAt: now, executionStoppedAt: now },
  });
  // A launch still waiting for RUNNING ends with the task, and so does a stop waiting for a host
  // that will never confirm it (a lost one): it would otherwise hold out to its own timeout.
  if (stopped?.launchToken) await b.workflows.succeed(stopped.launchToken, { lastStatus: 'STOPPED' });
  if (stopped?.stopToken) await b.workflows.succeed(stopped.stopToken, { lastStatus: 'STOPPED' });
  await settleTaskCallback(b, stopped);
  if (stopped) wakeServiceOf(b, stopped);
  // Its agent must stop whatever of it still runs: its long poll looks again when the host's version moves.
  if (stopped?.hostId) await tellHost(b, stopped.hostId);
  return stopped ?? (await b.store.tasks.get(ref));
}

/**
 * Frees every reservation held for the task: its host's and any a crash mid-placement left,
 * on the hosts its placements noted on it before reserving (no scan of the hosts).
 */
export async function releaseTask(b: Berth, ref: TaskRef): Promise<number> {
  const task = await b.store.tasks.get(ref);
  const hostIds = new Set([...(task?.reservedOn ?? []), ...(task?.hostId ? [task.hostId] : [])]);
  let released = 0;
  for (const hostId of hostIds) {
    const r = await b.store.hosts.reservationOf(hostId, ref.taskId);
    if (r && (await b.store.hosts.release(hostId, ref.taskId, r, b.now()))) released++;
  }
  return released;
}
