import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Berth } from '../context';
import { lambdaConfig } from '../environment';
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
      logGroupName: lambdaConfig().metricsLogGroup,
      logStreamName: 'control-plane',
    }),
  };
  const data = await cached.collector.collect();
  await cached.sink.publish(data);
  return data.length;
}
