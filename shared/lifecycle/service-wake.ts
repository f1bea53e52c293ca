import type { Berth } from '../context';
import type { Task } from '../domain/task';

const SERVICE_GROUP_PREFIX = 'service:';

/**
 * A service's task changed state (reached RUNNING, became healthy, stopped): its reconciler looks
 * again now instead of at its next timer tick, so a stopped task is replaced and a rolling
 * deployment moves on as soon as a new task is up.
 */
export function wakeServiceOf(b: Berth, task: Pick<Task, 'cluster' | 'group'> | undefined): void {
  if (!task?.group?.startsWith(SERVICE_GROUP_PREFIX)) return;
  b.services.wake(task.cluster, task.group.slice(SERVICE_GROUP_PREFIX.length));
}

/** A host joined: every DAEMON service runs a task on it, so each looks again now. */
export async function wakeDaemonServices(b: Berth): Promise<void> {
  for (const s of await b.store.services.listLive()) {
    if (s.schedulingStrategy === 'DAEMON') b.services.wake(s.cluster, s.serviceName);
  }
}
