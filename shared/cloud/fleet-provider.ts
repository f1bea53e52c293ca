import type { Market } from '../capacity/types';

/** A host the provider started. On AWS the hostId is the EC2 instance id. */
export interface LaunchedHost {
  hostId: string;
  instanceType: string;
  market: Market;
  /** The one-time token the host's agent registers with, where the provider hands one out. */
  bootstrapToken?: string;
  /**
   * The EC2 instance started, where the provider launches EC2 instances: its agent registers
   * with that instance's signed identity document instead of a token.
   */
  instanceId?: string;
  /** The zone it runs in, where the provider knows it: the host's ecs.availability-zone attribute. */
  availabilityZone?: string;
}

/** A host the provider has started and not yet terminated, whatever Berth's store knows of it. */
export interface ProviderHost {
  hostId: string;
  /** Epoch ms when the provider started it. */
  launchedAt: number;
  /** The client token of the launch that started it, where the provider keeps it. */
  clientToken?: string;
}

export interface LaunchRequest {
  instanceType: string;
  market: Market;
  count: number;
  /**
   * A token that makes the same launch idempotent if retried: asked again with it, the provider
   * answers with the hosts the first ask started instead of starting more.
   */
  clientToken: string;
}

/**
 * The fleet provider port, Karpenter's cloud provider in small: EC2 on AWS, agent processes
 * locally. It starts and stops hosts and knows nothing of tasks or placement.
 */
export interface FleetProvider {
  /**
   * Starts up to `count` hosts. May return fewer (a capacity shortfall is a partial success);
   * throws when none started.
   */
  launch(request: LaunchRequest): Promise<LaunchedHost[]>;
  /** Idempotent: ids that are unknown or already terminated count as done. */
  terminate(hostIds: string[]): Promise<void>;
  /** Every host this deployment's provider has running or starting: what the orphan sweep compares with the store. */
  listHosts(): Promise<ProviderHost[]>;
}

/** A launch that started no host at all. `codes` are the provider's reasons, e.g. EC2's error codes. */
export class FleetLaunchError extends Error {
  constructor(
    readonly request: LaunchRequest,
    readonly codes: string[],
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FleetLaunchError';
  }
}
