import { PUT_LOG_EVENTS_LIMITS, eventBytes } from './limits';

/** One CloudWatch Logs event. */
export interface LogEvent {
  /** Epoch milliseconds. */
  timestamp: number;
  message: string;
}

export type BatchLimits = Record<'maxEvents' | 'maxBatchBytes' | 'maxEventBytes' | 'maxBatchSpanMs', number>;

/**
 * Cuts chronological events into PutLogEvents batches, in order: each within the event count,
 * the byte size (26 bytes per event on top of its message) and the 24-hour span.
 */
export function cutBatches(events: readonly LogEvent[], limits: BatchLimits = PUT_LOG_EVENTS_LIMITS): LogEvent[][] {
  const batches: LogEvent[][] = [];
  let batch: LogEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = eventBytes(e.message);
    if (batch.length > 0 && (batch.length >= limits.maxEvents || bytes + size > limits.maxBatchBytes
      || e.timestamp - batch[0].timestamp > limits.maxBatchSpanMs)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * A line too long for one event becomes several, cut at character boundaries so each piece is
 * valid UTF-8 within the event limit, as Docker's awslogs driver splits long lines.
 */
export function splitMessage(message: string, limits: Pick<BatchLimits, 'maxEventBytes'> = PUT_LOG_EVENTS_LIMITS): string[] {
  const maxBytes = limits.maxEventBytes - PUT_LOG_EVENTS_LIMITS.eventOverheadBytes;
  if (Buffer.byteLength(message, 'utf8') <= maxBytes) return [message];
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const ch of message) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += ch;
    bytes += size;
  }
  if (piece !== '') pieces.push(piece);
  return pieces;
}
