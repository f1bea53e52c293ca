import { DIMENSIONS, METRICS } from '../metrics/catalog';
import type { MetricDatum } from '../metrics/metric-datum';
import type { MetricsSink } from '../metrics/sink';
import type { PredefinedMetric } from './types';

/** The latest per-task samples the agents took: what ECSServiceAverage* metrics are made of. */
export interface TaskMetricsSource {
  /** Each task's latest value of the metric no older than `maxAgeMs`, by task id; tasks without one are left out. */
  latest(cluster: string, taskIds: readonly string[], metricName: string, maxAgeMs: number): Promise<Map<string, number>>;
}

/**
 * Requests per target of a target group over a window, for ALBRequestCountPerTarget: what the
 * load balancer counts. Until a load balancer feeds it, there is no such datapoint.
 */
export interface RequestCountSource {
  /** `resourceLabel` is the policy's `app/LB/ID/targetgroup/TG/ID`; undefined when unknown. */
  requestCountPerTarget(resourceLabel: string, fromMs: number, toMs: number): Promise<number | undefined>;
}

export const NO_REQUEST_COUNTS: RequestCountSource = { requestCountPerTarget: async () => undefined };

/** The task metric each predefined ECS metric averages over the service's tasks. */
export const TASK_METRIC: Readonly<Record<Exclude<PredefinedMetric, 'ALBRequestCountPerTarget'>, string>> = {
  ECSServiceAverageCPUUtilization: METRICS.taskCpuUtilization.name,
  ECSServiceAverageMemoryUtilization: METRICS.taskMemoryUtilization.name,
};

/**
 * The local mode's window of task samples: a metrics sink beside the `/metrics` registry, fed by
 * the agents' reports, that keeps each task's latest value of each metric.
 */
export class TaskSampleWindow implements MetricsSink, TaskMetricsSource {
  private readonly latestByKey = new Map<string, { value: number; at: number }>();

  constructor(private readonly now: () => number) {}

  async publish(data: MetricDatum[]): Promise<void> {
    const at = this.now();
    for (const d of data) {
      const cluster = d.dimensions[DIMENSIONS.cluster];
      const task = d.dimensions[DIMENSIONS.task];
      if (cluster === undefined || task === undefined || d.values.length === 0) continue;
      this.latestByKey.set(JSON.stringify([cluster, task, d.name]), { value: d.values[d.values.length - 1], at });
    }
    // Forget what no pass can use any more, so stopped tasks do not pile up.
    for (const [k, v] of this.latestByKey) if (v.at < at - 3_600_000) this.latestByKey.delete(k);
  }

  async latest(cluster: string, taskIds: readonly string[], metricName: string, maxAgeMs: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const cutoff = this.now() - maxAgeMs;
    for (const task of taskIds) {
      const s = this.latestByKey.get(JSON.stringify([cluster, task, metricName]));
      if (s && s.at >= cutoff) out.set(task, s.value);
    }
    return out;
  }
}
