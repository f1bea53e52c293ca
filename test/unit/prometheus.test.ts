import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { METRICS } from '../../shared/metrics/catalog';
import type { MetricDatum } from '../../shared/metrics/metric-datum';
import { labelName, renderPrometheus } from '../../shared/metrics/prometheus';
import { MetricsRegistry } from '../../shared/metrics/registry';
import { parseSampleLine } from '../support/prometheus';

const sample = (name: string, value: number, dimensions: Record<string, string>, properties?: Record<string, string>): MetricDatum =>
  ({ name, unit: 'Percent', values: [value], dimensions, properties, timestamp: 1 });

describe('Prometheus', () => {
  describe('renderPrometheus', () => {
    it('writes HELP, TYPE and the samples of each family', () => {
      // Act
      const text = renderPrometheus([
        { name: 'berth_tasks', help: 'Tasks.', type: 'gauge', samples: [{ labels: { last_status: 'RUNNING', cluster_name: 'default' }, value: 2 }] },
        { name: 'berth_latency_seconds', help: 'Latency.', type: 'summary', samples: [{ suffix: '_sum', labels: {}, value: 1.5 }, { suffix: '_count', labels: {}, value: 3 }] },
      ]);

      // Assess
      expect(text).toBe([
        '# HELP berth_tasks Tasks.',
        '# TYPE berth_tasks gauge',
        'berth_tasks{cluster_name="default",last_status="RUNNING"} 2',
        '# HELP berth_latency_seconds Latency.',
        '# TYPE berth_latency_seconds summary',
        'berth_latency_seconds_sum 1.5',
        'berth_latency_seconds_count 3',
        '',
      ].join('\n'));
    });

    it('escapes any label value so that a scraper reads back exactly that value', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.double(), (value, number) => {
        // Act
        const text = renderPrometheus([{ name: 'berth_x', help: 'back\\slash\nnewline', type: 'gauge', samples: [{ labels: { task_id: value }, value: number }] }]);

        // Assess
        const lines = text.split('\n');
        expect(lines).toHaveLength(4);
        expect(lines[0]).toBe('# HELP berth_x back\\\\slash\\nnewline');
        const parsed = parseSampleLine(lines[2]);
        expect(parsed.labels).toEqual({ task_id: value });
        expect(parsed.value).toBe(Object.is(number, -0) ? 0 : number);
      }), { numRuns: 300 });
    });

    it.each([['a bad metric name', 'berth-x', 'task_id'], ['a bad label name', 'berth_x', 'task-id'], ['a reserved label name', 'berth_x', '__name']])(
      'refuses %s', (_what, name, label) => {
        // Act
        const render = () => renderPrometheus([{ name, help: '', type: 'gauge', samples: [{ labels: { [label]: 'v' }, value: 1 }] }]);

        // Assess
        expect(render).toThrow(/Invalid Prometheus/);
      });
  });

  describe('labelName', () => {
    it.each([['ClusterName', 'cluster_name'], ['TaskId', 'task_id'], ['CPUUtilization', 'cpu_utilization'], ['HostId', 'host_id'], ['9lives', '_9lives']])(
      'turns %s into %s', (from, to) => {
        expect(labelName(from)).toBe(to);
      });
  });
});

describe('MetricsRegistry', () => {
  describe('render', () => {
    it('shows the latest value of each series, in Prometheus units, labelled by dimensions and properties', async () => {
      // Prepare
      const registry = new MetricsRegistry({ staleAfterMs: 10_000, now: () => 0 });
      const dims = { ClusterName: 'default', TaskId: 't1' };

      // Act
      await registry.publish([sample(METRICS.taskCpuUtilization.name, 10, dims, { HostId: 'h1' })]);
      await registry.publish([
        sample(METRICS.taskCpuUtilization.name, 97.5, dims, { HostId: 'h1' }),
        { ...sample(METRICS.taskMemoryUtilized.name, 2, dims, { HostId: 'h1' }), unit: 'Megabytes' },
      ]);

      // Assess
      const lines = registry.render().split('\n').filter((l) => l && !l.startsWith('#'));
      expect(lines).toEqual([
        'berth_task_cpu_utilization_percent{cluster_name="default",host_id="h1",task_id="t1"} 97.5',
        'berth_task_memory_used_bytes{cluster_name="default",host_id="h1",task_id="t1"} 2097152',
      ]);
    });

    it('drops a gauge nobody published for longer than staleAfterMs', async () => {
      // Prepare
      let now = 0;
      const registry = new MetricsRegistry({ staleAfterMs: 1000, now: () => now });
      await registry.publish([sample('CPUUtilization', 1, { TaskId: 'gone' }), sample('CPUUtilization', 1, { TaskId: 'kept' })]);

      // Act
      now = 1500;
      await registry.publish([sample('CPUUtilization', 2, { TaskId: 'kept' })]);
      now = 2100;

      // Assess
      expect(registry.render()).not.toContain('gone');
      expect(registry.render()).toContain('berth_task_cpu_utilization_percent{task_id="kept"} 2');
    });

    it('drops a stopped task\'s gauges as it records, though nobody reads /metrics', async () => {
      // Prepare
      let now = 0;
      const registry = new MetricsRegistry({ staleAfterMs: 1000, now: () => now });
      await registry.publish([sample('CPUUtilization', 1, { TaskId: 'stopped' }), sample('CPUUtilization', 1, { TaskId: 'running' })]);
      now = 600;
      await registry.publish([sample('CPUUtilization', 2, { TaskId: 'running' })]);

      // Act
      now = 1700;
      await registry.publish([sample('CPUUtilization', 3, { TaskId: 'running' })]);

      // Assess: 'stopped' went, 'running' stays; render was never called.
      expect(registry.size).toBe(1);
    });

    it('accumulates a summary: every latency counted once, summed in seconds', async () => {
      // Prepare
      let now = 0;
      const registry = new MetricsRegistry({ staleAfterMs: 1000, now: () => now });
      const latency = (values: number[]): MetricDatum => ({ name: METRICS.launchLatency.name, unit: 'Milliseconds', values, dimensions: {}, timestamp: 1 });

      // Act
      await registry.publish([latency([200, 300])]);
      now = 5000;
      await registry.publish([latency([500])]);
      now = 50_000;

      // Assess
      const text = registry.render();
      expect(text).toContain('# TYPE berth_run_task_to_running_seconds summary');
      expect(text).toContain('berth_run_task_to_running_seconds_sum 1\n');
      expect(text).toContain('berth_run_task_to_running_seconds_count 3\n');
    });

    it('shows a metric outside the catalog under a derived name', async () => {
      // Prepare
      const registry = new MetricsRegistry({ staleAfterMs: 1000, now: () => 0 });

      // Act
      await registry.publish([{ name: 'QueueDepth', unit: 'Count', values: [4], dimensions: {}, timestamp: 1 }]);

      // Assess
      expect(registry.render()).toContain('berth_queue_depth 4');
    });
  });
});
