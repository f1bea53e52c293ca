import { CreateLogGroupCommand, CreateLogStreamCommand, DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogSink } from '../../agent/logs/cloudwatch-log-sink';
import { LogShipper } from '../../agent/logs/log-shipper';
import { TaskLogs } from '../../agent/logs/task-logs';
import type { ContainerDefinition } from '../../shared/domain/task-definition';
import { TEST_CREDENTIALS, eventually } from '../support/harness';
import { type LogsSlice, readStream, startLogsSlice } from '../support/logs-slice';

/** The agent's shipper, through @aws-sdk/client-cloudwatch-logs, against the local Logs slice. */
describe('Agent log shipping', () => {
  let slice: LogsSlice;
  let sink: CloudWatchLogSink;
  let groups = 0;

  beforeAll(async () => {
    slice = await startLogsSlice();
    sink = new CloudWatchLogSink({ region: 'us-east-1', endpoint: slice.url, credentials: async () => TEST_CREDENTIALS });
  });
  afterAll(async () => {
    await slice?.close();
  });

  async function stream(): Promise<{ logGroupName: string; logStreamName: string }> {
    const s = { logGroupName: `/shipper/${++groups}`, logStreamName: 'p/c/t' };
    await slice.logs.send(new CreateLogGroupCommand({ logGroupName: s.logGroupName }));
    await slice.logs.send(new CreateLogStreamCommand(s));
    return s;
  }

  describe('LogShipper', () => {
    it('delivers 25,000 lines pushed at once in order, in batches within the limits, by close', async () => {
      // Prepare
      const s = await stream();
      const shipper = new LogShipper(sink, s.logGroupName, s.logStreamName, { flushIntervalMs: 60_000 });
      const at = Date.now() - 1000;

      // Act
      for (let i = 0; i < 25_000; i++) shipper.push(`line ${i}`, at + Math.floor(i / 1000));
      await shipper.close();
      const events = await readStream(slice.logs, s.logGroupName, s.logStreamName);

      // Assess
      expect(shipper.dropped).toBe(0);
      expect(shipper.shipped).toBe(25_000);
      expect(events.map((e) => e.message)).toEqual(Array.from({ length: 25_000 }, (_, i) => `line ${i}`));
      expect(events[24_999].timestamp).toBe(at + 24);
    });

    it('sends lines on its own after the flush interval, and clamps a line stamped earlier to keep the batch in order', async () => {
      // Prepare
      const s = await stream();
      const shipper = new LogShipper(sink, s.logGroupName, s.logStreamName, { flushIntervalMs: 100 });
      const at = Date.now() - 1000;

      // Act
      shipper.push('second', at + 10);
      shipper.push('first but late', at);
      shipper.push('', at + 11);
      // No close() and no flush: only the shipper's own timer sends them.
      const events = await eventually(async () => {
        const read = await readStream(slice.logs, s.logGroupName, s.logStreamName);
        return read.length >= 2 ? read : undefined;
      }, 10_000, 'two events in the stream');

      // Assess
      expect(events.map((e) => [e.message, e.timestamp])).toEqual([['second', at + 10], ['first but late', at + 10]]);
      await shipper.close();
    });

    it('drops a batch whose log group is gone, at once, and says so', async () => {
      // Prepare
      const s = await stream();
      const said: string[] = [];
      const shipper = new LogShipper(sink, s.logGroupName, s.logStreamName, { flushIntervalMs: 60_000, log: (m) => said.push(m) });
      await slice.logs.send(new DeleteLogGroupCommand({ logGroupName: s.logGroupName }));

      // Act
      shipper.push('lost', Date.now());
      await shipper.close();

      // Assess
      expect(shipper.dropped).toBe(1);
      expect(said.join('\n')).toMatch(/dropped 1 line.*log group does not exist/);
    });

    it('makes a deleted stream again and delivers to it', async () => {
      // Prepare
      const s = await stream();
      const shipper = new LogShipper(sink, s.logGroupName, s.logStreamName, { flushIntervalMs: 60_000 });
      shipper.push('before', Date.now());
      await shipper.flush();
      await slice.logs.send(new DeleteLogGroupCommand({ logGroupName: s.logGroupName }));
      await slice.logs.send(new CreateLogGroupCommand({ logGroupName: s.logGroupName }));

      // Act
      shipper.push('after', Date.now());
      await shipper.close();

      // Assess
      expect((await readStream(slice.logs, s.logGroupName, s.logStreamName)).map((e) => e.message)).toEqual(['after']);
      expect(shipper.dropped).toBe(0);
    });
  });

  describe('TaskLogs', () => {
    const def = (name: string, options: Record<string, string>): ContainerDefinition =>
      ({ name, image: 'x', essential: true, logConfiguration: { logDriver: 'awslogs', options } }) as ContainerDefinition;

    it('creates the group when asked, names the stream prefix/container/task-id, and ships each line with its time', async () => {
      // Prepare
      const group = `/tasklogs/${Date.now()}`;
      const logs = new TaskLogs('task123', () => sink);
      await logs.open([def('web', { 'awslogs-group': group, 'awslogs-stream-prefix': 'svc', 'awslogs-create-group': 'true' })]);

      const fiveSecondsAgo = Date.now() - 5000;

      // Act
      logs.lineHandler('web')!('hello', 'stdout', fiveSecondsAgo);
      logs.lineHandler('web')!('world', 'stderr', fiveSecondsAgo + 1);
      await logs.close('web');
      const events = await readStream(slice.logs, group, 'svc/web/task123');

      // Assess
      expect(events.map((e) => e.message)).toEqual(['hello', 'world']);
      expect(events[1].timestamp! - events[0].timestamp!).toBe(1);
      expect(logs.lineHandler('other')).toBeUndefined();
    });

    it('fails to open a group that does not exist without awslogs-create-group, in ECS words', async () => {
      const logs = new TaskLogs('task123', () => sink);
      await expect(logs.open([def('web', { 'awslogs-group': '/missing/group', 'awslogs-stream-prefix': 'svc' })])).rejects.toThrow(
        /^ResourceInitializationError: failed to validate logger args: .*ResourceNotFoundException: The specified log group does not exist/,
      );
    });
  });
});
