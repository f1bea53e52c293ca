import type { MetricDatum } from './metric-datum';

/**
 * Where metrics go: CloudWatch Logs as EMF records (on AWS and locally), the local mode's
 * in-process registry behind `GET /metrics`, or the control plane (from an agent).
 */
export interface MetricsSink {
  publish(data: MetricDatum[]): Promise<void>;
}

/** Hands every batch to each sink; one failing does not keep the others from their batch. */
export class FanOutSink implements MetricsSink {
  private readonly sinks: MetricsSink[];

  constructor(...sinks: (MetricsSink | undefined)[]) {
    this.sinks = sinks.filter((s): s is MetricsSink => s !== undefined);
  }

  async publish(data: MetricDatum[]): Promise<void> {
    const results = await Promise.allSettled(this.sinks.map((s) => s.publish(data)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} metrics sink(s) failed`);
  }
}
