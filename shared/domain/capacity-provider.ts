import type { InstanceType, Market } from '../capacity/types';
import { ClientException, InvalidParameterException } from './errors';
import { type Json, isObject, optBool, optInt, optObject, optString, optStringList, reqString } from './fields';

/**
 * A custom capacity provider: a pool of Berth's fleet, described the way ECS Managed Instances
 * describes one (`managedInstancesProvider.instanceLaunchTemplate`). Berth reads the instance
 * requirements (vCPU and memory ranges, allowed and excluded types) and the capacity option
 * (ON_DEMAND or SPOT); the launch template's other members (instance profile, subnets, storage)
 * are kept and shown back as given, since Berth's hosts come from its own launch template.
 */
export const CAPACITY_OPTION_TYPES = ['ON_DEMAND', 'SPOT'] as const;
export type CapacityOptionType = (typeof CAPACITY_OPTION_TYPES)[number];

export interface InstanceRequirements {
  vCpuCount: { min: number; max?: number };
  memoryMiB: { min: number; max?: number };
  allowedInstanceTypes?: string[];
  excludedInstanceTypes?: string[];
}

/** The launch template's members Berth keeps and shows back; the ones it acts on are typed. */
export interface InstanceLaunchTemplate {
  ec2InstanceProfileArn?: string;
  networkConfiguration?: { subnets?: string[]; securityGroups?: string[] };
  storageConfiguration?: { storageSizeGiB?: number };
  monitoring?: string;
  instanceMetadataTagsPropagation?: boolean;
  fipsEnabled?: boolean;
  capacityOptionType?: CapacityOptionType;
  instanceRequirements?: InstanceRequirements;
}

/** The provider's `managedInstancesProvider`, as stored and shown. */
export interface ManagedInstancesProvider {
  infrastructureRoleArn: string;
  instanceLaunchTemplate: InstanceLaunchTemplate;
  propagateTags?: string;
}

export const marketOfOption = (o: CapacityOptionType | undefined): Market => (o === 'SPOT' ? 'spot' : 'on-demand');

/** ECS's rule for names: letters, digits, `_` and `-`, up to 255, and not `aws`, `ecs` or `fargate` first. */
const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,255}$/;
const RESERVED_PREFIX = /^(aws|ecs|fargate)/i;

export const isProviderName = (name: string): boolean => PROVIDER_NAME.test(name);

export function checkProviderName(name: string): string {
  if (!PROVIDER_NAME.test(name) || RESERVED_PREFIX.test(name)) {
    throw new InvalidParameterException(
      'The specified capacity provider name is invalid. Up to 255 characters are allowed, including letters (upper and lowercase), '
      + 'numbers, underscores, and hyphens. The name cannot be prefixed with "aws", "ecs", or "fargate".',
    );
  }
  return name;
}

export const AUTO_SCALING_GROUP_REFUSED =
  'Berth has no Auto Scaling groups: autoScalingGroupProvider is not supported. '
  + 'Describe the pool of hosts with managedInstancesProvider (instanceLaunchTemplate.instanceRequirements and capacityOptionType) instead.';

function range(o: Json, key: string, path: string): { min: number; max?: number } {
  const r = optObject(o, key, path);
  if (!r) throw new InvalidParameterException(`${path} is required.`);
  const min = optInt(r, 'min', `${path}.min`, { min: 0 });
  if (min === undefined) throw new InvalidParameterException(`${path}.min is required.`);
  const max = optInt(r, 'max', `${path}.max`, { min: 0 });
  if (max !== undefined && max < min) throw new InvalidParameterException(`${path}.max must be greater than or equal to ${path}.min.`);
  return max === undefined ? { min } : { min, max };
}

const INSTANCE_TYPE_PATTERN = /^[a-zA-Z0-9.*-]{1,30}$/;

function typeList(o: Json, key: string, path: string): string[] | undefined {
  const list = optStringList(o, key, path, 400);
  for (const t of list ?? []) {
    if (!INSTANCE_TYPE_PATTERN.test(t)) throw new InvalidParameterException(`${path} contains an invalid instance type: ${t}.`);
  }
  return list;
}

function readRequirements(o: Json, path: string): InstanceRequirements {
  const allowedInstanceTypes = typeList(o, 'allowedInstanceTypes', `${path}.allowedInstanceTypes`);
  const excludedInstanceTypes = typeList(o, 'excludedInstanceTypes', `${path}.excludedInstanceTypes`);
  if (allowedInstanceTypes?.length && excludedInstanceTypes?.length) {
    // EC2's rule for attribute-based instance selection, which ECS Managed Instances follows.
    throw new InvalidParameterException(`${path}: you can specify allowedInstanceTypes or excludedInstanceTypes, but not both.`);
  }
  return {
    vCpuCount: range(o, 'vCpuCount', `${path}.vCpuCount`),
    memoryMiB: range(o, 'memoryMiB', `${path}.memoryMiB`),
    ...(allowedInstanceTypes?.length ? { allowedInstanceTypes } : {}),
    ...(excludedInstanceTypes?.length ? { excludedInstanceTypes } : {}),
  };
}

/**
 * Reads `managedInstancesProvider` from CreateCapacityProvider (every required member) or
 * UpdateCapacityProvider (`update`: the launch template's members are each optional, and those
 * given replace the provider's; capacityOptionType cannot change, as in ECS).
 */
export function readManagedInstancesProvider(body: Json, existing?: ManagedInstancesProvider): ManagedInstancesProvider {
  const path = 'managedInstancesProvider';
  const raw = body[path];
  if (!isObject(raw)) throw new InvalidParameterException(`${path} must be an object.`);
  const infrastructureRoleArn = reqString(raw, 'infrastructureRoleArn', `${path}.infrastructureRoleArn`, 2048);
  const propagateTags = optString(raw, 'propagateTags', `${path}.propagateTags`);
  if (propagateTags !== undefined && !['CAPACITY_PROVIDER', 'NONE'].includes(propagateTags)) {
    throw new InvalidParameterException(`${path}.propagateTags must be CAPACITY_PROVIDER or NONE.`);
  }
  const lt = optObject(raw, 'instanceLaunchTemplate', `${path}.instanceLaunchTemplate`);
  if (!lt) throw new InvalidParameterException(`${path}.instanceLaunchTemplate is required.`);
  const ltPath = `${path}.instanceLaunchTemplate`;
  if (!existing) {
    reqString(lt, 'ec2InstanceProfileArn', `${ltPath}.ec2InstanceProfileArn`, 2048);
    if (!isObject(lt.networkConfiguration)) throw new InvalidParameterException(`${ltPath}.networkConfiguration is required.`);
  }
  const given = readTemplateMembers(lt, ltPath);
  const option = optString(lt, 'capacityOptionType', `${ltPath}.capacityOptionType`);
  if (option !== undefined && !(CAPACITY_OPTION_TYPES as readonly string[]).includes(option)) {
    throw new InvalidParameterException(`${ltPath}.capacityOptionType must be ON_DEMAND or SPOT.`);
  }
  if (existing && option !== undefined && option !== (existing.instanceLaunchTemplate.capacityOptionType ?? 'ON_DEMAND')) {
    throw new ClientException('The capacityOptionType of a capacity provider cannot be updated.');
  }
  const req = optObject(lt, 'instanceRequirements', `${ltPath}.instanceRequirements`);
  const instanceRequirements = req ? readRequirements(req, `${ltPath}.instanceRequirements`) : undefined;
  const template: InstanceLaunchTemplate = {
    ...(existing?.instanceLaunchTemplate ?? {}),
    ...given,
    capacityOptionType: (option ?? existing?.instanceLaunchTemplate.capacityOptionType ?? 'ON_DEMAND') as CapacityOptionType,
    ...(instanceRequirements ? { instanceRequirements } : {}),
  };
  return {
    infrastructureRoleArn,
    instanceLaunchTemplate: template,
    ...(propagateTags ? { propagateTags } : existing?.propagateTags ? { propagateTags: existing.propagateTags } : {}),
  };
}

/**
 * The launch template's members Berth keeps, each checked for its type: only what was read is
 * stored (never the request's other members). Those Berth does not model (local storage,
 * capacity reservations) are dropped: its hosts come from its own launch template.
 */
function readTemplateMembers(lt: Json, path: string): InstanceLaunchTemplate {
  const out: InstanceLaunchTemplate = {};
  const profile = optString(lt, 'ec2InstanceProfileArn', `${path}.ec2InstanceProfileArn`, 2048);
  if (profile !== undefined) out.ec2InstanceProfileArn = profile;
  const network = optObject(lt, 'networkConfiguration', `${path}.networkConfiguration`);
  if (network) {
    const subnets = optStringList(network, 'subnets', `${path}.networkConfiguration.subnets`, 16);
    const securityGroups = optStringList(network, 'securityGroups', `${path}.networkConfiguration.securityGroups`, 5);
    out.networkConfiguration = { ...(subnets ? { subnets } : {}), ...(securityGroups ? { securityGroups } : {}) };
  }
  const storage = optObject(lt, 'storageConfiguration', `${path}.storageConfiguration`);
  if (storage) {
    const size = optInt(storage, 'storageSizeGiB', `${path}.storageConfiguration.storageSizeGiB`, { min: 1, max: 16384 });
    out.storageConfiguration = size === undefined ? {} : { storageSizeGiB: size };
  }
  const monitoring = optString(lt, 'monitoring', `${path}.monitoring`);
  if (monitoring !== undefined) {
    if (!['BASIC', 'DETAILED'].includes(monitoring)) throw new InvalidParameterException(`${path}.monitoring must be BASIC or DETAILED.`);
    out.monitoring = monitoring;
  }
  const tagsPropagation = optBool(lt, 'instanceMetadataTagsPropagation', `${path}.instanceMetadataTagsPropagation`);
  if (tagsPropagation !== undefined) out.instanceMetadataTagsPropagation = tagsPropagation;
  const fips = optBool(lt, 'fipsEnabled', `${path}.fipsEnabled`);
  if (fips !== undefined) out.fipsEnabled = fips;
  return out;
}

/** `*` in EC2's instance type patterns matches any run of characters (`m6i.*`, `c6*`). */
function matchesPattern(name: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** The catalog's types a pool may launch: those inside every range, allowed and not excluded. */
export function poolInstanceTypes(requirements: InstanceRequirements | undefined, catalog: readonly InstanceType[]): InstanceType[] {
  if (!requirements) return catalog.filter((t) => t.gpus === 0);
  const within = (v: number, r: { min: number; max?: number }) => v >= r.min && (r.max === undefined || v <= r.max);
  return catalog.filter((t) =>
    within(t.vcpu, requirements.vCpuCount)
    && within(t.memoryGiB * 1024, requirements.memoryMiB)
    && (!requirements.allowedInstanceTypes || requirements.allowedInstanceTypes.some((p) => matchesPattern(t.name, p)))
    && !(requirements.excludedInstanceTypes ?? []).some((p) => matchesPattern(t.name, p)));
}

/** What a pool is to the capacity planner: the market it runs in and the types it may launch. */
export interface Pool {
  market: Market;
  instanceTypes: string[];
}

export function poolOf(provider: ManagedInstancesProvider, catalog: readonly InstanceType[]): Pool {
  const lt = provider.instanceLaunchTemplate;
  return {
    market: marketOfOption(lt.capacityOptionType),
    instanceTypes: poolInstanceTypes(lt.instanceRequirements, catalog).map((t) => t.name),
  };
}
