import type { CostExportStore } from '../cloud/cost-export';
import type { Berth } from '../context';
import type { MetricsSink } from '../metrics/sink';
import { getCostReport } from './cost';
import { costCsv } from './format';
import { costMetrics } from './metrics';
import { HOUR_MS } from './report';
import type { Dimension } from './usage';

const DAY_MS = 24 * HOUR_MS;

/** Every dimension, task last: the daily file has one line per task, with all it is charged back by. */
export const EXPORT_DIMENSIONS: Dimension[] = ['cluster', 'service', 'family', 'startedBy', 'market', 'instanceType', 'task'];

/** The day's file: `usage/YYYY/MM/DD.csv` (UTC), so Athena can partition by its path. */
export function dailyExportKey(dayStart: number): string {
  const [y, m, d] = new Date(dayStart).toISOString().slice(0, 10).split('-');
  return `usage/${y}/${m}/${d}.csv`;
}

export interface BillingRoundSummary {
  /** The hour whose metrics were published: [from, to). */
  hour: { from: string; to: string };
  metrics: number;
  /** The day file written, if the wiring gave an export store. */
  exported?: string;
}

/**
 * One billing round, run once an hour just after the hour: the cost of the hour that just ended
 * as metrics (BerthCost and FargatePrice per cluster and service, FleetOverhead; costMetrics),
 * and the day that hour belongs to as a CSV file, one line per task, written whole again each
 * round, so the file of a day is complete from the first round after midnight.
 */
export async function runBillingRound(b: Berth, o: { metrics: MetricsSink; exports?: CostExportStore }): Promise<BillingRoundSummary> {
  const hourEnd = Math.floor(b.now() / HOUR_MS) * HOUR_MS;
  const hourStart = hourEnd - HOUR_MS;
  const iso = (t: number) => new Date(t).toISOString();
  const hourly = await getCostReport(b, { from: iso(hourStart), to: iso(hourEnd), bucketSeconds: 3600, groupBy: ['cluster', 'service'] });
  const data = costMetrics(hourly);
  await o.metrics.publish(data);
  const summary: BillingRoundSummary = { hour: { from: iso(hourStart), to: iso(hourEnd) }, metrics: data.length };
  if (o.exports) {
    const dayStart = Math.floor(hourStart / DAY_MS) * DAY_MS;
    const daily = await getCostReport(b, { from: iso(dayStart), to: iso(hourEnd), bucketSeconds: 3600, groupBy: EXPORT_DIMENSIONS });
    const key = dailyExportKey(dayStart);
    await o.exports.put(key, costCsv(daily));
    summary.exported = o.exports.locationOf(key);
  }
  return summary;
}
