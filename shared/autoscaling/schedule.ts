import { Cron } from 'croner';
import { ValidationException } from '../aws-protocol/errors';

/**
 * Scheduled actions' expressions, as Application Auto Scaling reads them:
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, in the action's Timezone (UTC when none);
 * - `rate(N minute|minutes|hour|hours|day|days)`: every N units from the action's StartTime
 *   (its creation when none);
 * - `cron(minutes hours day-of-month month day-of-week year)`: EventBridge's six fields, `?` in
 *   one of the day fields, day-of-week 1–7 from Sunday, in the action's Timezone.
 * Parsing and the calendar are croner's; this file only translates AWS's spelling.
 */
export type Schedule =
  | { kind: 'at'; cron: Cron }
  | { kind: 'rate'; everyMs: number }
  | { kind: 'cron'; cron: Cron };

const RATE_UNITS: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

const invalid = (expression: string): never => {
  throw new ValidationException(`Invalid schedule expression: ${expression}`);
};

export function parseSchedule(expression: string, timezone = 'Etc/UTC'): Schedule {
  const m = /^(at|rate|cron)\((.*)\)$/.exec(expression.trim());
  if (!m) return invalid(expression);
  const [, kind, inner] = m;
  try {
    if (kind === 'at') {
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(inner)) return invalid(expression);
      return { kind, cron: new Cron(inner, { timezone, paused: true }) };
    }
    if (kind === 'rate') {
      const r = /^(\d+)\s+([a-z]+)$/.exec(inner.trim());
      const unit = r && RATE_UNITS[r[2]];
      const n = r ? Number(r[1]) : 0;
      // AWS: `rate(1 minute)` but `rate(5 minutes)`.
      if (!r || !unit || n < 1 || (n === 1) === r[2].endsWith('s')) return invalid(expression);
      return { kind, everyMs: n * unit };
    }
    const fields = inner.trim().split(/\s+/);
    if (fields.length !== 6) return invalid(expression);
    const [min, hour, dom, month, dow, year] = fields;
    // EventBridge asks for `?` in exactly one day field; croner's `?` means something else.
    if ((dom === '?') === (dow === '?')) return invalid(expression);
    const star = (f: string) => (f === '?' ? '*' : f);
    const pattern = ['0', min, hour, star(dom), month, star(dow), year].join(' ');
    return { kind: 'cron', cron: new Cron(pattern, { timezone, paused: true, mode: '7-part', alternativeWeekdays: true }) };
  } catch (e) {
    if (e instanceof ValidationException) throw e;
    return invalid(expression);
  }
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
