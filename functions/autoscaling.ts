import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { autoscalingPass } from '../shared/autoscaling/controller';
import { CloudWatchRequestCounts } from '../shared/cloud/aws/cloudwatch-request-counts';
import { CloudWatchTaskMetrics } from '../shared/cloud/aws/cloudwatch-task-metrics';
import { berthFromEnvironment } from '../shared/environment';

/** AWS's datapoint period: one minute, the schedule this function runs on. */
const PERIOD_MS = 60_000;

const cloudwatch = new CloudWatchClient({});

/**
 * Application Auto Scaling's controller, every minute: scheduled actions, MinCapacity and
 * MaxCapacity, and target tracking on the agents' task samples as CloudWatch extracted them from
 * their EMF records, and ALBRequestCountPerTarget on the target groups' RequestCountPerTarget.
 */
export const handler = async () => {
  const berth = berthFromEnvironment();
  const r = await autoscalingPass(berth, {
    metrics: new CloudWatchTaskMetrics(cloudwatch, berth.now),
    requestCounts: new CloudWatchRequestCounts(cloudwatch),
    periodMs: PERIOD_MS,
    // CloudWatch's newest minute may not be complete yet: look a few minutes back.
    sampleMaxAgeMs: 3 * PERIOD_MS,
  });
  console.log(JSON.stringify({ level: 'info', message: 'autoscaling pass', targets: r.targets, activities: r.activities.length }));
  return { targets: r.targets, activities: r.activities.length };
};
