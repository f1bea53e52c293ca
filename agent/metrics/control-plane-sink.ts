import type { MetricDatum } from '../../shared/metrics/metric-datum';
import type { MetricsSink } from '../../shared/metrics/sink';
import type { AgentClient } from '../client';

/** Per call, under the control plane's limit (see shared/agent-api/report-metrics.ts). */
const BATCH = 500;

/**
 * Hands the agent's task samples to the control plane (`BerthAgent.ReportMetrics`), which keeps
 * them for the local mode's `GET /metrics`. On AWS there is no `/metrics`: EMF alone is enough.
 */
export class ControlPlaneMetricsSink implements MetricsSink {
  constructor(private readonly client: Pick<AgentClient, 'reportMetrics'>) {}

  async publish(data: MetricDatum[]): Promise<void> {
    for (let i = 0; i < data.length; i += BATCH) await this.client.reportMetrics(data.slice(i, i + BATCH));
  }
}
