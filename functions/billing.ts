import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { runBillingRound } from '../shared/billing/export';
import { S3CostExportStore } from '../shared/cloud/aws/s3-cost-export';
import { berthFromEnvironment, lambdaConfig } from '../shared/environment';
import { CloudWatchLogsEmfSink } from '../shared/metrics/cloudwatch-logs-emf-sink';

/**
 * A minute past every hour (EventBridge schedule): the hour's cost as EMF metrics in the metrics
 * log group, and the day's usage as a CSV file in the stack's cost bucket (BERTH_COST_BUCKET).
 */
export const handler = async () => {
  const metrics = new CloudWatchLogsEmfSink({ client: new CloudWatchLogsClient({}), logGroupName: lambdaConfig().metricsLogGroup, logStreamName: 'billing' });
  const bucket = process.env.BERTH_COST_BUCKET;
  const exports = bucket ? new S3CostExportStore({ client: new S3Client({}), bucket }) : undefined;
  const summary = await runBillingRound(berthFromEnvironment(), { metrics, ...(exports ? { exports } : {}) });
  console.log(JSON.stringify({ level: 'info', message: 'billing round', ...summary }));
  return summary;
};
