import {
  type CreateFleetCommandInput,
  type CreateFleetError,
  CreateFleetCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Tag,
  TerminateInstancesCommand,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import type { Market } from '../../capacity/types';
import { FleetLaunchError, type FleetProvider, type LaunchRequest, type LaunchedHost, type ProviderHost } from '../fleet-provider';

/** TerminateInstances takes at most this many ids per call. */
export const TERMINATE_BATCH_SIZE = 1000;

/** Tags on every instance and volume Berth launches; IAM policies and clean-up select on them. */
export const HOST_TAGS = {
  managed: 'berth:managed',
  stage: 'berth:stage',
  market: 'berth:market',
  cluster: 'berth:cluster',
  /** The launch's client token: the orphan sweep leaves the instances of a launch still in doubt alone. */
  launch: 'berth:launch',
  name: 'Name',
} as const;

export const HOST_NAME = 'berth-host';

/**
 * Error codes that mean the instance is not there to terminate: NotFound once EC2 has forgotten
 * it (about an hour after termination), Malformed for an id that never was an EC2 instance.
 */
const GONE_CODES: ReadonlySet<string> = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** EC2 reports its error code as the exception's name. */
const isGone = (e: unknown) => e instanceof Error && GONE_CODES.has(e.name);

type LaunchTemplateRef =
  | { launchTemplateId: string; launchTemplateName?: never }
  | { launchTemplateName: string; launchTemplateId?: never };

export type Ec2FleetProviderOptions = LaunchTemplateRef & {
  ec2: EC2Client;
  /** A version number, `$Latest` or `$Default` (the default). */
  launchTemplateVersion?: string;
  /** One override per subnet: EC2 picks among their availability zones. */
  subnetIds: string[];
  /** Value of the `berth:cluster` tag, naming the Berth deployment that owns the hosts. */
  clusterTag?: string;
  /** Value of the `berth:stage` tag. */
  stage?: string;
};

/**
 * Hosts as EC2 instances, launched by instant EC2 Fleets from one launch template (which holds
 * the AMI, instance profile, security groups, IMDS settings and the agent's user data).
 */
export class Ec2FleetProvider implements FleetProvider {
  private readonly ec2: EC2Client;
  private readonly launchTemplate: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version: string };
  private readonly subnetIds: string[];
  private readonly clusterTag?: string;
  private readonly stage?: string;

  constructor(options: Ec2FleetProviderOptions) {
    const { launchTemplateId, launchTemplateName } = options;
    if (!launchTemplateId === !launchTemplateName) {
      throw new Error('Ec2FleetProvider needs exactly one of launchTemplateId and launchTemplateName');
    }
    if (options.subnetIds.length === 0) throw new Error('Ec2FleetProvider needs at least one subnet id');
    this.ec2 = options.ec2;
    this.launchTemplate = {
      ...(launchTemplateId ? { LaunchTemplateId: launchTemplateId } : { LaunchTemplateName: launchTemplateName }),
      Version: options.launchTemplateVersion ?? '$Default',
    };
    this.subnetIds = [...new Set(options.subnetIds)];
    this.clusterTag = options.clusterTag;
    this.stage = options.stage;
  }

  async launch(request: LaunchRequest): Promise<LaunchedHost[]> {
    const { instanceType, market, count, clientToken } = request;
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`Launch count must be a whole number, not ${count}`);
    if (count === 0) return [];

    const tags = this.tags(market, clientToken);
    const input: CreateFleetCommandInput = {
      // instant: one synchronous call that returns the instances it started and the reasons for
      // any it could not, and leaves nothing behind to maintain capacity.
      Type: 'instant',
      ClientToken: clientToken,
      LaunchTemplateConfigs: [
        {
          LaunchTemplateSpecification: this.launchTemplate,
          Overrides: this.subnetIds.map((SubnetId) => ({ InstanceType: instanceType as _InstanceType, SubnetId })),
        },
      ],
      TargetCapacitySpecification: { TotalTargetCapacity: count, DefaultTargetCapacityType: market },
      ...(market === 'spot'
        ? { SpotOptions: { AllocationStrategy: 'price-capacity-optimized' } }
        : { OnDemandOptions: { AllocationStrategy: 'lowest-price' } }),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
    };
    const out = await this.ec2.send(new CreateFleetCommand(input));

    const hosts = (out.Instances ?? []).flatMap((launched) =>
      (launched.InstanceIds ?? []).map((hostId): LaunchedHost => ({
        hostId,
        // Recorded on the host's item: only this instance's signed identity document registers it.
        instanceId: hostId,
        instanceType: launched.InstanceType ?? instanceType,
        market: launched.Lifecycle === 'spot' || launched.Lifecycle === 'on-demand' ? launched.Lifecycle : market,
        availabilityZone: launched.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone,
      })),
    );
    // Fewer than asked is a capacity shortfall, not a failure: the planner asks again next round.
    if (hosts.length === 0) throw launchError(request, out.Errors ?? []);
    return hosts;
  }

  async terminate(hostIds: string[]): Promise<void> {
    const ids = [...new Set(hostIds)];
    for (let i = 0; i < ids.length; i += TERMINATE_BATCH_SIZE) {
      const batch = ids.slice(i, i + TERMINATE_BATCH_SIZE);
      try {
        await this.terminateInstances(batch);
      } catch (e) {
        if (!isGone(e)) throw e;
        // One gone id fails the whole call and EC2 terminates none of the others: go one by one
        // so a single stale id cannot keep live hosts running.
        if (batch.length > 1) await this.terminateOneByOne(batch);
      }
    }
  }

  /**
   * Tries every id, then throws the first real failure: a protected or unauthorised instance
   * must not keep the rest running. The caller's next round retries what is left.
   */
  private async terminateOneByOne(ids: string[]): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (const id of ids) {
      try {
        await this.terminateInstances([id]);
      } catch (e) {
        if (!isGone(e)) failure ??= { error: e };
      }
    }
    if (failure) throw failure.error;
  }

  private async terminateInstances(ids: string[]): Promise<void> {
    // Caveat for callers: EC2 is eventually consistent, so an instance launched seconds ago may
    // still answer NotFound, and this would count it as done. Terminate only hosts that have been
    // seen (registered, or listed by DescribeInstances); a sweep of `berth:managed` instances
    // unknown to the store catches any that slip through.
    await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  }

  /** The ids of every instance listHosts finds: what the stack's teardown terminates. */
  async listManaged(): Promise<string[]> {
    return (await this.listHosts()).map((h) => h.hostId);
  }

  /**
   * Every instance not yet terminated that carries this deployment's tags (`berth:managed`, and
   * `berth:stage` when the provider has a stage), whatever the store knows of it.
   */
  async listHosts(): Promise<ProviderHost[]> {
    const filters = [
      { Name: `tag:${HOST_TAGS.managed}`, Values: ['true'] },
      ...(this.stage ? [{ Name: `tag:${HOST_TAGS.stage}`, Values: [this.stage] }] : []),
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ];
    const hosts: ProviderHost[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeInstancesCommand({ Filters: filters, NextToken, MaxResults: 1000 }));
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId) continue;
          const clientToken = i.Tags?.find((t) => t.Key === HOST_TAGS.launch)?.Value;
          // An instance without a launch time is taken as just launched: the sweep's grace covers it.
          hosts.push({ hostId: i.InstanceId, launchedAt: i.LaunchTime?.getTime() ?? Infinity, ...(clientToken ? { clientToken } : {}) });
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return hosts;
  }

  private tags(market: Market, clientToken: string): Tag[] {
    return [
      { Key: HOST_TAGS.name, Value: HOST_NAME },
      { Key: HOST_TAGS.managed, Value: 'true' },
      ...(this.stage ? [{ Key: HOST_TAGS.stage, Value: this.stage }] : []),
      { Key: HOST_TAGS.market, Value: market },
      ...(this.clusterTag ? [{ Key: HOST_TAGS.cluster, Value: this.clusterTag }] : []),
      { Key: HOST_TAGS.launch, Value: clientToken },
    ];
  }
}

function launchError(request: LaunchRequest, errors: CreateFleetError[]): FleetLaunchError {
  const codes = [...new Set(errors.map((e) => e.ErrorCode ?? 'Unknown'))];
  const detail = errors.find((e) => e.ErrorMessage)?.ErrorMessage;
  const what = `${request.count} × ${request.instanceType} (${request.market})`;
  const why = codes.length ? `EC2 errors: ${codes.join(', ')}${detail ? ` — ${detail}` : ''}` : 'EC2 returned no instances and no errors';
  return new FleetLaunchError(request, codes, `No host launched for ${what}: ${why}`);
}
