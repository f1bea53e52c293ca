import { Cron } from 'croner';
import { ValidationException } from '../aws-protocol/errors';
import { type ScheduleExpression, cronOf, epochOfWallTime, parseScheduleExpression } from '../schedules/expression';

/**
 * Scheduled actions' expressions, as Application Auto Scaling reads them:
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, in the action's Timezone (UTC when none);
 * - `rate(N minute|minutes|hour|hours|day|days)`: every N units from the action's StartTime
 *   (its creation when none);
 * - `cron(minutes hours day-of-month month day-of-week year)`: EventBridge's six fields, `?` in
 *   one of the day fields, day-of-week 1–7 from Sunday, in the action's Timezone.
 * The calendar is croner's; the dialect is checked as schedules check it.
 */
export type Schedule =
  | { kind: 'at'; atMs: number }
  | { kind: 'rate'; everyMs: number }
  | { kind: 'cron'; cron: Cron };

/**
 * The expression checked by EventBridge's rules, the same parser as schedules'
 * (shared/schedules/expression.ts), with Application Auto Scaling's wording for a bad one.
 */
export function parseSchedule(expression: string, timezone = 'Etc/UTC'): Schedule {
  let e: ScheduleExpression;
  try {
    e = parseScheduleExpression(expression.trim());
  } catch {
    throw new ValidationException(`Invalid schedule expression: ${expression}`);
  }
  if (e.kind === 'rate') return { kind: 'rate', everyMs: e.periodMs };
  if (e.kind === 'cron') return { kind: 'cron', cron: cronOf(e.pattern, timezone) };
  return { kind: 'at', atMs: epochOfWallTime(e.wallTime, timezone) };
}

/**
 * The action's first fire time after `after` (epoch ms), within its StartTime and EndTime;
 * undefined when there is none.
 */
export function nextFireTime(
  s: Schedule,
  o: { after: number; anchor: number; startTime?: number; endTime?: number },
): number | undefined {
  const from = Math.max(o.after, (o.startTime ?? -Infinity) - 1);
  let next: number | undefined;
  if (s.kind === 'rate') {
    const base = o.startTime ?? o.anchor;
    const k = Math.max(0, Math.floor((from - base) / s.everyMs) + 1);
    next = base + k * s.everyMs;
  } else if (s.kind === 'at') {
    next = s.atMs > from ? s.atMs : undefined;
  } else {
    next = s.cron.nextRun(new Date(from))?.getTime();
  }
  if (next === undefined || (o.endTime !== undefined && next > o.endTime)) return undefined;
  return next;
}

/**
 * Whether the action is due at `now`: its next fire time since it last fired (or since it was
 * made) has come. Missed fire times collapse into one, as a late pass should not replay them.
 */
export function dueAt(
  s: Schedule,
  o: { lastFiredAt?: number; createdAt: number; startTime?: number; endTime?: number; now: number },
): number | undefined {
  const next = nextFireTime(s, { after: o.lastFiredAt ?? o.createdAt - 1, anchor: o.createdAt, startTime: o.startTime, endTime: o.endTime });
  return next !== undefined && next <= o.now ? next : undefined;
}
