/**
 * bench:service, the placement part: a service's tasks placed by 8 and 32 concurrent placers,
 * one at a time and as batches of a service's size, spread over the service's group as services
 * are by default, each figure beside the conditional-write ceiling measured in the same run.
 * test/bench/service.ts prints them after its service figures; `failures` lists correctness
 * failures (an overcommit, a broken distinctInstance, books that do not add up).
 */
import type { Placement } from '../../../shared/scheduler/placement';
import { placementThroughput } from './placement-runs';

export { failures as placementFailures } from './placement-runs';
import { formatTable, perSecond, ratio } from './table';

/** The placement a service gets by default: spread over the hosts by the tasks of its own group. */
export const SERVICE_PLACEMENT: Placement = {
  strategies: [{ type: 'spread', field: 'instanceId' }],
  constraints: [],
  group: 'service:bench',
};

export const PLACEMENT_GOAL = { placers: 8, shareOfCeiling: 0.8 } as const;

/** Rows for a results table: measure, figure, baseline, ratio, goal. */
export async function placementFigures(o: { batchSize?: number; placements?: number } = {}): Promise<string[][]> {
  const batchSize = o.batchSize ?? 100;
  const figures = await placementThroughput({
    concurrencies: [8, 32], placements: o.placements ?? 2_000, batchSize, placement: SERVICE_PLACEMENT, ceilingCalls: 3_000,
  });
  const rows: string[][] = [];
  for (const f of figures) {
    rows.push([
      `bare reserve writes/s (one task each, no placer), ${f.placers} workers`,
      perSecond(f.reserveFloor),
      `${perSecond(f.ceiling)} bare cond. UpdateItem, ${f.placers} workers`,
      ratio(f.reserveFloor, f.ceiling),
      'what one-at-a-time placement can reach at best',
    ]);
    for (const [kind, run] of [['one at a time', f.single], [`batches of ${batchSize}`, f.batch]] as const) {
      const met = run.perSecond >= PLACEMENT_GOAL.shareOfCeiling * f.ceiling && run.audit.overcommitted === 0;
      rows.push([
        `service placements/s, ${f.placers} placers, ${kind}`,
        perSecond(run.perSecond),
        `${perSecond(f.ceiling)} bare cond. UpdateItem, ${f.placers} workers`,
        ratio(run.perSecond, f.ceiling),
        f.placers === PLACEMENT_GOAL.placers
          ? `≥ ${PLACEMENT_GOAL.shareOfCeiling}× ceiling, no overcommit: ${met ? 'met' : 'NOT met'}`
          : `overcommit: ${run.audit.overcommitted === 0 ? 'none' : run.audit.overcommitted}`,
      ]);
    }
  }
  return rows;
}
