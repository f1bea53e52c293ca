/**
 * The port through which services put their tasks behind load balancers: ELBv2 target groups on
 * AWS (aws/elbv2-load-balancing.ts), the local ELBv2 slice and its HAProxy locally
 * (local/services/elbv2/). A target is an address and a port, as an `ip` target group takes it.
 */
export interface Target {
  id: string;
  port: number;
}

/** ELBv2's target states, as DescribeTargetHealth names them. */
export const TARGET_STATES = ['initial', 'healthy', 'unhealthy', 'unused', 'draining', 'unavailable'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export interface TargetHealth {
  target: Target;
  state: TargetState;
  reason?: string;
  description?: string;
}

export interface LoadBalancing {
  register(targetGroupArn: string, targets: readonly Target[]): Promise<void>;
  /** Starts the target group's deregistration delay: the targets drain, then leave the group. */
  deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void>;
  /** Every target the group holds (draining ones included); undefined when there is no such group. */
  health(targetGroupArn: string): Promise<TargetHealth[] | undefined>;
}

/** Target ids and ports as one key. */
export const targetKey = (t: Target): string => `${t.id}:${t.port}`;
