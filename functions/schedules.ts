import { createSchedulerApiHandler } from '../shared/schedules/handler';
import { fireInvoked } from '../shared/schedules/firer';
import { ownRegionOnly } from '../shared/auth/regions';
import { berthFromEnvironment } from '../shared/environment';
import { StdoutEmfSink } from '../shared/metrics/stdout-emf-sink';

/** EventBridge Scheduler's API behind API Gateway's `/schedules` and `/schedule-groups` routes. */
export const api = createSchedulerApiHandler(ownRegionOnly(berthFromEnvironment));

/**
 * A schedule's timer went off: EventBridge Scheduler invokes this with the schedule's key. A
 * failed RunTask throws, so Scheduler retries per the schedule's RetryPolicy.
 */
export const fire = async (event: { groupName?: unknown; name?: unknown }) => {
  if (typeof event?.groupName !== 'string' || typeof event.name !== 'string') throw new Error('expected {groupName, name}');
  const b = berthFromEnvironment();
  // TargetErrorCount and InvocationDroppedCount, by ScheduleGroup, as the local mode's /metrics has them.
  b.metrics ??= new StdoutEmfSink();
  const outcome = await fireInvoked(b, { groupName: event.groupName, name: event.name }, { log: (l) => console.log(JSON.stringify(l)) });
  console.log(JSON.stringify({ level: 'info', message: 'schedule fired', groupName: event.groupName, name: event.name, outcome }));
  if (outcome === 'retrying') throw new Error(`schedule ${event.groupName}/${event.name}: RunTask failed; retried per its RetryPolicy`);
  return { outcome };
};
