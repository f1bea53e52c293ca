import type { Berth } from '../context';
import type { TaskKey, TaskRecord } from '../store';

/** What a report needs of a task to be merged onto it without a read (reports.ts). */
export type SeenTask = Pick<TaskRecord, 'taskId' | 'hostId' | 'containers' | 'containersVersion'>;

/** Tasks kept per process: a host's whole work many times over; the oldest go first. */
const KEPT = 2048;
const caches = new WeakMap<object, Map<string, SeenTask>>();

function cacheOf(b: Berth): Map<string, SeenTask> {
  let cache = caches.get(b.store.tasks);
  if (!cache) caches.set(b.store.tasks, (cache = new Map()));
  return cache;
}

const keyOf = (k: TaskKey) => `${k.cluster}/${k.taskId}`;

/**
 * Notes a task as this process last read or wrote it (its agent's work read for a poll, a report
 * applied), so that the agent's next report on it can be merged onto it without reading it first.
 * A stale note costs only that read after all: the report's write holds only while the task's
 * containers are still the ones noted (store/task-store.ts, StatusChangeExpectation).
 */
export function noteTask(b: Berth, task: TaskRecord): void {
  const cache = cacheOf(b);
  const key = keyOf(task);
  cache.delete(key);
  // A STOPPED task takes no report any more.
  if (task.lastStatus === 'STOPPED') return;
  cache.set(key, { taskId: task.taskId, hostId: task.hostId, containers: task.containers, containersVersion: task.containersVersion });
  if (cache.size > KEPT) cache.delete(cache.keys().next().value!);
}

/** The task as this process last noted it, if it did. */
export function seenTask(b: Berth, key: TaskKey): SeenTask | undefined {
  return cacheOf(b).get(keyOf(key));
}
