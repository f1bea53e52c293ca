import { ClientException } from '../domain/errors';
import { type Json, isObject, optInt } from '../domain/fields';
import type { Berth } from '../context';
import { AGENT_METRICS, DIMENSIONS } from '../metrics/catalog';
import { EMF_LIMITS } from '../metrics/emf';
import type { MetricDatum } from '../metrics/metric-datum';

/** The most samples one report may carry. */
export const MAX_REPORTED_METRICS = 1000;

const ALLOWED = new Map(AGENT_METRICS.map((m) => [m.name, m]));
const EPOCH_MS = { min: 0, max: Number.MAX_SAFE_INTEGER };

function fail(field: string, what: string): never {
  throw new ClientException(`Invalid parameter '${field}': ${what}.`);
}

function dimension(o: Json, key: string, field: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > EMF_LIMITS.dimensionValueLength) {
    fail(`${field}.${key}`, `a string of 1 to ${EMF_LIMITS.dimensionValueLength} characters`);
  }
  return v;
}

/** One sample, checked field by field: only task metrics, in their own units, named by cluster and task. */
function readMetric(m: unknown, i: number, hostId: string): MetricDatum {
  const field = `metrics[${i}]`;
  if (!isObject(m)) fail(field, 'expected an object');
  const definition = typeof m.name === 'string' ? ALLOWED.get(m.name) : undefined;
  if (!definition) fail(`${field}.name`, `one of ${[...ALLOWED.keys()].join(', ')}`);
  if (m.unit !== definition.unit) fail(`${field}.unit`, `${definition.name} is in ${definition.unit}`);
  const values = m.values;
  if (!Array.isArray(values) || values.length === 0 || values.length > EMF_LIMITS.valuesPerMetric
    || !values.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
    fail(`${field}.values`, `1 to ${EMF_LIMITS.valuesPerMetric} non-negative numbers`);
  }
  const dims = m.dimensions;
  if (!isObject(dims) || Object.keys(dims).length !== 2) fail(`${field}.dimensions`, `exactly ${DIMENSIONS.cluster} and ${DIMENSIONS.task}`);
  const timestamp = optInt(m, 'timestamp', `${field}.timestamp`, EPOCH_MS);
  if (timestamp === undefined) fail(`${field}.timestamp`, 'is required');
  return {
    name: definition.name,
    unit: definition.unit,
    values: values as number[],
    dimensions: {
      [DIMENSIONS.cluster]: dimension(dims, DIMENSIONS.cluster, `${field}.dimensions`),
      [DIMENSIONS.task]: dimension(dims, DIMENSIONS.task, `${field}.dimensions`),
    },
    // The host is the one that signed, whatever the body says.
    properties: { [DIMENSIONS.host]: hostId },
    timestamp,
  };
}

/**
 * An agent's samples of its tasks, kept by the control plane's metrics sink (the local mode's
 * registry behind `/metrics`). Samples of tasks this host holds no reservation for are dropped:
 * a host speaks only for its own tasks, and a task released meanwhile has nothing to show.
 */
export async function reportMetrics(b: Berth, hostId: string, body: Json): Promise<{ accepted: number }> {
  const list = body.metrics;
  if (!Array.isArray(list)) fail('metrics', 'expected a list');
  if (list.length > MAX_REPORTED_METRICS) fail('metrics', `at most ${MAX_REPORTED_METRICS} samples`);
  const metrics = list.map((m, i) => readMetric(m, i, hostId));
  if (metrics.length === 0 || !b.metrics) return { accepted: 0 };
  const host = await b.store.hosts.get(hostId);
  const held = metrics.filter((m) => host?.reservations[m.dimensions[DIMENSIONS.task]] !== undefined);
  await b.metrics.publish(held);
  return { accepted: held.length };
}
