import { METRIC_BY_NAME, type MetricDefinition } from './catalog';
import type { MetricDatum } from './metric-datum';
import { type PrometheusFamily, labelName, renderPrometheus } from './prometheus';
import type { MetricsSink } from './sink';

export interface MetricsRegistryOptions {
  /**
   * A gauge not published again within this long is dropped: its task stopped or its host went
   * away. A few sampling intervals, so one slow round does not make a series blink.
   */
  staleAfterMs: number;
  now?: () => number;
  definitions?: ReadonlyMap<string, MetricDefinition>;
}

interface Series {
  definition: MetricDefinition;
  labels: Record<string, string>;
  updatedAt: number;
  /** The latest value (gauge). */
  value: number;
  /** Every value so far (summary). */
  count: number;
  sum: number;
}

/** A metric outside the catalog still shows, as a gauge under a derived name. */
function derived(name: string, unit: MetricDefinition['unit']): MetricDefinition {
  return { name, unit, kind: 'gauge', prometheus: `berth_${labelName(name)}`, help: `${name} (${unit}).` };
}

/**
 * The local mode's in-process view of the latest metrics, rendered as Prometheus text at
 * `GET /metrics`. It is a sink like the EMF one, so the same publishers feed both.
 */
export class MetricsRegistry implements MetricsSink {
  private readonly series = new Map<string, Series>();
  private readonly now: () => number;
  private prunedAt = 0;
  private readonly definitions: ReadonlyMap<string, MetricDefinition>;

  constructor(private readonly o: MetricsRegistryOptions) {
    this.now = o.now ?? Date.now;
    this.definitions = o.definitions ?? METRIC_BY_NAME;
  }

  async publish(data: MetricDatum[]): Promise<void> {
    this.record(data);
  }

  record(data: MetricDatum[]): void {
    const now = this.now();
    for (const d of data) {
      if (d.values.length === 0) continue;
      const definition = this.definitions.get(d.name) ?? derived(d.name, d.unit);
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries({ ...d.properties, ...d.dimensions })) labels[labelName(k)] = v;
      const key = JSON.stringify([definition.prometheus, Object.entries(labels).sort()]);
      const scale = definition.prometheusScale ?? 1;
      const s = this.series.get(key) ?? { definition, labels, updatedAt: now, value: 0, count: 0, sum: 0 };
      s.updatedAt = now;
      s.value = d.values[d.values.length - 1] * scale;
      s.count += d.values.length;
      s.sum += d.values.reduce((a, b) => a + b, 0) * scale;
      this.series.set(key, s);
    }
    // A stopped task's gauges go even if nobody reads /metrics, which would otherwise be the only
    // thing that drops them: each task run kept its series for as long as the process ran.
    if (now - this.prunedAt >= this.o.staleAfterMs) {
      this.prunedAt = now;
      this.dropStale(now);
    }
  }

  /** How many series it holds (for tests). */
  get size(): number {
    return this.series.size;
  }

  /** Drops the gauges not published since staleAfterMs; a summary stays, as Prometheus expects its count never to go back. */
  private dropStale(now: number): void {
    const cutoff = now - this.o.staleAfterMs;
    for (const [key, s] of this.series) if (s.definition.kind !== 'summary' && s.updatedAt < cutoff) this.series.delete(key);
  }

  /** The current series as Prometheus families, stale gauges dropped; sorted, so output is stable. */
  families(): PrometheusFamily[] {
    this.dropStale(this.now());
    const byName = new Map<string, PrometheusFamily>();
    const ordered = [...this.series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, s] of ordered) {
      const summary = s.definition.kind === 'summary';
      const name = s.definition.prometheus;
      let f = byName.get(name);
      if (!f) {
        f = { name, help: s.definition.help, type: summary ? 'summary' : 'gauge', samples: [] };
        byName.set(name, f);
      }
      if (summary) f.samples.push({ suffix: '_sum', labels: s.labels, value: s.sum }, { suffix: '_count', labels: s.labels, value: s.count });
      else f.samples.push({ labels: s.labels, value: s.value });
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  render(): string {
    return renderPrometheus(this.families());
  }
}
