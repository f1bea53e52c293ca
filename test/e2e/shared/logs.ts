import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCli, awsLogs } from '../../support/aws-cli';
import { TEST_CREDENTIALS } from '../../support/harness';
import { type LocalMode, runContainers, untilStatus } from '../../support/local-mode';
import { signedFetch } from '../../support/signed-fetch';

const LINES = 10_000;
/** Prints LINES numbered lines to stdout and as many to stderr, then exits. */
const PRINTER = `i=1; while [ $i -le ${LINES} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`;

/**
 * Container output through CloudWatch Logs, end to end: real containers under the local mode,
 * the agent shipping with @aws-sdk/client-cloudwatch-logs, read back with the AWS CLI.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode (not indented, to keep
// its history readable as a move).
export function suite(mode: () => LocalMode): void {
describe('awslogs: container output in CloudWatch Logs', () => {
  let m: LocalMode;
  beforeAll(() => {
    m = mode();
  });

  /** Every event of a stream through `aws logs get-log-events`, paging until the token comes back. */
  async function cliReadStream(group: string, stream: string): Promise<{ events: { message: string; timestamp: number }[]; pages: number }> {
    const events: { message: string; timestamp: number }[] = [];
    let token: string | undefined;
    for (let pages = 1; ; pages++) {
      const r = await awsLogs(m.local.url, ['get-log-events', '--log-group-name', group, '--log-stream-name', stream, '--start-from-head',
        ...(token ? ['--next-token', token] : [])]);
      expect(r.stderr).toBe('');
      events.push(...r.json.events);
      if (r.json.nextForwardToken === token) return { events, pages };
      token = r.json.nextForwardToken;
    }
  }

  it('ships 10,000 lines of stdout and 10,000 of stderr, every one back through the AWS CLI in order by the time the task is STOPPED', async () => {
    // Prepare
    const group = `/berth/e2e/printer-${Date.now()}`;

    // Act
    const [arn] = await runContainers(m.ecs, [{
      name: 'printer', command: ['sh', '-c', PRINTER],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group, 'awslogs-stream-prefix': 'e2e', 'awslogs-create-group': 'true', 'awslogs-region': 'us-east-1' } },
    }]);
    const task = await untilStatus(m.ecs, arn, 'STOPPED', 240_000);
    const stream = `e2e/printer/${arn.split('/').pop()}`;
    const read = await cliReadStream(group, stream);
    const streams = await awsLogs(m.local.url, ['describe-log-streams', '--log-group-name', group]);

    // Assess: read right after STOPPED, so the last lines were flushed before the report
    expect(task).toMatchObject({ stopCode: 'EssentialContainerExited' });
    expect(task.containers![0].exitCode).toBe(0);
    const messages = read.events.map((e) => e.message);
    expect(messages).toHaveLength(2 * LINES);
    const numbered = Array.from({ length: LINES }, (_, i) => i + 1);
    expect(messages.filter((l) => l.startsWith('out '))).toEqual(numbered.map((n) => `out ${n}`));
    expect(messages.filter((l) => l.startsWith('err '))).toEqual(numbered.map((n) => `err ${n}`));
    const times = read.events.map((e) => e.timestamp);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(Date.parse(String(task.startedAt)) - 5000);
    expect(read.pages).toBeGreaterThanOrEqual(3);
    expect(streams.json.logStreams.map((s: { logStreamName: string }) => s.logStreamName)).toEqual([stream]);
  }, 300_000);

  it('ships to the region awslogs-region names, not the host\'s: read back in that region, absent from the home one', async () => {
    // Prepare
    const group = `/berth/e2e/elsewhere-${Date.now()}`;
    const region = 'eu-west-1';

    // Act
    const [arn] = await runContainers(m.ecs, [{
      name: 'app', command: ['sh', '-c', 'echo shipped abroad'],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group, 'awslogs-stream-prefix': 'e2e', 'awslogs-create-group': 'true', 'awslogs-region': region } },
    }]);
    const task = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);
    const stream = `e2e/app/${arn.split('/').pop()}`;
    const there = await awsCli(m.local.url, 'logs', ['get-log-events', '--log-group-name', group, '--log-stream-name', stream, '--start-from-head'], TEST_CREDENTIALS, region);
    const home = await awsLogs(m.local.url, ['describe-log-groups', '--log-group-name-prefix', group]);

    // Assess
    expect({ stopCode: task.stopCode, stoppedReason: task.stoppedReason, exitCode: task.containers![0].exitCode }).toEqual({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 });
    expect(there.stderr).toBe('');
    expect(there.json.events.map((e: { message: string }) => e.message)).toEqual(['shipped abroad']);
    expect(home.json.logGroups).toEqual([]);
  }, 180_000);

  it('fails the start of a task whose log group does not exist without awslogs-create-group: TaskFailedToStart, no container run', async () => {
    // Act
    const [arn] = await runContainers(m.ecs, [{
      name: 'app', command: ['sh', '-c', 'echo never'],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': `/berth/e2e/missing-${Date.now()}`, 'awslogs-stream-prefix': 'e2e' } },
    }]);
    const task = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);

    // Assess
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toMatch(/^ResourceInitializationError: failed to validate logger args: .*ResourceNotFoundException: The specified log group does not exist/);
    expect(task.containers![0].exitCode).toBeUndefined();
    expect(task.startedAt).toBeUndefined();
  }, 180_000);

  describe('bad input to the Logs slice', () => {
    const group = `/berth/e2e/bad-${Date.now()}`;
    const stream = 'bad';
    beforeAll(async () => {
      expect((await awsLogs(m.local.url, ['create-log-group', '--log-group-name', group])).code).toBe(0);
      expect((await awsLogs(m.local.url, ['create-log-stream', '--log-group-name', group, '--log-stream-name', stream])).code).toBe(0);
    });

    const put = (events: object[]) => {
      const file = join(m.dataDir, `put-${Date.now()}-${Math.random()}.json`);
      writeFileSync(file, JSON.stringify({ logGroupName: group, logStreamName: stream, logEvents: events }));
      return awsLogs(m.local.url, ['put-log-events', '--cli-input-json', `file://${file}`]);
    };
    const raw = (operation: string, body: object) => signedFetch(m.local.url, {
      target: `Logs_20140328.${operation}`, body: JSON.stringify(body), credentials: TEST_CREDENTIALS, service: 'logs',
    });

    it('refuses an oversized batch with InvalidParameterException (400), storing nothing', async () => {
      // Prepare: five events of 209,746 bytes each, 26 counted per event: just over 1,048,576
      const events = Array.from({ length: 5 }, () => ({ timestamp: Date.now(), message: 'x'.repeat(209_720) }));

      // Act
      const cli = await put(events);
      const http = await raw('PutLogEvents', { logGroupName: group, logStreamName: stream, logEvents: events });
      const stored = await awsLogs(m.local.url, ['get-log-events', '--log-group-name', group, '--log-stream-name', stream]);

      // Assess
      expect(cli.errorType).toBe('InvalidParameterException');
      expect(cli.stderr).toMatch(/Upload too large: 1048730 bytes exceeds limit of 1048576/);
      expect(http.status).toBe(400);
      expect(await http.json()).toMatchObject({ __type: 'InvalidParameterException' });
      expect(stored.json.events).toEqual([]);
    });

    it('refuses events out of chronological order with InvalidParameterException (400)', async () => {
      const events = [{ timestamp: Date.now(), message: 'second' }, { timestamp: Date.now() - 1000, message: 'first' }];
      const cli = await put(events);
      const http = await raw('PutLogEvents', { logGroupName: group, logStreamName: stream, logEvents: events });
      expect(cli.errorType).toBe('InvalidParameterException');
      expect(cli.stderr).toMatch(/Log events in a single PutLogEvents request must be in chronological order/);
      expect(http.status).toBe(400);
    });

    it('refuses an unknown group or stream with ResourceNotFoundException (400)', async () => {
      const noGroup = await awsLogs(m.local.url, ['get-log-events', '--log-group-name', '/no/such/group', '--log-stream-name', stream]);
      const noStream = await awsLogs(m.local.url, ['get-log-events', '--log-group-name', group, '--log-stream-name', 'no-such-stream']);
      const http = await raw('PutLogEvents', { logGroupName: group, logStreamName: 'no-such-stream', logEvents: [{ timestamp: Date.now(), message: 'x' }] });
      expect(noGroup.errorType).toBe('ResourceNotFoundException');
      expect(noGroup.stderr).toMatch(/The specified log group does not exist/);
      expect(noStream.errorType).toBe('ResourceNotFoundException');
      expect(http.status).toBe(400);
      expect(await http.json()).toEqual({ __type: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    });

    it('refuses a call signed for another service with a 4xx and changes nothing', async () => {
      const wrongService = await signedFetch(m.local.url, {
        target: 'Logs_20140328.CreateLogGroup', body: JSON.stringify({ logGroupName: `${group}-x` }), credentials: TEST_CREDENTIALS, service: 'ecs',
      });
      const groups = await awsLogs(m.local.url, ['describe-log-groups', '--log-group-name-prefix', `${group}-x`]);
      expect(wrongService.status).toBeGreaterThanOrEqual(400);
      expect(wrongService.status).toBeLessThan(500);
      expect(groups.json.logGroups).toEqual([]);
    });
  });
});
}
