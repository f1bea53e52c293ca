import type { Json } from '../../../shared/domain/fields';
import { type LogsContext, decodeListToken, encodeListToken, streamArn } from './context';
import { groupNotFound, invalid, streamExists } from './errors';
import { groupOf, optBool, optInt, optStreamName, optString, optToken, reqGroupName, reqStreamName } from './fields';
import type { LogGroupRecord, LogStreamRecord } from './log-store';

const DESCRIBE_LIMIT = { min: 1, max: 50 } as const;
const ORDER_BY = ['LogStreamName', 'LastEventTime'] as const;

export async function findGroup(c: LogsContext, name: string): Promise<LogGroupRecord> {
  const group = await c.store.getGroup(name);
  if (!group) throw groupNotFound();
  return group;
}

export async function createLogStream(c: LogsContext, body: Json): Promise<object> {
  const groupName = reqGroupName(body);
  const streamName = reqStreamName(body);
  const group = await findGroup(c, groupName);
  if (!(await c.store.createStream(group.groupId, streamName, c.now()))) throw streamExists();
  return {};
}

export async function describeLogStreams(c: LogsContext, body: Json): Promise<object> {
  const groupName = groupOf(body);
  const prefix = optStreamName(body, 'logStreamNamePrefix');
  const orderBy = optString(body, 'orderBy') ?? 'LogStreamName';
  if (!(ORDER_BY as readonly string[]).includes(orderBy)) {
    throw invalid(`1 validation error detected: Value '${orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [${ORDER_BY.join(', ')}]`);
  }
  if (orderBy === 'LastEventTime' && prefix !== undefined) throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
  const descending = optBool(body, 'descending') ?? false;
  const limit = optInt(body, 'limit', DESCRIBE_LIMIT) ?? DESCRIBE_LIMIT.max;
  const group = await findGroup(c, groupName);
  const shape = (s: LogStreamRecord) => ({
    logStreamName: s.logStreamName,
    creationTime: s.creationTime,
    firstEventTimestamp: s.firstEventTimestamp,
    lastEventTimestamp: s.lastEventTimestamp,
    lastIngestionTime: s.lastIngestionTime,
    uploadSequenceToken: String(s.nextSeq),
    arn: streamArn(c.partition, group.logGroupName, s.logStreamName),
    storedBytes: s.storedBytes,
  });
  if (orderBy === 'LastEventTime') {
    // Ordered by a value no key holds: sorted in memory, paged by offset.
    const token = decodeListToken(optToken(body), (v): v is { offset: number } => Number.isSafeInteger(v?.offset) && v.offset >= 0);
    const all = (await c.store.allStreams(group.groupId)).sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || a.logStreamName.localeCompare(b.logStreamName));
    if (descending) all.reverse();
    const offset = token?.offset ?? 0;
    const page = all.slice(offset, offset + limit);
    return { logStreams: page.map(shape), nextToken: offset + limit < all.length ? encodeListToken({ offset: offset + limit }) : undefined };
  }
  const token = decodeListToken(optToken(body), (v): v is { after: string } => typeof v?.after === 'string');
  const page = await c.store.listStreams(group.groupId, { prefix, limit, startAfter: token?.after, descending });
  return { logStreams: page.streams.map(shape), nextToken: page.lastName === undefined ? undefined : encodeListToken({ after: page.lastName }) };
}
