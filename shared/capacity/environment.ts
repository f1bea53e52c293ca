import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2FleetProvider } from '../cloud/aws/ec2-fleet-provider';
import { DEFAULT_CATALOG } from './catalog';
import { type CapacityOptions, DEFAULT_BOOT_TIMEOUT_SECONDS, DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from './manager';

const env = (name: string, fallback?: string): string => {
  const v = process.env[name] ?? fallback;
  if (v === undefined || v === '') throw new Error(`Environment variable ${name} is not set`);
  return v;
};

let cached: CapacityOptions | undefined;

/** The capacity function's options on AWS: EC2 through the launch template, the policy from the stack. */
export function capacityOptionsFromEnvironment(): CapacityOptions {
  cached ??= {
    provider: new Ec2FleetProvider({
      ec2: new EC2Client({}),
      launchTemplateId: env('BERTH_LAUNCH_TEMPLATE_ID'),
      subnetIds: env('BERTH_SUBNET_IDS').split(',').filter(Boolean),
      stage: process.env.BERTH_STAGE,
    }),
    catalog: DEFAULT_CATALOG,
    policy: {
      warmPoolHosts: Number(env('BERTH_WARM_POOL_HOSTS', '1')),
      warmPoolType: env('BERTH_WARM_POOL_TYPE', 'c6i.large'),
      maxHosts: Number(env('BERTH_MAX_HOSTS', '50')),
      idleTimeoutSeconds: Number(env('BERTH_IDLE_TIMEOUT_SECONDS', '600')),
      market: env('BERTH_MARKET', 'on-demand') === 'spot' ? 'spot' : 'on-demand',
    },
    heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    bootTimeoutSeconds: DEFAULT_BOOT_TIMEOUT_SECONDS,
  };
  return cached;
}
