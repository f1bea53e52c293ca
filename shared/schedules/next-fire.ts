import { type ScheduleExpression, cronOf, epochOfWallTime } from './expression';

/** What decides when a schedule is due: its expression and the dates around it. */
export interface Timing {
  expression: ScheduleExpression;
  timezone: string;
  /** Epoch milliseconds; recurring schedules start no earlier (one-time schedules ignore it). */
  startDate?: number;
  /** Epoch milliseconds; recurring schedules run no later (one-time schedules ignore it). */
  endDate?: number;
  /** When the schedule was made: a rate without a StartDate counts from here. */
  createdAt: number;
}

/**
 * The first due time at or after `fromMs`, or undefined when there is none (an `at()` that has
 * passed, a cron past its last year, a recurring schedule past its EndDate).
 */
export function nextFireTime(t: Timing, fromMs: number): number | undefined {
  const e = t.expression;
  if (e.kind === 'at') {
    const at = epochOfWallTime(e.wallTime, t.timezone);
    return at >= fromMs ? at : undefined;
  }
  const from = Math.max(fromMs, t.startDate ?? -Infinity);
  let next: number | undefined;
  if (e.kind === 'rate') {
    // A rate runs at its start (StartDate, else creation) and every period after it.
    const anchor = t.startDate ?? t.createdAt;
    const periods = Math.max(0, Math.ceil((from - anchor) / e.periodMs));
    next = anchor + periods * e.periodMs;
  } else {
    // croner looks strictly after the second it is given; one millisecond back makes `from` itself count.
    next = cronOf(e.pattern, t.timezone).nextRun(new Date(from - 1))?.getTime();
  }
  return next !== undefined && (t.endDate === undefined || next <= t.endDate) ? next : undefined;
}

/**
 * Where in its flexible window a due time runs: a spread that is the same for the same
 * schedule and due time (so every firer agrees), within [0, window).
 */
export function flexibleOffsetMs(scheduleArn: string, dueAt: number, maximumWindowInMinutes: number | undefined): number {
  if (!maximumWindowInMinutes) return 0;
  let h = 2166136261;
  for (const c of `${scheduleArn}@${dueAt}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h % (maximumWindowInMinutes * 60_000);
}
