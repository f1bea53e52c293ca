import { randomBytes } from 'node:crypto';
import { InvalidParameterException } from './errors';
import type { Deployment, DeploymentConfiguration, SchedulingStrategy, Service } from './service';

/**
 * What a user asks of a service, checked as ECS checks it, and the deployments it leads to.
 * Pure but for the ids it mints; the API reads requests into these and the store keeps them.
 */

/** ECS's defaults: a REPLICA service may run twice its count while it rolls; a DAEMON only one per host. */
export const DEFAULT_DEPLOYMENT_CONFIGURATION: Readonly<Record<SchedulingStrategy, DeploymentConfiguration>> = {
  REPLICA: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: false, rollback: false } },
  DAEMON: { minimumHealthyPercent: 0, maximumPercent: 100, deploymentCircuitBreaker: { enable: false, rollback: false } },
};

/** The part of a deployment configuration a request may give; the rest is kept or defaulted. */
export type DeploymentConfigurationInput = Partial<Omit<DeploymentConfiguration, 'deploymentCircuitBreaker'>> & {
  deploymentCircuitBreaker?: DeploymentConfiguration['deploymentCircuitBreaker'];
};

/** Fills in what the request left out from `base`, then checks the whole as ECS does. */
export function deploymentConfiguration(
  strategy: SchedulingStrategy,
  input: DeploymentConfigurationInput | undefined,
  base: DeploymentConfiguration = DEFAULT_DEPLOYMENT_CONFIGURATION[strategy],
): DeploymentConfiguration {
  const c: DeploymentConfiguration = {
    minimumHealthyPercent: input?.minimumHealthyPercent ?? base.minimumHealthyPercent,
    maximumPercent: input?.maximumPercent ?? base.maximumPercent,
    deploymentCircuitBreaker: input?.deploymentCircuitBreaker ?? base.deploymentCircuitBreaker,
  };
  if (strategy === 'DAEMON' && c.maximumPercent > 100) {
    throw new InvalidParameterException(
      'The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. '
        + 'Change the maximumPercent value to 100, and try again.',
    );
  }
  if (c.maximumPercent < 100) {
    throw new InvalidParameterException('maximumPercent must be greater than or equal to 100.');
  }
  if (c.minimumHealthyPercent < 0 || c.minimumHealthyPercent > 100) {
    throw new InvalidParameterException('minimumHealthyPercent must be between 0 and 100.');
  }
  return c;
}

/** `ecs-svc/` and 19 digits, as ECS names deployments. */
export function newDeploymentId(): string {
  const n = BigInt(`0x${randomBytes(8).toString('hex')}`) % 10n ** 19n;
  return `ecs-svc/${n.toString().padStart(19, '1')}`;
}

export function newDeployment(id: string, taskDefinitionArn: string, desiredCount: number, now: number): Deployment {
  return {
    id,
    status: 'PRIMARY',
    taskDefinitionArn,
    desiredCount,
    failedTasks: 0,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${id} in progress.`,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * A new deployment becomes PRIMARY; the one it replaces, and any older one still holding
 * tasks, stay ACTIVE until the scheduler has drained them.
 */
export function withNewDeployment(s: Service, deployment: Deployment): Deployment[] {
  return [deployment, ...s.deployments.map((d) => (d.status === 'PRIMARY' ? { ...d, status: 'ACTIVE' as const, updatedAt: deployment.createdAt } : d))];
}

/** A count change applies to the service and to its PRIMARY deployment at once. */
export function withDesiredCount(s: Service, desiredCount: number, now: number): Deployment[] {
  return s.deployments.map((d) => (d.status === 'PRIMARY' && d.desiredCount !== desiredCount ? { ...d, desiredCount, updatedAt: now } : d));
}

/** A service's tasks carry this group, so its tasks are found by it. */
export const serviceGroup = (serviceName: string): string => `service:${serviceName}`;
