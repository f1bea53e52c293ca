import type { RequestCountSource } from '../../../shared/autoscaling/metrics';
import { RequestCounter, targetGroupOfLabel } from '../../../shared/autoscaling/request-counts';
import type { LocalLoadBalancer } from './balancer';

/**
 * ALBRequestCountPerTarget locally: the requests the listener sent a target group in the
 * window (HAProxy's counts, through requestCounts()), divided by its healthy targets, as ELBv2's
 * RequestCountPerTarget is. Each call reads the counts, so a window's start is the reading the
 * previous pass took.
 */
export class LocalRequestCounts implements RequestCountSource {
  private readonly counter = new RequestCounter();

  constructor(private readonly balancer: LocalLoadBalancer, private readonly now: () => number) {}

  async requestCountPerTarget(resourceLabel: string, fromMs: number, toMs: number): Promise<number | undefined> {
    const parts = targetGroupOfLabel(resourceLabel);
    if (!parts) return undefined;
    const view = this.balancer.view;
    const tg = view.targetGroups.find((t) => t.arn.endsWith(`:${parts.targetGroup}`));
    const lb = view.loadBalancers.find((l) => l.arn.endsWith(`:loadbalancer/${parts.loadBalancer}`));
    if (!tg || !lb || !view.listeners.some((l) => l.loadBalancerArn === lb.arn && l.targetGroupArn === tg.arn)) return undefined;
    const at = this.now();
    this.counter.record(tg.arn, at, (await this.balancer.requestCounts()).get(tg.arn) ?? 0);
    const requests = this.counter.countBetween(tg.arn, fromMs, Math.max(toMs, at));
    if (requests === undefined) return undefined;
    const healthy = ((await this.balancer.health(tg.arn)) ?? []).filter((h) => h.state === 'healthy').length;
    return requests / Math.max(1, healthy);
  }
}
