import { PUT_LOG_EVENTS_LIMITS } from '../../../shared/logs/limits';
import type { Position } from './positions';

/**
 * Events are stored in blocks: runs of one batch's consecutive events in one item, keyed by
 * the position of the block's first event. A 10,000-line batch becomes a handful of writes
 * instead of 10,000, and a page reads a handful of items.
 *
 * Blocks of different batches may overlap in time (a later batch may hold older events), so
 * readers merge: a block's events are never before its key, and never more than
 * MAX_BLOCK_SPAN_MS after its first timestamp, which bounds how far back a reader looks.
 */
export const BLOCK_LIMITS = {
  /** Message bytes per block, well under DynamoDB's 400 KB item (one event may exceed it). */
  maxBytes: 128 * 1024,
  maxEvents: 2000,
  maxSpanMs: 60_000,
} as const;

export interface BlockEvent extends Position {
  message: string;
}

export interface Block {
  first: Position;
  /** Timestamps relative to the first, and messages; seq runs on from first.seq. */
  offsets: number[];
  messages: string[];
}

/** Cuts a chronological run of events (consecutive seqs) into blocks. */
export function toBlocks(events: readonly BlockEvent[]): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  let bytes = 0;
  for (const e of events) {
    const size = Buffer.byteLength(e.message, 'utf8') + PUT_LOG_EVENTS_LIMITS.eventOverheadBytes;
    if (!current || current.messages.length >= BLOCK_LIMITS.maxEvents || bytes + size > BLOCK_LIMITS.maxBytes
      || e.timestamp - current.first.timestamp > BLOCK_LIMITS.maxSpanMs) {
      current = { first: { timestamp: e.timestamp, seq: e.seq }, offsets: [], messages: [] };
      blocks.push(current);
      bytes = 0;
    }
    current.offsets.push(e.timestamp - current.first.timestamp);
    current.messages.push(e.message);
    bytes += size;
  }
  return blocks;
}

export function blockEvents(b: Block): BlockEvent[] {
  return b.messages.map((message, i) => ({ timestamp: b.first.timestamp + b.offsets[i], seq: b.first.seq + i, message }));
}
