import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Berth } from '../context';
import { DEFAULT_METRICS_LOG_GROUP } from './catalog';
import { CloudWatchLogsEmfSink } from './cloudwatch-logs-emf-sink';
import { ControlPlaneMetrics } from './control-plane';

/** The capacity function runs every minute: the control plane's metrics round on AWS. */
const AWS_METRICS_INTERVAL_MS = 60_000;

let cached: { collector: ControlPlaneMetrics; sink: CloudWatchLogsEmfSink } | undefined;

/**
 * On AWS, one round of the control plane's metrics as EMF records in BERTH_METRICS_LOG_GROUP
 * (default /berth/metrics), from which CloudWatch extracts them. Kept across warm invocations,
 * so each launch is counted once.
 */
export async function publishControlPlaneMetrics(b: Berth): Promise<number> {
  cached ??= {
    collector: new ControlPlaneMetrics(b, AWS_METRICS_INTERVAL_MS),
    sink: new CloudWatchLogsEmfSink({
      client: new CloudWatchLogsClient({}),
      logGroupName: process.env.BERTH_METRICS_LOG_GROUP || DEFAULT_METRICS_LOG_GROUP,
      logStreamName: 'control-plane',
    }),
  };
  const data = await cached.collector.collect();
  await cached.sink.publish(data);
  return data.length;
}
