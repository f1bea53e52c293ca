import type { Berth } from '../context';
import type { TaskRecord } from '../store';
import { startLaunchWorkflow } from './run-task';
import { startStopWorkflow } from './stop';

const keyOf = (cluster: string, taskId: string) => `${cluster}/${taskId}`;

/**
 * Drives every task that was mid-flight when the control plane stopped on to RUNNING or STOPPED.
 * The local workflow engine keeps no history, so this starts from the store alone; every
 * workflow step is idempotent, so re-running a launch or a stop does nothing twice.
 *
 * Call it before anything else can place a task: it takes every reservation of a task not yet
 * bound to that host for a crash's leftover, which is only true while no placement is running.
 */
export async function recoverInFlight(b: Berth): Promise<{ launches: number; stops: number; released: number }> {
  const tasks = new Map<string, TaskRecord>();
  for (const cluster of await b.store.clusters.list()) {
    for (const task of await b.store.tasks.list(cluster.name)) tasks.set(keyOf(task.cluster, task.taskId), task);
  }
  const released = await releaseStrayReservations(b, tasks);
  let launches = 0;
  let stops = 0;
  for (const task of tasks.values()) {
    if (task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED') {
      // A STOPPED task's stop workflow may have died before it released the task's room.
      await startStopWorkflow(b, task);
      stops++;
    } else if (task.lastStatus !== 'RUNNING') {
      await startLaunchWorkflow(b, task);
      launches++;
    }
  }
  return { launches, stops, released };
}

/**
 * A crash between a placement's reserve and its bind leaves room reserved for a task that is
 * bound nowhere, or (once placed again) bound to another host. Nothing else would free it until
 * the task stops, which for a long-running task is never: the host stays part full, and never
 * idle. A STOPPED task's room is left to its stop workflow, which releases it on every host.
 */
async function releaseStrayReservations(b: Berth, tasks: Map<string, TaskRecord>): Promise<number> {
  let released = 0;
  for (const host of await b.store.hosts.list()) {
    for (const [taskId, r] of Object.entries(host.reservations)) {
      const task = tasks.get(keyOf(r.cluster, taskId));
      if (!task || task.lastStatus === 'STOPPED' || task.hostId === host.hostId) continue;
      if (await b.store.hosts.release(host.hostId, taskId, r, b.now())) released++;
    }
  }
  return released;
}
