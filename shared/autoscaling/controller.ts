import { randomUUID } from 'node:crypto';
import type { Berth } from '../context';
import { UpdateService } from '../ecs-api/services';
import { serviceGroup } from '../services/apply';
import { messages, withEvents } from '../services/events';
import { type RequestCountSource, type TaskMetricsSource, NO_REQUEST_COUNTS, TASK_METRIC } from './metrics';
import { dueAt, parseSchedule } from './schedule';
import { type ScalingDecision, afterDecision, clamp, combine, decide, withDatapoint } from './target-tracking';
import type { ScalableTargetRecord, ScalingActivityRecord, ScalingPolicyRecord } from './types';

/**
 * Application Auto Scaling's controller: for every scalable target, a pass fires the scheduled
 * actions that are due, keeps the desired count within MinCapacity and MaxCapacity, takes one
 * datapoint per period for each target-tracking policy from the agents' task samples (or the
 * load balancer's counts) and applies the decision (target-tracking.ts). Every change of the
 * desired count goes through UpdateService, as a user's would, and is recorded twice: a scaling
 * activity (DescribeScalingActivities) and a service event (DescribeServices).
 */
export interface AutoscalingOptions {
  /** The agents' task samples; without them, CPU and memory policies get no datapoints. */
  metrics?: TaskMetricsSource;
  requestCounts?: RequestCountSource;
  /** One datapoint per period (AWS: 60 s), and how often passes run. */
  periodMs: number;
  /** A task sample older than this is no datapoint. */
  sampleMaxAgeMs: number;
}

export interface PassResult {
  targets: number;
  activities: ScalingActivityRecord[];
}

export async function autoscalingPass(b: Berth, o: AutoscalingOptions): Promise<PassResult> {
  const targets = await b.store.autoscaling.listTargets();
  const activities: ScalingActivityRecord[] = [];
  for (const t of targets) activities.push(...(await targetPass(b, o, t)));
  return { targets: targets.length, activities };
}

async function targetPass(b: Berth, o: AutoscalingOptions, initial: ScalableTargetRecord): Promise<ScalingActivityRecord[]> {
  const out: ScalingActivityRecord[] = [];
  const service = await b.store.services.get(initial);
  if (!service || service.status !== 'ACTIVE') return out;
  let target = initial;
  let desired = service.desiredCount;

  if (!target.suspendedState.ScheduledScalingSuspended) {
    for (const action of await b.store.autoscaling.listScheduledActions(target)) {
      const now = b.now();
      const due = dueAt(parseSchedule(action.schedule, action.timezone), { ...action, now });
      if (due === undefined) continue;
      // Of two passes that saw it due, only the one that marks it carries it out.
      if (!(await b.store.autoscaling.markFired(target, action.scheduledActionName, action.lastFiredAt, now))) continue;
      const min = action.minCapacity ?? target.minCapacity;
      const max = action.maxCapacity ?? target.maxCapacity;
      const cause = `scheduled action name ${action.scheduledActionName} was triggered`;
      const description = `Setting min capacity to ${min} and max capacity to ${max}`;
      if (min > max) {
        out.push(await record(b, target, { description, cause, statusCode: 'Failed', statusMessage: 'Minimum capacity cannot be greater than maximum capacity', startTime: now }));
        continue;
      }
      const changed = await b.store.autoscaling.setCapacityRange(target, { minCapacity: min, maxCapacity: max });
      if (!changed) return out;
      target = changed;
      out.push(await record(b, target, { description, cause, statusCode: 'Successful', startTime: now }));
    }
  }

  const bounded = clamp(desired, target.minCapacity, target.maxCapacity);
  if (bounded !== desired) {
    const cause = bounded > desired ? `minimum capacity was set to ${target.minCapacity}` : `maximum capacity was set to ${target.maxCapacity}`;
    const a = await setDesiredCount(b, target, bounded, cause);
    out.push(a);
    if (a.statusCode === 'Successful') desired = bounded;
  }

  const policies = await b.store.autoscaling.listPolicies(target);
  if (policies.length === 0) return out;
  const now = b.now();
  const decided: { policy: ScalingPolicyRecord; decision: ReturnType<typeof decide> }[] = [];
  for (const policy of policies) {
    let datapoints = policy.state.datapoints;
    const last = datapoints[datapoints.length - 1];
    // A pass that comes early (a restart, a second runner) takes no extra datapoint.
    if (!last || now - last.t >= 0.9 * o.periodMs) {
      const v = await metricValue(b, o, target, policy, now);
      if (v !== undefined) datapoints = withDatapoint(datapoints, { t: now, v });
    }
    const c = policy.targetTracking;
    const { datapoints: _, ...state } = policy.state;
    const decision = decide({
      targetValue: c.TargetValue,
      datapoints,
      periodMs: o.periodMs,
      capacity: desired,
      minCapacity: target.minCapacity,
      maxCapacity: target.maxCapacity,
      scaleOutCooldownMs: (c.ScaleOutCooldown ?? 0) * 1000,
      scaleInCooldownMs: (c.ScaleInCooldown ?? 0) * 1000,
      disableScaleIn: c.DisableScaleIn ?? false,
      scaleOutSuspended: target.suspendedState.DynamicScalingOutSuspended,
      scaleInSuspended: target.suspendedState.DynamicScalingInSuspended,
      state,
      now,
    });
    decided.push({ policy: { ...policy, state: { ...policy.state, datapoints } }, decision });
  }
  const chosen = combine(decided.map((d) => d.decision));
  let applied: ScalingDecision | undefined;
  if (chosen) {
    const by = decided.find((d) => d.decision === chosen)!.policy;
    const alarm = by.alarms.find((a) => a.AlarmName.includes(`-${chosen.alarm}-`))?.AlarmName ?? chosen.alarm;
    const a = await setDesiredCount(b, target, chosen.capacity, `monitor alarm ${alarm} in state ALARM triggered policy ${by.policyName}`);
    out.push(a);
    if (a.statusCode === 'Successful') applied = chosen;
  }
  for (const { policy } of decided) {
    // Every policy learns of the change: each one's cooldowns count from the target's last scaling.
    const state = applied ? afterDecision(policy.state, applied, desired, now) : policy.state;
    await b.store.autoscaling.setPolicyState(target, policy.policyName, state);
  }
  return out;
}

/** The policy's metric now: the mean of the service's running tasks' latest samples, or the load balancer's count. */
async function metricValue(b: Berth, o: AutoscalingOptions, target: ScalableTargetRecord, policy: ScalingPolicyRecord, now: number): Promise<number | undefined> {
  const spec = policy.targetTracking.PredefinedMetricSpecification;
  if (spec.PredefinedMetricType === 'ALBRequestCountPerTarget') {
    return (o.requestCounts ?? NO_REQUEST_COUNTS).requestCountPerTarget(spec.ResourceLabel ?? '', now - o.periodMs, now);
  }
  if (!o.metrics) return undefined;
  const tasks = (await b.store.tasks.listByGroup(target.cluster, serviceGroup(target.serviceName)))
    .filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING');
  if (tasks.length === 0) return undefined;
  const values = [...(await o.metrics.latest(target.cluster, tasks.map((t) => t.taskId), TASK_METRIC[spec.PredefinedMetricType], o.sampleMaxAgeMs)).values()];
  return values.length === 0 ? undefined : values.reduce((a, v) => a + v, 0) / values.length;
}

/** Through UpdateService, as a user would; recorded as an activity and a service event. */
async function setDesiredCount(b: Berth, target: ScalableTargetRecord, desiredCount: number, cause: string): Promise<ScalingActivityRecord> {
  const startTime = b.now();
  const description = `Setting desired count to ${desiredCount}.`;
  try {
    await UpdateService(b, { cluster: target.cluster, service: target.serviceName, desiredCount }, {});
  } catch (e) {
    return record(b, target, { description, cause, startTime, statusCode: 'Failed', statusMessage: `Failed to set desired count to ${desiredCount}. ${e instanceof Error ? e.message : String(e)}` });
  }
  await b.store.services.mutate(target, (s) => ({
    ...s, events: withEvents(s.events, [messages.scaled(s.serviceName, desiredCount, cause)], b.now(), randomUUID),
  }));
  return record(b, target, {
    description, cause, startTime, statusCode: 'Successful',
    statusMessage: `Successfully set desired count to ${desiredCount}. Change successfully fulfilled by ecs.`,
  });
}


let activitySeq = 0;
/**
 * A UUID whose first group counts up in this process: activities of one millisecond (a scheduled
 * action and the change it causes) then list newest first, as the store breaks ties by id.
 */
const nextActivityId = (): string => `${(activitySeq++ % 0x1_0000_0000).toString(16).padStart(8, '0')}${randomUUID().slice(8)}`;

async function record(
  b: Berth, target: ScalableTargetRecord, a: Pick<ScalingActivityRecord, 'description' | 'cause' | 'statusCode' | 'statusMessage' | 'startTime'>,
): Promise<ScalingActivityRecord> {
  const activity: ScalingActivityRecord = { resourceId: target.resourceId, activityId: nextActivityId(), ...a, endTime: b.now() };
  await b.store.autoscaling.putActivity(activity);
  return activity;
}
