import { createHash } from 'node:crypto';
import type { Json } from '../../../shared/domain/fields';
import { eventBytes } from '../../../shared/logs/limits';
import { type LogsContext, decodeListToken, encodeListToken } from './context';
import { invalid } from './errors';
import { groupOf, optInt, optStreamName, optString, optTimestamp, optToken, reqStreamName } from './fields';
import { parseFilterPattern, type EventMatcher } from './filter-pattern';
import { EVENTS_LIMIT, MAX_RESPONSE_BYTES } from './get-log-events';
import type { LogStore, StoredEvent } from './log-store';
import { type Position, encodePosition, firstAt, lastBefore } from './positions';
import { findGroup } from './streams';

const END_OF_TIME = 10 ** 15;

/** The last event a page returned: the next page starts after it. */
interface FilterToken {
  timestamp: number;
  stream: string;
  seq: number;
}

const isFilterToken = (v: any): v is FilterToken =>
  Number.isSafeInteger(v?.timestamp) && typeof v?.stream === 'string' && Number.isSafeInteger(v?.seq);

type Hit = StoredEvent & { stream: string };

const order = (a: { timestamp: number; stream: string; seq: number }, b: { timestamp: number; stream: string; seq: number }) =>
  a.timestamp - b.timestamp || (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) || a.seq - b.seq;

/** One stream's matching events, in order, pulled one at a time. */
class StreamCursor {
  private readonly events: AsyncGenerator<StoredEvent>;
  private current?: Hit;
  private done = false;

  constructor(
    store: LogStore, groupId: string, readonly stream: string, from: Position, to: Position,
    private readonly matches: EventMatcher, private readonly skipUntil?: FilterToken,
  ) {
    this.events = store.readEvents(groupId, stream, { from, to, ascending: true });
  }

  async head(): Promise<Hit | undefined> {
    while (!this.current && !this.done) {
      const next = await this.events.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const hit = { ...next.value, stream: this.stream };
      if ((!this.skipUntil || order(hit, this.skipUntil) > 0) && this.matches(hit.message)) this.current = hit;
    }
    return this.current;
  }

  take(): void {
    this.current = undefined;
  }

  close(): void {
    void this.events.return(undefined);
  }
}

const eventId = (e: Hit) => `${encodePosition(e)}${parseInt(createHash('sha1').update(e.stream).digest('hex').slice(0, 8), 16)}`;

/**
 * FilterLogEvents: the group's matching events across its streams (all, some by name, or by
 * name prefix), merged in timestamp order, paged with an opaque token.
 */
export async function filterLogEvents(c: LogsContext, body: Json): Promise<object> {
  const groupName = groupOf(body);
  const names = body.logStreamNames;
  if (names !== undefined && (!Array.isArray(names) || names.length < 1 || names.length > 100)) {
    throw invalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100");
  }
  const streamNames = (names as unknown[] | undefined)?.map((n, i) => reqStreamName({ [`logStreamNames.${i + 1}.member`]: n }, `logStreamNames.${i + 1}.member`));
  const prefix = optStreamName(body, 'logStreamNamePrefix');
  if (streamNames && prefix !== undefined) throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive');
  const startTime = optTimestamp(body, 'startTime');
  const endTime = optTimestamp(body, 'endTime');
  const matches = parseFilterPattern(optString(body, 'filterPattern', 1024));
  const limit = optInt(body, 'limit', EVENTS_LIMIT) ?? EVENTS_LIMIT.max;
  const token = decodeListToken(optToken(body), isFilterToken);

  const group = await findGroup(c, groupName);
  const streams = streamNames
    ? (await Promise.all(streamNames.map((n) => c.store.getStream(group.groupId, n)))).filter((s) => s !== undefined)
    : await c.store.allStreams(group.groupId, prefix);
  const from = firstAt(Math.max(startTime ?? 0, token?.timestamp ?? 0));
  const to = lastBefore(endTime ?? END_OF_TIME);
  const cursors = to ? streams.map((s) => new StreamCursor(c.store, group.groupId, s.logStreamName, from, to, matches, token)) : [];

  const events: Hit[] = [];
  let bytes = 0;
  let cut = false;
  for (;;) {
    const heads = (await Promise.all(cursors.map(async (cursor) => ({ cursor, hit: await cursor.head() })))).filter((h) => h.hit);
    if (heads.length === 0) break;
    const next = heads.reduce((a, b) => (order(b.hit!, a.hit!) < 0 ? b : a));
    bytes += eventBytes(next.hit!.message);
    if (events.length >= limit || bytes > MAX_RESPONSE_BYTES) {
      cut = true;
      break;
    }
    events.push(next.hit!);
    next.cursor.take();
  }
  for (const cursor of cursors) cursor.close();
  const last = events[events.length - 1];
  return {
    events: events.map((e) => ({ logStreamName: e.stream, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: eventId(e) })),
    searchedLogStreams: [],
    nextToken: cut && last ? encodeListToken({ timestamp: last.timestamp, stream: last.stream, seq: last.seq } satisfies FilterToken) : undefined,
  };
}
