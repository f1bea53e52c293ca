/**
 * One observation of one metric, as every part of Berth hands it on: the agent's per-task
 * samples, the control plane's counts. Sinks turn it into EMF records or Prometheus series.
 */
export interface MetricDatum {
  /** The CloudWatch metric name, e.g. CPUUtilization (see METRICS in catalog.ts). */
  name: string;
  unit: MetricUnit;
  /** One value for a gauge; several for a distribution (e.g. one latency per launch). */
  values: number[];
  /** The CloudWatch dimensions: they name the series. */
  dimensions: Record<string, string>;
  /** Context that does not name the series (e.g. the host a task runs on). */
  properties?: Record<string, string>;
  /** Epoch milliseconds. */
  timestamp: number;
}

/** CloudWatch's standard units that Berth uses. */
export const METRIC_UNITS = ['Percent', 'Megabytes', 'Milliseconds', 'Count', 'None'] as const;
export type MetricUnit = (typeof METRIC_UNITS)[number];
