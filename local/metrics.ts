import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Credentials } from '../shared/auth/access-keys';
import type { Berth } from '../shared/context';
import { DEFAULT_METRICS_LOG_GROUP } from '../shared/metrics/catalog';
import { CloudWatchLogsEmfSink } from '../shared/metrics/cloudwatch-logs-emf-sink';
import { ControlPlaneMetrics } from '../shared/metrics/control-plane';
import { startMetricsLoop } from '../shared/metrics/metrics-loop';
import { PROMETHEUS_CONTENT_TYPE } from '../shared/metrics/prometheus';
import { MetricsRegistry } from '../shared/metrics/registry';
import { FanOutSink, type MetricsSink } from '../shared/metrics/sink';
import { runBillingRound } from '../shared/billing/export';
import { HOUR_MS } from '../shared/billing/report';
import { DirectoryCostExportStore } from '../shared/cloud/local/directory-cost-export';

type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalMetrics {
  registry: MetricsRegistry;
  /** `GET /metrics`: the registry as Prometheus text. */
  handler: Handler;
  /** The registry as one region's sink: each series it gets carries that region as its `region` label. */
  inRegion(region: string): MetricsSink;
  /**
   * Starts a region's control-plane round (its counts, into the registry and as EMF records to that
   * region's metrics log group) and, unless `billing` is false, the hourly billing; returns what stops them.
   */
  start(o: { berth: Berth; url: string; credentials: Credentials; log: (line: string) => void; billing?: boolean }): () => Promise<void>;
}

/**
 * The local mode's metrics. Agents report their task samples to the control plane, which keeps
 * them in the registry; the control plane's own round feeds the registry too and writes EMF
 * records to the metrics log group through the endpoint's CloudWatch Logs slice, as the agents do.
 */
export function localMetrics(o: { intervalMs: number; logGroupName?: string; costExportDir?: string }): LocalMetrics {
  // A few rounds, and never under 15 s: a slow round on a busy machine must not blank a series.
  const registry = new MetricsRegistry({ staleAfterMs: Math.max(5 * o.intervalMs, 15_000) });
  // A property, not a dimension: it labels the Prometheus series without renaming a CloudWatch one.
  const inRegion = (region: string): MetricsSink => ({
    publish: async (data) => registry.record(data.map((d) => ({ ...d, properties: { ...d.properties, Region: region } }))),
  });
  return {
    registry,
    handler: async () => ({ statusCode: 200, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE }, body: registry.render() }),
    inRegion,
    start({ berth, url, credentials, log, billing: bills = true }) {
      const logs = new CloudWatchLogsClient({ endpoint: url, region: berth.partition.region, credentials, maxAttempts: 2 });
      const emf = new CloudWatchLogsEmfSink({ client: logs, logGroupName: o.logGroupName ?? DEFAULT_METRICS_LOG_GROUP, logStreamName: 'control-plane' });
      const collector = new ControlPlaneMetrics(berth, o.intervalMs);
      const loop = startMetricsLoop({ intervalMs: o.intervalMs, collect: () => collector.collect(), sink: new FanOutSink(inRegion(berth.partition.region), emf), log });
      // The cost of every hour as EMF records (stream `billing`), and each day's usage as a CSV
      // file in the data directory, as the billing function does on AWS with its bucket.
      const billing = !bills ? async () => {} : startHourlyBilling(berth, {
        metrics: new CloudWatchLogsEmfSink({ client: logs, logGroupName: o.logGroupName ?? DEFAULT_METRICS_LOG_GROUP, logStreamName: 'billing' }),
        ...(o.costExportDir !== undefined ? { exports: new DirectoryCostExportStore(o.costExportDir) } : {}),
      }, log);
      return async () => {
        await billing();
        await loop.stop();
        logs.destroy();
      };
    },
  };
}

/** A minute past every hour (on the real clock, as the AWS schedule fires), one billing round. */
function startHourlyBilling(berth: Berth, o: Parameters<typeof runBillingRound>[1], log: (line: string) => void): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const wait = HOUR_MS - (berth.now() % HOUR_MS) + 60_000;
    timer = setTimeout(() => {
      running = runBillingRound(berth, o)
        .then((s) => s.exported && log(`billing: ${s.metrics} cost metric(s) for ${s.hour.from}, usage written to ${s.exported}`))
        .catch((e) => log(`billing round failed: ${e}`))
        .finally(schedule);
    }, wait);
    timer.unref();
  };
  schedule();
  // A round in flight ends before the store closes.
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
