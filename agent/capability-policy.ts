import type { ContainerDefinition } from '../shared/domain/task-definition';

/**
 * The operator's policy for the Linux capabilities a task may add to the engine's default set
 * (ECS's linuxParameters.capabilities.add). A task asking for one the policy does not allow is
 * refused before anything of it is created; dropping capabilities needs no permission.
 */

/** Fargate's own policy: SYS_PTRACE, and nothing else. */
export const DEFAULT_ALLOWED_CAPABILITIES = ['SYS_PTRACE'] as const;

/** The policy's word for "any capability", as ECS's own word for all of them. */
const ANY = 'ALL';

/** Capability names as the engine takes them: upper case, without the CAP_ prefix. */
export const capabilityName = (name: string): string => name.trim().toUpperCase().replace(/^CAP_/, '');

/** BERTH_ALLOWED_CAPABILITIES: comma-separated; unset means the default, empty means none. */
export function readAllowedCapabilities(value: string | undefined): string[] {
  if (value === undefined) return [...DEFAULT_ALLOWED_CAPABILITIES];
  return value.split(',').map(capabilityName).filter(Boolean);
}

/** A task asked for a capability this host's policy does not allow. */
export class CapabilityNotAllowedError extends Error {
  constructor(readonly container: string, readonly refused: string[], readonly allowed: readonly string[]) {
    super(
      `CannotStartContainerError: container '${container}' asks for Linux capabilities ${refused.join(', ')} ` +
      `(linuxParameters.capabilities.add), which this host's policy does not allow ` +
      `(BERTH_ALLOWED_CAPABILITIES: ${allowed.join(', ') || 'none'})`,
    );
    this.name = 'CapabilityNotAllowedError';
  }
}

/** What the container adds to the engine's defaults, in the engine's names. */
export const capabilitiesAdded = (c: ContainerDefinition): string[] =>
  (c.linuxParameters?.capabilities?.add ?? []).map(capabilityName);

export const capabilitiesDropped = (c: ContainerDefinition): string[] =>
  (c.linuxParameters?.capabilities?.drop ?? []).map(capabilityName);

/** Throws CapabilityNotAllowedError for the first container that asks for more than allowed. */
export function checkCapabilities(containers: readonly ContainerDefinition[], allowedCapabilities: readonly string[]): void {
  const allowed = new Set(allowedCapabilities.map(capabilityName));
  for (const c of containers) {
    const refused = capabilitiesAdded(c).filter((cap) => !allowed.has(cap) && !allowed.has(ANY));
    if (refused.length > 0) throw new CapabilityNotAllowedError(c.name, refused, [...allowed]);
  }
}
