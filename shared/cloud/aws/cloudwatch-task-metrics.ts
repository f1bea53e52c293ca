import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { TaskMetricsSource } from '../../autoscaling/metrics';
import { DIMENSIONS, METRICS_NAMESPACE } from '../../metrics/catalog';

/** GetMetricData takes at most 500 queries per call. */
const MAX_QUERIES = 500;

/**
 * The agents' task samples as CloudWatch has them on AWS (extracted from their EMF records, per
 * ClusterName and TaskId), for Application Auto Scaling's ECSServiceAverage* metrics: each
 * task's latest one-minute average no older than `maxAgeMs`.
 */
export class CloudWatchTaskMetrics implements TaskMetricsSource {
  constructor(private readonly client: CloudWatchClient, private readonly now: () => number) {}

  async latest(cluster: string, taskIds: readonly string[], metricName: string, maxAgeMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const end = this.now();
    for (let i = 0; i < taskIds.length; i += MAX_QUERIES) {
      const batch = taskIds.slice(i, i + MAX_QUERIES);
      const r = await this.client.send(new GetMetricDataCommand({
        StartTime: new Date(end - maxAgeMs),
        EndTime: new Date(end),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: batch.map((taskId, n) => ({
          Id: `t${n}`,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: METRICS_NAMESPACE,
              MetricName: metricName,
              Dimensions: [{ Name: DIMENSIONS.cluster, Value: cluster }, { Name: DIMENSIONS.task, Value: taskId }],
            },
            Period: 60,
            Stat: 'Average',
          },
        })),
      }));
      for (const result of r.MetricDataResults ?? []) {
        const value = result.Values?.[0];
        const n = Number(result.Id?.slice(1));
        if (value !== undefined && Number.isInteger(n) && batch[n] !== undefined) out.set(batch[n], value);
      }
    }
    return out;
  }
}
