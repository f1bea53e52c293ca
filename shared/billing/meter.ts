import type { Berth } from '../context';
import type { TaskRef } from '../lifecycle/task-ref';
import type { HostRecord, TaskRecord } from '../store';
import { type HostUsage, type TaskUsage, hostUsageOf, taskUsageOf } from './usage';

async function usageOf(b: Berth, task: TaskRecord, hosts: Map<string, HostRecord | undefined> = new Map()): Promise<TaskUsage> {
  let host: HostRecord | undefined;
  if (task.hostId !== undefined) {
    if (!hosts.has(task.hostId)) hosts.set(task.hostId, await b.store.hosts.get(task.hostId));
    host = hosts.get(task.hostId);
  }
  const definition = await b.store.taskDefinitions.get(task.family, task.revision);
  return taskUsageOf(task, host, definition?.ephemeralStorage?.sizeInGiB);
}

/**
 * The meter: writes a STOPPED task's usage record, once. It runs as the last step of both
 * lifecycle workflows and after a host's write-off; recovery re-runs the stop workflow of every
 * STOPPED task, so a crash between a task's stop and its record loses nothing, and the
 * conditional put writes nothing twice. Returns whether this call wrote the record.
 */
export async function recordTaskUsage(b: Berth, ref: TaskRef): Promise<boolean> {
  const task = await b.store.tasks.get(ref);
  if (!task || task.lastStatus !== 'STOPPED') return false;
  if (await b.store.usage.get(ref)) return false;
  return b.store.usage.record({ ...(await usageOf(b, task)), recordedAt: b.now() });
}

/**
 * What a report of the period from `since` reads: the records of the tasks that stopped since,
 * the tasks still running (metered as they go, to now), tasks stopped but not yet recorded
 * (the meter is a step behind the stop), and every host's billed life.
 */
export async function meterReadings(b: Berth, since: number): Promise<{ tasks: TaskUsage[]; hosts: HostUsage[] }> {
  const recorded = await b.store.usage.stoppedSince(since, b.now());
  const byKey = new Map(recorded.map((u) => [`${u.cluster}/${u.taskId}`, u]));
  const hostRecords = await b.store.hosts.list();
  const hosts = new Map<string, HostRecord | undefined>(hostRecords.map((h) => [h.hostId, h]));
  for (const cluster of await b.store.clusters.list()) {
    for (const task of await b.store.tasks.list(cluster.name)) {
      const key = `${task.cluster}/${task.taskId}`;
      if (byKey.has(key) || task.hostId === undefined) continue;
      if (task.lastStatus === 'STOPPED' && (task.stoppedAt ?? 0) < since) continue;
      byKey.set(key, await usageOf(b, task, hosts));
    }
  }
  return { tasks: [...byKey.values()], hosts: hostRecords.map(hostUsageOf) };
}
