import type { HealthStatus } from '../shared/domain/health';
import type { ContainerDefinition } from '../shared/domain/task-definition';

type HealthCheck = NonNullable<ContainerDefinition['healthCheck']>;

/**
 * One container's health check, judged as Docker judges the HEALTHCHECK that ECS gives it: a
 * probe every `interval` seconds (the first one `interval` after the start), a probe that runs
 * past `timeout` fails, `retries` failures in a row make the container UNHEALTHY and one pass
 * makes it HEALTHY again. While the container is still starting (no probe has passed yet),
 * failures within `startPeriod` of its start are not counted.
 */
export interface HealthState {
  /** Undefined while starting: the check has no answer yet, and ECS shows UNKNOWN. */
  status?: Exclude<HealthStatus, 'UNKNOWN'>;
  failingStreak: number;
}

export const STARTING: HealthState = { failingStreak: 0 };

/** The state after one probe, `sinceStartMs` after the container started. */
export function afterProbe(state: HealthState, check: HealthCheck, passed: boolean, sinceStartMs: number): HealthState {
  if (passed) return { status: 'HEALTHY', failingStreak: 0 };
  const starting = state.status === undefined;
  if (starting && sinceStartMs < (check.startPeriod ?? 0) * 1000) return state;
  const failingStreak = state.failingStreak + 1;
  return { status: failingStreak >= check.retries ? 'UNHEALTHY' : state.status, failingStreak };
}

/** The probe as an exec: CMD runs its arguments, CMD-SHELL its string under the container's /bin/sh. */
export function probeCommand(check: HealthCheck): string[] {
  const [kind, ...rest] = check.command;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  return kind === 'CMD' ? rest : check.command;
}
