import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { AwsClientConfig } from '../aws';
import { LogBatchRejectedError, type LogEvent, LogGroupNotFoundError, type LogSink } from './log-sink';

const nameOf = (e: unknown) => (e instanceof Error ? e.name : '');

/** The LogSink adapter over @aws-sdk/client-cloudwatch-logs: AWS itself, or the local slice. */
export class CloudWatchLogSink implements LogSink {
  private readonly client: CloudWatchLogsClient;

  constructor(config: AwsClientConfig) {
    this.client = new CloudWatchLogsClient({ region: config.region, endpoint: config.endpoint, credentials: config.credentials, maxAttempts: 3 });
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  async createGroup(logGroupName: string): Promise<void> {
    try {
      await this.client.send(new CreateLogGroupCommand({ logGroupName }));
    } catch (e) {
      if (nameOf(e) !== 'ResourceAlreadyExistsException') throw e;
    }
  }

  async createStream(logGroupName: string, logStreamName: string): Promise<void> {
    try {
      await this.client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
    } catch (e) {
      if (nameOf(e) === 'ResourceAlreadyExistsException') return;
      if (nameOf(e) === 'ResourceNotFoundException') throw new LogGroupNotFoundError(logGroupName, { cause: e });
      throw e;
    }
  }

  async putEvents(logGroupName: string, logStreamName: string, events: readonly LogEvent[]): Promise<{ rejected?: Record<string, number> }> {
    const put = () => this.client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [...events] }));
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
