import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { coresBetween, cpuUtilizationPercent } from '../../agent/metrics/container-stats';
import { memoryInUse, toReading } from '../../agent/metrics/docker-stats-source';
import { TaskSampler } from '../../agent/metrics/task-sampler';
import { LABELS } from '../../agent/runtime/container-runtime';
import type { Berth } from '../../shared/context';
import { METRICS } from '../../shared/metrics/catalog';
import { type ControlPlaneSnapshot, ControlPlaneMetrics, type SnapshotTask, controlPlaneMetrics } from '../../shared/metrics/control-plane';
import type { MetricDatum } from '../../shared/metrics/metric-datum';

const valueOf = (data: MetricDatum[], name: string, dims: Record<string, string> = {}) =>
  data.filter((d) => d.name === name && Object.entries(dims).every(([k, v]) => d.dimensions[k] === v)).flatMap((d) => d.values);

const host = (hostId: string, status: 'ACTIVE' | 'LAUNCHING', reservedCpu: number) =>
  ({ hostId, status, cpu: 2048, memory: 3840, reservedCpu, reservedMemory: 1024, taskCount: 1 });

describe('Control plane metrics', () => {
  describe('controlPlaneMetrics', () => {
    it('counts every lastStatus (zeros too), pending placements, and each registered host\'s reservation', () => {
      // Prepare
      const snapshot: ControlPlaneSnapshot = {
        clusters: [{ name: 'default', tasks: [
          { taskId: 'a', lastStatus: 'RUNNING', createdAt: 0, startedAt: 900 },
          { taskId: 'b', lastStatus: 'RUNNING', createdAt: 0, startedAt: 1000 },
          { taskId: 'c', lastStatus: 'PROVISIONING', createdAt: 0 },
        ] }],
        hosts: [host('h1', 'ACTIVE', 512), host('h2', 'LAUNCHING', 0)],
        pendingPlacements: 1,
      };

      // Act
      const data = controlPlaneMetrics(snapshot, 2000, () => false);

      // Assess
      expect(valueOf(data, METRICS.taskCount.name, { LastStatus: 'RUNNING' })).toEqual([2]);
      expect(valueOf(data, METRICS.taskCount.name, { LastStatus: 'PROVISIONING' })).toEqual([1]);
      expect(valueOf(data, METRICS.taskCount.name, { LastStatus: 'STOPPED' })).toEqual([0]);
      expect(valueOf(data, METRICS.pendingPlacements.name)).toEqual([1]);
      expect(valueOf(data, METRICS.hostCpuReserved.name, { HostId: 'h1' })).toEqual([512]);
      expect(valueOf(data, METRICS.hostCpuReservation.name, { HostId: 'h1' })).toEqual([25]);
      expect(valueOf(data, METRICS.hostCpuRegistered.name, { HostId: 'h2' })).toEqual([]);
      expect(valueOf(data, METRICS.launchesPerMinute.name)).toEqual([2]);
      expect(valueOf(data, METRICS.launchLatency.name)).toEqual([]);
    });
  });

  describe('ControlPlaneMetrics', () => {
    /** Just enough of a Berth for the snapshot read: the store's lists, over a mutable task list. */
    const berthOver = (tasks: SnapshotTask[], clock: { now: number }) => ({
      now: () => clock.now,
      store: {
        clusters: { list: async () => [{ name: 'default', status: 'ACTIVE' }] },
        tasks: { list: async () => tasks },
        hosts: { views: async () => [] },
        demand: { list: async () => [] },
      },
    }) as unknown as Berth;

    it('counts each launch exactly once, however late its report lands and however often it collects', async () => {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.record({ startOffsetMs: fc.integer({ min: 0, max: 30_000 }), reportDelayMs: fc.integer({ min: 0, max: 20_000 }) }), { maxLength: 20 }),
        fc.integer({ min: 200, max: 5000 }),
        async (launches, intervalMs) => {
          // Prepare: launches start after the collector's first round and reach the store late.
          const clock = { now: 1_000_000 };
          const stored: SnapshotTask[] = [];
          const collector = new ControlPlaneMetrics(berthOver(stored, clock), intervalMs);
          await collector.collect();
          const pending = launches.map((l, i) => ({ taskId: `t${i}`, createdAt: clock.now, startedAt: clock.now + 1 + l.startOffsetMs, visibleAt: clock.now + 1 + l.startOffsetMs + l.reportDelayMs }));

          // Act
          const latencies: number[] = [];
          for (const end = clock.now + 60_000; clock.now < end;) {
            clock.now += intervalMs;
            for (const p of pending) {
              if (p.visibleAt <= clock.now && !stored.some((t) => t.taskId === p.taskId)) stored.push({ taskId: p.taskId, lastStatus: 'RUNNING', createdAt: p.createdAt, startedAt: p.startedAt });
            }
            latencies.push(...valueOf(await collector.collect(), METRICS.launchLatency.name));
          }

          // Assess
          expect(latencies.sort((a, b) => a - b)).toEqual(pending.map((p) => p.startedAt - p.createdAt).sort((a, b) => a - b));
        },
      ), { numRuns: 50 });
    });

    it('counts, in a fresh process, only the launches of its first interval', async () => {
      // Prepare
      const clock = { now: 100_000 };
      const tasks: SnapshotTask[] = [
        { taskId: 'old', lastStatus: 'RUNNING', createdAt: 0, startedAt: 50_000 },
        { taskId: 'recent', lastStatus: 'RUNNING', createdAt: 99_000, startedAt: 99_500 },
      ];
      const collector = new ControlPlaneMetrics(berthOver(tasks, clock), 1000);

      // Act
      const first = valueOf(await collector.collect(), METRICS.launchLatency.name);
      clock.now += 1000;
      const second = valueOf(await collector.collect(), METRICS.launchLatency.name);

      // Assess
      expect(first).toEqual([500]);
      expect(second).toEqual([]);
    });
  });
});

describe('Task sampling', () => {
  describe('coresBetween and cpuUtilizationPercent', () => {
    it.each([
      [1, 1024, 100],
      [0.5, 256, 200],
      [0, 512, 0],
    ])('%f core(s) against %i units is %f %%', (cores, units, percent) => {
      expect(cpuUtilizationPercent(cores, units)).toBeCloseTo(percent, 9);
    });

    it('measures CPU time over wall time, and says nothing of a counter that went back', () => {
      // Prepare
      const before = { cpuTotalNs: 1e9, memoryBytes: 0, readAtMs: 10_000 };

      // Act
      const busy = coresBetween(before, { cpuTotalNs: 3e9, memoryBytes: 0, readAtMs: 12_000 });
      const restarted = coresBetween(before, { cpuTotalNs: 0, memoryBytes: 0, readAtMs: 12_000 });

      // Assess
      expect(busy).toBeCloseTo(1, 9);
      expect(restarted).toBeUndefined();
    });
  });

  describe('toReading', () => {
    it('reads podman\'s answer: CPU total, memory less inactive page cache, the engine\'s read time', () => {
      // Act
      const r = toReading({
        read: '2026-11-27T19:30:12.348532195Z',
        cpu_stats: { cpu_usage: { total_usage: 560_404_573 } },
        memory_stats: { usage: 761_856, stats: { inactive_file: 61_856 } },
      }, 0);

      // Assess
      expect(r).toEqual({ cpuTotalNs: 560_404_573, memoryBytes: 700_000, readAtMs: Date.parse('2026-11-27T19:30:12.348Z') });
      expect(memoryInUse({ usage: 100, stats: { total_inactive_file: 500 } })).toBe(100);
      expect(toReading({ read: '0001-01-01T00:00:00Z' }, 42).readAtMs).toBe(42);
    });
  });

  describe('TaskSampler', () => {
    it('shows a task\'s CPU from its second round, summed over its containers, against its reservation', async () => {
      // Prepare: task t has two containers, each using half a core; cpu 512 units is half a vCPU.
      let at = 0;
      const labels = (c: string) => ({ [LABELS.task]: 't', [LABELS.host]: 'h1', [LABELS.container]: c });
      const containers = ['a', 'b'].map((c) => ({ id: c, name: c, labels: labels(c), status: 'running', running: true, oomKilled: false }));
      const sampler = new TaskSampler({
        hostId: 'h1',
        runtime: { list: async () => containers },
        stats: { read: async () => ({ cpuTotalNs: at * 0.5e6, memoryBytes: 10 * 1024 * 1024, readAtMs: at }) },
        tasks: () => [{ cluster: 'default', taskId: 't', cpu: 512, memory: 100 }],
        now: () => at,
      });

      // Act
      const first = await sampler.sample();
      at = 1000;
      const second = await sampler.sample();

      // Assess
      expect(valueOf(first, METRICS.taskCpuUtilization.name)).toEqual([]);
      expect(valueOf(second, METRICS.taskCpuUtilization.name)).toEqual([200]);
      expect(valueOf(second, METRICS.taskMemoryUtilized.name)).toEqual([20]);
      expect(valueOf(second, METRICS.taskMemoryUtilization.name)).toEqual([20]);
      expect(second[0]).toMatchObject({ dimensions: { ClusterName: 'default', TaskId: 't' }, properties: { HostId: 'h1' } });
    });
  });
});
