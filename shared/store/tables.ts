/**
 * Berth's DynamoDB tables. serverless.yml declares the same ones (a test checks), and the
 * local runtime creates them from this list.
 */
export const TABLES = {
  clusters: { suffix: 'clusters', hashKey: 'name', rangeKey: undefined },
  taskDefinitions: { suffix: 'task-definitions', hashKey: 'family', rangeKey: 'revision' },
  tasks: { suffix: 'tasks', hashKey: 'cluster', rangeKey: 'taskId', localIndexes: { byGroup: 'group' } },
  hosts: { suffix: 'hosts', hashKey: 'hostId', rangeKey: undefined },
  clientTokens: { suffix: 'client-tokens', hashKey: 'key', rangeKey: undefined },
  demand: { suffix: 'demand', hashKey: 'taskId', rangeKey: undefined },
  accessKeys: { suffix: 'access-keys', hashKey: 'accessKeyId', rangeKey: undefined },
  services: { suffix: 'services', hashKey: 'cluster', rangeKey: 'serviceName' },
  accountSettings: { suffix: 'account-settings', hashKey: 'principalArn', rangeKey: 'name' },
  schedules: { suffix: 'schedules', hashKey: 'groupName', rangeKey: 'name' },
  scheduleGroups: { suffix: 'schedule-groups', hashKey: 'name', rangeKey: undefined },
  autoscaling: { suffix: 'autoscaling', hashKey: 'resourceId', rangeKey: 'item' },
  usage: { suffix: 'usage', hashKey: 'cluster', rangeKey: 'taskId' },
  capacityProviders: { suffix: 'capacity-providers', hashKey: 'name', rangeKey: undefined },
} as const satisfies Record<string, TableSchema>;

export interface TableSchema {
  suffix: string;
  hashKey: string;
  rangeKey: string | undefined;
  /**
   * Local secondary indexes, by name, each with its range key and every attribute projected.
   * A service's tasks are found by `group` (`service:NAME`) within their cluster, with a
   * consistent read, instead of by reading the whole cluster.
   */
  localIndexes?: Readonly<Record<string, string>>;
}

export const localIndexesOf = (t: TableSchema): Readonly<Record<string, string>> => t.localIndexes ?? {};

export type TableKey = keyof typeof TABLES;
export type TableNames = Record<TableKey, string>;

/** Key attribute types: every key is a string but a task definition's revision. */
export const KEY_TYPES: Record<string, 'S' | 'N'> = { revision: 'N' };

export const DEFAULT_TABLE_PREFIX = 'berth-';

export function tableNames(prefix = DEFAULT_TABLE_PREFIX): TableNames {
  return Object.fromEntries(
    Object.entries(TABLES).map(([k, t]) => [k, `${prefix}${t.suffix}`]),
  ) as TableNames;
}
