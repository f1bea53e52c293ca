import {
  DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type LoadBalancing, TARGET_STATES, type Target, type TargetHealth, type TargetState } from '../load-balancing';

/**
 * Services' target groups on AWS: real ELBv2 target groups, through exactly three calls
 * (serverless.yml grants only these). A task's target is its host and the host port the agent
 * published (see targetOf in shared/services/load-balancing.ts).
 */
export class Elbv2LoadBalancing implements LoadBalancing {
  constructor(private readonly elb = new ElasticLoadBalancingV2Client({})) {}

  async register(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    await this.elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets.map((t) => ({ Id: t.id, Port: t.port })) }));
  }

  async deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    await this.elb.send(new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets.map((t) => ({ Id: t.id, Port: t.port })) }));
  }

  async health(targetGroupArn: string): Promise<TargetHealth[] | undefined> {
    try {
      const r = await this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
      return (r.TargetHealthDescriptions ?? []).map((d) => ({
        target: { id: d.Target?.Id ?? '', port: d.Target?.Port ?? 0 },
        state: (TARGET_STATES as readonly string[]).includes(d.TargetHealth?.State ?? '') ? d.TargetHealth!.State as TargetState : 'unavailable',
        ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
        ...(d.TargetHealth?.Description ? { description: d.TargetHealth.Description } : {}),
      }));
    } catch (e) {
      if ((e as Error).name === 'TargetGroupNotFoundException') return undefined;
      throw e;
    }
  }
}
