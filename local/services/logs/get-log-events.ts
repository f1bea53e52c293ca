import type { Json } from '../../../shared/domain/fields';
import { PUT_LOG_EVENTS_LIMITS, eventBytes } from '../../../shared/logs/limits';
import type { LogsContext } from './context';
import { streamNotFound } from './errors';
import { groupOf, optBool, optInt, optTimestamp, optToken, reqStreamName } from './fields';
import type { StoredEvent } from './log-store';
import { type PageToken, after, before, comparePositions, decodeToken, encodeToken, firstAt, lastBefore } from './positions';
import { findGroup } from './streams';

export const EVENTS_LIMIT = { min: 1, max: 10_000 } as const;
/** A response holds at most this many bytes of events, as AWS's does. */
export const MAX_RESPONSE_BYTES = PUT_LOG_EVENTS_LIMITS.maxBatchBytes;
const END_OF_TIME = 10 ** 15;

/**
 * GetLogEvents: one page of a stream, oldest first within the page. Without a token the page is
 * the stream's head (startFromHead) or its tail (the default); the tokens move forward and
 * backward from there, and at either end a token comes back unchanged.
 */
export async function getLogEvents(c: LogsContext, body: Json): Promise<object> {
  const groupName = groupOf(body);
  const streamName = reqStreamName(body);
  const startTime = optTimestamp(body, 'startTime');
  const endTime = optTimestamp(body, 'endTime');
  const limit = optInt(body, 'limit', EVENTS_LIMIT) ?? EVENTS_LIMIT.max;
  const startFromHead = optBool(body, 'startFromHead') ?? false;
  const token = optToken(body);
  optBool(body, 'unmask');
  const passed: PageToken | undefined = token === undefined ? undefined : decodeToken(token);

  const group = await findGroup(c, groupName);
  const stream = await c.store.getStream(group.groupId, streamName);
  if (!stream) throw streamNotFound();

  const lo = firstAt(startTime ?? 0);
  const hi = lastBefore(endTime ?? END_OF_TIME);
  const direction = passed?.direction ?? (startFromHead ? 'forward' : 'backward');
  let from = lo;
  let to = hi;
  if (passed?.direction === 'forward' && comparePositions(passed.from, from) > 0) from = passed.from;
  if (passed?.direction === 'backward') to = passed.to === undefined || to === undefined ? undefined : comparePositions(passed.to, to) < 0 ? passed.to : to;

  const events: StoredEvent[] = [];
  if (to && comparePositions(from, to) <= 0) {
    let bytes = 0;
    for await (const e of c.store.readEvents(group.groupId, streamName, { from, to, ascending: direction === 'forward' })) {
      bytes += eventBytes(e.message);
      if (events.length >= limit || bytes > MAX_RESPONSE_BYTES) break;
      events.push(e);
    }
  }
  if (direction === 'backward') events.reverse();

  const first = events[0];
  const last = events[events.length - 1];
  // An empty page hands back the token it was given, and a way back the other direction.
  let forward: PageToken;
  let backward: PageToken;
  if (first && last) {
    forward = { direction: 'forward', from: after(last) };
    backward = { direction: 'backward', to: before(first) };
  } else if (passed?.direction === 'forward') {
    forward = passed;
    backward = { direction: 'backward', to: before(passed.from) };
  } else if (passed?.direction === 'backward') {
    forward = { direction: 'forward', from: passed.to ? after(passed.to) : lo };
    backward = passed;
  } else {
    forward = { direction: 'forward', from: lo };
    backward = { direction: 'backward' };
  }
  return {
    events: events.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
    nextForwardToken: encodeToken(forward),
    nextBackwardToken: encodeToken(backward),
  };
}
