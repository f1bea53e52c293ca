import {
  type CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand,
  DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand, type GetLogEventsCommandOutput, type OutputLogEvent, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { logTableNames } from '../../local/services/logs/tables';
import { createDocumentClient } from '../../shared/store/client';
import { type LogsSlice, startLogsSlice } from '../support/logs-slice';

/** The local CloudWatch Logs slice on dynalite, driven with @aws-sdk/client-cloudwatch-logs. */
describe('Local CloudWatch Logs slice', () => {
  let slice: LogsSlice;
  let logs: CloudWatchLogsClient;
  let groups = 0;

  beforeAll(async () => {
    slice = await startLogsSlice();
    logs = slice.logs;
  });
  afterAll(async () => {
    await slice?.close();
  });

  /** A fresh group with one stream. */
  async function stream(name = 'app/main/task1'): Promise<{ logGroupName: string; logStreamName: string }> {
    const logGroupName = `/test/group-${++groups}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName }));
    await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: name }));
    return { logGroupName, logStreamName: name };
  }

  const lines = (n: number, at: number, prefix = 'line') => Array.from({ length: n }, (_, i) => ({ timestamp: at + Math.floor(i / 10), message: `${prefix} ${i}` }));

  async function eventsTable(): Promise<number> {
    const db = createDocumentClient({ endpoint: slice.dynamoEndpoint });
    const r = await db.send(new ScanCommand({ TableName: logTableNames().events, Select: 'COUNT' }));
    db.destroy();
    return r.Count ?? 0;
  }

  describe('PutLogEvents and GetLogEvents', () => {
    it('stores a 10,000-event batch and pages it back in order, forward with tokens until the token repeats', async () => {
      // Prepare
      const s = await stream();
      const now = Date.now();
      const batch = lines(10_000, now - 60_000);

      // Act
      const put = await logs.send(new PutLogEventsCommand({ ...s, logEvents: batch }));
      const got: OutputLogEvent[] = [];
      let token: string | undefined;
      let pages = 0;
      for (;;) {
        const r = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true, limit: 3000, nextToken: token }));
        got.push(...r.events!);
        pages++;
        if (r.nextForwardToken === token) break;
        token = r.nextForwardToken;
      }

      // Assess
      expect(put.rejectedLogEventsInfo).toBeUndefined();
      expect(got.map((e) => e.message)).toEqual(batch.map((e) => e.message));
      expect(got.map((e) => e.timestamp)).toEqual(batch.map((e) => e.timestamp));
      expect(pages).toBe(5); // 4 pages of events, then an empty one that hands the token back
      expect(got.every((e) => e.ingestionTime! >= now)).toBe(true);
    });

    it('returns the tail by default, pages backward to the head, and honours startTime and endTime', async () => {
      // Prepare
      const s = await stream();
      const at = Date.now() - 10_000;
      const batch = Array.from({ length: 25 }, (_, i) => ({ timestamp: at + i, message: `m${i}` }));
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: batch }));

      // Act
      const tail = await logs.send(new GetLogEventsCommand({ ...s, limit: 10 }));
      const back = await logs.send(new GetLogEventsCommand({ ...s, limit: 10, nextToken: tail.nextBackwardToken }));
      const back2 = await logs.send(new GetLogEventsCommand({ ...s, limit: 10, nextToken: back.nextBackwardToken }));
      const end = await logs.send(new GetLogEventsCommand({ ...s, limit: 10, nextToken: back2.nextBackwardToken }));
      const window = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true, startTime: at + 5, endTime: at + 8 }));

      // Assess
      expect(tail.events!.map((e) => e.message)).toEqual(batch.slice(15).map((e) => e.message));
      expect(back.events!.map((e) => e.message)).toEqual(batch.slice(5, 15).map((e) => e.message));
      expect(back2.events!.map((e) => e.message)).toEqual(batch.slice(0, 5).map((e) => e.message));
      expect(end.events).toEqual([]);
      expect(end.nextBackwardToken).toBe(back2.nextBackwardToken);
      expect(window.events!.map((e) => e.message)).toEqual(['m5', 'm6', 'm7']);
    });

    it('keeps events of one millisecond in arrival order across batches, and later batches may be older', async () => {
      // Prepare
      const s = await stream();
      const at = Date.now() - 1000;

      // Act
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: at, message: 'a' }, { timestamp: at, message: 'b' }] }));
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: at, message: 'c' }] }));
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: at - 5, message: 'older' }] }));
      const r = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true }));
      const [described] = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: s.logGroupName }))).logStreams!;

      // Assess
      expect(r.events!.map((e) => e.message)).toEqual(['older', 'a', 'b', 'c']);
      expect(described).toMatchObject({ logStreamName: s.logStreamName, firstEventTimestamp: at - 5, lastEventTimestamp: at, storedBytes: 4 + 26 * 4 + 4 });
    });

    it('merges batches whose times overlap: every read, forward or backward, is in timestamp order', async () => {
      // Prepare: a batch long enough to fill several blocks, then one that falls between its events
      const s = await stream();
      const at = Date.now() - 600_000;
      const early = Array.from({ length: 4500 }, (_, i) => ({ timestamp: at + i * 20, message: `early ${i}` }));
      const late = Array.from({ length: 300 }, (_, i) => ({ timestamp: at + i * 301 + 7, message: `late ${i}` }));
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: early }));
      await logs.send(new PutLogEventsCommand({ ...s, logEvents: late }));
      const expected = [...early, ...late].sort((a, b) => a.timestamp - b.timestamp).map((e) => e.message);

      // Act
      const forward: string[] = [];
      let token: string | undefined;
      for (;;) {
        const r: GetLogEventsCommandOutput = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true, limit: 700, nextToken: token }));
        forward.push(...r.events!.map((e) => e.message!));
        if (r.nextForwardToken === token) break;
        token = r.nextForwardToken;
      }
      const backward: string[][] = [];
      token = undefined;
      for (;;) {
        const r: GetLogEventsCommandOutput = await logs.send(new GetLogEventsCommand({ ...s, limit: 900, nextToken: token }));
        backward.unshift(r.events!.map((e) => e.message!));
        if (r.nextBackwardToken === token) break;
        token = r.nextBackwardToken;
      }

      // Assess
      expect(forward).toEqual(expected);
      expect(backward.flat()).toEqual(expected);
    });

    it('stops a page at 1 MB of events', async () => {
      // Prepare
      const s = await stream();
      const at = Date.now() - 1000;
      const big = 'x'.repeat(200_000);
      for (let i = 0; i < 6; i++) await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: at + i, message: `${i}${big}` }] }));

      // Act
      const first = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true }));
      const second = await logs.send(new GetLogEventsCommand({ ...s, nextToken: first.nextForwardToken }));

      // Assess
      expect(first.events).toHaveLength(5);
      expect(second.events!.map((e) => e.message![0])).toEqual(['5']);
    });

    it('reports events too far in the future or the past in rejectedLogEventsInfo and stores the rest', async () => {
      // Prepare
      const s = await stream();
      const now = Date.now();
      const day = 24 * 3600_000;

      // Act
      const tooOld = await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: now - 14 * day - 7200_000, message: 'ancient' }, { timestamp: now - 14 * day - 3600_000, message: 'ancient too' }, { timestamp: now - 14 * day + 3600_000, message: 'old but fine' }] }));
      const tooNew = await logs.send(new PutLogEventsCommand({ ...s, logEvents: [{ timestamp: now, message: 'now' }, { timestamp: now + 3 * 3600_000, message: 'future' }] }));
      const stored = await logs.send(new GetLogEventsCommand({ ...s, startFromHead: true }));

      // Assess
      expect(tooOld.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 });
      expect(tooNew.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 });
      expect(stored.events!.map((e) => e.message)).toEqual(['old but fine', 'now']);
    });
  });

  describe('refusals', () => {
    const now = Date.now();
    it.each([
      ['an oversized batch (1,048,576 bytes counting 26 per event)', () => Array.from({ length: 5 }, (_, i) => ({ timestamp: now, message: 'x'.repeat(209_700 + i) })), /^Upload too large: \d+ bytes exceeds limit of 1048576$/],
      ['more than 10,000 events', () => Array.from({ length: 10_001 }, () => ({ timestamp: now, message: 'x' })), /Member must have length less than or equal to 10000/],
      ['events out of chronological order', () => [{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }], /^Log events in a single PutLogEvents request must be in chronological order\.$/],
      ['a batch spanning more than 24 hours', () => [{ timestamp: now - 25 * 3600_000, message: 'a' }, { timestamp: now, message: 'b' }], /cannot span more than 24 hours/],
      ['an empty message', () => [{ timestamp: now, message: '' }], /Member must have length greater than or equal to 1/],
      ['an event over 256 KB', () => [{ timestamp: now, message: 'x'.repeat(262_119) }], /^Log event too large: 262145 bytes exceeds limit of 262144$/],
    ])('refuses %s with InvalidParameterException and stores nothing', async (_what, events, message) => {
      // Prepare
      const s = await stream();
      const before = await eventsTable();

      // Act
      const error = await logs.send(new PutLogEventsCommand({ ...s, logEvents: events() })).catch((e) => e);

      // Assess
      expect(error).toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
      expect(error.message).toMatch(message);
      expect(await eventsTable()).toBe(before);
    });

    it('refuses an unknown group or stream with ResourceNotFoundException', async () => {
      // Prepare
      const s = await stream();
      const event = [{ timestamp: Date.now(), message: 'x' }];

      // Act
      const noGroup = await logs.send(new PutLogEventsCommand({ logGroupName: '/no/such/group', logStreamName: 'x', logEvents: event })).catch((e) => e);
      const noStream = await logs.send(new PutLogEventsCommand({ ...s, logStreamName: 'no-such-stream', logEvents: event })).catch((e) => e);
      const getNoStream = await logs.send(new GetLogEventsCommand({ ...s, logStreamName: 'no-such-stream' })).catch((e) => e);
      const streamInNoGroup = await logs.send(new CreateLogStreamCommand({ logGroupName: '/no/such/group', logStreamName: 'x' })).catch((e) => e);

      // Assess
      expect(noGroup).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.', $metadata: { httpStatusCode: 400 } });
      expect(noStream).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
      expect(getNoStream).toMatchObject({ name: 'ResourceNotFoundException' });
      expect(streamInNoGroup).toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('refuses a second group or stream of one name with ResourceAlreadyExistsException', async () => {
      const s = await stream();
      await expect(logs.send(new CreateLogGroupCommand({ logGroupName: s.logGroupName }))).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
      await expect(logs.send(new CreateLogStreamCommand(s))).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    });

    it.each([
      ['a group name with a colon', new CreateLogGroupCommand({ logGroupName: 'bad:name' })],
      ['a stream name with an asterisk', new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 'a*b' })],
      ['a malformed token', new GetLogEventsCommand({ logGroupName: 'g', logStreamName: 's', nextToken: 'f/nope' })],
      ['a limit over 10,000', new GetLogEventsCommand({ logGroupName: 'g', logStreamName: 's', limit: 10_001 })],
      ['a JSON filter pattern', new FilterLogEventsCommand({ logGroupName: 'g', filterPattern: '{ $.level = "error" }' })],
    ])('refuses %s with InvalidParameterException', async (_what, command) => {
      await expect(logs.send(command as never)).rejects.toMatchObject({ name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    });
  });

  describe('FilterLogEvents', () => {
    it('matches terms across streams in time order, with exclusions, alternatives, stream names and paging', async () => {
      // Prepare
      const s = await stream('a');
      await logs.send(new CreateLogStreamCommand({ logGroupName: s.logGroupName, logStreamName: 'b' }));
      const at = Date.now() - 5000;
      await logs.send(new PutLogEventsCommand({ logGroupName: s.logGroupName, logStreamName: 'a', logEvents: [
        { timestamp: at, message: 'ERROR disk full' }, { timestamp: at + 2, message: 'INFO ok' }, { timestamp: at + 4, message: 'ERROR timeout retry' },
      ] }));
      await logs.send(new PutLogEventsCommand({ logGroupName: s.logGroupName, logStreamName: 'b', logEvents: [
        { timestamp: at + 1, message: 'WARN slow' }, { timestamp: at + 3, message: 'ERROR connection reset' },
      ] }));
      const filter = (o: object) => logs.send(new FilterLogEventsCommand({ logGroupName: s.logGroupName, ...o }));

      // Act
      const errors = await filter({ filterPattern: 'ERROR' });
      const notRetried = await filter({ filterPattern: 'ERROR -retry' });
      const either = await filter({ filterPattern: '?WARN ?INFO' });
      const phrase = await filter({ filterPattern: '"connection reset"' });
      const onlyA = await filter({ logStreamNames: ['a'], startTime: at + 1 });
      const page1 = await filter({ limit: 2 });
      const page2 = await filter({ limit: 2, nextToken: page1.nextToken });
      const page3 = await filter({ limit: 2, nextToken: page2.nextToken });

      // Assess
      expect(errors.events!.map((e) => [e.logStreamName, e.message])).toEqual([['a', 'ERROR disk full'], ['b', 'ERROR connection reset'], ['a', 'ERROR timeout retry']]);
      expect(notRetried.events!.map((e) => e.message)).toEqual(['ERROR disk full', 'ERROR connection reset']);
      expect(either.events!.map((e) => e.message)).toEqual(['WARN slow', 'INFO ok']);
      expect(phrase.events!.map((e) => e.message)).toEqual(['ERROR connection reset']);
      expect(onlyA.events!.map((e) => e.message)).toEqual(['INFO ok', 'ERROR timeout retry']);
      expect([...page1.events!, ...page2.events!, ...page3.events!].map((e) => e.timestamp! - at)).toEqual([0, 1, 2, 3, 4]);
      expect(page3.nextToken).toBeUndefined();
      expect(new Set(errors.events!.map((e) => e.eventId)).size).toBe(3);
    });
  });

  describe('DescribeLogGroups, DescribeLogStreams and DeleteLogGroup', () => {
    it('lists groups and streams by prefix with paging, and a deleted group is gone with its streams', async () => {
      // Prepare
      const base = `/describe-${Date.now()}`;
      for (const n of ['a', 'b', 'c']) await logs.send(new CreateLogGroupCommand({ logGroupName: `${base}/${n}` }));
      for (const n of ['x1', 'x2', 'y1']) await logs.send(new CreateLogStreamCommand({ logGroupName: `${base}/a`, logStreamName: n }));

      // Act
      const g1 = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base, limit: 2 }));
      const g2 = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base, limit: 2, nextToken: g1.nextToken }));
      const xs = await logs.send(new DescribeLogStreamsCommand({ logGroupName: `${base}/a`, logStreamNamePrefix: 'x' }));
      const s1 = await logs.send(new DescribeLogStreamsCommand({ logGroupName: `${base}/a`, limit: 2, descending: true }));
      const s2 = await logs.send(new DescribeLogStreamsCommand({ logGroupName: `${base}/a`, limit: 2, descending: true, nextToken: s1.nextToken }));
      await logs.send(new DeleteLogGroupCommand({ logGroupName: `${base}/a` }));
      const after = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: base }));
      await logs.send(new CreateLogGroupCommand({ logGroupName: `${base}/a` }));
      const recreated = await logs.send(new DescribeLogStreamsCommand({ logGroupName: `${base}/a` }));
      const again = await logs.send(new DeleteLogGroupCommand({ logGroupName: `${base}/nope` })).catch((e) => e);

      // Assess
      expect([...g1.logGroups!, ...g2.logGroups!].map((g) => g.logGroupName)).toEqual(['a', 'b', 'c'].map((n) => `${base}/${n}`));
      expect(g1.logGroups![0]).toMatchObject({ arn: `arn:aws:logs:us-east-1:000000000000:log-group:${base}/a:*`, storedBytes: 0 });
      expect(g2.nextToken).toBeUndefined();
      expect(xs.logStreams!.map((s) => s.logStreamName)).toEqual(['x1', 'x2']);
      expect([...s1.logStreams!, ...s2.logStreams!].map((s) => s.logStreamName)).toEqual(['y1', 'x2', 'x1']);
      expect(after.logGroups!.map((g) => g.logGroupName)).toEqual([`${base}/b`, `${base}/c`]);
      expect(recreated.logStreams).toEqual([]);
      expect(again).toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });
});
