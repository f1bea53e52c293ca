import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { type LogEvent, cutBatches } from '../logs/log-batcher';
import { formatEmf } from './emf';
import { MetricsDeliveryError } from './errors';
import type { MetricDatum } from './metric-datum';
import type { MetricsSink } from './sink';

export interface CloudWatchLogsEmfSinkOptions {
  /** An agent's is made at its first send (agent/lazy-client.ts): an agent without tasks sends none. */
  client: Pick<CloudWatchLogsClient, 'send'>;
  logGroupName: string;
  /** One per writer (`agent/HOST`, `control-plane`), as the CloudWatch agent names its streams. */
  logStreamName: string;
}

const errorName = (e: unknown) => (e as { name?: string })?.name;

/** The SDK's commands, loaded at the first send. */
const logsSdk = () => import('@aws-sdk/client-cloudwatch-logs');

/**
 * Metrics as EMF records in a CloudWatch Logs group, through the SDK's client: on AWS
 * CloudWatch extracts the metrics from them; locally the endpoint's Logs slice stores them.
 * Creates the group and stream when it first writes, and again if they were deleted.
 */
export class CloudWatchLogsEmfSink implements MetricsSink {
  private ready?: Promise<void>;
  /** Publishes go one at a time, so records reach the stream in the order they were made. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: CloudWatchLogsEmfSinkOptions) {}

  publish(data: MetricDatum[]): Promise<void> {
    const run = this.queue.then(() => this.put(data));
    this.queue = run.catch(() => {});
    return run;
  }

  private async put(data: MetricDatum[]): Promise<void> {
    if (data.length === 0) return;
    const events = formatEmf(data)
      .map((r) => ({ timestamp: r._aws.Timestamp, message: JSON.stringify(r) }))
      .sort((a, b) => a.timestamp - b.timestamp);
    for (const batch of cutBatches(events)) {
      try {
        await this.ensureStream();
        await this.send(batch);
      } catch (e) {
        if (errorName(e) !== 'ResourceNotFoundException') throw new MetricsDeliveryError(`PutLogEvents to ${this.o.logGroupName} failed: ${String(e)}`, { cause: e });
        // Someone deleted the group or stream: make them again, once.
        this.ready = undefined;
        await this.ensureStream();
        await this.send(batch);
      }
    }
  }

  private async send(logEvents: LogEvent[]) {
    const command = new (await logsSdk()).PutLogEventsCommand({ logGroupName: this.o.logGroupName, logStreamName: this.o.logStreamName, logEvents });
    // CloudWatch only extracts metrics from events that PutLogEvents sends with this header.
    command.middlewareStack.add((next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amzn-logs-format'] = 'json/emf';
      return next(args);
    }, { step: 'build', name: 'berthEmfFormatHeader' });
    return this.o.client.send(command);
  }

  private ensureStream(): Promise<void> {
    this.ready ??= (async () => {
      const { client, logGroupName, logStreamName } = this.o;
      const { CreateLogGroupCommand, CreateLogStreamCommand } = await logsSdk();
      try {
        await client.send(new CreateLogGroupCommand({ logGroupName }));
      } catch (e) {
        if (errorName(e) !== 'ResourceAlreadyExistsException') throw e;
      }
      try {
        await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
      } catch (e) {
        if (errorName(e) !== 'ResourceAlreadyExistsException') throw e;
      }
    })().catch((e) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }
}
