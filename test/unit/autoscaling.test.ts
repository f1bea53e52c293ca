import type { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import fc from 'fast-check';
import { CloudWatchRequestCounts } from '../../shared/cloud/aws/cloudwatch-request-counts';
import { CloudWatchTaskMetrics } from '../../shared/cloud/aws/cloudwatch-task-metrics';
import { dueAt, nextFireTime, parseSchedule } from '../../shared/autoscaling/schedule';
import {
  ALARM_HIGH_DATAPOINTS, ALARM_LOW_DATAPOINTS, type TrackingInput, combine, decide,
} from '../../shared/autoscaling/target-tracking';

const PERIOD = 60_000;
const NOW = 10_000_000_000;

/** `values` as one datapoint per period, the last one now. */
const series = (values: readonly number[]) => values.map((v, i) => ({ t: NOW - (values.length - 1 - i) * PERIOD, v }));

const input = (over: Partial<TrackingInput> & { values: readonly number[] }): TrackingInput => ({
  targetValue: 50, periodMs: PERIOD, capacity: 2, minCapacity: 1, maxCapacity: 10,
  scaleOutCooldownMs: 0, scaleInCooldownMs: 0, disableScaleIn: false, state: {}, now: NOW,
  datapoints: series(over.values), ...over,
});

const bounds = fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }))
  .map(([a, b]) => ({ minCapacity: Math.min(a, b), maxCapacity: Math.max(a, b) }));

const anyInput = fc.record({
  targetValue: fc.double({ min: 1, max: 1000, noNaN: true }),
  values: fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { maxLength: 20 }),
  capacity: fc.integer({ min: 0, max: 60 }),
  bounds,
  scaleOutCooldownMs: fc.integer({ min: 0, max: 600_000 }),
  scaleInCooldownMs: fc.integer({ min: 0, max: 600_000 }),
  disableScaleIn: fc.boolean(),
  lastScaleOutAgoMs: fc.option(fc.integer({ min: 0, max: 900_000 }), { nil: undefined }),
  lastScaleInAgoMs: fc.option(fc.integer({ min: 0, max: 900_000 }), { nil: undefined }),
}).map((r) => input({
  targetValue: r.targetValue, values: r.values, capacity: r.capacity, ...r.bounds,
  scaleOutCooldownMs: r.scaleOutCooldownMs, scaleInCooldownMs: r.scaleInCooldownMs, disableScaleIn: r.disableScaleIn,
  state: {
    ...(r.lastScaleOutAgoMs === undefined ? {} : { lastScaleOutAt: NOW - r.lastScaleOutAgoMs, lastScaleOutFrom: Math.max(0, r.capacity - 1), lastScaleOutTo: r.capacity }),
    ...(r.lastScaleInAgoMs === undefined ? {} : { lastScaleInAt: NOW - r.lastScaleInAgoMs }),
  },
}));

describe('Application Auto Scaling', () => {
  describe('target tracking: decide', () => {
    it('never asks for a capacity outside MinCapacity and MaxCapacity', () => {
      fc.assert(fc.property(anyInput, (i) => {
        const d = decide(i);
        if (d.kind !== 'none') {
          expect(d.capacity).toBeGreaterThanOrEqual(i.minCapacity);
          expect(d.capacity).toBeLessThanOrEqual(i.maxCapacity);
        }
      }));
    });

    it('changes nothing while the metric is at the target', () => {
      fc.assert(fc.property(anyInput, (i) => {
        const atTarget = { ...i, datapoints: i.datapoints.map((p) => ({ ...p, v: i.targetValue })) };
        expect(decide(atTarget).kind).toBe('none');
      }));
    });

    it('scales out only upward and in only downward', () => {
      fc.assert(fc.property(anyInput, (i) => {
        const d = decide(i);
        if (d.kind === 'out') expect(d.capacity).toBeGreaterThan(i.capacity);
        if (d.kind === 'in') expect(d.capacity).toBeLessThan(i.capacity);
      }));
    });

    it('never scales in faster than it scales out: at the same distance from the target it removes no more than it adds, and needs more datapoints', () => {
      fc.assert(fc.property(
        fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.11, max: 0.99, noNaN: true }), fc.double({ min: 1, max: 100, noNaN: true }),
        (capacity, distance, targetValue) => {
          const values = (v: number) => Array.from({ length: ALARM_LOW_DATAPOINTS }, () => v);
          const wide = { capacity, minCapacity: 0, maxCapacity: 1000, targetValue };
          const out = decide(input({ ...wide, values: values(targetValue * (1 + distance)) }));
          const inn = decide(input({ ...wide, values: values(targetValue * (1 - distance)) }));
          const added = out.kind === 'out' ? out.capacity - capacity : 0;
          const removed = inn.kind === 'in' ? capacity - inn.capacity : 0;
          expect(out.kind).toBe('out');
          expect(removed).toBeLessThanOrEqual(added);
        },
      ));
      expect(ALARM_LOW_DATAPOINTS).toBeGreaterThan(ALARM_HIGH_DATAPOINTS);
    });

    it('scales out after 3 datapoints above the target, proportionally: 2 tasks at 100% for 50% → 4', () => {
      expect(decide(input({ values: [100, 100] }))).toEqual({ kind: 'none', reason: 'the metric is within its alarms' });
      expect(decide(input({ values: [100, 100, 100] }))).toEqual({ kind: 'out', alarm: 'AlarmHigh', capacity: 4, metric: 100 });
    });

    it('stops at MaxCapacity', () => {
      expect(decide(input({ values: [500, 500, 500], maxCapacity: 3 }))).toMatchObject({ kind: 'out', capacity: 3 });
      expect(decide(input({ values: [500, 500, 500], capacity: 3, maxCapacity: 3 }))).toEqual({ kind: 'none', reason: 'already at MaxCapacity' });
    });

    it('needs 15 datapoints below 90% of the target to scale in, and none missing', () => {
      const low = Array.from({ length: 15 }, () => 10);
      expect(decide(input({ values: low.slice(1), capacity: 4 })).kind).toBe('none');
      expect(decide(input({ values: [...low.slice(1), 46], capacity: 4 })).kind).toBe('none');
      expect(decide(input({ values: low, capacity: 4 }))).toEqual({ kind: 'in', alarm: 'AlarmLow', capacity: 1, metric: 10 });
      // A datapoint missing breaks the run; one that comes late does not.
      const gap = series([...low, 10, 10]).filter((_, i) => i !== 7 && i !== 8);
      expect(decide({ ...input({ values: [], capacity: 4 }), datapoints: gap }).kind).toBe('none');
      const late = series(low).map((p, i) => ({ ...p, t: p.t - (i % 2) * 0.8 * PERIOD }));
      expect(decide({ ...input({ values: [], capacity: 4 }), datapoints: late }).kind).toBe('in');
      expect(decide({ ...input({ values: [], capacity: 4, now: NOW + 3 * PERIOD }), datapoints: series(low) }).kind).toBe('none');
    });

    it('does not scale in with DisableScaleIn, within either cooldown, or at MinCapacity', () => {
      const low = Array.from({ length: 15 }, () => 10);
      expect(decide(input({ values: low, capacity: 4, disableScaleIn: true }))).toEqual({ kind: 'none', reason: 'scale-in is disabled' });
      expect(decide(input({ values: low, capacity: 4, scaleInCooldownMs: 300_000, state: { lastScaleInAt: NOW - 60_000 } })).kind).toBe('none');
      expect(decide(input({ values: low, capacity: 4, scaleOutCooldownMs: 300_000, state: { lastScaleOutAt: NOW - 60_000 } })).kind).toBe('none');
      expect(decide(input({ values: low, capacity: 1 }))).toEqual({ kind: 'none', reason: 'already at MinCapacity' });
    });

    it('within a scale-out cooldown, scales out again only past what the last scale-out set', () => {
      const state = { lastScaleOutAt: NOW - 60_000, lastScaleOutFrom: 2, lastScaleOutTo: 4 };
      expect(decide(input({ values: [100, 100, 100], capacity: 4, scaleOutCooldownMs: 300_000, state })).kind).toBe('none');
      expect(decide(input({ values: [200, 200, 200], capacity: 4, scaleOutCooldownMs: 300_000, state }))).toMatchObject({ kind: 'out', capacity: 8 });
    });

    it('combines policies: any scale-out wins, scale-in only when every policy agrees', () => {
      const out = { kind: 'out' as const, alarm: 'AlarmHigh' as const, capacity: 5, metric: 90 };
      const inn = { kind: 'in' as const, alarm: 'AlarmLow' as const, capacity: 2, metric: 10 };
      expect(combine([inn, out])).toBe(out);
      expect(combine([inn, { kind: 'none', reason: 'x' }])).toBeUndefined();
      expect(combine([inn, { ...inn, capacity: 3 }])).toMatchObject({ capacity: 3 });
    });
  });

  describe('scheduled actions', () => {
    const at = (iso: string) => Date.parse(iso);

    it.each([
      ['at(2026-03-04T10:09:00)', undefined, '2026-03-04T10:09:00.000Z'],
      ['cron(15 10 ? * MON-FRI *)', undefined, '2026-03-04T10:15:00.000Z'],
      ['cron(0 9 ? * 1 *)', undefined, '2026-03-08T09:00:00.000Z'],
      ['cron(0 0 1 1 ? 2027)', undefined, '2027-01-01T00:00:00.000Z'],
      ['cron(0 9 * * ? *)', 'America/New_York', '2026-03-04T14:00:00.000Z'],
      ['at(2026-03-04T12:00:00)', 'Europe/Berlin', '2026-03-04T11:00:00.000Z'],
    ])('%s (timezone %s) fires next at %s', (expression, timezone, expected) => {
      const after = at('2026-03-04T10:07:30Z');
      expect(new Date(nextFireTime(parseSchedule(expression, timezone), { after, anchor: after })!).toISOString()).toBe(expected);
    });

    it('runs rate() from StartTime, or from creation, every period', () => {
      const created = at('2026-03-04T10:00:00Z');
      const s = parseSchedule('rate(5 minutes)');
      expect(nextFireTime(s, { after: created, anchor: created })).toBe(created + 300_000);
      expect(nextFireTime(s, { after: created + 300_000, anchor: created })).toBe(created + 600_000);
      expect(nextFireTime(s, { after: created, anchor: created, startTime: created + 30_000 })).toBe(created + 30_000);
    });

    it('is due once its time has come, once, and never past EndTime', () => {
      const created = at('2026-03-04T10:00:00Z');
      const s = parseSchedule('at(2026-03-04T10:01:00)');
      expect(dueAt(s, { createdAt: created, now: created + 59_000 })).toBeUndefined();
      expect(dueAt(s, { createdAt: created, now: created + 61_000 })).toBe(created + 60_000);
      expect(dueAt(s, { createdAt: created, lastFiredAt: created + 61_000, now: created + 3_600_000 })).toBeUndefined();
      expect(dueAt(s, { createdAt: created, endTime: created + 30_000, now: created + 61_000 })).toBeUndefined();
    });

    it.each(['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'cron(0 12 * * * *)', 'cron(0 12 * *)', 'at(2026-03-04)', 'every 5 minutes', 'cron(0 25 * * ? *)'])(
      'refuses %s with a ValidationException', (expression) => {
        expect(() => parseSchedule(expression)).toThrow(expect.objectContaining({ name: 'ValidationException' }));
      },
    );

    it('never throws anything but a ValidationException on any text (fuzzed)', () => {
      fc.assert(fc.property(fc.string(), fc.constantFrom('at', 'rate', 'cron', ''), (inner, kind) => {
        try {
          parseSchedule(kind ? `${kind}(${inner})` : inner);
        } catch (e) {
          expect((e as Error).name).toBe('ValidationException');
        }
      }));
    });
  });
});

describe('CloudWatchTaskMetrics (the AWS adapter, around a mocked client)', () => {
  it('asks for each task\'s one-minute average by ClusterName and TaskId, and keeps the newest value of each', async () => {
    // Prepare
    const send = jest.fn(async (_command: GetMetricDataCommand) => ({
      MetricDataResults: [{ Id: 't0', Values: [80, 20] }, { Id: 't1', Values: [] }, { Id: 't2', Values: [5] }],
    }));
    const source = new CloudWatchTaskMetrics({ send } as unknown as CloudWatchClient, () => 1_000_000);

    // Act
    const r = await source.latest('prod', ['a', 'b', 'c'], 'CPUUtilization', 180_000);

    // Assess
    expect(r).toEqual(new Map([['a', 80], ['c', 5]]));
    const input = send.mock.calls[0][0].input;
    expect(input).toMatchObject({ StartTime: new Date(820_000), EndTime: new Date(1_000_000), ScanBy: 'TimestampDescending' });
    expect(input.MetricDataQueries![1]).toEqual({
      Id: 't1', ReturnData: true,
      MetricStat: {
        Metric: { Namespace: 'Berth', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'ClusterName', Value: 'prod' }, { Name: 'TaskId', Value: 'b' }] },
        Period: 60, Stat: 'Average',
      },
    });
  });
});

describe('CloudWatchRequestCounts (the AWS adapter, around a mocked client)', () => {
  const LABEL = 'app/web/50dc6c495c0c9188/targetgroup/web/73e2d6bc24d8a067';

  it('reads the target group\'s RequestCountPerTarget by TargetGroup and LoadBalancer, the newest whole minute', async () => {
    // Prepare
    const send = jest.fn(async (_command: GetMetricDataCommand) => ({ MetricDataResults: [{ Id: 'requests', Values: [420, 380] }] }));
    const counts = new CloudWatchRequestCounts({ send } as unknown as CloudWatchClient);

    // Act
    const value = await counts.requestCountPerTarget(LABEL, 1_000_000, 1_030_000);

    // Assess
    expect(value).toBe(420);
    const input = send.mock.calls[0][0].input;
    expect(input).toMatchObject({ StartTime: new Date(720_000), EndTime: new Date(1_020_000), ScanBy: 'TimestampDescending' });
    expect(input.MetricDataQueries).toEqual([{
      Id: 'requests', ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCountPerTarget',
          Dimensions: [{ Name: 'TargetGroup', Value: 'targetgroup/web/73e2d6bc24d8a067' }, { Name: 'LoadBalancer', Value: 'app/web/50dc6c495c0c9188' }],
        },
        Period: 60, Stat: 'Sum',
      },
    }]);
  });

  it('has no datapoint when CloudWatch has none, and asks nothing for a label that names no target group', async () => {
    // Prepare
    const send = jest.fn(async (_command: GetMetricDataCommand) => ({ MetricDataResults: [{ Id: 'requests', Values: [] }] }));
    const counts = new CloudWatchRequestCounts({ send } as unknown as CloudWatchClient);

    // Act
    const empty = await counts.requestCountPerTarget(LABEL, 0, 120_000);
    const bad = await counts.requestCountPerTarget('targetgroup/web/73e2d6bc24d8a067', 0, 120_000);

    // Assess
    expect(empty).toBeUndefined();
    expect(bad).toBeUndefined();
    expect(send).toHaveBeenCalledTimes(1);
  });
});
