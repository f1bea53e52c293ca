/**
 * CloudWatch Logs' documented PutLogEvents quotas. The local slice enforces them and the
 * agent's batcher keeps within them, so both read them from here.
 */
export const PUT_LOG_EVENTS_LIMITS = {
  /** Events per PutLogEvents call. */
  maxEvents: 10_000,
  /** A batch's size: the sum of every message's UTF-8 bytes plus `eventOverheadBytes` each. */
  maxBatchBytes: 1_048_576,
  eventOverheadBytes: 26,
  /** One event, overhead included. */
  maxEventBytes: 262_144,
  /** The oldest and newest event of one batch may be at most this far apart. */
  maxBatchSpanMs: 24 * 60 * 60 * 1000,
  /** Events dated further ahead than this are rejected as too new. */
  maxFutureMs: 2 * 60 * 60 * 1000,
  /** Events older than this are rejected as too old. */
  maxAgeMs: 14 * 24 * 60 * 60 * 1000,
} as const;

/** An event's size as PutLogEvents counts it. */
export const eventBytes = (message: string): number =>
  Buffer.byteLength(message, 'utf8') + PUT_LOG_EVENTS_LIMITS.eventOverheadBytes;
