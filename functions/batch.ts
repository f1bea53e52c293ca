import { runTaskForToken } from '../shared/batch/run-for-token';
import { heartbeatTaskCallbacks } from '../shared/batch/task-callbacks';
import { isObject } from '../shared/domain/fields';
import { berthFromEnvironment } from '../shared/environment';

/**
 * Berth's batch function, for users' own state machines:
 * `arn:aws:states:::lambda:invoke.waitForTaskToken` with the Payload `{"TaskToken.$": "$$.Task.Token",
 * "Cluster": ..., "TaskDefinition": ..., "Overrides": ...}` runs the task and answers the token when
 * it stops. Its EventBridge schedule (no TaskToken) heartbeats every task a state machine waits on.
 */
export const handler = async (event: unknown) => {
  const berth = berthFromEnvironment();
  if (!isObject(event) || typeof event.TaskToken !== 'string') return { heartbeats: await heartbeatTaskCallbacks(berth) };
  const { TaskToken: taskToken, ...parameters } = event;
  return runTaskForToken(berth, { taskToken, parameters });
};
