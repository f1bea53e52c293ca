import type { Datapoint, PolicyState } from './types';

/**
 * The target-tracking decision, pure: Application Auto Scaling's rules for the two alarms it
 * makes for every target-tracking policy (AWS's user guide, "How target tracking works"):
 * - AlarmHigh: the metric above the target for 3 datapoints in a row → scale out, at once
 *   (within a scale-out cooldown only past what the scale-out that started it set).
 * - AlarmLow: the metric below 90% of the target for 15 datapoints in a row → scale in, never
 *   within either cooldown, never when DisableScaleIn or scale-in is suspended.
 * The new capacity is proportional to how far the metric is from the target,
 * ceil(capacity × metric / target), within MinCapacity and MaxCapacity: out fast, in slowly.
 */
export const ALARM_HIGH_DATAPOINTS = 3;
export const ALARM_LOW_DATAPOINTS = 15;
/** AlarmLow's threshold, as a fraction of the target value. */
export const ALARM_LOW_RATIO = 0.9;
/** ECS targets' default cooldowns (seconds). */
export const DEFAULT_COOLDOWN_SECONDS = 300;

export interface TrackingInput {
  targetValue: number;
  /** The policy's datapoints, oldest first, one per period. */
  datapoints: readonly Datapoint[];
  periodMs: number;
  /** The service's desired count now. */
  capacity: number;
  minCapacity: number;
  maxCapacity: number;
  scaleOutCooldownMs: number;
  scaleInCooldownMs: number;
  disableScaleIn: boolean;
  scaleOutSuspended?: boolean;
  scaleInSuspended?: boolean;
  state: Omit<PolicyState, 'datapoints'>;
  now: number;
}

export interface ScalingDecision {
  kind: 'out' | 'in';
  alarm: 'AlarmHigh' | 'AlarmLow';
  capacity: number;
  metric: number;
}

export type TrackingDecision = { kind: 'none'; reason: string } | ScalingDecision;

/**
 * The last `n` datapoints, if they are a run: the newest recent and none missing between them.
 * A pass may come late (a slow store, a busy machine), so a gap counts as missing only past two
 * periods; a datapoint that is really missing breaks the run, as it keeps an alarm from firing.
 */
function lastRun(points: readonly Datapoint[], n: number, periodMs: number, now: number): number[] | undefined {
  const run = points.filter((p) => p.t <= now).slice(-n);
  if (run.length < n || now - run[run.length - 1].t > 2 * periodMs) return undefined;
  for (let i = 1; i < run.length; i++) if (run[i].t - run[i - 1].t > 2 * periodMs) return undefined;
  return run.map((p) => p.v);
}

/** ceil, forgiving float noise (3 × 50 / 50 must stay 3). */
const ceil = (x: number) => Math.ceil(x - 1e-9);

export const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));

/** The capacity that would bring the metric to the target, were the load spread evenly. */
export const proportional = (capacity: number, metric: number, target: number) => ceil((capacity * metric) / target);

export function decide(i: TrackingInput): TrackingDecision {
  const high = lastRun(i.datapoints, ALARM_HIGH_DATAPOINTS, i.periodMs, i.now);
  if (high && high.every((v) => v > i.targetValue)) {
    if (i.scaleOutSuspended) return { kind: 'none', reason: 'dynamic scale-out is suspended' };
    const metric = high[high.length - 1];
    const inCooldown = i.state.lastScaleOutAt !== undefined && i.now < i.state.lastScaleOutAt + i.scaleOutCooldownMs;
    // Inside the cooldown the capacity the last scale-out added counts as already there: only
    // more than it set may be asked for, from where it started.
    const base = inCooldown ? i.state.lastScaleOutFrom ?? i.capacity : i.capacity;
    const floor = inCooldown ? Math.max(i.capacity, i.state.lastScaleOutTo ?? i.capacity) : i.capacity;
    const wanted = clamp(Math.max(proportional(base, metric, i.targetValue), base + 1), i.minCapacity, i.maxCapacity);
    if (wanted <= floor) return { kind: 'none', reason: i.capacity >= i.maxCapacity ? 'already at MaxCapacity' : 'within the scale-out cooldown' };
    return { kind: 'out', alarm: 'AlarmHigh', capacity: wanted, metric };
  }
  const low = lastRun(i.datapoints, ALARM_LOW_DATAPOINTS, i.periodMs, i.now);
  if (low && low.every((v) => v < ALARM_LOW_RATIO * i.targetValue)) {
    if (i.disableScaleIn) return { kind: 'none', reason: 'scale-in is disabled' };
    if (i.scaleInSuspended) return { kind: 'none', reason: 'dynamic scale-in is suspended' };
    if (i.state.lastScaleOutAt !== undefined && i.now < i.state.lastScaleOutAt + i.scaleOutCooldownMs) return { kind: 'none', reason: 'within the scale-out cooldown' };
    if (i.state.lastScaleInAt !== undefined && i.now < i.state.lastScaleInAt + i.scaleInCooldownMs) return { kind: 'none', reason: 'within the scale-in cooldown' };
    const metric = low[low.length - 1];
    const wanted = clamp(proportional(i.capacity, metric, i.targetValue), i.minCapacity, i.maxCapacity);
    if (wanted >= i.capacity) return { kind: 'none', reason: i.capacity <= i.minCapacity ? 'already at MinCapacity' : 'no capacity to remove' };
    return { kind: 'in', alarm: 'AlarmLow', capacity: wanted, metric };
  }
  return { kind: 'none', reason: 'the metric is within its alarms' };
}

/** The policy's memory after a decision at `now`. */
export function afterDecision(state: PolicyState, d: TrackingDecision, capacity: number, now: number): PolicyState {
  if (d.kind === 'out') return { ...state, lastScaleOutAt: now, lastScaleOutFrom: capacity, lastScaleOutTo: d.capacity };
  if (d.kind === 'in') return { ...state, lastScaleInAt: now };
  return state;
}

/** Keeps the datapoints the alarms can still look at. */
export function withDatapoint(points: readonly Datapoint[], p: Datapoint): Datapoint[] {
  return [...points, p].slice(-ALARM_LOW_DATAPOINTS);
}

/**
 * Several policies on one target: scale out if any says so (to the largest capacity), scale in
 * only if every one does (to the largest of theirs), as Application Auto Scaling combines them.
 */
export function combine(decisions: readonly TrackingDecision[]): ScalingDecision | undefined {
  const outs = decisions.filter((d): d is ScalingDecision => d.kind === 'out');
  if (outs.length > 0) return outs.reduce((a, b) => (b.capacity > a.capacity ? b : a));
  const ins = decisions.filter((d): d is ScalingDecision => d.kind === 'in');
  if (ins.length > 0 && ins.length === decisions.length) return ins.reduce((a, b) => (b.capacity > a.capacity ? b : a));
  return undefined;
}
