import { METRICS_NAMESPACE } from './catalog';
import { EmfValidationError } from './errors';
import { METRIC_UNITS, type MetricDatum, type MetricUnit } from './metric-datum';

/**
 * CloudWatch Embedded Metric Format: a JSON log event whose `_aws` member tells CloudWatch which
 * of its top-level members are metrics, in which namespace, and under which dimensions.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: MetricUnit }[];
    }[];
  };
  [member: string]: unknown;
}

/** The specification's limits, and CloudWatch's for names and dimension values. */
export const EMF_LIMITS = {
  metricsPerDirective: 100,
  dimensionsPerSet: 30,
  valuesPerMetric: 100,
  nameLength: 255,
  dimensionValueLength: 1024,
} as const;

const RESERVED_MEMBER = '_aws';

function validate(d: MetricDatum): void {
  const fail = (why: string): never => {
    throw new EmfValidationError(`Metric '${d.name}': ${why}.`, d.name);
  };
  if (d.name.length === 0 || d.name.length > EMF_LIMITS.nameLength) fail(`a name is 1 to ${EMF_LIMITS.nameLength} characters`);
  if (d.name === RESERVED_MEMBER) fail(`'${RESERVED_MEMBER}' is reserved`);
  if (!(METRIC_UNITS as readonly string[]).includes(d.unit)) fail(`unknown unit '${d.unit}'`);
  if (d.values.length === 0) fail('no values');
  if (!d.values.every(Number.isFinite)) fail('every value is a finite number');
  if (!Number.isSafeInteger(d.timestamp) || d.timestamp < 0) fail('the timestamp is epoch milliseconds');
  const dims = Object.entries(d.dimensions);
  if (dims.length > EMF_LIMITS.dimensionsPerSet) fail(`at most ${EMF_LIMITS.dimensionsPerSet} dimensions`);
  for (const [k, v] of dims) {
    if (k.length === 0 || k.length > EMF_LIMITS.nameLength) fail(`a dimension name is 1 to ${EMF_LIMITS.nameLength} characters`);
    if (typeof v !== 'string' || v.length === 0 || v.length > EMF_LIMITS.dimensionValueLength) {
      fail(`dimension '${k}' has a value of 1 to ${EMF_LIMITS.dimensionValueLength} characters`);
    }
  }
  // One JSON object holds the metric, its dimensions and its properties: no member may be two things.
  const members = [d.name, ...Object.keys(d.dimensions), ...Object.keys(d.properties ?? {})];
  if (new Set(members).size !== members.length || members.includes(RESERVED_MEMBER)) fail('its name, dimensions and properties collide');
}

const sortedEntries = (o: Record<string, string> = {}) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

interface Group {
  timestamp: number;
  dimensions: Record<string, string>;
  properties: Record<string, string>;
  metrics: Map<string, { unit: MetricUnit; values: number[] }>;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/**
 * Formats metrics as EMF records: one record per timestamp, dimension values and properties
 * (EMF puts dimension values at the top level, so two values need two records). A metric
 * observed several times becomes a value array; past the limits the rest go to further records.
 */
export function formatEmf(data: MetricDatum[], namespace: string = METRICS_NAMESPACE): EmfRecord[] {
  const groups = new Map<string, Group>();
  for (const d of data) {
    validate(d);
    const key = JSON.stringify([d.timestamp, sortedEntries(d.dimensions), sortedEntries(d.properties)]);
    let g = groups.get(key);
    if (!g) {
      g = { timestamp: d.timestamp, dimensions: d.dimensions, properties: d.properties ?? {}, metrics: new Map() };
      groups.set(key, g);
    }
    const m = g.metrics.get(d.name);
    if (!m) g.metrics.set(d.name, { unit: d.unit, values: [...d.values] });
    else if (m.unit !== d.unit) throw new EmfValidationError(`Metric '${d.name}' is given in both ${m.unit} and ${d.unit}.`, d.name);
    else m.values.push(...d.values);
  }
  const records: EmfRecord[] = [];
  for (const g of groups.values()) {
    const perMetric = [...g.metrics].map(([name, m]) => ({ name, unit: m.unit, parts: chunks(m.values, EMF_LIMITS.valuesPerMetric) }));
    const rounds = Math.max(...perMetric.map((m) => m.parts.length));
    // Round k carries each metric's k-th slice of values, so no record names a metric twice.
    for (let k = 0; k < rounds; k++) {
      const present = perMetric.filter((m) => k < m.parts.length);
      for (const batch of chunks(present, EMF_LIMITS.metricsPerDirective)) {
        const record: EmfRecord = {
          ...g.properties,
          ...g.dimensions,
          _aws: {
            Timestamp: g.timestamp,
            CloudWatchMetrics: [{
              Namespace: namespace,
              Dimensions: [Object.keys(g.dimensions)],
              Metrics: batch.map((m) => ({ Name: m.name, Unit: m.unit })),
            }],
          },
        };
        for (const m of batch) record[m.name] = m.parts[k].length === 1 ? m.parts[k][0] : m.parts[k];
        records.push(record);
      }
    }
  }
  return records;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Reads an EMF record back into metrics, as CloudWatch would extract them: what a reader of the
 * metrics log group (or a test) sees. Throws EmfValidationError on anything CloudWatch would reject.
 */
export function parseEmf(record: unknown): MetricDatum[] {
  const r = record as Partial<EmfRecord> | null;
  const meta = r?._aws;
  if (typeof r !== 'object' || r === null || typeof meta !== 'object' || meta === null) throw new EmfValidationError('No _aws metadata.');
  if (!Number.isSafeInteger(meta.Timestamp)) throw new EmfValidationError('_aws.Timestamp is not epoch milliseconds.');
  if (!Array.isArray(meta.CloudWatchMetrics)) throw new EmfValidationError('_aws.CloudWatchMetrics is not a list.');
  const metricNames = new Set<string>();
  const dimensionNames = new Set<string>();
  for (const directive of meta.CloudWatchMetrics) {
    if (!Array.isArray(directive.Dimensions) || !directive.Dimensions.every(isStringArray)) throw new EmfValidationError('Dimensions is not a list of lists of names.');
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > EMF_LIMITS.metricsPerDirective) throw new EmfValidationError('Metrics is not a list of at most 100.');
    for (const set of directive.Dimensions) for (const name of set) dimensionNames.add(name);
    for (const m of directive.Metrics) metricNames.add(m.Name);
  }
  const dimensions: Record<string, string> = {};
  for (const name of dimensionNames) {
    const v = r[name];
    if (typeof v !== 'string') throw new EmfValidationError(`Dimension '${name}' has no string value.`);
    dimensions[name] = v;
  }
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k !== RESERVED_MEMBER && !metricNames.has(k) && !dimensionNames.has(k) && typeof v === 'string') properties[k] = v;
  }
  const out: MetricDatum[] = [];
  for (const directive of meta.CloudWatchMetrics) {
    for (const m of directive.Metrics) {
      const v = r[m.Name];
      const values = Array.isArray(v) ? v : [v];
      if (values.length === 0 || values.length > EMF_LIMITS.valuesPerMetric || !values.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new EmfValidationError(`Metric '${m.Name}' has no valid value.`, m.Name);
      }
      out.push({
        name: m.Name, unit: m.Unit, values: values as number[], dimensions: { ...dimensions },
        ...(Object.keys(properties).length > 0 ? { properties: { ...properties } } : {}),
        timestamp: meta.Timestamp,
      });
    }
  }
  return out;
}
