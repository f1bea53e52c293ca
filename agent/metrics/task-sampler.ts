import { DIMENSIONS, METRICS } from '../../shared/metrics/catalog';
import type { MetricDatum } from '../../shared/metrics/metric-datum';
import { type ContainerRuntime, LABELS } from '../runtime/container-runtime';
import { type ContainerStatsReading, type ContainerStatsSource, coresBetween, cpuUtilizationPercent } from './container-stats';

/** What the sampler needs of a task this host runs: its key and its reservation. */
export interface SampledTask {
  cluster: string;
  taskId: string;
  /** Reserved cpu units and MiB. */
  cpu: number;
  memory: number;
}

export interface TaskSamplerOptions {
  hostId: string;
  runtime: Pick<ContainerRuntime, 'list'>;
  stats: ContainerStatsSource;
  /** The tasks this agent runs now. */
  tasks: () => SampledTask[];
  now?: () => number;
}

const MiB = 1024 * 1024;

/**
 * Samples each running task of this host: CPU against its reservation, from the CPU time its
 * containers used since the previous round, and memory in use. A task's CPU shows from its
 * second round on, once there is a previous reading to measure from.
 */
export class TaskSampler {
  private previous = new Map<string, ContainerStatsReading>();

  constructor(private readonly o: TaskSamplerOptions) {}

  async sample(): Promise<MetricDatum[]> {
    const now = this.o.now ?? Date.now;
    const tasks = new Map(this.o.tasks().map((t) => [t.taskId, t]));
    if (tasks.size === 0) {
      this.previous.clear();
      return [];
    }
    const containers = (await this.o.runtime.list({ [LABELS.host]: this.o.hostId }))
      .filter((c) => c.running && tasks.has(c.labels[LABELS.task]));
    const readings = await Promise.all(containers.map((c) => this.o.stats.read(c.id).catch(() => undefined)));

    const perTask = new Map<string, { cores: number; coresKnown: boolean; memoryBytes: number }>();
    const seen = new Map<string, ContainerStatsReading>();
    containers.forEach((c, i) => {
      const reading = readings[i];
      if (!reading) return;
      seen.set(c.id, reading);
      const before = this.previous.get(c.id);
      const cores = before ? coresBetween(before, reading) : undefined;
      const taskId = c.labels[LABELS.task];
      const t = perTask.get(taskId) ?? { cores: 0, coresKnown: true, memoryBytes: 0 };
      t.cores += cores ?? 0;
      t.coresKnown &&= cores !== undefined;
      t.memoryBytes += reading.memoryBytes;
      perTask.set(taskId, t);
    });
    // Containers gone since the last round are forgotten with them.
    this.previous = seen;

    const out: MetricDatum[] = [];
    const timestamp = now();
    for (const [taskId, s] of perTask) {
      const task = tasks.get(taskId)!;
      const dimensions = { [DIMENSIONS.cluster]: task.cluster, [DIMENSIONS.task]: taskId };
      const properties = { [DIMENSIONS.host]: this.o.hostId };
      const memoryMiB = s.memoryBytes / MiB;
      const d = (m: { name: string; unit: MetricDatum['unit'] }, value: number): MetricDatum =>
        ({ name: m.name, unit: m.unit, values: [value], dimensions, properties, timestamp });
      if (s.coresKnown) out.push(d(METRICS.taskCpuUtilization, cpuUtilizationPercent(s.cores, task.cpu)));
      out.push(d(METRICS.taskMemoryUtilized, memoryMiB));
      if (task.memory > 0) out.push(d(METRICS.taskMemoryUtilization, (100 * memoryMiB) / task.memory));
    }
    return out;
  }
}
