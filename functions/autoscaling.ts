import { autoscalingPass } from '../shared/autoscaling/controller';
import { berthFromEnvironment } from '../shared/environment';

/** AWS's datapoint period: one minute, the schedule this function runs on. */
const PERIOD_MS = 60_000;

/**
 * Application Auto Scaling's controller, every minute: scheduled actions, MinCapacity and
 * MaxCapacity, and target tracking on ALBRequestCountPerTarget once a load balancer feeds it.
 * On AWS the agents' task samples go to CloudWatch only (EMF), so no task metrics source is
 * plugged in here yet: CPU and memory policies take no datapoints on AWS (see README).
 */
export const handler = async () => {
  const r = await autoscalingPass(berthFromEnvironment(), { periodMs: PERIOD_MS, sampleMaxAgeMs: 3 * PERIOD_MS });
  console.log(JSON.stringify({ level: 'info', message: 'autoscaling pass', targets: r.targets, activities: r.activities.length }));
  return { targets: r.targets, activities: r.activities.length };
};
