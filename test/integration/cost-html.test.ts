import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { costHtml } from '../../shared/billing/html';
import { formatUsd } from '../../shared/billing/money';
import { DEFAULT_PRICES } from '../../shared/billing/prices';
import { type CostReport, costReport } from '../../shared/billing/report';
import type { HostUsage, TaskUsage } from '../../shared/billing/usage';

/**
 * The HTML cost report in headless Chromium (Debian's, at /usr/bin/chromium; playwright-core
 * never downloads one): it renders, its chart is there, and every figure it shows is the JSON's.
 */
const CHROMIUM = '/usr/bin/chromium';
const T0 = Date.UTC(2026, 11, 1, 8);
const HOUR = 3_600_000;

/** Six hours of a small fleet: two teams' tasks on two hosts, one of them spot, one tag that tries to be markup. */
function sampleReport(): CostReport {
  const hosts: HostUsage[] = [
    { hostId: 'h1', instanceType: 'c6i.xlarge', market: 'on-demand', cpu: 4096, memory: 7680, launchedAt: T0 - HOUR },
    { hostId: 'h2', instanceType: 'm6i.large', market: 'spot', cpu: 2048, memory: 7680, launchedAt: T0, endedAt: T0 + 4 * HOUR },
  ];
  const tasks: TaskUsage[] = [];
  const teams = ['payments', 'search', '<script>alert(1)</script>'];
  for (let i = 0; i < 18; i++) {
    const host = hosts[i % 2];
    const start = T0 + (i % 6) * HOUR + 60_000 * i;
    tasks.push({
      cluster: 'default', taskId: `task-${i}`, family: 'web', revision: 1, tags: { team: teams[i % 3] },
      cpu: [256, 512, 1024][i % 3], memory: [512, 2048, 3072][i % 3], hostId: host.hostId, instanceType: host.instanceType, market: host.market,
      architecture: 'x86_64', placedAt: start, pullStartedAt: start + 500, stoppedAt: Math.min(start + 40 * 60_000, host.endedAt ?? Infinity),
    });
  }
  return costReport({ tasks, hosts, prices: DEFAULT_PRICES, from: T0, to: T0 + 6 * HOUR, now: T0 + 6 * HOUR, groupBy: ['tag:team'] });
}

describe('HTML cost report', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('renders its chart of Berth beside Fargate, with the JSON\'s figures, fetching nothing', async () => {
    // Prepare
    const report = sampleReport();
    const file = join(mkdtempSync(join(tmpdir(), 'berth-cost-')), 'cost.html');
    writeFileSync(file, costHtml(report));
    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => errors.push(`dialog: ${d.message()}`));

    // Act
    await page.goto(pathToFileURL(file).href);

    // Assess: it rendered, with a chart of real size.
    expect(await page.title()).toBe('Berth cost report');
    const box = await page.locator('#cost-chart').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(box!.height).toBeGreaterThan(200);
    const bars = await page.locator('#cost-chart rect.bar').evaluateAll((rs) => rs.map((r) => ({
      kind: r.getAttribute('data-kind')!, group: r.getAttribute('data-group')!, micros: Number(r.getAttribute('data-micros')),
      height: Number(r.getAttribute('height')),
    })));
    expect(new Set(bars.map((b) => b.kind))).toEqual(new Set(['berth', 'fargate', 'overhead']));
    expect(bars.every((b) => b.height > 0)).toBe(true);
    const firstBar = await page.locator('#cost-chart rect.bar').first().boundingBox();
    expect(firstBar!.height).toBeGreaterThan(0);
    // The chart's figures are the report's.
    const sum = (kind: string, group?: string) => bars.filter((b) => b.kind === kind && (group === undefined || b.group === group)).reduce((a, b) => a + b.micros, 0);
    expect(sum('berth')).toBe(report.totals.berthCostMicroUsd);
    expect(sum('fargate')).toBe(report.totals.fargatePriceMicroUsd);
    expect(sum('overhead')).toBe(report.totals.overheadMicroUsd);
    for (const g of report.groups) {
      expect({ group: g.group, berth: sum('berth', g.group), fargate: sum('fargate', g.group) })
        .toEqual({ group: g.group, berth: g.berthCostMicroUsd, fargate: g.fargatePriceMicroUsd });
    }
    // So are the totals it prints, and the table's rows.
    const total = (kind: string) => page.locator(`[data-total="${kind}"]`).textContent();
    expect(await total('berth')).toBe(`$${formatUsd(report.totals.berthCostMicroUsd)}`);
    expect(await total('fargate')).toBe(`$${formatUsd(report.totals.fargatePriceMicroUsd)}`);
    expect(await total('saving')).toBe(`$${formatUsd(report.totals.savingMicroUsd)}`);
    expect(await total('overhead')).toBe(`$${formatUsd(report.totals.overheadMicroUsd)}`);
    expect(await total('fleet')).toBe(`$${formatUsd(report.totals.fleetBillMicroUsd)}`);
    const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual(report.groups.map((g) => [g.group, String(g.tasks), `$${formatUsd(g.berthCostMicroUsd)}`, `$${formatUsd(g.fargatePriceMicroUsd)}`, `$${formatUsd(g.savingMicroUsd)}`]));
    // A tag that looks like markup stays text: no script ran, none is in the page.
    expect(await page.locator('script').count()).toBe(0);
    expect(errors).toEqual([]);
    // Self-contained: the page itself and nothing else.
    expect(requests).toEqual([pathToFileURL(file).href]);
  }, 60_000);
});
