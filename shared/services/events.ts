import type { Service, ServiceEvent } from '../domain/service';

/**
 * A service's `events`, in ECS's own wording (the Amazon ECS Developer Guide's "service event
 * messages"), so what users grep for on AWS reads the same on Berth.
 */

/** ECS keeps a service's newest 100 events. */
export const MAX_SERVICE_EVENTS = 100;

/** ECS repeats "steady state" while nothing changes, at most this often. */
export const STEADY_STATE_REPEAT_MS = 6 * 60 * 60 * 1000;

const TROUBLESHOOTING = 'For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.';

const taskList = (taskIds: readonly string[]): string => taskIds.map((id) => `(task ${id})`).join(' ');

export const messages = {
  started: (service: string, taskIds: readonly string[]) =>
    `(service ${service}) has started ${taskIds.length} tasks: ${taskList(taskIds)}.`,
  stopped: (service: string, taskIds: readonly string[]) =>
    `(service ${service}) has stopped ${taskIds.length} running tasks: ${taskList(taskIds)}.`,
  steadyState: (service: string) => `(service ${service}) has reached a steady state.`,
  unableToPlace: (service: string, detail: string) =>
    `(service ${service}) was unable to place a task because no container instance met all of its requirements. ${detail} ${TROUBLESHOOTING}`,
  deploymentCompleted: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment completed.`,
  deploymentFailed: (service: string, deploymentId: string) =>
    `(service ${service}) (deployment ${deploymentId}) deployment failed: tasks failed to start.`,
  failedHealthChecks: (service: string, taskId: string) =>
    `(service ${service}) (task ${taskId}) failed container health checks.`,
  unhealthyInTargetGroup: (service: string, taskId: string, port: number, targetGroupArn: string, reason: string) =>
    `(service ${service}) (task ${taskId}) (port ${port}) is unhealthy in (target-group ${targetGroupArn}) due to (reason ${reason}).`,
  scaled: (service: string, desiredCount: number, cause: string) =>
    `(service ${service}) desired count set to ${desiredCount} by Application Auto Scaling: ${cause}.`,
  unableToStartConsistently: (service: string) =>
    `(service ${service}) is unable to consistently start tasks successfully. ${TROUBLESHOOTING}`,
} as const;

/** A deployment's rolloutStateReason, as ECS words it. */
export const rolloutReasons = {
  inProgress: (deploymentId: string) => `ECS deployment ${deploymentId} in progress.`,
  completed: (deploymentId: string) => `ECS deployment ${deploymentId} completed.`,
  failed: () => 'ECS deployment circuit breaker: tasks failed to start.',
  rollingBack: (toDeploymentId: string) => `ECS deployment circuit breaker: rolling back to deploymentId ${toDeploymentId}.`,
} as const;

/** A task's stoppedReason when the scheduler stops it, as ECS words them. */
export const stopReasons = {
  scaling: (deploymentId: string) => `Scaling activity initiated by (deployment ${deploymentId})`,
  failedHealthChecks: () => 'Task failed container health checks',
  failedElbHealthChecks: (targetGroupArn: string) => `Task failed ELB health checks in (target-group ${targetGroupArn})`,
} as const;

/**
 * The sentence an "unable to place" event gives for a task that failed placement, from the
 * task's stoppedReason (`RESOURCE:MEMORY`, `RESOURCE:CPU`, `RESOURCE:PORTS`, ...).
 */
export function placementDetail(stoppedReason: string | undefined): string {
  const reason = stoppedReason ?? '';
  if (reason.includes('RESOURCE:MEMORY')) return 'The closest matching container instance has insufficient memory available.';
  if (reason.includes('RESOURCE:CPU')) return 'The closest matching container instance has insufficient CPU units available.';
  if (reason.includes('RESOURCE:PORTS')) return 'The closest matching container instance is already using a port required by your task.';
  return 'Reason: No Container Instances were found in your cluster.';
}

/** `messages` happened in this order at `now`: they go on top, newest first, capped at 100. */
export function withEvents(events: readonly ServiceEvent[], messagesInOrder: readonly string[], now: number, newId: () => string): ServiceEvent[] {
  if (messagesInOrder.length === 0) return [...events];
  const added = messagesInOrder.map((message) => ({ id: newId(), createdAt: now, message })).reverse();
  return [...added, ...events].slice(0, MAX_SERVICE_EVENTS);
}

/** The applier's half of a plan's events: the tasks RunTask started, once their ids are known. */
export function recordStarts(service: Service, taskIds: readonly string[], now: number, newId: () => string): Service {
  if (taskIds.length === 0) return service;
  return { ...service, events: withEvents(service.events, [messages.started(service.serviceName, taskIds)], now, newId) };
}
