import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { issueAccessKey } from '../../shared/auth/access-keys';
import { createOperatorApiHandler } from '../../shared/agent-api/handler';
import { recordTaskUsage } from '../../shared/billing/meter';
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
    await eventually(async () => (await h.berth.store.tasks.get(ref))?.lastStatus === 'PENDING', 5000, 'PENDING');
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
    const record = await eventually(() => h.berth.store.usage.get(ref), 5000, 'the usage record');

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
    const first = await eventually(() => h.berth.store.usage.get(ref), 5000, 'the usage record');

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
    await eventually(() => h.berth.store.usage.get(ref), 5000, 'the usage record');
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
});
