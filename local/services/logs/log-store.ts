import {
  BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { isConditionFailure } from '../../../shared/store/client';
import type { LogTableNames } from './tables';
import { type Position, encodePosition, decodePosition } from './positions';

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

interface EventItem {
  streamKey: string;
  position: string;
  message: string;
  ingestionTime: number;
}

const GROUPS_SCOPE = 'groups';
/** BatchWriteItem's limit. */
const BATCH_WRITE_ITEMS = 25;
/** Concurrent BatchWriteItem calls per append: enough to keep dynalite busy, no more. */
const WRITE_CONCURRENCY = 8;

const streamKey = (groupId: string, logStreamName: string) => `${groupId}/${logStreamName}`;

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
async function forEachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

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
   * updates the stream's summary with one conditional write, then writes the events in
   * BatchWriteItem calls. Returns false when the stream no longer exists.
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
    const items: EventItem[] = events.map((e, i) => ({
      streamKey: key, position: encodePosition({ timestamp: e.timestamp, seq: firstSeq + i }), message: e.message, ingestionTime: now,
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
   * One Query over a stream's events between two positions (inclusive), in either direction.
   * `resumeAfter` continues a Query that stopped at DynamoDB's page size.
   */
  async queryEvents(
    groupId: string, logStreamName: string,
    o: { from: Position; to: Position; ascending: boolean; limit: number; resumeAfter?: Position },
  ): Promise<{ events: StoredEvent[]; more?: Position }> {
    const key = streamKey(groupId, logStreamName);
    const r = await this.db.send(new QueryCommand({
      TableName: this.tables.events,
      KeyConditionExpression: 'streamKey = :k AND #p BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#p': 'position' },
      ExpressionAttributeValues: { ':k': key, ':from': encodePosition(o.from), ':to': encodePosition(o.to) },
      ScanIndexForward: o.ascending,
      Limit: o.limit,
      ExclusiveStartKey: o.resumeAfter ? { streamKey: key, position: encodePosition(o.resumeAfter) } : undefined,
    }));
    const events = ((r.Items ?? []) as EventItem[]).map((item) => ({ ...decodePosition(item.position)!, message: item.message, ingestionTime: item.ingestionTime }));
    const last = events[events.length - 1];
    return { events, more: r.LastEvaluatedKey && last ? { timestamp: last.timestamp, seq: last.seq } : undefined };
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
