import { ensureTables } from '../../dynalite';
import { DEFAULT_TABLE_PREFIX } from '../../../shared/store/tables';

/**
 * The local CloudWatch Logs slice's own tables, created by the local mode only (on AWS the
 * real service keeps logs). Events are keyed so GetLogEvents pages with one Query:
 * hash = the stream (its group's generation id and its name), range = a position that sorts
 * by timestamp, then by arrival.
 */
export const LOG_TABLES = {
  /** One partition holds every group, so DescribeLogGroups pages by name with a Query. */
  groups: { suffix: 'log-groups', hashKey: 'scope', rangeKey: 'logGroupName' },
  streams: { suffix: 'log-streams', hashKey: 'groupId', rangeKey: 'logStreamName' },
  events: { suffix: 'log-events', hashKey: 'streamKey', rangeKey: 'position' },
} as const;

export type LogTableNames = Record<keyof typeof LOG_TABLES, string>;

export function logTableNames(prefix = DEFAULT_TABLE_PREFIX): LogTableNames {
  return {
    groups: `${prefix}${LOG_TABLES.groups.suffix}`,
    streams: `${prefix}${LOG_TABLES.streams.suffix}`,
    events: `${prefix}${LOG_TABLES.events.suffix}`,
  };
}

/** Creates the slice's tables in dynalite; existing ones are left as they are. */
export async function createLogTables(endpoint: string, prefix?: string): Promise<LogTableNames> {
  const names = logTableNames(prefix);
  await ensureTables(endpoint, (Object.keys(LOG_TABLES) as (keyof typeof LOG_TABLES)[]).map((key) => ({ name: names[key], ...LOG_TABLES[key] })));
  return names;
}
