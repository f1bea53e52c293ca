import type { LogEvent } from '../../shared/logs/log-batcher';

export type { LogEvent };

/**
 * Where the agent ships container output: CloudWatch Logs, through the AWS SDK on AWS and
 * through the same SDK against the local mode's Logs slice here.
 */
export interface LogSink {
  /** Creates the group; one that exists already is fine. */
  createGroup(logGroupName: string): Promise<void>;
  /** Creates the stream; one that exists already is fine. Throws LogGroupNotFoundError. */
  createStream(logGroupName: string, logStreamName: string): Promise<void>;
  /**
   * One PutLogEvents call: the events are in order and within its limits. Resolves with what
   * the service stored but refused (too old, too new), as its index ranges.
   */
  putEvents(logGroupName: string, logStreamName: string, events: readonly LogEvent[]): Promise<{ rejected?: Record<string, number> }>;
}

/** The group named by `awslogs-group` does not exist (and the task did not ask to create it). */
export class LogGroupNotFoundError extends Error {
  constructor(readonly logGroupName: string, options?: { cause?: unknown }) {
    super(`The specified log group does not exist: ${logGroupName}`, options);
    this.name = 'LogGroupNotFoundError';
  }
}

/** The sink refused a batch for good (bad input, not a passing fault): retrying cannot help. */
export class LogBatchRejectedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogBatchRejectedError';
  }
}
