import { RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { weightOf } from '../../../shared/billing/apportion';
import { fargateBilledSeconds } from '../../../shared/billing/fargate';
import { DEFAULT_PRICES } from '../../../shared/billing/prices';
import type { CostReport } from '../../../shared/billing/report';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, untilStatus } from '../../support/local-mode';

const run = promisify(execFile);
const REPO = join(__dirname, '../../..');
const idOf = (arn: string) => arn.split('/').pop()!;

/**
 * The meter with real containers: tasks of known sizes run and stop, and `npm run cost -- --json`
 * shows each with the Fargate price its size and billed seconds come to, and a Berth share that
 * is its share of its host's price over the time it held room there.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Cost report', () => {
  let m: LocalMode;
  const family = `e2e-cost-${Date.now()}`;
  const cost = async (...args: string[]) => run('npm', ['run', '--silent', 'cost', '--', ...args], {
    cwd: REPO,
    env: {
      ...process.env, BERTH_ENDPOINT: m.local.url,
      AWS_ACCESS_KEY_ID: m.local.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: m.local.credentials.secretAccessKey,
    },
  });

  beforeAll(async () => {
    m = mode();
    // One of Fargate's sizes, and one only Berth runs (an EC2 task definition), which Fargate
    // would round up to 512 CPU / 1 GB.
    for (const [suffix, cpu, memory, compatibility] of [['exact', '512', '1024', 'FARGATE'], ['odd', '300', '600', 'EC2']] as const) {
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family: `${family}-${suffix}`, requiresCompatibilities: [compatibility], networkMode: 'awsvpc', cpu, memory,
        containerDefinitions: [{ name: 'app', image: BUSYBOX, essential: true, command: ['sh', '-c', 'sleep 2'] }],
      }));
    }
  });

  it('shows each task with its Fargate price and its share of its host\'s time', async () => {
    // Prepare: two tasks that run about two seconds each, tagged for charge-back.
    const arns: string[] = [];
    for (const suffix of ['exact', 'odd']) {
      const r = await m.ecs.send(new RunTaskCommand({ taskDefinition: `${family}-${suffix}`, startedBy: family, tags: [{ key: 'team', value: suffix }] }));
      arns.push(r.tasks![0].taskArn!);
    }
    const stopped = await Promise.all(arns.map((arn) => untilStatus(m.ecs, arn, 'STOPPED', 60_000)));
    const records = await Promise.all(arns.map((arn) => eventually(() => m.local.berth.store.usage.get({ cluster: 'default', taskId: idOf(arn) }), 20_000, 'its usage record')));
    const html = join(mkdtempSync(join(tmpdir(), 'berth-cost-')), 'cost.html');

    // Act
    const out = await cost('--json', '--since', '1h', '--group-by', 'task', '--html', html);

    // Assess
    const report = JSON.parse(out.stdout) as CostReport;
    expect(out.stderr).toMatch(/asking .* for the report of the last 1h, by task/);
    expect(report.prices).toEqual({ region: DEFAULT_PRICES.region, takenAt: DEFAULT_PRICES.takenAt, source: DEFAULT_PRICES.source });
    const rates = DEFAULT_PRICES.fargate.x86_64.onDemand;
    for (const [i, task] of stopped.entries()) {
      const record = records[i];
      const row = report.tasks.find((t) => t.taskId === idOf(task.taskArn!))!;
      const host = (await m.local.berth.store.hosts.get(record.hostId!))!;
      const seconds = fargateBilledSeconds(task.pullStartedAt!.getTime(), task.stoppedAt!.getTime());
      expect([record.cpu, record.memory]).toEqual([Number(task.cpu), Number(task.memory)]);
      expect(row).toMatchObject({
        running: false, cpu: record.cpu, memory: record.memory, hostId: host.hostId, instanceType: host.instanceType,
        market: 'on-demand', fargateSize: { cpu: 512, memory: 1024 }, fargateMarket: 'on-demand', fargateBilledSeconds: seconds,
      });
      // A short task bills Fargate's minute: 0.5 vCPU and 1 GB at the list rates.
      expect(seconds).toBe(60);
      expect(row.fargatePriceMicroUsd).toBe(Math.round((0.5 * rates.vcpuHour + 1 * rates.gbHour) * 1e6 * seconds / 3600));
      // Its share of its host: the larger of its cpu and memory shares of the host's price, from
      // its placement to its stop (each stretch of the host's time rounds to the micro-dollar).
      const share = Number(weightOf(record, host)) / (host.cpu * host.memory);
      const hourly = DEFAULT_PRICES.instances[host.instanceType!].onDemand;
      const expected = (hourly * 1e6 * share * (record.stoppedAt! - record.placedAt!)) / 3_600_000;
      expect(Math.abs(row.berthCostMicroUsd - expected)).toBeLessThanOrEqual(8);
      expect(row.berthCostMicroUsd).toBeGreaterThan(0);
    }
    expect(report.totals.berthCostMicroUsd + report.totals.overheadMicroUsd).toBe(report.totals.fleetBillMicroUsd);
    expect(readFileSync(html, 'utf8')).toContain('<svg id="cost-chart"');
  }, 120_000);

  it('groups by a tag, and writes CSV', async () => {
    const out = await cost('--csv', '--since', '1h', '--group-by', 'tag:team');
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('tag:team,tasks,berth_cost_usd,fargate_price_usd,saving_usd,period_from,period_to,prices_taken_at,prices_source');
    const teams = lines.slice(1).map((l) => l.split(',')[0]);
    expect(teams).toEqual(expect.arrayContaining(['exact', 'odd']));
  }, 60_000);

  it('refuses a bad dimension with the API\'s error, and exits non-zero', async () => {
    const failed = await cost('--group-by', 'colour').then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/ClientException: Invalid parameter 'groupBy\[0\]'/);
  }, 60_000);
});
}
