import type { Berth } from '../context';
import { startLaunchWorkflow } from './run-task';
import { startStopWorkflow } from './stop';

/**
 * Drives every task that was mid-flight when the control plane stopped on to RUNNING or STOPPED.
 * The local workflow engine keeps no history, so this starts from the store alone; every
 * workflow step is idempotent, so re-running a launch or a stop does nothing twice.
 */
export async function recoverInFlight(b: Berth): Promise<{ launches: number; stops: number }> {
  let launches = 0;
  let stops = 0;
  for (const cluster of await b.store.clusters.list()) {
    for (const task of await b.store.tasks.list(cluster.name)) {
      if (task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED') {
        // A STOPPED task's stop workflow may have died before it released the task's room.
        await startStopWorkflow(b, task);
        stops++;
      } else if (task.lastStatus !== 'RUNNING') {
        await startLaunchWorkflow(b, task);
        launches++;
      }
    }
  }
  return { launches, stops };
}
