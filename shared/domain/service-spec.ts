import { defaultDeploymentConfiguration } from '../services/deployments';
import { InvalidParameterException } from './errors';
import type { Deployment, DeploymentConfiguration, SchedulingStrategy, Service } from './service';

/**
 * What a user asks of a service, checked as ECS checks it. New deployments are the scheduler's
 * (shared/services/deployments.ts); the API reads requests into these and the store keeps them.
 */

/** The part of a deployment configuration a request may give; the rest is kept or defaulted. */
export type DeploymentConfigurationInput = Partial<Omit<DeploymentConfiguration, 'deploymentCircuitBreaker'>> & {
  deploymentCircuitBreaker?: DeploymentConfiguration['deploymentCircuitBreaker'];
};

/** Fills in what the request left out from `base`, then checks the whole as ECS does. */
export function deploymentConfiguration(
  strategy: SchedulingStrategy,
  input: DeploymentConfigurationInput | undefined,
  base: DeploymentConfiguration = defaultDeploymentConfiguration(strategy),
): DeploymentConfiguration {
  const c: DeploymentConfiguration = {
    minimumHealthyPercent: input?.minimumHealthyPercent ?? base.minimumHealthyPercent,
    maximumPercent: input?.maximumPercent ?? base.maximumPercent,
    deploymentCircuitBreaker: input?.deploymentCircuitBreaker ?? base.deploymentCircuitBreaker,
  };
  if (strategy === 'DAEMON' && c.maximumPercent > 100) {
    throw new InvalidParameterException(
      'The daemon scheduling strategy does not support values above 100 for maximumPercent on a deployment configuration. '
        + 'Change the maximumPercent value to 100, and try again',
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

/** A count change applies to the service and to its PRIMARY deployment at once. */
export function withDesiredCount(s: Service, desiredCount: number, now: number): Deployment[] {
  return s.deployments.map((d) => (d.status === 'PRIMARY' && d.desiredCount !== desiredCount ? { ...d, desiredCount, updatedAt: now } : d));
}
