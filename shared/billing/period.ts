import { ClientException } from '../domain/errors';
import { HOUR_MS } from './report';

const UNIT_MS = { s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS } as const;

/** The longest period one report covers, and the most points its chart has. */
export const MAX_PERIOD_MS = 366 * 24 * HOUR_MS;
export const MAX_BUCKETS = 10_000;

/** `24h`, `90m`, `7d`, `30s`: a duration in ms. */
export function parseDuration(text: string, field = 'since'): number {
  const m = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new ClientException(`Invalid parameter '${field}': expected a duration such as 24h, 90m, 7d or 30s.`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** An ISO 8601 time (`2026-12-01`, `2026-12-01T10:00:00Z`) or epoch milliseconds, as epoch ms. */
export function parseTime(text: string, field: string): number {
  const t = /^\d{1,15}$/.test(text.trim()) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t)) throw new ClientException(`Invalid parameter '${field}': expected an ISO 8601 time or epoch milliseconds.`);
  return t;
}

export interface PeriodInput {
  since?: string;
  from?: string;
  to?: string;
  bucketSeconds?: number;
}

/**
 * The report's period, [from, to): `since` back from now, or `from` (and `to`, default now);
 * neither, the last 24 hours. A period that ends in the future ends now.
 */
export function periodOf(q: PeriodInput, now: number): { from: number; to: number; bucketMs: number } {
  if (q.since !== undefined && q.from !== undefined) throw new ClientException("Invalid parameter 'since': give either 'since' or 'from', not both.");
  const to = Math.min(q.to === undefined ? now : parseTime(q.to, 'to'), now);
  const from = q.from !== undefined ? parseTime(q.from, 'from') : to - parseDuration(q.since ?? '24h');
  if (!(from < to)) throw new ClientException("Invalid parameter 'from': the period must start before it ends (and before now).");
  if (to - from > MAX_PERIOD_MS) throw new ClientException("Invalid parameter 'from': a report covers at most 366 days.");
  const bucketMs = (q.bucketSeconds ?? 3600) * 1000;
  if (!Number.isSafeInteger(bucketMs) || bucketMs < 60_000) throw new ClientException("Invalid parameter 'bucketSeconds': at least 60.");
  if ((to - from) / bucketMs > MAX_BUCKETS) throw new ClientException(`Invalid parameter 'bucketSeconds': the period would have more than ${MAX_BUCKETS} points.`);
  return { from, to, bucketMs };
}
