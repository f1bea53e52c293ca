import type { AwsClientConfig } from '../aws';
import { LazyClient } from '../lazy-client';
import { LogBatchRejectedError, type LogEvent, LogGroupNotFoundError, type LogSink } from './log-sink';

const nameOf = (e: unknown) => (e instanceof Error ? e.name : '');

/** The LogSink adapter over @aws-sdk/client-cloudwatch-logs: AWS itself, or the local slice. */
export class CloudWatchLogSink implements LogSink {
  /** Loaded when a task first ships awslogs output (lazy-client.ts). */
  private readonly client;

  constructor(config: AwsClientConfig) {
    this.client = new LazyClient(
      () => import('@aws-sdk/client-cloudwatch-logs'),
      (sdk) => new sdk.CloudWatchLogsClient({ region: config.region, endpoint: config.endpoint, credentials: config.credentials, maxAttempts: 3 }),
    );
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  async createGroup(logGroupName: string): Promise<void> {
    try {
      const { sdk, client } = await this.client.get();
      await client.send(new sdk.CreateLogGroupCommand({ logGroupName }));
    } catch (e) {
      if (nameOf(e) !== 'ResourceAlreadyExistsException') throw e;
    }
  }

  async createStream(logGroupName: string, logStreamName: string): Promise<void> {
    try {
      const { sdk, client } = await this.client.get();
      await client.send(new sdk.CreateLogStreamCommand({ logGroupName, logStreamName }));
    } catch (e) {
      if (nameOf(e) === 'ResourceAlreadyExistsException') return;
      if (nameOf(e) === 'ResourceNotFoundException') throw new LogGroupNotFoundError(logGroupName, { cause: e });
      throw e;
    }
  }

  async putEvents(logGroupName: string, logStreamName: string, events: readonly LogEvent[]): Promise<{ rejected?: Record<string, number> }> {
    const put = async () => {
      const { sdk, client } = await this.client.get();
      return client.send(new sdk.PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [...events] }));
    };
    try {
      let r;
      try {
        r = await put();
      } catch (e) {
        if (nameOf(e) !== 'ResourceNotFoundException') throw e;
        // The stream was deleted under us: make it again once, as Docker's awslogs driver does.
        await this.createStream(logGroupName, logStreamName);
        r = await put();
      }
      return { rejected: r.rejectedLogEventsInfo as Record<string, number> | undefined };
    } catch (e) {
      if (nameOf(e) === 'InvalidParameterException' || e instanceof LogGroupNotFoundError) {
        throw new LogBatchRejectedError((e as Error).message, { cause: e });
      }
      throw e;
    }
  }
}

/** One sink per region, as `awslogs-region` may name another than the host's. */
export function cloudWatchLogSinks(config: AwsClientConfig): (region?: string) => LogSink {
  const sinks = new Map<string, LogSink>();
  return (region = config.region) => {
    let sink = sinks.get(region);
    if (!sink) sinks.set(region, (sink = new CloudWatchLogSink({ ...config, region })));
    return sink;
  };
}
