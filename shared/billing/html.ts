import { formatUsd } from './money';
import type { CostReport } from './report';

/** Text for HTML: group names come from users' tags and must never become markup. */
const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d', '#475569', '#b45309'];
const OVERHEAD_COLOUR = '#9ca3af';

const CHART = { width: 960, height: 360, left: 80, right: 20, top: 20, bottom: 50 } as const;

/** A round step for the y axis: 1, 2 or 5 times a power of ten, about a fifth of the top. */
function niceStep(max: number): number {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

/**
 * The cost report as one self-contained HTML page: the totals, a chart of cost over time per
 * group with Berth's bar (its overhead on top, grey) beside Fargate's (paler), and the groups'
 * table. Inline SVG and CSS only: no script, nothing fetched. Each bar segment carries its
 * figure (`data-micros`), so a test can check the chart against the JSON.
 */
export function costHtml(r: CostReport): string {
  const groups = r.groups.map((g) => g.group);
  const colour = new Map(groups.map((g, i) => [g, PALETTE[i % PALETTE.length]]));
  const buckets = r.series.buckets;
  const stack = (b: (typeof buckets)[number], kind: 'berth' | 'fargate') =>
    groups.reduce((a, g) => a + (b.groups[g]?.[kind] ?? 0), 0) + (kind === 'berth' ? b.overhead : 0);
  const top = Math.max(1, ...buckets.flatMap((b) => [stack(b, 'berth'), stack(b, 'fargate')]));
  const step = niceStep(top);
  const yMax = Math.ceil(top / step) * step;
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const y = (micros: number) => CHART.top + plotH - (micros / yMax) * plotH;
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, Math.min(40, slot * 0.4));

  const parts: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    parts.push(`<line x1="${CHART.left}" x2="${CHART.width - CHART.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${CHART.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">$${(v / 1e6).toPrecision(3)}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 12));
  buckets.forEach((b, i) => {
    const x0 = CHART.left + i * slot + slot / 2;
    for (const [kind, x] of [['berth', x0 - barW], ['fargate', x0]] as const) {
      let base = 0;
      const segments: [string, string, number][] = groups.map((g) => [g, kind, b.groups[g]?.[kind] ?? 0]);
      if (kind === 'berth') segments.push(['overhead', 'overhead', b.overhead]);
      for (const [g, k, micros] of segments) {
        if (micros <= 0) continue;
        const h = y(base) - y(base + micros);
        const fill = k === 'overhead' ? OVERHEAD_COLOUR : colour.get(g)!;
        parts.push(
          `<rect class="bar ${k}" x="${x.toFixed(1)}" y="${y(base + micros).toFixed(2)}" width="${barW.toFixed(1)}" height="${h.toFixed(2)}" fill="${fill}"` +
          ` data-kind="${k}" data-group="${esc(g)}" data-bucket="${b.start}" data-micros="${micros}">` +
          `<title>${esc(g)}, ${k === 'fargate' ? 'Fargate' : k === 'overhead' ? 'fleet overhead' : 'Berth'}, from ${b.start}: $${formatUsd(micros)}</title></rect>`,
        );
        base += micros;
      }
    }
    if (i % labelEvery === 0) {
      const label = b.start.slice(5, 16).replace('T', ' ');
      parts.push(`<text x="${x0.toFixed(1)}" y="${CHART.height - CHART.bottom + 18}" text-anchor="middle">${esc(label)}</text>`);
    }
  });

  const t = r.totals;
  const card = (kind: string, label: string, micros: number, note = '') =>
    `<div class="card"><div class="label">${label}</div><div class="value" data-total="${kind}">$${formatUsd(micros)}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
  const legend = [
    ...groups.map((g) => `<span><i style="background:${colour.get(g)}"></i>${esc(g)}</span>`),
    `<span><i style="background:${OVERHEAD_COLOUR}"></i>fleet overhead</span>`,
  ].join('');
  const rows = r.groups.map((g) => `<tr data-group="${esc(g.group)}"><td>${esc(g.group)}</td><td>${g.tasks}</td><td>$${formatUsd(g.berthCostMicroUsd)}</td>` +
    `<td>$${formatUsd(g.fargatePriceMicroUsd)}</td><td>$${formatUsd(g.savingMicroUsd)}</td></tr>`).join('\n');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth cost report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#111827}
h1{font-size:20px;margin:0 0 4px} .sub{color:#6b7280;margin-bottom:16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:150px}
.label{color:#6b7280;font-size:12px} .value{font-size:18px;font-weight:600} .note{color:#6b7280;font-size:11px}
svg text{font-size:11px;fill:#374151} .grid{stroke:#e5e7eb} rect.fargate{opacity:.45}
.legend span{margin-right:14px;white-space:nowrap} .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;margin-top:16px} td,th{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:right} td:first-child,th:first-child{text-align:left}
</style></head>
<body>
<h1>Berth cost report</h1>
<div class="sub">From ${esc(r.period.from)} to ${esc(r.period.to)}${r.groupBy.length ? `, by ${esc(r.groupBy.join(', '))}` : ''}. Prices: ${esc(r.prices.source)}, ${esc(r.prices.region)}, taken ${esc(r.prices.takenAt)}.</div>
<div class="cards">
${card('berth', 'Berth cost', t.berthCostMicroUsd)}
${card('fargate', 'Fargate price', t.fargatePriceMicroUsd, 'the same tasks on Fargate')}
${card('saving', 'Saving', t.savingMicroUsd)}
${card('overhead', 'Fleet overhead', t.overheadMicroUsd, 'host time no task held')}
${card('fleet', 'Fleet bill', t.fleetBillMicroUsd, 'Berth cost + overhead')}
</div>
<figure>
<svg id="cost-chart" xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${CHART.height}" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="Cost over time per group: Berth beside Fargate">
${parts.join('\n')}
<line x1="${CHART.left}" x2="${CHART.left}" y1="${CHART.top}" y2="${CHART.top + plotH}" stroke="#9ca3af"/>
</svg>
<figcaption class="legend">In each ${r.series.bucketMs / 60_000}-minute step: Berth's cost (left bar, fleet overhead on top), Fargate's price (right bar, paler). ${legend}</figcaption>
</figure>
<table><thead><tr><th>${esc(r.groupBy.join(' / ') || 'group')}</th><th>tasks</th><th>Berth</th><th>Fargate</th><th>saving</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
