import { settleTaskCallback } from '../batch/task-callbacks';
import type { Berth } from '../context';
import { InvalidParameterException } from '../domain/errors';
import type { StopCode } from '../domain/task';
import type { TaskRecord } from '../store';
import { activeCluster } from './run-task';
import { wakeServiceOf } from './service-wake';
import { startStopWorkflow } from './stop';
import { wakeTaskWaitingForRoom } from './capacity-wake';

/** ECS's stoppedReason when StopTask is given none. */
export const DEFAULT_STOP_REASON = 'Task stopped by user';

/**
 * StopTask: desiredStatus STOPPED with the stop's code and reason. A task not yet on a host is
 * STOPPED at once; one on a host is stopped by its agent, and the stop workflow sees it through.
 */
export async function stopTask(b: Berth, cluster: string, taskId: string, reason?: string, stopCode: StopCode = 'UserInitiated'): Promise<TaskRecord> {
  await activeCluster(b, cluster);
  const ref = { cluster, taskId };
  const existing = await b.store.tasks.get(ref);
  if (!existing) throw new InvalidParameterException('The referenced task was not found.');
  const stopped = await b.store.tasks.requestStop(ref, { stopCode, stoppedReason: reason || DEFAULT_STOP_REASON }, b.now);
  const task = stopped ?? (await b.store.tasks.get(ref))!;
  // A task stopped before it had a host is STOPPED already: no agent report will wake its service.
  if (stopped?.lastStatus === 'STOPPED' && stopCode !== 'ServiceSchedulerInitiated') wakeServiceOf(b, stopped);
  await settleTaskCallback(b, stopped);
  // Also for a task stopped before placement: the workflow's release sweeps any room a racing
  // placement may have taken.
  await startStopWorkflow(b, task);
  // A launch waiting for room ends now rather than at its backoff's end.
  if (!task.hostId) await wakeTaskWaitingForRoom(b, taskId);
  return task;
}
