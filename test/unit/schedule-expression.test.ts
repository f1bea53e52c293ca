import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ValidationException } from '../../shared/schedules/errors';
import { type WallTime, epochOfWallTime, parseScheduleExpression, wallTimeAt } from '../../shared/schedules/expression';
import { type Timing, nextFireTime } from '../../shared/schedules/next-fire';

const timing = (expression: string, timezone = 'UTC', over: Partial<Timing> = {}): Timing =>
  ({ expression: parseScheduleExpression(expression), timezone, createdAt: Date.UTC(2026, 0, 1), ...over });

/** The next `n` due times from `from`, each looked up from just after the one before. */
function fires(t: Timing, from: number, n: number): number[] {
  const out: number[] = [];
  for (let at = from; out.length < n;) {
    const next = nextFireTime(t, at);
    if (next === undefined) break;
    out.push(next);
    at = next + 1;
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('Schedule expressions', () => {
  describe('parseScheduleExpression', () => {
    it.each([
      'rate(0 minutes)', 'rate(1 minutes)', 'rate(2 minute)', 'rate(5 weeks)', 'rate(-1 minutes)', 'rate(1.5 hours)',
      'cron(0 10 * * * *)', 'cron(0 10 ? * ? *)', 'cron(0 10 * * ?)', 'cron(0 10 * * ? * *)', 'cron(60 10 * * ? *)',
      'cron(0 24 * * ? *)', 'cron(0 10 32 * ? *)', 'cron(0 10 ? * 8 *)', 'cron(0 10 ? 13 * *)', 'cron(0 10 * * ? 1969)',
      'cron(0 10 ? * 2#6 *)', 'cron(? 10 * * ? *)', 'cron(0 10 5-1 * ? *)',
      'at(2030-02-30T00:00:00)', 'at(2030-01-01 00:00:00)', 'at(2030-01-01T24:00:00)', 'every 5 minutes', '',
    ])('refuses %s with a ValidationException', (expression) => {
      expect(() => parseScheduleExpression(expression)).toThrow(ValidationException);
    });

    it.each([
      'rate(1 minute)', 'rate(5 minutes)', 'rate(1 hour)', 'rate(12 hours)', 'rate(1 day)', 'rate(7 days)',
      'cron(0 10 * * ? *)', 'cron(15 12 ? * MON-FRI *)', 'cron(0/15 * * * ? *)', 'cron(0 18 ? * 6L 2030)',
      'cron(0 0 15W * ? *)', 'cron(0 0 L * ? *)', 'cron(0 0 LW * ? *)', 'cron(0 9 ? * 2#1 *)', 'cron(0 8 1 JAN,JUL ? 2027-2030)',
      'at(2030-01-01T00:00:00)',
    ])('accepts %s', (expression) => {
      expect(() => parseScheduleExpression(expression)).not.toThrow();
    });
  });

  describe('nextFireTime', () => {
    const from = Date.UTC(2026, 2, 1);

    it.each([
      // AWS's day-of-week counts from Sunday = 1; L alone is Saturday, 6L the month's last Friday.
      ['cron(0 9 ? * 2#1 *)', 'UTC', ['2026-03-02T09:00:00.000Z', '2026-04-06T09:00:00.000Z']],
      ['cron(0 12 ? * L *)', 'UTC', ['2026-03-07T12:00:00.000Z', '2026-03-14T12:00:00.000Z']],
      ['cron(0 18 ? * 6L 2030)', 'UTC', ['2030-01-25T18:00:00.000Z', '2030-02-22T18:00:00.000Z']],
      ['cron(0 0 15W * ? *)', 'UTC', ['2026-03-16T00:00:00.000Z', '2026-04-15T00:00:00.000Z']],
      ['cron(0 0 LW * ? *)', 'UTC', ['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z', '2026-05-29T00:00:00.000Z']],
      ['cron(0/20 * * * ? *)', 'UTC', ['2026-03-01T00:00:00.000Z', '2026-03-01T00:20:00.000Z', '2026-03-01T00:40:00.000Z']],
      ['cron(0 10 * * ? *)', 'America/New_York', ['2026-03-01T15:00:00.000Z', '2026-03-02T15:00:00.000Z']],
      ['cron(0 2 1 JAN ? 2027-2028)', 'UTC', ['2027-01-01T02:00:00.000Z', '2028-01-01T02:00:00.000Z']],
    ])('%s in %s fires at the times AWS documents', (expression, timezone, expected) => {
      expect(fires(timing(expression, timezone), from, expected.length).map(iso)).toEqual(expected);
    });

    it('runs a cron past its last year never again', () => {
      expect(fires(timing('cron(0 2 1 JAN ? 2027-2028)'), from, 5).map(iso)).toHaveLength(2);
    });

    it('reads at() as wall-clock time in the schedule time zone, and ignores StartDate and EndDate', () => {
      const t = timing('at(2030-06-01T08:00:00)', 'Europe/Berlin', { startDate: Date.UTC(2031, 0, 1), endDate: Date.UTC(2029, 0, 1) });
      expect(iso(nextFireTime(t, from)!)).toBe('2030-06-01T06:00:00.000Z');
      expect(nextFireTime(t, Date.UTC(2030, 5, 1, 6, 0, 1))).toBeUndefined();
    });

    it('starts a rate at its StartDate, else at creation, and stops at EndDate', () => {
      const start = Date.UTC(2026, 2, 1, 0, 7);
      const t = timing('rate(10 minutes)', 'UTC', { startDate: start, endDate: start + 25 * 60_000 });
      expect(fires(t, from, 10).map(iso)).toEqual(['2026-03-01T00:07:00.000Z', '2026-03-01T00:17:00.000Z', '2026-03-01T00:27:00.000Z']);
      expect(fires(timing('rate(1 hour)', 'UTC', { createdAt: from + 5_000 }), from + 5_000, 2).map(iso))
        .toEqual(['2026-03-01T00:00:05.000Z', '2026-03-01T01:00:05.000Z']);
    });

    it('starts a cron no earlier than its StartDate', () => {
      const t = timing('cron(0 10 * * ? *)', 'UTC', { startDate: Date.UTC(2026, 2, 5, 10, 0, 1) });
      expect(iso(nextFireTime(t, from)!)).toBe('2026-03-06T10:00:00.000Z');
    });
  });

  describe('epochOfWallTime', () => {
    it('takes the first of a repeated time and moves a skipped one forward by the gap', () => {
      // New York 2026: clocks go 02:00 → 03:00 on 8 March, 02:00 → 01:00 on 1 November.
      expect(iso(epochOfWallTime({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
      expect(iso(epochOfWallTime({ year: 2026, month: 11, day: 1, hour: 1, minute: 30, second: 0 }, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    });
  });

  // -------------------------------------------------------------------------------------------
  // Properties, over random expressions, time zones and instants, with DST changes among them.

  const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kolkata', 'Pacific/Chatham'];
  const zoneArb = fc.constantFrom(...ZONES);
  // Instants from 2026 to 2028, half of them in the weeks around the usual DST changes.
  const instantArb = fc.oneof(
    fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2028, 11, 31) }),
    fc.tuple(fc.integer({ min: 2026, max: 2028 }), fc.constantFrom(2, 3, 8, 9, 10), fc.integer({ min: 0, max: 20 * 86_400_000 }))
      .map(([y, m, ms]) => Date.UTC(y, m, 1) + ms),
  );
  const valuesArb = (min: number, max: number) => fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((v) => v.sort((a, b) => a - b));
  /** A cron over listed minutes, hours and weekdays (every day of the month), with the sets it stands for. */
  const cronArb = fc.record({ minutes: valuesArb(0, 59), hours: valuesArb(0, 23), days: valuesArb(1, 7) });

  const sameDay = (a: WallTime, b: WallTime) => a.year === b.year && a.month === b.month && a.day === b.day;
  const weekday = (w: WallTime) => new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 1;
  const offsetAt = (ms: number, zone: string) => {
    const w = wallTimeAt(ms, zone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - ms;
  };

  it('finds the first matching wall-clock time, as an independent search over the days finds it', () => {
    fc.assert(fc.property(cronArb, zoneArb, instantArb, (c, zone, from) => {
      const t = timing(`cron(${c.minutes.join(',')} ${c.hours.join(',')} ? * ${c.days.join(',')} *)`, zone);
      const next = nextFireTime(t, from)!;
      // The oracle: walk the days from `from`'s own, in the zone, trying each listed time in order.
      let expected: number | undefined;
      for (let d = -1; expected === undefined && d < 9; d++) {
        const day = wallTimeAt(from + d * 86_400_000, zone);
        if (!c.days.includes(weekday(day))) continue;
        for (const hour of c.hours) {
          for (const minute of c.minutes) {
            const w = { ...day, hour, minute, second: 0 };
            const at = epochOfWallTime(w, zone);
            const exact = JSON.stringify(wallTimeAt(at, zone)) === JSON.stringify(w);
            if (exact && at >= from && (expected === undefined || at < expected)) expected = at;
          }
        }
      }
      expect(next).toBeGreaterThanOrEqual(from);
      const w = wallTimeAt(next, zone);
      expect(c.days).toContain(weekday(w));
      // Where no offset changes, the library and the oracle agree to the millisecond; across a
      // change the library may run a skipped time late (croner's rule), on the same day.
      if (offsetAt(from - 86_400_000, zone) === offsetAt(next + 86_400_000, zone)) expect(next).toBe(expected);
      else expect(expected === undefined || next <= expected || sameDay(w, wallTimeAt(expected, zone))).toBe(true);
    }), { numRuns: 300 });
  });

  it('runs a daily fixed-time cron once a day, every day, through DST changes', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), zoneArb, instantArb, (minute, hour, zone, from) => {
      const runs = fires(timing(`cron(${minute} ${hour} * * ? *)`, zone), from, 20);
      const days = runs.map((r) => wallTimeAt(r, zone));
      for (let i = 1; i < runs.length; i++) {
        const gapHours = (runs[i] - runs[i - 1]) / 3_600_000;
        expect(gapHours).toBeGreaterThanOrEqual(22);
        expect(gapHours).toBeLessThanOrEqual(26);
        expect(sameDay(days[i], days[i - 1])).toBe(false);
      }
    }), { numRuns: 150 });
  });

  it('keeps an every-N-minutes cron N real minutes apart through DST changes', () => {
    fc.assert(fc.property(fc.constantFrom(5, 10, 15, 30), zoneArb, instantArb, (step, zone, from) => {
      const runs = fires(timing(`cron(0/${step} * * * ? *)`, zone), from, 3 * 60 / step);
      for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBe(step * 60_000);
    }), { numRuns: 150 });
  });

  it('runs a rate every period exactly, within StartDate and EndDate', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 90 }), fc.constantFrom('minute', 'hour', 'day'), instantArb, fc.integer({ min: 0, max: 30 * 86_400_000 }), fc.integer({ min: 1, max: 30 * 86_400_000 }),
      (value, unit, start, fromOffset, length) => {
        const period = value * { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[unit]!;
        const t = timing(`rate(${value} ${value === 1 ? unit : `${unit}s`})`, 'UTC', { startDate: start, endDate: start + length });
        const runs = fires(t, start + fromOffset, 5);
        for (const r of runs) {
          expect(r).toBeGreaterThanOrEqual(Math.max(start, start + fromOffset));
          expect(r).toBeLessThanOrEqual(start + length);
          expect((r - start) % period).toBe(0);
        }
        for (let i = 1; i < runs.length; i++) expect(runs[i] - runs[i - 1]).toBe(period);
      },
    ), { numRuns: 200 });
  });

  it('parses nothing it should refuse and never throws anything but a ValidationException', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
      for (const e of [s, `cron(${s})`, `rate(${s})`, `at(${s})`]) {
        try {
          parseScheduleExpression(e);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationException);
        }
      }
    }), { numRuns: 300 });
  });
});
