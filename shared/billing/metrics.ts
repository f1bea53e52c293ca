import type { MetricDatum } from '../metrics/metric-datum';
import type { CostReport } from './report';

/**
 * A cost report grouped by cluster and service as metrics, one set per hour: BerthCost and
 * FargatePrice in USD (unit None), dimensions ClusterName and ServiceName ('-' for tasks no
 * service started), so CloudWatch can alarm on a service's spend. Feed it a report of
 * `groupBy: ['cluster', 'service']`; formatEmf makes the records.
 */
export function costMetrics(report: CostReport): MetricDatum[] {
  if (report.groupBy.join() !== 'cluster,service') throw new RangeError('costMetrics needs a report grouped by cluster,service');
  const keys = new Map(report.groups.map((g) => [g.group, g.key]));
  const out: MetricDatum[] = [];
  for (const b of report.series.buckets) {
    const timestamp = Date.parse(b.start);
    for (const [group, c] of Object.entries(b.groups)) {
      const key = keys.get(group);
      if (!key) continue;
      const dimensions = { ClusterName: key.cluster, ServiceName: key.service };
      out.push({ name: 'BerthCost', unit: 'None', values: [c.berth / 1e6], dimensions, timestamp });
      out.push({ name: 'FargatePrice', unit: 'None', values: [c.fargate / 1e6], dimensions, timestamp });
    }
    out.push({ name: 'FleetOverhead', unit: 'None', values: [b.overhead / 1e6], dimensions: {}, timestamp });
  }
  return out;
}
