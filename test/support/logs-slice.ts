import { CloudWatchLogsClient, GetLogEventsCommand, type OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { createLogsHandler } from '../../local/services/logs/handler';
import { LOGS_TARGET_PREFIX } from '../../local/services/logs/operations';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { TEST_CREDENTIALS } from './harness';

export interface LogsSlice {
  url: string;
  dynamoEndpoint: string;
  logs: CloudWatchLogsClient;
  close(): Promise<void>;
}

/** dynalite and the local CloudWatch Logs slice (beside ECS on POST /), on free ports. */
export async function startLogsSlice(): Promise<LogsSlice> {
  const dynamo: Dynalite = await startDynalite();
  await createTables(dynamo.endpoint);
  const berth: LocalBerth = localBerth({ dynamoEndpoint: dynamo.endpoint });
  await adoptAccessKey(berth, TEST_CREDENTIALS);
  const logsHandler = await createLogsHandler(berth, { dynamoEndpoint: dynamo.endpoint, log: () => {} });
  const server = await serve({ 'POST /': byTarget({ [LOGS_TARGET_PREFIX]: logsHandler }, createApiHandler(() => berth, { log: () => {} })) });
  const logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  return {
    url: server.url,
    dynamoEndpoint: dynamo.endpoint,
    logs,
    async close() {
      logs.destroy();
      berth.workflows.close();
      await server.close();
      await dynamo.close();
    },
  };
}

/** Every event of a stream, head to tail, paging with forward tokens until one comes back unchanged. */
export async function readStream(logs: CloudWatchLogsClient, logGroupName: string, logStreamName: string): Promise<OutputLogEvent[]> {
  const events: OutputLogEvent[] = [];
  let token: string | undefined;
  for (;;) {
    const r = await logs.send(new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true, nextToken: token }));
    events.push(...(r.events ?? []));
    if (r.nextForwardToken === token) return events;
    token = r.nextForwardToken;
  }
}
