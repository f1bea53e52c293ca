/**
 * Where a due time goes once it is given up on, when its target names a DeadLetterConfig: an SQS
 * queue, as EventBridge Scheduler delivers it. On AWS, SQS itself (SendMessage); locally, the
 * local SQS slice's store.
 */
export interface DeadLetterSink {
  /** Sends one message; throws when the queue is not there or refuses it. */
  send(queueArn: string, letter: DeadLetter): Promise<void>;
}

/** One dead-letter event: the request that failed as its body, and Scheduler's string attributes. */
export interface DeadLetter {
  body: string;
  attributes: Readonly<Record<string, string>>;
}

/** Why the retries stopped: EventBridge Scheduler's EXHAUSTED_RETRY_CONDITION values. */
export type ExhaustedRetryCondition = 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';

/** SQS's message size limit: a longer body is cut, and IS_PAYLOAD_TRUNCATED says so. */
export const MAX_DEAD_LETTER_BODY_BYTES = 256 * 1024 - 4096;

export interface GivenUp {
  scheduleArn: string;
  targetArn: string;
  /** The due time, epoch milliseconds. */
  scheduledTime: number;
  /** One id per due time (every firer that meets it makes the same). */
  executionId: string;
  /** Retries made after the first attempt. */
  retryAttempts: number;
  condition: ExhaustedRetryCondition;
  /** The last attempt's error, as the target's service named it (ECS's error type, or RunTask's failure reason). */
  errorCode: string;
  errorMessage: string;
  /** The request Berth sent to the target (RunTask's), as JSON. */
  request: string;
}

/**
 * The dead-letter event EventBridge Scheduler sends (its user guide, "Retrieve the dead-letter
 * event"): the target request as the body, and the attributes by their AWS names, all of data
 * type String, the scheduled time to the second.
 */
export function deadLetterOf(g: GivenUp): DeadLetter {
  const bytes = Buffer.from(g.request, 'utf8');
  const truncated = bytes.length > MAX_DEAD_LETTER_BODY_BYTES;
  return {
    body: truncated ? bytes.subarray(0, MAX_DEAD_LETTER_BODY_BYTES).toString('utf8') : g.request,
    attributes: {
      ERROR_CODE: g.errorCode,
      // SQS refuses an empty attribute value.
      ERROR_MESSAGE: g.errorMessage || g.errorCode,
      EXECUTION_ID: g.executionId,
      EXHAUSTED_RETRY_CONDITION: g.condition,
      IS_PAYLOAD_TRUNCATED: String(truncated),
      RETRY_ATTEMPTS: String(g.retryAttempts),
      SCHEDULED_TIME: new Date(g.scheduledTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      SCHEDULE_ARN: g.scheduleArn,
      TARGET_ARN: g.targetArn,
    },
  };
}

const QUEUE_ARN = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):([a-zA-Z0-9_-]{1,80})$/;

/** A queue ARN's parts, or undefined for anything else. */
export function parseQueueArn(arn: string): { partition: string; region: string; accountId: string; name: string } | undefined {
  const m = QUEUE_ARN.exec(arn);
  return m ? { partition: m[1], region: m[2], accountId: m[3], name: m[4] } : undefined;
}
