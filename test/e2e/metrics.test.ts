import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { join } from 'node:path';
import { AgentApiError, AgentClient } from '../../agent/client';
import { DIMENSIONS, METRICS, METRICS_NAMESPACE } from '../../shared/metrics/catalog';
import { parseEmf } from '../../shared/metrics/emf';
import type { MetricDatum } from '../../shared/metrics/metric-datum';
import { awsEcs, awsLogs } from '../support/aws-cli';
import { eventually } from '../support/harness';
import { type LocalMode, runContainers, startLocalMode, untilStatus } from '../support/local-mode';
import { type ScrapedSample, parsePrometheus, samplesOf } from '../support/prometheus';

const LOG_GROUP = '/berth/metrics';
/** `aws logs ...` against the local endpoint, as a user would run it: its JSON, or the CLI's error. */
async function logsJson(endpoint: string, args: string[]): Promise<any> {
  const r = await awsLogs(endpoint, args);
  if (r.code !== 0) throw new Error(`aws logs ${args[0]}: ${r.stderr}`);
  return r.json;
}

const taskIdOf = (arn: string) => arn.split('/').pop()!;

async function scrape(m: LocalMode): Promise<{ status: number; contentType: string | null; samples: ScrapedSample[] }> {
  const res = await fetch(`${m.local.url}/metrics`);
  return { status: res.status, contentType: res.headers.get('content-type'), samples: parsePrometheus(await res.text()) };
}

const one = (samples: ScrapedSample[], name: string, labels: Record<string, string>) => {
  const found = samplesOf(samples, name, labels);
  return found.length === 1 ? found[0].value : undefined;
};

/** Every EMF record of the metrics log group that matches the filter pattern, read back as metrics. */
async function emfMetrics(m: LocalMode, filterPattern: string): Promise<MetricDatum[]> {
  const r = await logsJson(m.local.url, ['filter-log-events', '--log-group-name', LOG_GROUP, '--filter-pattern', filterPattern]);
  return r.events.flatMap((e: { message: string }) => parseEmf(JSON.parse(e.message)));
}

/**
 * Metrics end to end: two agent processes sample real containers through podman's Docker stats
 * API; the control plane counts tasks and hosts. Both show at `GET /metrics` and as EMF records
 * in the /berth/metrics log group, read back with `aws logs`.
 */
describe('Metrics', () => {
  let m: LocalMode;
  let busy: string;
  let idle: string;
  beforeAll(async () => {
    m = await startLocalMode({ metricsIntervalMs: 1000, maxHosts: 2 });
    // As PID 1 neither heeds SIGTERM: a short stopTimeout lets the stop at the end be quick.
    [busy] = await runContainers(m.ecs, [{ name: 'spin', stopTimeout: 2, command: ['sh', '-c', 'while :; do :; done'] }]);
    [idle] = await runContainers(m.ecs, [{ name: 'rest', stopTimeout: 2, command: ['sleep', '600'] }]);
    await untilStatus(m.ecs, busy, 'RUNNING', 60_000);
    await untilStatus(m.ecs, idle, 'RUNNING', 60_000);
  }, 240_000);
  afterAll(async () => {
    // Containers outlive the local mode (a restart adopts them): stop the spinning one, not to leave it burning CPU.
    await Promise.all([busy, idle].filter(Boolean).map(async (task) => {
      await m.ecs.send(new StopTaskCommand({ task }));
      await untilStatus(m.ecs, task, 'STOPPED', 60_000);
    })).catch(() => {});
    await m?.close();
  }, 120_000);

  describe('GET /metrics', () => {
    it('shows a busy task using more of its CPU reservation than an idle one, and both tasks\' memory', async () => {
      // Act: a few sampling rounds, so the CPU figures cover whole intervals.
      const { status, contentType, samples } = await eventually(async () => {
        const s = await scrape(m);
        const cpu = (arn: string) => one(s.samples, METRICS.taskCpuUtilization.prometheus, { task_id: taskIdOf(arn) });
        const b = cpu(busy);
        const i = cpu(idle);
        return b !== undefined && i !== undefined && b > i ? s : undefined;
      }, 60_000, 'the busy task above the idle one at /metrics');

      // Assess
      expect(status).toBe(200);
      expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
      const busyCpu = one(samples, METRICS.taskCpuUtilization.prometheus, { task_id: taskIdOf(busy), cluster_name: 'default' })!;
      const idleCpu = one(samples, METRICS.taskCpuUtilization.prometheus, { task_id: taskIdOf(idle), cluster_name: 'default' })!;
      // A spinning shell gets at least a twentieth of a core even on a crowded machine: 20 % of 256 units.
      expect(busyCpu).toBeGreaterThan(20);
      expect(idleCpu).toBeLessThan(busyCpu / 2);
      for (const arn of [busy, idle]) {
        const memory = one(samples, METRICS.taskMemoryUtilized.prometheus, { task_id: taskIdOf(arn) });
        expect(memory).toBeGreaterThan(0);
        expect(memory).toBeLessThan(512 * 1024 * 1024);
        const host = samplesOf(samples, METRICS.taskMemoryUtilized.prometheus, { task_id: taskIdOf(arn) })[0].labels.host_id;
        const record = await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) });
        expect(host).toBe(record!.hostId);
      }
    }, 90_000);

    it('shows each host\'s reserved and registered capacity as DescribeContainerInstances does', async () => {
      // Prepare
      const list = await awsEcs(m.local.url, ['list-container-instances']);
      const described = (await awsEcs(m.local.url, ['describe-container-instances', '--container-instances', ...list.json.containerInstanceArns])).json.containerInstances;
      const resource = (rs: any[], name: string) => rs.find((r) => r.name === name).integerValue;

      // Act
      const { samples } = await scrape(m);

      // Assess
      expect(described).toHaveLength(2);
      let reservedCpu = 0;
      for (const ci of described) {
        const host = { host_id: ci.ec2InstanceId };
        const registered = resource(ci.registeredResources, 'CPU');
        const reserved = registered - resource(ci.remainingResources, 'CPU');
        expect(one(samples, METRICS.hostCpuRegistered.prometheus, host)).toBe(registered);
        expect(one(samples, METRICS.hostCpuReserved.prometheus, host)).toBe(reserved);
        expect(one(samples, METRICS.hostCpuReservation.prometheus, host)).toBeCloseTo((100 * reserved) / registered, 6);
        const memory = resource(ci.registeredResources, 'MEMORY');
        expect(one(samples, METRICS.hostMemoryRegistered.prometheus, host)).toBe(memory * 1024 * 1024);
        expect(one(samples, METRICS.hostMemoryReserved.prometheus, host)).toBe((memory - resource(ci.remainingResources, 'MEMORY')) * 1024 * 1024);
        reservedCpu += reserved;
      }
      expect(reservedCpu).toBe(512);
    });

    it('counts tasks by lastStatus as ListTasks and DescribeTasks see them, as a task stops', async () => {
      // Prepare
      const [short] = await runContainers(m.ecs, [{ name: 'short', stopTimeout: 2, command: ['sleep', '600'] }]);
      await untilStatus(m.ecs, short, 'RUNNING', 60_000);
      await m.ecs.send(new StopTaskCommand({ task: short }));
      await untilStatus(m.ecs, short, 'STOPPED', 60_000);
      const byStatus = async () => {
        const arns = [
          ...(await awsEcs(m.local.url, ['list-tasks', '--desired-status', 'RUNNING'])).json.taskArns,
          ...(await awsEcs(m.local.url, ['list-tasks', '--desired-status', 'STOPPED'])).json.taskArns,
        ];
        const tasks = (await awsEcs(m.local.url, ['describe-tasks', '--tasks', ...arns])).json.tasks as { lastStatus: string }[];
        const counts: Record<string, number> = {};
        for (const t of tasks) counts[t.lastStatus] = (counts[t.lastStatus] ?? 0) + 1;
        return counts;
      };

      // Act: the counts settle within a round or two.
      const { seen, shown } = await eventually(async () => {
        const seen = await byStatus();
        const { samples } = await scrape(m);
        const shown = Object.fromEntries(samplesOf(samples, METRICS.taskCount.prometheus, { cluster_name: 'default' })
          .filter((s) => s.value > 0).map((s) => [s.labels.last_status, s.value]));
        return JSON.stringify(seen) === JSON.stringify(Object.fromEntries(Object.keys(seen).sort().map((k) => [k, shown[k]])))
          && Object.keys(shown).length === Object.keys(seen).length ? { seen, shown } : undefined;
      }, 30_000, '/metrics to count what DescribeTasks shows');

      // Assess
      expect(shown).toEqual(seen);
      expect(shown.RUNNING).toBe(2);
      expect(shown.STOPPED).toBe(1);
      const { samples } = await scrape(m);
      expect(one(samples, METRICS.taskCount.prometheus, { cluster_name: 'default', last_status: 'PENDING' })).toBe(0);
      expect(one(samples, METRICS.pendingPlacements.prometheus, {})).toBe(0);
    }, 120_000);

    it('measures RunTask → RUNNING once per launch, and the launches of the last minute', async () => {
      // Act
      const { samples } = await scrape(m);

      // Assess: three launches so far (busy, idle and the short one), each between 0 and a minute.
      const count = one(samples, `${METRICS.launchLatency.prometheus}_count`, {})!;
      const sum = one(samples, `${METRICS.launchLatency.prometheus}_sum`, {})!;
      expect(count).toBe(3);
      expect(sum).toBeGreaterThan(0);
      expect(sum / count).toBeLessThan(60);
      expect(one(samples, METRICS.launchesPerMinute.prometheus, {})).toBeGreaterThanOrEqual(0);
    });
  });

  describe('EMF records in /berth/metrics', () => {
    it('carry each task\'s CPU, the busy one higher, as CloudWatch would extract them (aws logs filter-log-events)', async () => {
      // Act
      const cpuOf = async (arn: string) => (await emfMetrics(m, `"${taskIdOf(arn)}" ${METRICS.taskCpuUtilization.name}`))
        .filter((d) => d.name === METRICS.taskCpuUtilization.name && d.dimensions[DIMENSIONS.task] === taskIdOf(arn));
      const busyCpu = await eventually(async () => ((await cpuOf(busy)).length >= 3 ? cpuOf(busy) : undefined), 30_000, 'EMF records of the busy task');
      const idleCpu = await cpuOf(idle);

      // Assess
      const average = (ds: MetricDatum[]) => ds.flatMap((d) => d.values).reduce((a, b) => a + b, 0) / ds.flatMap((d) => d.values).length;
      expect(idleCpu.length).toBeGreaterThan(0);
      expect(average(busyCpu)).toBeGreaterThan(average(idleCpu));
      expect(busyCpu[0]).toMatchObject({
        unit: 'Percent',
        dimensions: { [DIMENSIONS.cluster]: 'default', [DIMENSIONS.task]: taskIdOf(busy) },
        properties: { [DIMENSIONS.host]: expect.any(String) },
      });
    }, 60_000);

    it('are written by each agent to a stream of its own and by the control plane to another, in the EMF envelope (aws logs get-log-events)', async () => {
      // Prepare
      const streams = (await logsJson(m.local.url, ['describe-log-streams', '--log-group-name', LOG_GROUP])).logStreams.map((s: any) => s.logStreamName);
      const hostOf = async (arn: string) => (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!.hostId!;

      // Act
      const events = (await logsJson(m.local.url, ['get-log-events', '--log-group-name', LOG_GROUP, '--log-stream-name', 'control-plane', '--start-from-head', '--limit', '200'])).events;
      const records = events.map((e: { message: string }) => JSON.parse(e.message));
      const metrics = records.flatMap(parseEmf);

      // Assess
      expect(streams).toEqual(expect.arrayContaining(['control-plane', `agent/${await hostOf(busy)}`, `agent/${await hostOf(idle)}`]));
      for (const r of records) {
        expect(r._aws).toMatchObject({ Timestamp: expect.any(Number), CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [expect.any(Array)], Metrics: expect.any(Array) }] });
      }
      const running = metrics.filter((d: MetricDatum) => d.name === METRICS.taskCount.name && d.dimensions[DIMENSIONS.lastStatus] === 'RUNNING');
      expect(running.length).toBeGreaterThan(0);
      expect(metrics.some((d: MetricDatum) => d.name === METRICS.hostCpuRegistered.name && d.values[0] === 2048)).toBe(true);
      expect(metrics.some((d: MetricDatum) => d.name === METRICS.launchLatency.name)).toBe(true);
    }, 60_000);
  });

  describe('BerthAgent.ReportMetrics', () => {
    it('refuses bad samples with a ClientException and keeps a host from speaking for a task it does not hold', async () => {
      // Prepare: act as one of the fleet's hosts, with its own key.
      const record = await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(busy) });
      const hosts = (await m.local.berth.store.hosts.list()).map((h) => h.hostId);
      const other = hosts.find((h) => h !== record!.hostId)!;
      const client = new AgentClient(m.local.url, other, 'us-east-1', { credentialsFile: join(m.dataDir, 'hosts', `${other}.json`) });
      const sample = (o: object) => ({
        name: METRICS.taskCpuUtilization.name, unit: 'Percent', values: [12_345],
        dimensions: { [DIMENSIONS.cluster]: 'default', [DIMENSIONS.task]: taskIdOf(busy) }, timestamp: Date.now(), ...o,
      });

      // Act
      const bad = await Promise.all([
        sample({ name: 'CPUReservation' }), sample({ unit: 'Count' }), sample({ values: [] }), sample({ values: [-1] }), sample({ dimensions: {} }),
      ].map((s) => client.reportMetrics([s as MetricDatum]).then(() => undefined, (e) => e)));
      const foreign = await client.reportMetrics([sample({}) as MetricDatum]);

      // Assess
      for (const e of bad) expect(e).toMatchObject({ type: 'ClientException', status: 400 } satisfies Partial<AgentApiError>);
      expect(foreign).toEqual({ accepted: 0 });
      const { samples } = await scrape(m);
      expect(samplesOf(samples, METRICS.taskCpuUtilization.prometheus).some((s) => s.value === 12_345)).toBe(false);
    });
  });
});
