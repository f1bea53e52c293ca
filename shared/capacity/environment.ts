import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2FleetProvider } from '../cloud/aws/ec2-fleet-provider';
import { type Environment, list, oneOf, readEnvironment, text, wholeNumber } from '../config/variables';
import { DEFAULT_CATALOG } from './catalog';
import { type ConsolidationPolicy, DEFAULT_CONSOLIDATION_POLICY } from './consolidation';
import { DEMAND_HISTORY_SECONDS, DemandHistory, WARM_POOL_WINDOW_SECONDS } from './demand-history';
import { type CapacityOptions, DEFAULT_BOOT_TIMEOUT_SECONDS, DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from './manager';
import { type CapacityPolicy, GRAVITON_POLICIES } from './types';

/** The capacity function's own variables (serverless.yml and the deploy set them). */
export const CAPACITY_VARIABLES = {
  BERTH_LAUNCH_TEMPLATE_ID: text('a launch template id (lt-...)', /^lt-[0-9a-f]{8,17}$/).required(),
  BERTH_SUBNET_IDS: list('comma-separated subnet ids (subnet-...)', /^subnet-[0-9a-f]{8,17}$/).required(),
  BERTH_STAGE: text('a stage name: letters, digits, dashes or underscores', /^[\w-]{1,64}$/),
  BERTH_WARM_POOL_HOSTS: wholeNumber(0, 1000).default(1),
  BERTH_WARM_POOL_TYPE: oneOf(DEFAULT_CATALOG.map((t) => t.name)).default('c6i.large'),
  BERTH_MAX_HOSTS: wholeNumber(1, 1000).default(50),
  BERTH_IDLE_TIMEOUT_SECONDS: wholeNumber(0, 604_800).default(600),
  BERTH_MARKET: oneOf(['on-demand', 'spot'] as const).default('on-demand'),
  /** Graviton (arm64) hosts: off, or for tasks that declare ARM64. */
  BERTH_GRAVITON: oneOf(GRAVITON_POLICIES).default('off'),
  /** A busy host this old whose tasks fit on the others is cordoned and emptied; 0 turns consolidation off. */
  BERTH_CONSOLIDATE_AFTER_SECONDS: wholeNumber(0, 604_800).default(DEFAULT_CONSOLIDATION_POLICY.minHostAgeSeconds),
};

export interface CapacityConfig {
  launchTemplateId: string;
  subnetIds: string[];
  stage?: string;
  policy: CapacityPolicy;
  consolidation?: ConsolidationPolicy;
}

/** The capacity function's configuration, checked: a bad variable throws a ConfigurationError that names it. */
export function capacityConfigFromEnvironment(env: Environment): CapacityConfig {
  const v = readEnvironment(CAPACITY_VARIABLES, env);
  return {
    launchTemplateId: v.BERTH_LAUNCH_TEMPLATE_ID,
    subnetIds: v.BERTH_SUBNET_IDS,
    stage: v.BERTH_STAGE,
    policy: {
      warmPoolHosts: v.BERTH_WARM_POOL_HOSTS,
      warmPoolType: v.BERTH_WARM_POOL_TYPE,
      maxHosts: v.BERTH_MAX_HOSTS,
      idleTimeoutSeconds: v.BERTH_IDLE_TIMEOUT_SECONDS,
      market: v.BERTH_MARKET,
      graviton: v.BERTH_GRAVITON,
    },
    ...(v.BERTH_CONSOLIDATE_AFTER_SECONDS > 0
      ? { consolidation: { ...DEFAULT_CONSOLIDATION_POLICY, minHostAgeSeconds: v.BERTH_CONSOLIDATE_AFTER_SECONDS } }
      : {}),
  };
}

let cached: CapacityOptions | undefined;

/** How long an EC2 host takes from launch to taking work, about: what letting an idle one go and relaunching it costs. */
const EC2_BOOT_SECONDS = 40;

/** The stack's hosts as EC2 instances, from the capacity function's variables (the teardown reads the same). */
export function ec2FleetFromEnvironment(c: CapacityConfig = capacityConfigFromEnvironment(process.env)): Ec2FleetProvider {
  return new Ec2FleetProvider({ ec2: new EC2Client({}), launchTemplateId: c.launchTemplateId, subnetIds: c.subnetIds, stage: c.stage });
}

/** The capacity function's options on AWS: EC2 through the launch template, the policy from the stack. */
export function capacityOptionsFromEnvironment(): CapacityOptions {
  if (cached) return cached;
  const c = capacityConfigFromEnvironment(process.env);
  cached = {
    provider: ec2FleetFromEnvironment(c),
    catalog: DEFAULT_CATALOG,
    policy: c.policy,
    heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    bootTimeoutSeconds: DEFAULT_BOOT_TIMEOUT_SECONDS,
    ...(c.consolidation ? { consolidation: c.consolidation } : {}),
    // Kept in the warm container between invocations; a cold start begins a new history.
    adaptive: {
      history: new DemandHistory(DEMAND_HISTORY_SECONDS * 1000), relaunchSeconds: EC2_BOOT_SECONDS, warmPoolWindowSeconds: WARM_POOL_WINDOW_SECONDS,
    },
  };
  return cached;
}
