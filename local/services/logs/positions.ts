import { invalid } from './errors';

/**
 * Where an event sits in its stream: its timestamp, then its arrival sequence, so events sort
 * by time and events of one millisecond keep the order they came in. Encoded as fixed-width
 * digits, the string order of the range key is this order, and a page boundary is a key.
 */
export interface Position {
  timestamp: number;
  seq: number;
}

const TIMESTAMP_DIGITS = 15;
const SEQ_DIGITS = 12;
const MAX_SEQ = 10 ** SEQ_DIGITS - 1;
const MAX_TIMESTAMP = 10 ** TIMESTAMP_DIGITS - 1;

export const encodePosition = (p: Position): string =>
  `${String(p.timestamp).padStart(TIMESTAMP_DIGITS, '0')}${String(p.seq).padStart(SEQ_DIGITS, '0')}`;

export function decodePosition(s: string): Position | undefined {
  if (!/^\d+$/.test(s) || s.length !== TIMESTAMP_DIGITS + SEQ_DIGITS) return undefined;
  return { timestamp: Number(s.slice(0, TIMESTAMP_DIGITS)), seq: Number(s.slice(TIMESTAMP_DIGITS)) };
}

/** The first position at or after `timestamp`. */
export const firstAt = (timestamp: number): Position => ({ timestamp: Math.max(0, timestamp), seq: 0 });
/** The last position before `timestamp` (exclusive), or undefined when none exists. */
export const lastBefore = (timestamp: number): Position | undefined =>
  timestamp <= 0 ? undefined : { timestamp: Math.min(MAX_TIMESTAMP, timestamp - 1), seq: MAX_SEQ };

export const after = (p: Position): Position =>
  p.seq < MAX_SEQ ? { timestamp: p.timestamp, seq: p.seq + 1 } : { timestamp: p.timestamp + 1, seq: 0 };

export const before = (p: Position): Position | undefined =>
  p.seq > 0 ? { timestamp: p.timestamp, seq: p.seq - 1 } : p.timestamp > 0 ? { timestamp: p.timestamp - 1, seq: MAX_SEQ } : undefined;

export const comparePositions = (a: Position, b: Position) => a.timestamp - b.timestamp || a.seq - b.seq;

/**
 * GetLogEvents' tokens, in AWS's shape (`f/…/s`, `b/…/s`). A forward token names the first
 * position of the next page; a backward one the last position of the previous page. A
 * backward token at the very start of a stream names no position.
 */
export type PageToken = { direction: 'forward'; from: Position } | { direction: 'backward'; to?: Position };

export function encodeToken(t: PageToken): string {
  if (t.direction === 'forward') return `f/${encodePosition(t.from)}/s`;
  return `b/${t.to ? encodePosition(t.to) : '0'}/s`;
}

export function decodeToken(token: string): PageToken {
  const m = /^([fb])\/(\d+)\/s$/.exec(token);
  if (m?.[1] === 'b' && m[2] === '0') return { direction: 'backward' };
  const p = m ? decodePosition(m[2]) : undefined;
  if (!m || !p) throw invalid('The specified nextToken is invalid.');
  return m[1] === 'f' ? { direction: 'forward', from: p } : { direction: 'backward', to: p };
}
