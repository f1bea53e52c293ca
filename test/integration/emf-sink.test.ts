import { CloudWatchLogsClient, DeleteLogGroupCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { createLogsHandler } from '../../local/services/logs/handler';
import { LOGS_TARGET_PREFIX } from '../../local/services/logs/operations';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { CloudWatchLogsEmfSink } from '../../shared/metrics/cloudwatch-logs-emf-sink';
import { parseEmf } from '../../shared/metrics/emf';
import { EmfValidationError } from '../../shared/metrics/errors';
import type { MetricDatum } from '../../shared/metrics/metric-datum';
import { TEST_CREDENTIALS } from '../support/harness';

/** The CloudWatch Logs EMF sink, through the SDK client, against the local Logs slice on dynalite. */
describe('CloudWatchLogsEmfSink', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let server: Awaited<ReturnType<typeof serve>>;
  let logs: CloudWatchLogsClient;
  const requests: { target: string; emfHeader?: string }[] = [];
  let groups = 0;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    const logsHandler = await createLogsHandler(berth, { dynamoEndpoint: dynamo.endpoint, log: () => {} });
    const route = byTarget({ [LOGS_TARGET_PREFIX]: logsHandler }, createApiHandler(() => berth, { log: () => {} }));
    server = await serve({
      'POST /': (event, context) => {
        requests.push({ target: event.headers['x-amz-target'] ?? '', emfHeader: event.headers['x-amzn-logs-format'] });
        return route(event, context);
      },
    });
    logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  afterAll(async () => {
    logs?.destroy();
    berth?.workflows.close();
    await server?.close();
    await dynamo?.close();
  });

  const sample = (taskId: string, value: number, at: number): MetricDatum => ({
    name: 'CPUUtilization', unit: 'Percent', values: [value], dimensions: { ClusterName: 'default', TaskId: taskId }, properties: { HostId: 'h1' }, timestamp: at,
  });

  async function readBack(logGroupName: string, logStreamName: string): Promise<MetricDatum[]> {
    const r = await logs.send(new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true }));
    return (r.events ?? []).flatMap((e) => parseEmf(JSON.parse(e.message!)));
  }

  describe('publish', () => {
    it('creates the group and stream, and writes records that read back as the same metrics, with the EMF header', async () => {
      // Prepare
      const logGroupName = `/test/metrics-${++groups}`;
      const sink = new CloudWatchLogsEmfSink({ client: logs, logGroupName, logStreamName: 'agent/h1' });
      const at = Date.now();
      const data = [sample('a', 97.5, at), sample('b', 0.5, at), sample('a', 99, at + 1000)];
      requests.length = 0;

      // Act
      await sink.publish(data);
      const sent = requests.splice(0);

      // Assess
      expect(await readBack(logGroupName, 'agent/h1')).toEqual(data);
      expect(sent.map((r) => r.target)).toEqual(['Logs_20140328.CreateLogGroup', 'Logs_20140328.CreateLogStream', 'Logs_20140328.PutLogEvents']);
      expect(sent.find((r) => r.target.endsWith('PutLogEvents'))?.emfHeader).toBe('json/emf');
      expect(sent.filter((r) => !r.target.endsWith('PutLogEvents')).map((r) => r.emfHeader)).toEqual([undefined, undefined]);
    });

    it('writes to a group that exists already, and makes it again when it was deleted', async () => {
      // Prepare
      const logGroupName = `/test/metrics-${++groups}`;
      const first = new CloudWatchLogsEmfSink({ client: logs, logGroupName, logStreamName: 'control-plane' });
      const second = new CloudWatchLogsEmfSink({ client: logs, logGroupName, logStreamName: 'agent/h2' });
      const at = Date.now();
      await first.publish([sample('a', 1, at)]);

      // Act
      await second.publish([sample('b', 2, at)]);
      const both = [...await readBack(logGroupName, 'control-plane'), ...await readBack(logGroupName, 'agent/h2')];
      await logs.send(new DeleteLogGroupCommand({ logGroupName }));
      await first.publish([sample('c', 3, at + 1)]);

      // Assess: the second writer's stream went with the group; the first made both again.
      expect((await readBack(logGroupName, 'control-plane')).map((d) => d.dimensions.TaskId)).toEqual(['c']);
      expect(both.map((d) => d.dimensions.TaskId)).toEqual(['a', 'b']);
    });

    it('refuses metrics EMF cannot carry before calling CloudWatch Logs', async () => {
      // Prepare
      const sink = new CloudWatchLogsEmfSink({ client: logs, logGroupName: `/test/metrics-${++groups}`, logStreamName: 's' });
      requests.length = 0;

      // Act
      const error = await sink.publish([sample('a', Number.NaN, Date.now())]).catch((e) => e);

      // Assess
      expect(error).toBeInstanceOf(EmfValidationError);
      expect(requests).toEqual([]);
    });
  });
});
