import { POOL_ATTRIBUTE } from '../domain/capacity-strategy';

/**
 * The ECS attributes of a host, from what its item records: what DescribeContainerInstances
 * shows and what a memberOf expression or a spread by attribute judges. One function for both,
 * so a constraint matches exactly what the user can see.
 */
export interface HostIdentity {
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly market?: string;
  /** The pool (custom capacity provider) it was launched for. */
  readonly capacityProvider?: string;
  /** What its agent reported of the machine: it wins over what the instance type implies. */
  readonly cpuArchitecture?: 'arm64' | 'x86_64';
}

/** Graviton families carry a `g` after the generation digit: c6g, m7gd, t4g (but not g5, a GPU family). */
const ARM_FAMILY = /^[a-z]+\d+g[a-z-]*$/;

export function cpuArchitectureOf(instanceType: string): 'arm64' | 'x86_64' {
  const family = instanceType.split('.')[0];
  return ARM_FAMILY.test(family) || family === 'a1' ? 'arm64' : 'x86_64';
}

export function hostAttributes(h: HostIdentity): Record<string, string> {
  const a: Record<string, string> = { 'ecs.os-type': 'linux', 'ecs.os-family': 'LINUX' };
  if (h.instanceType) a['ecs.instance-type'] = h.instanceType;
  const architecture = h.cpuArchitecture ?? (h.instanceType ? cpuArchitectureOf(h.instanceType) : undefined);
  if (architecture) a['ecs.cpu-architecture'] = architecture;
  if (h.availabilityZone) a['ecs.availability-zone'] = h.availabilityZone;
  if (h.market) a['berth.market'] = h.market;
  if (h.capacityProvider) a[POOL_ATTRIBUTE] = h.capacityProvider;
  return a;
}
