import type { Berth } from '../context';
import { meterReadings } from './meter';
import { type PeriodInput, periodOf } from './period';
import { DEFAULT_PRICES } from './prices';
import { type CostReport, costReport } from './report';
import type { Dimension } from './usage';

export interface CostQuery extends PeriodInput {
  groupBy?: Dimension[];
}

/** A cost report of the meter's records, priced with the catalog the wiring gave. */
export async function getCostReport(b: Berth, q: CostQuery): Promise<CostReport> {
  const now = b.now();
  const period = periodOf(q, now);
  const readings = await meterReadings(b, period.from);
  return costReport({ ...readings, ...period, now, prices: b.config.prices ?? DEFAULT_PRICES, groupBy: q.groupBy ?? [] });
}
