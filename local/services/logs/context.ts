import type { Partition } from '../../../shared/domain/arns';
import { invalid } from './errors';
import type { LogStore } from './log-store';

/** What every Logs operation works with. */
export interface LogsContext {
  store: LogStore;
  partition: Partition;
  /** Epoch milliseconds. */
  now: () => number;
  /** Work that outlives the call (purging a deleted group); failures are logged, not thrown. */
  background: (work: Promise<unknown>) => void;
}

export const groupArn = (p: Partition, name: string) => `arn:aws:logs:${p.region}:${p.accountId}:log-group:${name}`;
export const streamArn = (p: Partition, group: string, stream: string) => `${groupArn(p, group)}:log-stream:${stream}`;

/** Describe* paging tokens: opaque to callers, a small JSON object inside. */
export const encodeListToken = (state: object): string => Buffer.from(JSON.stringify(state)).toString('base64url');

export function decodeListToken<T extends object>(token: string | undefined, check: (v: any) => v is T): T | undefined {
  if (token === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    // reported below
  }
  if (!check(parsed)) throw invalid('The specified nextToken is invalid.');
  return parsed;
}
