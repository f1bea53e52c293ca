import { Cron } from 'croner';
import { ValidationException } from './errors';

/**
 * A ScheduleExpression in EventBridge Scheduler's dialect. Berth checks AWS's rules itself and
 * leaves the calendar arithmetic of cron to croner (Quartz weekday numbering, AND of the day
 * fields, seconds fixed at 0), so `cron(...)` means what it means on AWS.
 */
export type ScheduleExpression =
  | { kind: 'at'; /** The wall-clock time, in the schedule's time zone. */ wallTime: WallTime }
  | { kind: 'rate'; value: number; unit: RateUnit; periodMs: number }
  | { kind: 'cron'; fields: CronFields; /** The same schedule as croner reads it. */ pattern: string };

export interface WallTime { year: number; month: number; day: number; hour: number; minute: number; second: number }
export type RateUnit = 'minute' | 'hour' | 'day';
export interface CronFields { minutes: string; hours: string; dayOfMonth: string; month: string; dayOfWeek: string; year: string }

const UNIT_MS: Record<RateUnit, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

const invalid = (expression: string, why?: string): never => {
  throw new ValidationException(`Invalid Schedule Expression ${expression}.${why ? ` ${why}` : ''}`);
};

/** Parses and checks an expression; ValidationException names what is wrong. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number);
    const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Date.UTC rolls 2030-02-30 over into March: a real date reads back unchanged.
    if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day
      || hour > 23 || minute > 59 || second > 59) invalid(expression, 'The date or time does not exist.');
    return { kind: 'at', wallTime: { year, month, day, hour, minute, second } };
  }
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const plural = rate[2].endsWith('s');
    if (!Number.isSafeInteger(value) || value < 1) invalid(expression, 'The value must be a positive integer.');
    // AWS's rule: 1 takes the singular unit, anything more the plural.
    if ((value === 1) === plural) invalid(expression, value === 1 ? 'Use the singular unit for 1.' : 'Use the plural unit for more than 1.');
    const unit = (plural ? rate[2].slice(0, -1) : rate[2]) as RateUnit;
    return { kind: 'rate', value, unit, periodMs: value * UNIT_MS[unit] };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return parseCron(expression, cron[1]);
  return invalid(expression);
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule { name: string; min: number; max: number; names?: string[]; special?: RegExp }

const RULES: Record<keyof CronFields, FieldRule> = {
  minutes: { name: 'minutes', min: 0, max: 59 },
  hours: { name: 'hours', min: 0, max: 23 },
  // L (last day), LW (last weekday), nW (weekday nearest the nth).
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, special: /^(L|LW|([1-9]|[12]\d|3[01])W)$/ },
  month: { name: 'month', min: 1, max: 12, names: MONTHS },
  // L (Saturday, the week's last day), nL (the month's last such day), n#k (its kth).
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: DAYS, special: /^(L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5]))$/i },
  year: { name: 'year', min: 1970, max: 2199 },
};

function parseCron(expression: string, body: string): ScheduleExpression {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) invalid(expression, 'A cron expression has six fields: minutes hours day-of-month month day-of-week year.');
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts;
  const fields: CronFields = { minutes, hours, dayOfMonth, month, dayOfWeek, year };
  for (const key of Object.keys(RULES) as (keyof CronFields)[]) checkField(expression, fields[key], RULES[key], key === 'dayOfMonth' || key === 'dayOfWeek');
  // AWS's rule: one day field says which days, the other is `?`; never both, never neither.
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    invalid(expression, 'Specify either day-of-month or day-of-week, and `?` in the other.');
  }
  const open = (field: string, key: keyof CronFields) => field.split(',').map((item) => item.replace(/^(\w+)\/(\d+)$/, `$1-${RULES[key].max}/$2`)).join(',');
  const pattern = ['0', open(minutes, 'minutes'), open(hours, 'hours'), dayOfMonth === '?' ? '*' : open(dayOfMonth, 'dayOfMonth'), open(month, 'month'),
    croneredDayOfWeek(open(dayOfWeek, 'dayOfWeek')), open(year, 'year')].join(' ');
  try {
    cronOf(pattern, 'UTC');
  } catch (e) {
    invalid(expression, String((e as Error).message ?? e));
  }
  return { kind: 'cron', fields, pattern };
}

/**
 * AWS's (Quartz's) `start/step` is croner's `start-max/step`; AWS's `nL` is croner's `n#L`; a lone `L` is Saturday, the last day of a Quartz week. */
function croneredDayOfWeek(field: string): string {
  if (field === '?') return '*';
  if (field.toUpperCase() === 'L') return '7';
  return field.split(',').map((item) => item.replace(/^(\w+)L$/i, '$1#L')).join(',');
}

function checkField(expression: string, field: string, rule: FieldRule, mayBeQuestion: boolean): void {
  if (field === '?') {
    if (!mayBeQuestion) invalid(expression, `\`?\` is only for day-of-month or day-of-week, not ${rule.name}.`);
    return;
  }
  for (const item of field.split(',')) {
    if (rule.special?.test(item)) continue;
    const m = /^(\*|(\w+)(?:-(\w+))?)(?:\/(\d+))?$/.exec(item);
    if (!m) invalid(expression, `Bad ${rule.name} field: ${field}.`);
    const [, , from, to, step] = m!;
    const value = (s: string) => {
      const named = rule.names?.indexOf(s.toUpperCase()) ?? -1;
      const n = named >= 0 ? named + rule.min : /^\d+$/.test(s) ? Number(s) : NaN;
      if (!(n >= rule.min && n <= rule.max)) invalid(expression, `${rule.name} must be within ${rule.min}-${rule.max}: ${s}.`);
      return n;
    };
    if (from !== undefined) value(from);
    if (to !== undefined && value(to) < value(from!)) invalid(expression, `Bad ${rule.name} range: ${item}.`);
    if (step !== undefined && Number(step) < 1) invalid(expression, `Bad ${rule.name} step: ${item}.`);
  }
}

/** croner reading a translated pattern: Quartz weekdays (1 = Sunday), both day fields must hold. */
export const cronOf = (pattern: string, timezone: string) =>
  new Cron(pattern, { timezone, mode: '7-part', alternativeWeekdays: true, domAndDow: true, paused: true });

/** Whether `timezone` is an IANA zone this runtime knows. */
export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at `epochMs` in `timezone`. */
export function wallTimeAt(epochMs: number, timezone: string): WallTime {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(epochMs)).map((p) => [p.type, p.value]));
  return { year: +parts.year, month: +parts.month, day: +parts.day, hour: +parts.hour, minute: +parts.minute, second: +parts.second };
}

const asUtc = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/**
 * The instant a wall-clock time names in `timezone`. A time that a DST change repeats is its
 * first occurrence; one it skips is moved forward by the gap, as a clock set by hand would be.
 */
export function epochOfWallTime(w: WallTime, timezone: string): number {
  const target = asUtc(w);
  const offsetAt = (t: number) => asUtc(wallTimeAt(t, timezone)) - t;
  // Two offsets bracket any DST change: try the earlier instant first.
  const candidates = [target - offsetAt(target - 86_400_000), target - offsetAt(target + 86_400_000)].sort((a, b) => a - b);
  for (const t of candidates) if (asUtc(wallTimeAt(t, timezone)) === target) return t;
  // In a gap: the time the clock shows before it jumps, read with the offset from before.
  return target - offsetAt(target - 86_400_000);
}
