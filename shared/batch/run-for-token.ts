import type { Berth } from '../context';
import { taskIdOf } from '../domain/arns';
import { EcsError } from '../domain/errors';
import { type Json, isObject } from '../domain/fields';
import { RunTask } from '../ecs-api/tasks';
import { ECS_ERROR_PREFIX, FAILURES_ERROR, camelCaseKeys, pascalCaseKeys, runTaskOutput } from './ecs-integration';
import { answerStopped } from './task-callbacks';

export interface TokenRun {
  /** The state machine's `$$.Task.Token`: answered when the task stops. */
  taskToken: string;
  /** RunTask's parameters as Step Functions users write them, in PascalCase (`Cluster`, `TaskDefinition`, `Overrides`...). */
  parameters: Json;
}

/**
 * Runs a task for a state machine that waits on `taskToken` (`.sync` locally, and
 * `lambda:invoke.waitForTaskToken` on Berth's batch function on AWS): the token is kept with the
 * task, and answered when it stops (settleTaskCallback) with the stopped task or
 * States.TaskFailed. A RunTask that ECS refuses, or that answers with failures, fails the token
 * at once with the error Step Functions gives (`ECS.<exception>`, AmazonECS.Unknown). Returns
 * RunTask's answer as `ecs:runTask` shows it.
 */
export async function runTaskForToken(b: Berth, run: TokenRun): Promise<Record<string, unknown>> {
  const callbacks = b.callbacks;
  if (!callbacks) throw new Error('runTaskForToken needs the wiring\'s task callbacks (Berth.callbacks)');
  const body = camelCaseKeys(run.parameters);
  let answer: { tasks: { taskArn: string; clusterArn: string }[]; failures: object[] };
  try {
    if (!isObject(body)) throw new EcsError('The parameters must be an object.');
    answer = await RunTask(b, body, {}) as typeof answer;
  } catch (e) {
    if (!(e instanceof EcsError)) throw e;
    await callbacks.failure(run.taskToken, `${ECS_ERROR_PREFIX}${e.name}`, e.message);
    return { Error: `${ECS_ERROR_PREFIX}${e.name}`, Cause: e.message };
  }
  const output = runTaskOutput(answer);
  if (answer.failures.length > 0 || answer.tasks.length === 0) {
    await callbacks.failure(run.taskToken, FAILURES_ERROR, JSON.stringify(pascalCaseKeys(answer.failures)));
    return output;
  }
  // The first task carries the token, as Step Functions' `.sync` follows the first task.
  const first = answer.tasks[0];
  const cluster = first.clusterArn.split('/').pop()!;
  const ref = { cluster, taskId: taskIdOf(first.taskArn, cluster) };
  const waiting = await b.store.tasks.setToken(ref, 'callbackToken', run.taskToken, 'STOPPED');
  // Stopped already (it failed to start at once): nothing will see it stop again, so answer now.
  if (!waiting) await answerStopped(callbacks, b, run.taskToken, (await b.store.tasks.get(ref))!);
  return output;
}
