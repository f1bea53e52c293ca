import {
  BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { isConditionFailure } from '../../../shared/store/client';
import { forEachLimited } from '../../../shared/domain/limited';
import type { LogTableNames } from './tables';
import { type Block, BLOCK_LIMITS, blockEvents, toBlocks } from './event-blocks';
import { type Position, comparePositions, decodePosition, encodePosition, firstAt } from './positions';

export interface LogGroupRecord {
  scope: typeof GROUPS_SCOPE;
  logGroupName: string;
  /** A new id per creation, so a group deleted and made again never sees the old streams. */
  groupId: string;
  creationTime: number;
  storedBytes: number;
}

export interface LogStreamRecord {
  groupId: string;
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
  /** The arrival sequence of the next event; also the item's version for conditional updates. */
  nextSeq: number;
}

export interface StoredEvent extends Position {
  message: string;
  ingestionTime: number;
}

/** One block of events (see event-blocks.ts), keyed by its first event's position. */
interface BlockItem {
  streamKey: string;
  position: string;
  offsets: number[];
  messages: string[];
  ingestionTime: number;
}

const fromItem = (item: BlockItem): Block => ({ first: decodePosition(item.position)!, offsets: item.offsets, messages: item.messages });

/** Merges two lists sorted by `order`. */
function mergeSorted<T>(a: T[], b: T[], order: (x: T, y: T) => number): T[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(order(a[i], b[j]) <= 0 ? a[i++] : b[j++]);
  return out.concat(a.slice(i), b.slice(j));
}

const GROUPS_SCOPE = 'groups';
/** BatchWriteItem's limit. */
const BATCH_WRITE_ITEMS = 25;
/** Concurrent BatchWriteItem calls per append: enough to keep dynalite busy, no more. */
const WRITE_CONCURRENCY = 4;
/** Blocks per Query while reading events. */
const BLOCKS_PER_QUERY = 8;

const streamKey = (groupId: string, logStreamName: string) => `${groupId}/${logStreamName}`;

/** The local Logs slice's repository: groups, streams and events in dynalite. */
export class LogStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tables: LogTableNames) {}

  /** Creates the group unless one of that name exists; returns it, or undefined when taken. */
  async createGroup(logGroupName: string, now: number): Promise<LogGroupRecord | undefined> {
    const group: LogGroupRecord = { scope: GROUPS_SCOPE, logGroupName, groupId: randomUUID(), creationTime: now, storedBytes: 0 };
    try {
      // Two creators racing for one name: exactly one wins, the other gets "already exists".
      await this.db.send(new PutCommand({ TableName: this.tables.groups, Item: group, ConditionExpression: 'attribute_not_exists(logGroupName)' }));
      return group;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  async getGroup(logGroupName: string): Promise<LogGroupRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.tables.groups, Key: { scope: GROUPS_SCOPE, logGroupName }, ConsistentRead: true }));
    return r.Item as LogGroupRecord | undefined;
  }

  /** Groups by name, from after `startAfter`; `lastName` is set when more may follow. */
  async listGroups(prefix: string | undefined, limit: number, startAfter?: string): Promise<{ groups: LogGroupRecord[]; lastName?: string }> {
    const r = await this.db.send(new QueryCommand({
      TableName: this.tables.groups,
      KeyConditionExpression: prefix ? '#s = :s AND begins_with(logGroupName, :p)' : '#s = :s',
      ExpressionAttributeNames: { '#s': 'scope' },
      ExpressionAttributeValues: { ':s': GROUPS_SCOPE, ...(prefix ? { ':p': prefix } : {}) },
      ExclusiveStartKey: startAfter === undefined ? undefined : { scope: GROUPS_SCOPE, logGroupName: startAfter },
      Limit: limit,
    }));
    const groups = (r.Items ?? []) as LogGroupRecord[];
    return { groups, lastName: r.LastEvaluatedKey ? groups[groups.length - 1]?.logGroupName : undefined };
  }

  /** Deletes the group; its streams and events are purged after, unseen since the id is gone. */
  async deleteGroup(logGroupName: string): Promise<LogGroupRecord | undefined> {
    try {
      const r = await this.db.send(new DeleteCommand({
        TableName: this.tables.groups, Key: { scope: GROUPS_SCOPE, logGroupName },
        ConditionExpression: 'attribute_exists(logGroupName)', ReturnValues: 'ALL_OLD',
      }));
      return r.Attributes as LogGroupRecord;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  /** Removes what a deleted group held. */
  async purgeGroup(groupId: string): Promise<void> {
    for (const stream of await this.allStreams(groupId)) {
      const key = streamKey(groupId, stream.logStreamName);
      let start: Record<string, unknown> | undefined;
      do {
        const r = await this.db.send(new QueryCommand({
          TableName: this.tables.events, KeyConditionExpression: 'streamKey = :k', ExpressionAttributeValues: { ':k': key },
          ProjectionExpression: 'streamKey, #p', ExpressionAttributeNames: { '#p': 'position' }, ExclusiveStartKey: start, Limit: 1000,
        }));
        await this.batchWrite(this.tables.events, (r.Items ?? []).map((Key) => ({ DeleteRequest: { Key } })));
        start = r.LastEvaluatedKey;
      } while (start);
      await this.db.send(new DeleteCommand({ TableName: this.tables.streams, Key: { groupId, logStreamName: stream.logStreamName } }));
    }
  }

  async createStream(groupId: string, logStreamName: string, now: number): Promise<LogStreamRecord | undefined> {
    const stream: LogStreamRecord = { groupId, logStreamName, creationTime: now, storedBytes: 0, nextSeq: 0 };
    try {
      await this.db.send(new PutCommand({ TableName: this.tables.streams, Item: stream, ConditionExpression: 'attribute_not_exists(logStreamName)' }));
      return stream;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  async getStream(groupId: string, logStreamName: string): Promise<LogStreamRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.tables.streams, Key: { groupId, logStreamName }, ConsistentRead: true }));
    return r.Item as LogStreamRecord | undefined;
  }

  /** Streams by name, one page. */
  async listStreams(
    groupId: string, o: { prefix?: string; limit: number; startAfter?: string; descending?: boolean },
  ): Promise<{ streams: LogStreamRecord[]; lastName?: string }> {
    const r = await this.db.send(new QueryCommand({
      TableName: this.tables.streams,
      KeyConditionExpression: o.prefix ? 'groupId = :g AND begins_with(logStreamName, :p)' : 'groupId = :g',
      ExpressionAttributeValues: { ':g': groupId, ...(o.prefix ? { ':p': o.prefix } : {}) },
      ExclusiveStartKey: o.startAfter === undefined ? undefined : { groupId, logStreamName: o.startAfter },
      ScanIndexForward: !o.descending,
      Limit: o.limit,
    }));
    const streams = (r.Items ?? []) as LogStreamRecord[];
    return { streams, lastName: r.LastEvaluatedKey ? streams[streams.length - 1]?.logStreamName : undefined };
  }

  /** Every stream of the group (with a name prefix), by name. */
  async allStreams(groupId: string, prefix?: string): Promise<LogStreamRecord[]> {
    const all: LogStreamRecord[] = [];
    let startAfter: string | undefined;
    do {
      const page = await this.listStreams(groupId, { prefix, limit: 1000, startAfter });
      all.push(...page.streams);
      startAfter = page.lastName;
    } while (startAfter !== undefined);
    return all;
  }

  /**
   * Appends events (in chronological order) to a stream: reserves their arrival sequence and
   * updates the stream's summary with one conditional write, then writes the events as blocks
   * in BatchWriteItem calls. Returns false when the stream no longer exists.
   */
  async append(group: LogGroupRecord, logStreamName: string, events: readonly { timestamp: number; message: string; bytes: number }[], now: number): Promise<boolean> {
    if (events.length === 0) return (await this.getStream(group.groupId, logStreamName)) !== undefined;
    const bytes = events.reduce((sum, e) => sum + e.bytes, 0);
    let firstSeq: number | undefined;
    for (let stream = await this.getStream(group.groupId, logStreamName); stream; stream = await this.getStream(group.groupId, logStreamName)) {
      const first = Math.min(stream.firstEventTimestamp ?? Infinity, events[0].timestamp);
      const last = Math.max(stream.lastEventTimestamp ?? -Infinity, events[events.length - 1].timestamp);
      try {
        // Versioned on nextSeq: two concurrent appends never reserve the same sequence numbers.
        await this.db.send(new UpdateCommand({
          TableName: this.tables.streams,
          Key: { groupId: group.groupId, logStreamName },
          UpdateExpression: 'SET nextSeq = :next, firstEventTimestamp = :first, lastEventTimestamp = :last, lastIngestionTime = :now ADD storedBytes :bytes',
          ConditionExpression: 'nextSeq = :seq',
          ExpressionAttributeValues: { ':next': stream.nextSeq + events.length, ':seq': stream.nextSeq, ':first': first, ':last': last, ':now': now, ':bytes': bytes },
        }));
        firstSeq = stream.nextSeq;
        break;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
    if (firstSeq === undefined) return false;
    const key = streamKey(group.groupId, logStreamName);
    const blocks = toBlocks(events.map((e, i) => ({ timestamp: e.timestamp, seq: firstSeq! + i, message: e.message })));
    const items: BlockItem[] = blocks.map((b) => ({
      streamKey: key, position: encodePosition(b.first), offsets: b.offsets, messages: b.messages, ingestionTime: now,
    }));
    await Promise.all([
      this.batchWrite(this.tables.events, items.map((Item) => ({ PutRequest: { Item } }))),
      // The group's total is a summary, as eventually consistent as AWS's own.
      this.db.send(new UpdateCommand({
        TableName: this.tables.groups, Key: { scope: GROUPS_SCOPE, logGroupName: group.logGroupName },
        UpdateExpression: 'ADD storedBytes :bytes', ConditionExpression: 'groupId = :g',
        ExpressionAttributeValues: { ':bytes': bytes, ':g': group.groupId },
      })).catch((e) => {
        if (!isConditionFailure(e)) throw e;
      }),
    ]);
    return true;
  }

  /**
   * A stream's events between two positions (inclusive), in order either way, read a few
   * blocks at a time. Blocks may overlap in time, so events wait in `pending` until no unread
   * block can hold an event that comes before them.
   */
  async *readEvents(groupId: string, logStreamName: string, o: { from: Position; to: Position; ascending: boolean }): AsyncGenerator<StoredEvent> {
    const key = streamKey(groupId, logStreamName);
    const order = o.ascending ? comparePositions : (a: Position, b: Position) => comparePositions(b, a);
    const inRange = (e: Position) => comparePositions(e, o.from) >= 0 && comparePositions(e, o.to) <= 0;
    let pending: StoredEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.db.send(new QueryCommand({
        TableName: this.tables.events,
        KeyConditionExpression: 'streamKey = :k AND #p BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#p': 'position' },
        ExpressionAttributeValues: {
          ':k': key,
          // A block that starts up to its span before `from` may still hold events after it.
          ':from': encodePosition(firstAt(o.from.timestamp - BLOCK_LIMITS.maxSpanMs)),
          ':to': encodePosition(o.to),
        },
        ScanIndexForward: o.ascending,
        Limit: BLOCKS_PER_QUERY,
        ExclusiveStartKey: start,
      }));
      for (const item of (r.Items ?? []) as BlockItem[]) {
        const block = fromItem(item);
        // Every block not yet read lies at or after this one's key (forward), or ends by its
        // first timestamp plus the span (backward): what sorts before that is final.
        const final = o.ascending
          ? (e: StoredEvent) => comparePositions(e, block.first) < 0
          : (e: StoredEvent) => e.timestamp > block.first.timestamp + BLOCK_LIMITS.maxSpanMs;
        let n = 0;
        while (n < pending.length && final(pending[n])) yield pending[n++];
        const events = blockEvents(block).filter(inRange).map((e) => ({ ...e, ingestionTime: item.ingestionTime }));
        if (!o.ascending) events.reverse();
        pending = mergeSorted(pending.slice(n), events, order);
      }
      start = r.LastEvaluatedKey;
    } while (start);
    yield* pending;
  }

  /** BatchWriteItem in chunks of 25, several in flight, retrying what DynamoDB left unprocessed. */
  private async batchWrite(table: string, requests: Record<string, unknown>[]): Promise<void> {
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_ITEMS) chunks.push(requests.slice(i, i + BATCH_WRITE_ITEMS));
    await forEachLimited(chunks, WRITE_CONCURRENCY, async (chunk) => {
      let pending: Record<string, unknown>[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const r = await this.db.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = (r.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    });
  }
}
