import type { ScheduleKey, ScheduleRecord } from '../store';

/**
 * Where a schedule's timer lives besides the store. On AWS, a real EventBridge Scheduler
 * schedule that invokes Berth's schedules function; locally none is needed (the local firer
 * reads due times from the store), so the port is left unset.
 */
export interface ScheduleMirror {
  /** Creates or replaces the schedule's timer; a DISABLED schedule's timer is disabled too. */
  put(schedule: ScheduleRecord): Promise<void>;
  /** Removes the timer; one already gone counts as removed. */
  delete(key: ScheduleKey): Promise<void>;
}
