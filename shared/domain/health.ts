/**
 * Container health, as ECS reports it. The agent runs each container's `healthCheck` and
 * reports the container's status; the task's status follows from its containers'.
 */

export const HEALTH_STATUSES = ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** What the task's health needs of each container. */
export interface ContainerHealth {
  essential: boolean;
  /** Whether the container's definition has a healthCheck. */
  hasHealthCheck?: boolean;
  /** Absent until the health check has an answer (ECS shows UNKNOWN). */
  healthStatus?: HealthStatus;
}

/** A container without a health check, or whose check has no answer yet, is UNKNOWN. */
export const containerHealthStatus = (c: ContainerHealth): HealthStatus =>
  (c.hasHealthCheck && c.healthStatus) || 'UNKNOWN';

/**
 * The task's health as ECS derives it from its essential containers that have a health check:
 * UNHEALTHY if any is UNHEALTHY, else UNKNOWN if any has no answer yet, else HEALTHY. A task
 * whose only health checks are on nonessential containers (or that has none) stays UNKNOWN, as
 * in ECS, where such a task holds up a rolling deployment indefinitely.
 */
export function taskHealthStatus(containers: readonly ContainerHealth[]): HealthStatus {
  const checked = containers.filter((c) => c.essential && c.hasHealthCheck).map(containerHealthStatus);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.includes('UNHEALTHY')) return 'UNHEALTHY';
  return checked.every((s) => s === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

/** Whether any container has a health check: then a service counts the task only when HEALTHY. */
export const hasHealthCheck = (containers: readonly ContainerHealth[]): boolean =>
  containers.some((c) => c.hasHealthCheck === true);
