import type { Berth } from '../context';
import type { TaskRecord } from '../store';
import { stoppedOutcome } from './ecs-integration';

/**
 * Answers a state machine's task token: Step Functions' SendTaskSuccess, SendTaskFailure and
 * SendTaskHeartbeat. On AWS the SFN client (shared/cloud/aws/sfn-task-callbacks.ts); locally the
 * local Step Functions slice itself. A token no longer awaited is ignored, never an error.
 */
export interface TaskCallbacks {
  success(taskToken: string, output: object): Promise<void>;
  failure(taskToken: string, error: string, cause: string): Promise<void>;
  heartbeat(taskToken: string): Promise<void>;
}

/**
 * The task has STOPPED: answer the token a state machine waits on, if it holds one, with the
 * stopped task (or States.TaskFailed). Called wherever a task reaches STOPPED and again by the
 * stop workflow's last step; the token is taken with a conditional write first, so it is
 * answered once however many of them see the stop.
 */
export async function settleTaskCallback(b: Berth, task: TaskRecord | undefined): Promise<void> {
  if (!task?.callbackToken || task.lastStatus !== 'STOPPED' || !b.callbacks) return;
  const token = task.callbackToken;
  if (!(await b.store.tasks.takeCallbackToken(task, token))) return;
  await answerStopped(b.callbacks, b, token, task);
}

/** Answers `token` with how the STOPPED task ended. */
export async function answerStopped(callbacks: TaskCallbacks, b: Pick<Berth, 'partition'>, token: string, task: TaskRecord): Promise<void> {
  const outcome = stoppedOutcome(b.partition, task);
  if (outcome.ok) await callbacks.success(token, outcome.output);
  else await callbacks.failure(token, outcome.error, outcome.cause);
}

/** One heartbeat for every task a state machine still waits on; returns how many were sent. */
export async function heartbeatTaskCallbacks(b: Berth): Promise<number> {
  if (!b.callbacks) return 0;
  const awaited = await b.store.tasks.listAwaited();
  await Promise.all(awaited.map((t) => b.callbacks!.heartbeat(t.callbackToken)));
  return awaited.length;
}
