import { formatUsd } from './money';
import type { CostReport, GroupCost } from './report';

const percent = (saving: number, fargate: number): string => (fargate > 0 ? `${((100 * saving) / fargate).toFixed(1)}%` : '-');

/** A table for the terminal: one line per group, then the totals and the prices used. */
export function costTable(r: CostReport): string {
  const head = [...(r.groupBy.length ? r.groupBy : ['group']), 'tasks', 'berth $', 'fargate $', 'saving $', 'saving'];
  const rows = r.groups.map((g) => [
    ...(r.groupBy.length ? r.groupBy.map((d) => g.key[d]) : [g.group]),
    String(g.tasks), formatUsd(g.berthCostMicroUsd), formatUsd(g.fargatePriceMicroUsd), formatUsd(g.savingMicroUsd),
    percent(g.savingMicroUsd, g.fargatePriceMicroUsd),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const numeric = (i: number) => i >= head.length - 5;
  const line = (cells: string[]) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const t = r.totals;
  return [
    `Cost from ${r.period.from} to ${r.period.to}`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `Tasks:            ${t.tasks}${t.notOnFargate ? ` (${t.notOnFargate} Fargate could not run)` : ''}`,
    `Berth cost:       $${formatUsd(t.berthCostMicroUsd)}`,
    `Fargate price:    $${formatUsd(t.fargatePriceMicroUsd)}`,
    `Saving:           $${formatUsd(t.savingMicroUsd)} (${percent(t.savingMicroUsd, t.fargatePriceMicroUsd)})`,
    `Fleet overhead:   $${formatUsd(t.overheadMicroUsd)} (host time no task held)`,
    `Fleet bill:       $${formatUsd(t.fleetBillMicroUsd)} (Berth cost + overhead)`,
    `Prices:           ${r.prices.source}, ${r.prices.region}, taken ${r.prices.takenAt}`,
    ...(r.unpricedHosts.length ? [`Unpriced hosts:   ${r.unpricedHosts.join(', ')} (no price in the catalog: counted at $0)`] : []),
    '',
  ].join('\n');
}

const csvCell = (v: string | number): string => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One CSV line per group, amounts in USD with six decimals; the prices used in the last columns. */
export function costCsv(r: CostReport): string {
  const dims = r.groupBy.length ? r.groupBy : ['group'];
  const head = [...dims, 'tasks', 'berth_cost_usd', 'fargate_price_usd', 'saving_usd', 'period_from', 'period_to', 'prices_taken_at', 'prices_source'];
  const row = (g: GroupCost) => [
    ...(r.groupBy.length ? r.groupBy.map((d) => g.key[d]) : [g.group]),
    g.tasks, formatUsd(g.berthCostMicroUsd), formatUsd(g.fargatePriceMicroUsd), formatUsd(g.savingMicroUsd),
    r.period.from, r.period.to, r.prices.takenAt, r.prices.source,
  ];
  return [head, ...r.groups.map(row)].map((cells) => cells.map(csvCell).join(',')).join('\n') + '\n';
}
