import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { RequestCountSource } from '../../autoscaling/metrics';
import { targetGroupOfLabel } from '../../autoscaling/request-counts';

/** ELBv2's one-minute metrics: a datapoint covers a minute, and the newest one may be late. */
const PERIOD_SECONDS = 60;
/** How far back a pass looks for the newest complete minute (ALB metrics land a minute or two late). */
const LOOKBACK_MS = 5 * 60_000;

/**
 * ALBRequestCountPerTarget on AWS: the target group's RequestCountPerTarget as ELBv2 publishes it
 * (namespace AWS/ApplicationELB, dimensions TargetGroup and LoadBalancer, the Sum over a minute),
 * the newest minute CloudWatch has up to the window's end. The same port the local counts feed
 * (local/services/elbv2/request-counts.ts), so the target value means the same: requests per
 * target per period.
 */
export class CloudWatchRequestCounts implements RequestCountSource {
  constructor(private readonly client: CloudWatchClient) {}

  async requestCountPerTarget(resourceLabel: string, _fromMs: number, toMs: number): Promise<number | undefined> {
    const parts = targetGroupOfLabel(resourceLabel);
    if (!parts) return undefined;
    // Whole minutes only: a partial minute would read low and scale in for nothing.
    const end = Math.floor(toMs / 60_000) * 60_000;
    const r = await this.client.send(new GetMetricDataCommand({
      StartTime: new Date(end - LOOKBACK_MS),
      EndTime: new Date(end),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [{
        Id: 'requests',
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCountPerTarget',
            Dimensions: [{ Name: 'TargetGroup', Value: parts.targetGroup }, { Name: 'LoadBalancer', Value: parts.loadBalancer }],
          },
          Period: PERIOD_SECONDS,
          Stat: 'Sum',
        },
      }],
    }));
    return r.MetricDataResults?.find((m) => m.Id === 'requests')?.Values?.[0];
  }
}
