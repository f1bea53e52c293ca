import { createHash } from 'node:crypto';
import type { Deployment, DeploymentConfiguration, SchedulingStrategy, Service } from '../domain/service';
import { rolloutReasons } from './events';

/** ECS's defaults when a service names no deploymentConfiguration. */
export function defaultDeploymentConfiguration(strategy: SchedulingStrategy): DeploymentConfiguration {
  return strategy === 'DAEMON'
    ? { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } }
    : { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } };
}

/**
 * ECS's circuit-breaker threshold: half the desired count, rounded up, but at least 3 and at
 * most 200 failed tasks.
 */
export const circuitBreakerThreshold = (desiredCount: number): number =>
  Math.min(Math.max(3, Math.ceil(0.5 * desiredCount)), 200);

/** Most tasks a service may have RUNNING or PENDING: maximumPercent of desiredCount, rounded down. */
export const maximumTasks = (desiredCount: number, config: DeploymentConfiguration): number =>
  Math.floor((desiredCount * config.maximumPercent) / 100);

/** Fewest healthy tasks a deployment keeps: minimumHealthyPercent of desiredCount, rounded up. */
export const minimumHealthyTasks = (desiredCount: number, config: DeploymentConfiguration): number =>
  Math.ceil((desiredCount * config.minimumHealthyPercent) / 100);

/**
 * `ecs-svc/` and 19 digits, as ECS makes deployment ids. The digits are `newId()`'s when it
 * gives 19 digits, else derived from it, so a predictable `newId` makes predictable ids.
 */
export function deploymentId(newId: () => string): string {
  const id = newId();
  if (/^\d{19}$/.test(id)) return `ecs-svc/${id}`;
  const n = BigInt(`0x${createHash('sha256').update(id).digest('hex').slice(0, 24)}`) % 10n ** 19n;
  return `ecs-svc/${n.toString().padStart(19, '0')}`;
}

/** A fresh PRIMARY deployment of `taskDefinitionArn`, IN_PROGRESS. */
export function newDeployment(taskDefinitionArn: string, desiredCount: number, now: number, newId: () => string, reason?: string): Deployment {
  const id = deploymentId(newId);
  return {
    id,
    status: 'PRIMARY',
    taskDefinitionArn,
    desiredCount,
    runningCount: 0,
    pendingCount: 0,
    failedTasks: 0,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: reason ?? rolloutReasons.inProgress(id),
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Starts a new deployment (CreateService, UpdateService with a new taskDefinition or
 * forceNewDeployment): it becomes PRIMARY and every earlier one ACTIVE, to be drained by the
 * reconciler.
 */
export function startDeployment(service: Service, taskDefinitionArn: string, now: number, newId: () => string, reason?: string): Service {
  const primary = newDeployment(taskDefinitionArn, service.desiredCount, now, newId, reason);
  const earlier = service.deployments.map((d): Deployment => (d.status === 'PRIMARY' ? { ...d, status: 'ACTIVE', updatedAt: now } : d));
  // A new revision gets a fresh start: the old one's failures say nothing about it.
  return { ...service, deployments: [primary, ...earlier], backoffUntil: undefined, failureStreak: undefined };
}
