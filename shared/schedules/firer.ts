import { createHash } from 'node:crypto';
import type { Berth } from '../context';
import { EcsError } from '../domain/errors';
import { forEachLimited } from '../domain/limited';
import { RunTask } from '../ecs-api/tasks';
import { METRICS } from '../metrics/catalog';
import { MAX_FAILURES, type ScheduleKey, type ScheduleRecord } from '../store';
import { type ExhaustedRetryCondition, deadLetterOf } from './dead-letter';
import { dueFrom, scheduleArn } from './schedule';
import { DEFAULT_RETRY_POLICY, clusterOfTarget, runTaskBodyOf } from './target';

export interface FireOptions {
  /** The first retry's delay; each next one doubles, up to RETRY_CAP_MS. AWS waits about a minute. */
  retryBaseMs?: number;
  log?: (line: object) => void;
  /**
   * The schedules' clock, when it is not the Berth's: the local mode's tests move it to show a
   * rate or a cron firing on time without waiting for it (tasks keep the Berth's clock).
   */
  now?: () => number;
}

/** What one look at a schedule did. */
export type FireOutcome = 'not-due' | 'ran' | 'retrying' | 'dropped' | 'lost-race';

export const DEFAULT_RETRY_BASE_MS = 60_000;
const RETRY_CAP_MS = 10 * 60_000;

/**
 * RunTask's clientToken for one due time of one schedule. Every firer that meets that due time
 * (two control planes, a retry after a crash between RunTask and the write that follows it, an
 * at-least-once delivery on AWS) sends the same token, so the tasks are made once.
 */
export function fireToken(b: Berth, s: ScheduleRecord): string {
  return createHash('sha256').update(`${scheduleArn(b.partition, s.groupName, s.name)}|${s.createdAt}|${s.dueAt}`).digest('hex');
}

/**
 * Runs the schedule's task if its time has come: RunTask under the due time's token, then one
 * write conditional on the version that was read. A failed RunTask is tried again per the
 * target's RetryPolicy, then given up on and recorded (`failures`, and the metrics).
 */
export async function fireSchedule(b: Berth, s: ScheduleRecord, o: FireOptions = {}): Promise<FireOutcome> {
  const now = (o.now ?? b.now)();
  if (s.state !== 'ENABLED' || s.dueAt === undefined || s.fireAt === undefined || s.fireAt > now) return 'not-due';
  let taskArns: string[] | undefined;
  let failure: { code: string; message: string } | undefined;
  let request: Record<string, unknown> | undefined;
  try {
    request = runTaskBodyOf(s.target.EcsParameters as Record<string, unknown>, clusterOfTarget(s.target), s, fireToken(b, s));
    const r = await RunTask(b, request, {}) as { tasks: { taskArn: string }[]; failures: { reason?: string; detail?: string }[] };
    if (r.failures.length > 0) {
      failure = { code: r.failures[0].reason ?? 'Failure', message: r.failures.map((f) => `${f.reason}${f.detail ? `: ${f.detail}` : ''}`).join('; ') };
    } else taskArns = r.tasks.map((t) => t.taskArn);
  } catch (e) {
    // The token was used with other parameters: a firer that read an older version of this
    // schedule already ran this due time.
    if (e instanceof EcsError && e.name === 'ConflictException') taskArns = [];
    else failure = e instanceof EcsError ? { code: e.name, message: e.message } : { code: 'InternalError', message: String(e) };
  }
  const error = failure && `${failure.code}: ${failure.message}`;
  const group = { ScheduleGroup: s.groupName };
  if (taskArns !== undefined) {
    // A run outranks a failure another firer recorded for the same due time meanwhile (its
    // RunTask failed where ours made the tasks): move on from the fresh record while it still
    // holds this due time.
    let current: ScheduleRecord | undefined = s;
    for (let tries = 0; tries < 10 && current?.createdAt === s.createdAt && current.dueAt === s.dueAt; tries++) {
      if (await advance(b, current, now, { lastRun: { dueAt: s.dueAt, firedAt: now, taskArns } })) return 'ran';
      current = await b.store.schedules.get(s);
    }
    return 'lost-race';
  }
  await b.metrics?.publish([{ name: METRICS.scheduleTargetErrors.name, unit: 'Count', values: [1], dimensions: group, timestamp: now }]);
  const policy = { ...DEFAULT_RETRY_POLICY, ...(s.target.RetryPolicy as object | undefined) };
  const attempts = s.attempts + 1;
  const retryAt = now + Math.min((o.retryBaseMs ?? DEFAULT_RETRY_BASE_MS) * 2 ** (attempts - 1), RETRY_CAP_MS);
  const exhausted: ExhaustedRetryCondition | undefined = attempts > policy.MaximumRetryAttempts ? 'MaximumRetryAttempts'
    : retryAt - s.dueAt > policy.MaximumEventAgeInSeconds * 1000 ? 'MaximumEventAgeInSeconds' : undefined;
  if (exhausted === undefined) {
    // Conditional on the version read: of two firers that both failed, one counts the attempt.
    const ok = await b.store.schedules.replace({ ...s, attempts, fireAt: retryAt, lastError: error, version: s.version + 1 }, s.version);
    return ok ? 'retrying' : 'lost-race';
  }
  o.log?.({ level: 'warn', message: 'schedule dropped a due time', schedule: `${s.groupName}/${s.name}`, dueAt: new Date(s.dueAt).toISOString(), attempts, error });
  const failures = [...(s.failures ?? []), { dueAt: s.dueAt, at: now, attempts, reason: error! }].slice(-MAX_FAILURES);
  // Only the firer whose write records the drop sends the dead letter: one message per due time.
  if (!(await advance(b, s, now, { failures }))) return 'lost-race';
  await b.metrics?.publish([{ name: METRICS.scheduleInvocationsDropped.name, unit: 'Count', values: [1], dimensions: group, timestamp: now }]);
  await sendDeadLetter(b, s, { now, exhausted, failure: failure!, request: JSON.stringify(request ?? {}) }, o);
  return 'dropped';
}

/**
 * The dropped due time to the target's DeadLetterConfig queue, as EventBridge Scheduler sends it.
 * A queue that is missing or refuses it is logged and counted (Scheduler's
 * InvocationsFailedToBeSentToDeadLetterCount); the drop itself stands.
 */
async function sendDeadLetter(
  b: Berth, s: ScheduleRecord, d: { now: number; exhausted: ExhaustedRetryCondition; failure: { code: string; message: string }; request: string }, o: FireOptions,
): Promise<void> {
  const queueArn = (s.target.DeadLetterConfig as { Arn?: string } | undefined)?.Arn;
  if (queueArn === undefined) return;
  const letter = deadLetterOf({
    scheduleArn: scheduleArn(b.partition, s.groupName, s.name),
    targetArn: s.target.Arn,
    scheduledTime: s.dueAt!,
    executionId: fireToken(b, s).slice(0, 16),
    retryAttempts: s.attempts,
    condition: d.exhausted,
    errorCode: d.failure.code,
    errorMessage: d.failure.message,
    request: d.request,
  });
  const group = { ScheduleGroup: s.groupName };
  try {
    if (!b.deadLetters) throw new Error('no dead-letter sink is configured');
    await b.deadLetters.send(queueArn, letter);
    await b.metrics?.publish([{ name: METRICS.scheduleDeadLettersSent.name, unit: 'Count', values: [1], dimensions: group, timestamp: d.now }]);
  } catch (e) {
    o.log?.({ level: 'error', message: 'schedule could not send a dead letter', schedule: `${s.groupName}/${s.name}`, queueArn, error: String(e) });
    await b.metrics?.publish([{ name: METRICS.scheduleDeadLettersFailed.name, unit: 'Count', values: [1], dimensions: group, timestamp: d.now }]);
  }
}

/**
 * Moves the schedule on to its next due time, or ends it (deleted with ActionAfterCompletion
 * DELETE). Due times that passed while nothing fired (the local mode was down) are skipped but
 * for the one in hand, which has just run: a restart loses no due run and doubles none.
 */
async function advance(b: Berth, s: ScheduleRecord, now: number, outcome: Partial<ScheduleRecord>): Promise<boolean> {
  const windowMs = (s.flexibleTimeWindow.MaximumWindowInMinutes ?? 0) * 60_000;
  const next = dueFrom(b.partition, s, Math.max(s.dueAt! + 1, now - windowMs));
  if (next.dueAt === undefined && s.actionAfterCompletion === 'DELETE') {
    const deleted = await b.store.schedules.delete(s, s.version);
    if (deleted) await b.scheduleMirror?.delete(s);
    return deleted;
  }
  const { lastError: _, ...rest } = s;
  return b.store.schedules.replace({ ...rest, ...next, ...outcome, dueAt: next.dueAt, fireAt: next.fireAt, version: s.version + 1 }, s.version);
}

/**
 * How many due schedules one pass fires at once: one after another, a thousand due in the same
 * second would wait for each other's RunTask (bench:batch's lateness figures).
 */
export const FIRE_CONCURRENCY = 16;

/** Every enabled schedule due by now, each fired once; what each did. */
export async function fireDue(b: Berth, o: FireOptions = {}): Promise<Map<string, FireOutcome>> {
  const out = new Map<string, FireOutcome>();
  await forEachLimited(await b.store.schedules.listDue((o.now ?? b.now)()), FIRE_CONCURRENCY, async (s) => {
    out.set(`${s.groupName}/${s.name}`, await fireSchedule(b, s, o));
  });
  return out;
}

/**
 * On AWS, EventBridge Scheduler invokes Berth for one schedule at its due time (within its
 * flexible window, which it chose itself): the due time in hand runs if it has come, give or
 * take Scheduler's one-minute precision.
 */
export async function fireInvoked(b: Berth, key: ScheduleKey, o: FireOptions = {}): Promise<FireOutcome> {
  const s = await b.store.schedules.get(key);
  if (!s || s.dueAt === undefined || s.dueAt > b.now() + 60_000) return 'not-due';
  return fireSchedule(b, { ...s, fireAt: Math.min(s.fireAt ?? s.dueAt, b.now()) }, o);
}
