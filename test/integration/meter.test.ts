import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { issueAccessKey } from '../../shared/auth/access-keys';
import { createOperatorApiHandler } from '../../shared/agent-api/handler';
import { recordTaskUsage } from '../../shared/billing/meter';
import { getCostReport } from '../../shared/billing/cost';
import { EXPORT_DIMENSIONS, dailyExportKey, runBillingRound } from '../../shared/billing/export';
import { HOUR_MS } from '../../shared/billing/report';
import { formatUsd } from '../../shared/billing/money';
import { DirectoryCostExportStore } from '../../shared/cloud/local/directory-cost-export';
import type { MetricDatum } from '../../shared/metrics/metric-datum';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CostReport } from '../../shared/billing/report';
import { writeOffSilentHosts } from '../../shared/capacity/manager';
import { registerHost, reportTaskState } from '../../shared/lifecycle/reports';
import { serve } from '../../local/server';
import { type Harness, eventually, startHarness } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

/**
 * The meter on dynalite, through the lifecycle workflows: a task that stops gets one usage
 * record, whichever path stopped it, and the operator's GetCostReport prices it.
 */
const idOf = (arn: string) => arn.split('/').pop()!;
/** A few minutes ago: requests are signed by the real clock, and must stay within 15 minutes of this one. */
const T = Math.floor(Date.now() / 1000) * 1000 - 300_000;
/** The control plane's clock, moved by the tests: placements and stops happen when they say. */
let clock = T;

describe('Meter', () => {
  let h: Harness;
  let operator: { url: string; close(): Promise<void> };
  let operatorKey: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    h = await startHarness({ config: { placementTimeoutSeconds: 5 }, timeoutSeconds: { AwaitRunning: 5, AwaitStopped: 5 }, now: () => clock });
    operator = await serve({ 'POST /operator': createOperatorApiHandler(() => h.berth, { log: () => {} }) });
    operatorKey = await issueAccessKey(h.berth, 'operator');
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'metered', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '512', memory: '1024',
      ephemeralStorage: { sizeInGiB: 30 },
      containerDefinitions: [{ name: 'app', image: 'busybox', stopTimeout: 2 }],
    }));
  });
  afterAll(async () => {
    await operator?.close();
    await h?.close();
  });
  afterEach(() => expect(h.workflowErrors).toEqual([]));

  /** A host as the capacity manager launches one, registered: it has a type and a market. The others drain, so tasks go to it. */
  async function host(hostId: string, market: 'on-demand' | 'spot' = 'on-demand') {
    for (const other of await h.berth.store.hosts.list()) await h.berth.store.hosts.transition(other.hostId, 'DRAINING', ['ACTIVE']);
    await h.berth.store.hosts.launching({ hostId, instanceType: 'c6i.large', market, cpu: 2048, memory: 3584 }, T - 3_600_000);
    await registerHost(h.berth, { hostId, cpu: 2048, memory: 3584 });
  }

  async function runOn(hostId: string, tags?: { key: string; value: string }[]) {
    const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'metered', startedBy: 'meter-test', tags }));
    const taskId = idOf(r.tasks![0].taskArn!);
    const ref = { cluster: 'default', taskId };
    await eventually(async () => (await h.berth.store.tasks.get(ref))?.lastStatus === 'PENDING', 20_000, 'PENDING');
    expect((await h.berth.store.tasks.get(ref))!.hostId).toBe(hostId);
    return ref;
  }

  const operatorCall = (target: string, body: object, credentials = operatorKey) =>
    signedFetch(`${operator.url}/operator`, { target: `BerthOperator.${target}`, body: JSON.stringify(body), credentials });

  it('writes one record when a task stops, with its size, host, times and dimensions', async () => {
    // Prepare
    await host('meter-1');
    const ref = await runOn('meter-1', [{ key: 'team', value: 'payments' }]);
    await reportTaskState(h.berth, 'meter-1', { task: ref, lastStatus: 'RUNNING', timestamps: { pullStartedAt: T, startedAt: T + 2000 } });

    // Act
    clock = T + 90_000;
    await h.ecs.send(new StopTaskCommand({ task: ref.taskId }));
    await reportTaskState(h.berth, 'meter-1', { task: ref, lastStatus: 'STOPPED', timestamps: { stoppedAt: T + 90_000 } });
    const record = await eventually(() => h.berth.store.usage.get(ref), 20_000, 'the usage record');

    // Assess
    expect(record).toMatchObject({
      cluster: 'default', taskId: ref.taskId, family: 'metered', revision: 1, startedBy: 'meter-test', tags: { team: 'payments' },
      cpu: 512, memory: 1024, ephemeralStorageGiB: 30, hostId: 'meter-1', instanceType: 'c6i.large', market: 'on-demand',
      architecture: 'x86_64', pullStartedAt: T, startedAt: T + 2000, stoppedAt: T + 90_000, stopCode: 'UserInitiated',
    });
    expect(record.placedAt).toBe(T);
    expect(record.recordedAt).toEqual(expect.any(Number));
  });

  it('writes none twice: a re-run meter, and many at once, leave the first record as it was', async () => {
    await host('meter-2');
    const ref = await runOn('meter-2');
    await h.ecs.send(new StopTaskCommand({ task: ref.taskId }));
    await reportTaskState(h.berth, 'meter-2', { task: ref, lastStatus: 'STOPPED', timestamps: { stoppedAt: clock } });
    const first = await eventually(() => h.berth.store.usage.get(ref), 20_000, 'the usage record');

    const written = await Promise.all(Array.from({ length: 20 }, () => recordTaskUsage(h.berth, ref)));

    expect(written.filter(Boolean)).toEqual([]);
    expect(await h.berth.store.usage.get(ref)).toEqual(first);
  });

  it('records nothing for a task that has not stopped', async () => {
    await host('meter-3');
    const ref = await runOn('meter-3');
    expect(await recordTaskUsage(h.berth, ref)).toBe(false);
    expect(await h.berth.store.usage.get(ref)).toBeUndefined();
    await h.ecs.send(new StopTaskCommand({ task: ref.taskId }));
    await reportTaskState(h.berth, 'meter-3', { task: ref, lastStatus: 'STOPPED', timestamps: { stoppedAt: clock } });
    await eventually(() => h.berth.store.usage.get(ref), 20_000, 'the usage record');
  });

  it('records the tasks of a host written off, and the end of the host\'s bill', async () => {
    await host('meter-lost');
    const ref = await runOn('meter-lost');
    clock += 120_000;

    const s = await writeOffSilentHosts(h.berth, { heartbeatTimeoutSeconds: 30 } as Parameters<typeof writeOffSilentHosts>[1]);

    expect(s.lost).toContain('meter-lost');
    expect(await h.berth.store.usage.get(ref)).toMatchObject({ hostId: 'meter-lost', stopCode: 'TerminationNotice' });
    expect((await h.berth.store.hosts.get('meter-lost'))!.endedAt).toBe(clock);
  });

  describe('GetCostReport', () => {
    it('prices the period\'s tasks on Fargate and on Berth, for an operator', async () => {
      const res = await operatorCall('GetCostReport', { from: new Date(T - 3_600_000).toISOString(), groupBy: ['task'] });
      expect(res.status).toBe(200);
      const report = (await res.json()) as CostReport;
      const row = report.tasks.find((t) => t.hostId === 'meter-1')!;
      // 512 CPU / 1 GB is a Fargate size; 30 GiB of storage bills 10 GiB above the free 20.
      expect(row).toMatchObject({ fargateSize: { cpu: 512, memory: 1024 }, fargateMarket: 'on-demand', fargateBilledSeconds: 90, running: false });
      expect(row.fargatePriceMicroUsd).toBe(Math.round(((0.5 * 40_480 + 1 * 4_445 + 10 * 111) * 90) / 3600));
      // 90 s of a c6i.large ($0.085 an hour) at the task's larger share: memory, 1024 of 3584 MiB.
      // Within a micro-dollar: the host's charge is rounded at its edges from the epoch (so bills
      // of adjacent periods add up), and where those edges fall depends on the real clock.
      expect(Math.abs(row.berthCostMicroUsd - (85_000 * (1024 / 3584) * 90) / 3600)).toBeLessThan(1.5);
      expect(report.totals.berthCostMicroUsd + report.totals.overheadMicroUsd).toBe(report.totals.fleetBillMicroUsd);
      expect(report.prices.takenAt).toBeTruthy();
    });

    it('is an operator\'s call only', async () => {
      const res = await operatorCall('GetCostReport', {}, h.credentials);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ __type: 'AccessDeniedException' });
    });

    it.each([
      [{ groupBy: ['colour'] }, /groupBy/],
      [{ since: 'yesterday' }, /'since'/],
      [{ from: '2026-12-02', to: '2026-12-01' }, /start before it ends/],
      [{ since: '1h', from: '2026-12-01' }, /either 'since' or 'from'/],
      [{ bucketSeconds: 1 }, /bucketSeconds/],
      [{ period: '1h' }, /not a member/],
    ])('refuses %p with a ClientException', async (body, message) => {
      const res = await operatorCall('GetCostReport', body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as { __type: string; message: string };
      expect(error.__type).toBe('ClientException');
      expect(error.message).toMatch(message);
    });
  });

  describe('the hourly billing round', () => {
    it('publishes the hour\'s cost per cluster and service, and writes the day\'s usage, one line per task, to its file', async () => {
      // Prepare: a task that ran two minutes; then the clock a minute past the next hour.
      await host('meter-export');
      const start = clock;
      const ref = await runOn('meter-export');
      await reportTaskState(h.berth, 'meter-export', { task: ref, lastStatus: 'RUNNING', timestamps: { pullStartedAt: start, startedAt: start + 1000 } });
      clock = start + 120_000;
      await h.ecs.send(new StopTaskCommand({ task: ref.taskId }));
      await reportTaskState(h.berth, 'meter-export', { task: ref, lastStatus: 'STOPPED', timestamps: { stoppedAt: start + 120_000 } });
      await eventually(() => h.berth.store.usage.get(ref), 20_000, 'the usage record');
      const hourEnd = Math.ceil((start + 120_000) / HOUR_MS) * HOUR_MS;
      const dir = await mkdtemp(join(tmpdir(), 'berth-cost-export-'));
      const published: MetricDatum[] = [];
      const before = clock;
      clock = hourEnd + 60_000;

      try {
        // Act
        const summary = await runBillingRound(h.berth, { metrics: { publish: async (d) => void published.push(...d) }, exports: new DirectoryCostExportStore(dir) });

        // Assess: the metrics are the hour's report grouped by cluster and service, at the hour's start.
        const iso = (t: number) => new Date(t).toISOString();
        expect(summary.hour).toEqual({ from: iso(hourEnd - HOUR_MS), to: iso(hourEnd) });
        const hourly = await getCostReport(h.berth, { from: iso(hourEnd - HOUR_MS), to: iso(hourEnd), groupBy: ['cluster', 'service'] });
        const cost = published.find((m) => m.name === 'BerthCost' && m.dimensions.ClusterName === 'default' && m.dimensions.ServiceName === '-');
        expect(cost).toMatchObject({ unit: 'None', timestamp: hourEnd - HOUR_MS });
        const group = hourly.groups.find((g) => g.key.cluster === 'default' && g.key.service === '-')!;
        expect(cost!.values).toEqual([group.berthCostMicroUsd / 1e6]);
        expect(group.berthCostMicroUsd).toBeGreaterThan(0);
        expect(published.filter((m) => m.name === 'FleetOverhead')).toHaveLength(1);

        // …and the day's file holds a line for the task, with its dimensions and the report's figures.
        const dayStart = Math.floor((hourEnd - HOUR_MS) / (24 * HOUR_MS)) * 24 * HOUR_MS;
        const key = dailyExportKey(dayStart);
        expect(key).toMatch(/^usage\/\d{4}\/\d{2}\/\d{2}\.csv$/);
        expect(summary.exported).toBe(join(dir, ...key.split('/')));
        const lines = (await readFile(summary.exported!, 'utf8')).trim().split('\n');
        expect(lines[0]).toBe('cluster,service,family,startedBy,market,instanceType,task,tasks,berth_cost_usd,fargate_price_usd,saving_usd,period_from,period_to,prices_taken_at,prices_source');
        const daily = await getCostReport(h.berth, { from: iso(dayStart), to: iso(hourEnd), groupBy: EXPORT_DIMENSIONS });
        const row = daily.groups.find((g) => g.key.task === ref.taskId)!;
        const line = lines.find((l) => l.includes(ref.taskId))!;
        expect(line.split(',').slice(0, 10)).toEqual([
          'default', '-', 'metered', 'meter-test', 'on-demand', 'c6i.large', ref.taskId, '1', formatUsd(row.berthCostMicroUsd), formatUsd(row.fargatePriceMicroUsd),
        ]);
        expect(lines).toHaveLength(daily.groups.length + 1);
        // Written again, the file is the same, whole: a retried round is harmless.
        await runBillingRound(h.berth, { metrics: { publish: async () => {} }, exports: new DirectoryCostExportStore(dir) });
        expect((await readFile(summary.exported!, 'utf8')).trim().split('\n')).toEqual(lines);
      } finally {
        clock = before;
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
