import { isObject, type Json } from '../../../shared/domain/fields';
import { PUT_LOG_EVENTS_LIMITS as LIMITS, eventBytes } from '../../../shared/logs/limits';
import type { LogsContext } from './context';
import { invalid, streamNotFound } from './errors';
import { optString, reqGroupName, reqStreamName } from './fields';
import { findGroup } from './streams';

interface InputEvent {
  timestamp: number;
  message: string;
  bytes: number;
}

function readEvents(body: Json): InputEvent[] {
  const v = body.logEvents;
  if (v === undefined || v === null) throw invalid("1 validation error detected: Value null at 'logEvents' failed to satisfy constraint: Member must not be null");
  if (!Array.isArray(v)) throw invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must be a list");
  if (v.length < 1) throw invalid("1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1");
  if (v.length > LIMITS.maxEvents) {
    throw invalid(`1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${LIMITS.maxEvents}`);
  }
  return v.map((e, i) => {
    const at = `logEvents.${i + 1}.member`;
    if (!isObject(e)) throw invalid(`1 validation error detected: Value at '${at}' failed to satisfy constraint: Member must be a structure`);
    const { timestamp, message } = e;
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
      throw invalid(`1 validation error detected: Value '${String(timestamp)}' at '${at}.timestamp' failed to satisfy constraint: Member must not be null and must be a long`);
    }
    if (typeof message !== 'string' || message.length < 1) {
      throw invalid(`1 validation error detected: Value '${String(message ?? null)}' at '${at}.message' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    }
    const bytes = eventBytes(message);
    if (bytes > LIMITS.maxEventBytes) throw invalid(`Log event too large: ${bytes} bytes exceeds limit of ${LIMITS.maxEventBytes}`);
    return { timestamp, message, bytes };
  });
}

/**
 * PutLogEvents with AWS's limits: at most 10,000 events and 1,048,576 bytes (26 bytes per event
 * on top of its message), chronological within the batch, spanning at most 24 hours. Events
 * dated more than 2 hours ahead or 14 days back are accepted as a call but not stored, and
 * `rejectedLogEventsInfo` says which. The sequence token is ignored, as AWS now ignores it.
 */
export async function putLogEvents(c: LogsContext, body: Json): Promise<object> {
  const groupName = reqGroupName(body);
  const streamName = reqStreamName(body);
  optString(body, 'sequenceToken');
  const events = readEvents(body);
  const total = events.reduce((sum, e) => sum + e.bytes, 0);
  if (total > LIMITS.maxBatchBytes) throw invalid(`Upload too large: ${total} bytes exceeds limit of ${LIMITS.maxBatchBytes}`);
  for (let i = 1; i < events.length; i++) {
    if (events[i].timestamp < events[i - 1].timestamp) throw invalid('Log events in a single PutLogEvents request must be in chronological order.');
  }
  if (events[events.length - 1].timestamp - events[0].timestamp > LIMITS.maxBatchSpanMs) {
    throw invalid('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
  }
  const group = await findGroup(c, groupName);
  const now = c.now();
  // Chronological order makes the too-old events a prefix and the too-new ones a suffix.
  const tooOld = events.findLastIndex((e) => e.timestamp < now - LIMITS.maxAgeMs);
  const tooNew = events.findIndex((e) => e.timestamp > now + LIMITS.maxFutureMs);
  const accepted = events.slice(tooOld + 1, tooNew === -1 ? events.length : tooNew);
  if (!(await c.store.append(group, streamName, accepted, now))) throw streamNotFound();
  const rejected = {
    ...(tooOld >= 0 ? { tooOldLogEventEndIndex: tooOld } : {}),
    ...(tooNew >= 0 ? { tooNewLogEventStartIndex: tooNew } : {}),
  };
  return Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {};
}
