import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EMF_LIMITS, formatEmf, parseEmf } from '../../shared/metrics/emf';
import { EmfValidationError } from '../../shared/metrics/errors';
import { METRIC_UNITS, type MetricDatum } from '../../shared/metrics/metric-datum';
import { StdoutEmfSink } from '../../shared/metrics/stdout-emf-sink';
import { caught } from '../support/caught';

const sorted = (o: Record<string, string> = {}) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));

/** Every single observation, as (series, value) keys: what CloudWatch would count. */
const observations = (data: MetricDatum[]) =>
  data.flatMap((d) => d.values.map((v) => JSON.stringify([d.name, d.unit, sorted(d.dimensions), sorted(d.properties), d.timestamp, v]))).sort();

// Metric, dimension and property names from disjoint alphabets, so they never collide by chance.
const metricName = fc.stringMatching(/^M[a-z]{0,3}$/);
const dimensions = fc.dictionary(fc.stringMatching(/^D[a-z]{0,2}$/), fc.string({ minLength: 1, maxLength: 12 }), { maxKeys: 4 });
const properties = fc.dictionary(fc.stringMatching(/^P[a-z]{0,2}$/), fc.string({ maxLength: 12 }), { maxKeys: 2 });
const datum: fc.Arbitrary<MetricDatum> = fc.record({
  name: metricName,
  values: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 30 }),
  dimensions,
  properties,
  timestamp: fc.constantFrom(1_700_000_000_000, 1_700_000_001_000),
}).map((d) => ({ ...d, unit: METRIC_UNITS[d.name.length % METRIC_UNITS.length] }));

describe('EMF', () => {
  describe('formatEmf', () => {
    it('writes the _aws envelope the specification describes', () => {
      // Prepare
      const data: MetricDatum[] = [
        { name: 'CPUUtilization', unit: 'Percent', values: [97.5], dimensions: { ClusterName: 'default', TaskId: 't1' }, properties: { HostId: 'h1' }, timestamp: 1_700_000_000_000 },
        { name: 'MemoryUtilized', unit: 'Megabytes', values: [12], dimensions: { ClusterName: 'default', TaskId: 't1' }, properties: { HostId: 'h1' }, timestamp: 1_700_000_000_000 },
      ];

      // Act
      const records = formatEmf(data);

      // Assess
      expect(records).toEqual([{
        _aws: {
          Timestamp: 1_700_000_000_000,
          CloudWatchMetrics: [{
            Namespace: 'Berth',
            Dimensions: [['ClusterName', 'TaskId']],
            Metrics: [{ Name: 'CPUUtilization', Unit: 'Percent' }, { Name: 'MemoryUtilized', Unit: 'Megabytes' }],
          }],
        },
        ClusterName: 'default', TaskId: 't1', HostId: 'h1', CPUUtilization: 97.5, MemoryUtilized: 12,
      }]);
    });

    it('puts each set of dimension values in a record of its own', () => {
      // Prepare
      const at = 1_700_000_000_000;
      const data: MetricDatum[] = ['RUNNING', 'STOPPED'].map((s, i) => ({ name: 'TaskCount', unit: 'Count', values: [i], dimensions: { LastStatus: s }, timestamp: at }));

      // Act
      const records = formatEmf(data);

      // Assess
      expect(records.map((r) => [r.LastStatus, r.TaskCount])).toEqual([['RUNNING', 0], ['STOPPED', 1]]);
    });

    it('splits past 100 metrics and 100 values into further records', () => {
      // Prepare
      const at = 1_700_000_000_000;
      const many: MetricDatum[] = Array.from({ length: 150 }, (_, i) => ({ name: `M${i}`, unit: 'Count', values: [i], dimensions: {}, timestamp: at }));
      const long: MetricDatum = { name: 'Latency', unit: 'Milliseconds', values: Array.from({ length: 250 }, (_, i) => i), dimensions: {}, timestamp: at };

      // Act
      const records = formatEmf([...many, long]);

      // Assess
      for (const r of records) {
        const metrics = r._aws.CloudWatchMetrics[0].Metrics;
        expect(metrics.length).toBeLessThanOrEqual(EMF_LIMITS.metricsPerDirective);
        for (const m of metrics) expect([r[m.Name]].flat().length).toBeLessThanOrEqual(EMF_LIMITS.valuesPerMetric);
      }
      expect(records.filter((r) => r.Latency !== undefined).map((r) => [r.Latency].flat().length)).toEqual([100, 100, 50]);
    });

    it.each([
      ['a value that is not a finite number', { values: [Number.NaN] }],
      ['no values', { values: [] }],
      ['a metric named like its dimension', { name: 'TaskId' }],
      ['more than 30 dimensions', { dimensions: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'x'])) }],
      ['an empty dimension value', { dimensions: { TaskId: '' } }],
      ['an unknown unit', { unit: 'Furlongs' }],
    ])('refuses %s', (_what, change) => {
      // Prepare
      const bad = { name: 'CPUUtilization', unit: 'Percent', values: [1], dimensions: { TaskId: 't' }, timestamp: 1, ...change } as MetricDatum;

      // Act
      const error = caught(() => formatEmf([bad]));

      // Assess
      expect(error).toBeInstanceOf(EmfValidationError);
    });

    it('loses, adds and alters no observation, and keeps every record within the limits', () => {
      fc.assert(fc.property(fc.array(datum, { maxLength: 40 }), (data) => {
        // Act
        const records = formatEmf(data).map((r) => JSON.parse(JSON.stringify(r)));
        const back = records.flatMap(parseEmf);

        // Assess
        expect(observations(back)).toEqual(observations(data));
        for (const r of records) {
          const directive = r._aws.CloudWatchMetrics[0];
          const names = directive.Metrics.map((m: { Name: string }) => m.Name);
          expect(new Set(names).size).toBe(names.length);
          expect(names.length).toBeLessThanOrEqual(EMF_LIMITS.metricsPerDirective);
          expect(directive.Dimensions[0].length).toBeLessThanOrEqual(EMF_LIMITS.dimensionsPerSet);
        }
      }), { numRuns: 200 });
    });
  });

  describe('parseEmf', () => {
    it.each([
      ['no _aws member', { CPUUtilization: 1 }],
      ['a dimension without a value', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'B', Dimensions: [['TaskId']], Metrics: [{ Name: 'X', Unit: 'Count' }] }] }, X: 1 }],
      ['a metric without a number', { _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'B', Dimensions: [[]], Metrics: [{ Name: 'X', Unit: 'Count' }] }] }, X: 'one' }],
    ])('refuses a record with %s', (_what, record) => {
      // Act
      const error = caught(() => parseEmf(record));

      // Assess
      expect(error).toBeInstanceOf(EmfValidationError);
    });
  });

  describe('StdoutEmfSink', () => {
    it('writes one EMF line per record, which reads back as the metrics it was given', async () => {
      // Prepare
      const lines: string[] = [];
      const sink = new StdoutEmfSink((l) => lines.push(l));
      const data: MetricDatum[] = [
        { name: 'TargetErrorCount', unit: 'Count', values: [1], dimensions: { ScheduleGroup: 'reports' }, timestamp: 1_700_000_000_000 },
        { name: 'InvocationDroppedCount', unit: 'Count', values: [1], dimensions: { ScheduleGroup: 'reports' }, timestamp: 1_700_000_000_000 },
      ];

      // Act
      await sink.publish(data);
      await sink.publish([]);

      // Assess
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((l) => !l.includes('\n'))).toBe(true);
      expect(observations(lines.flatMap((l) => parseEmf(JSON.parse(l))))).toEqual(observations(data));
    });
  });
});
