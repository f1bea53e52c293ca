import type { Berth } from '../context';
import { TASK_STATUSES, type Task } from '../domain/task';
import type { HostView } from '../scheduler/placement';
import { DIMENSIONS, METRICS, type MetricDefinition } from './catalog';
import type { MetricDatum } from './metric-datum';

export type SnapshotTask = Pick<Task, 'taskId' | 'lastStatus' | 'createdAt' | 'startedAt'>;

/** What the control plane's metrics are computed from: one read of the store. */
export interface ControlPlaneSnapshot {
  clusters: { name: string; tasks: SnapshotTask[] }[];
  hosts: HostView[];
  pendingPlacements: number;
}

/** Launches per minute counts RUNNING arrivals over this trailing window. */
export const LAUNCH_RATE_WINDOW_MS = 60_000;
/** A launch first seen later than this after it started is not counted (its report came very late). */
export const LAUNCH_COUNT_HORIZON_MS = 10 * 60_000;

const datum = (m: MetricDefinition, value: number | number[], dimensions: Record<string, string>, timestamp: number): MetricDatum =>
  ({ name: m.name, unit: m.unit, values: Array.isArray(value) ? value : [value], dimensions, timestamp });

const percent = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : 0);

/**
 * The control plane's metrics, pure: tasks by lastStatus per cluster (every status, zeros
 * included, so a count that falls to nothing shows as 0), pending placements, each registered
 * host's reserved against registered capacity, and launches: one RunTask → RUNNING latency per
 * task that `isNewLaunch` says was not counted before, and how many started in the last minute.
 */
export function controlPlaneMetrics(s: ControlPlaneSnapshot, nowMs: number, isNewLaunch: (t: SnapshotTask) => boolean): MetricDatum[] {
  const out: MetricDatum[] = [];
  const latencies: number[] = [];
  let lastMinute = 0;
  for (const c of s.clusters) {
    const counts = new Map<string, number>(TASK_STATUSES.map((st) => [st, 0]));
    for (const t of c.tasks) {
      counts.set(t.lastStatus, (counts.get(t.lastStatus) ?? 0) + 1);
      if (t.startedAt === undefined) continue;
      if (isNewLaunch(t)) latencies.push(Math.max(0, t.startedAt - t.createdAt));
      if (t.startedAt > nowMs - LAUNCH_RATE_WINDOW_MS && t.startedAt <= nowMs) lastMinute++;
    }
    for (const [status, n] of counts) {
      out.push(datum(METRICS.taskCount, n, { [DIMENSIONS.cluster]: c.name, [DIMENSIONS.lastStatus]: status }, nowMs));
    }
  }
  out.push(datum(METRICS.pendingPlacements, s.pendingPlacements, {}, nowMs));
  out.push(datum(METRICS.launchesPerMinute, lastMinute, {}, nowMs));
  if (latencies.length > 0) out.push(datum(METRICS.launchLatency, latencies, {}, nowMs));
  for (const h of s.hosts) {
    if (h.status !== 'ACTIVE' && h.status !== 'DRAINING') continue;
    const dims = { [DIMENSIONS.host]: h.hostId };
    out.push(
      datum(METRICS.hostCpuReserved, h.reservedCpu, dims, nowMs),
      datum(METRICS.hostCpuRegistered, h.cpu, dims, nowMs),
      datum(METRICS.hostMemoryReserved, h.reservedMemory, dims, nowMs),
      datum(METRICS.hostMemoryRegistered, h.memory, dims, nowMs),
      datum(METRICS.hostCpuReservation, percent(h.reservedCpu, h.cpu), dims, nowMs),
      datum(METRICS.hostMemoryReservation, percent(h.reservedMemory, h.memory), dims, nowMs),
    );
  }
  return out;
}

/** Reads the snapshot from the store. A full read: fine each minute on AWS, each few seconds locally. */
export async function readControlPlaneSnapshot(b: Berth): Promise<ControlPlaneSnapshot> {
  const clusters = (await b.store.clusters.list()).filter((c) => c.status === 'ACTIVE');
  const [tasks, hosts, demand] = await Promise.all([
    Promise.all(clusters.map((c) => b.store.tasks.list(c.name))),
    b.store.hosts.views(),
    b.store.demand.list(),
  ]);
  return {
    clusters: clusters.map((c, i) => ({ name: c.name, tasks: tasks[i] })),
    hosts,
    pendingPlacements: demand.length,
  };
}

/**
 * Collects the control plane's metrics round after round, each launch counted in exactly one
 * round, however late its report reached the store. Callable from the local mode's timer and
 * from a scheduled Lambda alike; a fresh process counts only launches of its first interval,
 * so a restart does not count earlier ones again.
 */
export class ControlPlaneMetrics {
  /** Launches already counted, by task id, with their startedAt: kept for the horizon. */
  private counted?: Map<string, number>;

  constructor(private readonly b: Berth, private readonly intervalMs: number) {}

  async collect(): Promise<MetricDatum[]> {
    const nowMs = this.b.now();
    const snapshot = await readControlPlaneSnapshot(this.b);
    const first = this.counted === undefined;
    const counted = (this.counted ??= new Map());
    const oldest = nowMs - (first ? this.intervalMs : LAUNCH_COUNT_HORIZON_MS);
    const isNew = (t: SnapshotTask) => {
      if (t.startedAt === undefined || counted.has(t.taskId)) return false;
      counted.set(t.taskId, t.startedAt);
      return t.startedAt > oldest;
    };
    const data = controlPlaneMetrics(snapshot, nowMs, isNew);
    for (const [taskId, startedAt] of counted) if (startedAt < nowMs - LAUNCH_COUNT_HORIZON_MS) counted.delete(taskId);
    return data;
  }
}
