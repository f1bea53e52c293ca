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
import { FanOutSink } from '../shared/metrics/sink';
import { runBillingRound } from '../shared/billing/export';
import { HOUR_MS } from '../shared/billing/report';
import { DirectoryCostExportStore } from '../shared/cloud/local/directory-cost-export';

type Handler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalMetrics {
  registry: MetricsRegistry;
  /** `GET /metrics`: the registry as Prometheus text. */
  handler: Handler;
  /** Starts the control plane's own round; returns what stops it. */
  start(o: { berth: Berth; url: string; credentials: Credentials; log: (line: string) => void }): () => Promise<void>;
}

/**
 * The local mode's metrics. Agents report their task samples to the control plane, which keeps
 * them in the registry; the control plane's own round feeds the registry too and writes EMF
 * records to the metrics log group through the endpoint's CloudWatch Logs slice, as the agents do.
 */
export function localMetrics(o: { intervalMs: number; logGroupName?: string; costExportDir?: string }): LocalMetrics {
  // A few rounds, and never under 15 s: a slow round on a busy machine must not blank a series.
  const registry = new MetricsRegistry({ staleAfterMs: Math.max(5 * o.intervalMs, 15_000) });
  return {
    registry,
    handler: async () => ({ statusCode: 200, headers: { 'content-type': PROMETHEUS_CONTENT_TYPE }, body: registry.render() }),
    start({ berth, url, credentials, log }) {
      const logs = new CloudWatchLogsClient({ endpoint: url, region: berth.partition.region, credentials, maxAttempts: 2 });
      const emf = new CloudWatchLogsEmfSink({ client: logs, logGroupName: o.logGroupName ?? DEFAULT_METRICS_LOG_GROUP, logStreamName: 'control-plane' });
      const collector = new ControlPlaneMetrics(berth, o.intervalMs);
      const loop = startMetricsLoop({ intervalMs: o.intervalMs, collect: () => collector.collect(), sink: new FanOutSink(registry, emf), log });
      // The cost of every hour as EMF records (stream `billing`), and each day's usage as a CSV
      // file in the data directory, as the billing function does on AWS with its bucket.
      const billing = startHourlyBilling(berth, {
        metrics: new CloudWatchLogsEmfSink({ client: logs, logGroupName: o.logGroupName ?? DEFAULT_METRICS_LOG_GROUP, logStreamName: 'billing' }),
        ...(o.costExportDir !== undefined ? { exports: new DirectoryCostExportStore(o.costExportDir) } : {}),
      }, log);
      return async () => {
        billing();
        await loop.stop();
        logs.destroy();
      };
    },
  };
}

/** A minute past every hour (on the real clock, as the AWS schedule fires), one billing round. */
function startHourlyBilling(berth: Berth, o: Parameters<typeof runBillingRound>[1], log: (line: string) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    const wait = HOUR_MS - (berth.now() % HOUR_MS) + 60_000;
    timer = setTimeout(() => {
      runBillingRound(berth, o)
        .then((s) => s.exported && log(`billing: ${s.metrics} cost metric(s) for ${s.hour.from}, usage written to ${s.exported}`))
        .catch((e) => log(`billing round failed: ${e}`))
        .finally(schedule);
    }, wait);
    timer.unref();
  };
  schedule();
  return () => clearTimeout(timer);
}
