import type { Berth } from '../context';
import type { MetricSample } from '../agent-wire/requests';
import { DIMENSIONS } from '../metrics/catalog';
import type { MetricDatum } from '../metrics/metric-datum';

/**
 * An agent's samples of its tasks (checked member by member by the request's schema), kept by
 * the control plane's metrics sink (the local mode's registry behind `/metrics`). Samples of
 * tasks this host holds no reservation for are dropped: a host speaks only for its own tasks,
 * and a task released meanwhile has nothing to show.
 */
export async function reportMetrics(b: Berth, hostId: string, samples: MetricSample[]): Promise<{ accepted: number }> {
  const metrics: MetricDatum[] = samples.map((m) => ({
    name: m.name,
    unit: m.unit,
    values: m.values,
    dimensions: { [DIMENSIONS.cluster]: m.dimensions[DIMENSIONS.cluster], [DIMENSIONS.task]: m.dimensions[DIMENSIONS.task] },
    // The host is the one that signed, whatever the body says.
    properties: { [DIMENSIONS.host]: hostId },
    timestamp: m.timestamp,
  }));
  if (metrics.length === 0 || !b.metrics) return { accepted: 0 };
  const host = await b.store.hosts.get(hostId);
  const held = metrics.filter((m) => host?.reservations[m.dimensions[DIMENSIONS.task]] !== undefined);
  await b.metrics.publish(held);
  return { accepted: held.length };
}
