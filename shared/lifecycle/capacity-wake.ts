import type { Berth } from '../context';
import type { RoomWaiter } from '../store/demand-store';

/** A release frees one task's room: it wakes at most this many of the longest-waiting tasks. */
export const WAKE_ON_RELEASE = 4;

/** What a woken wait answers: its launch places again at once (task-launch.asl.json's `Placed?`). */
export const WOKEN = { outcome: 'WOKEN' } as const;

async function wake(b: Berth, w: RoomWaiter): Promise<boolean> {
  if (!(await b.store.demand.takeWaiter(w))) return false;
  // A token whose wait already timed out is refused: that launch is placing again anyway.
  await b.workflows.succeed(w.capacityToken, WOKEN).catch(() => {});
  return true;
}

/**
 * Room was added (a host joined: every waiting task) or released (a task's room: the
 * `limit` longest-waiting): their launches, which back off between placements, place again
 * now. A wake that is lost only leaves the launch to its backoff.
 */
export async function wakeTasksWaitingForRoom(b: Berth, limit?: number): Promise<number> {
  const woken = await Promise.all((await b.store.demand.waiters(limit)).map((w) => wake(b, w)));
  return woken.filter(Boolean).length;
}

/** One task's launch waiting for room places again now: the task was stopped meanwhile. */
export async function wakeTaskWaitingForRoom(b: Berth, taskId: string): Promise<void> {
  const w = await b.store.demand.waiterOf(taskId);
  if (w) await wake(b, w);
}
