/**
 * Berth's DynamoDB tables. serverless.yml declares the same ones (a test checks), and the
 * local runtime creates them from this list.
 */
export const TABLES = {
  clusters: { suffix: 'clusters', hashKey: 'name', rangeKey: undefined },
  taskDefinitions: { suffix: 'task-definitions', hashKey: 'family', rangeKey: 'revision' },
  tasks: {
    suffix: 'tasks', hashKey: 'cluster', rangeKey: 'taskId', localIndexes: { byGroup: 'group' }, ttlAttribute: 'ttl',
    globalIndexes: {
      // What warm hosts pre-pull: the definitions of tasks created in the last hour, every cluster.
      byCreatedDay: { hashKey: 'createdDay', rangeKey: 'createdAt', projection: ['family', 'revision'] },
      // Sparse: only tasks a user's state machine waits on carry `awaiting` (the batch heartbeat).
      awaited: { hashKey: 'awaiting', rangeKey: 'taskId', projection: ['callbackToken', 'statusRank'] },
    },
  },
  hosts: { suffix: 'hosts', hashKey: 'hostId', rangeKey: undefined },
  clientTokens: { suffix: 'client-tokens', hashKey: 'key', rangeKey: undefined, ttlAttribute: 'ttl' },
  demand: { suffix: 'demand', hashKey: 'taskId', rangeKey: undefined },
  accessKeys: { suffix: 'access-keys', hashKey: 'accessKeyId', rangeKey: undefined },
  services: { suffix: 'services', hashKey: 'cluster', rangeKey: 'serviceName' },
  accountSettings: { suffix: 'account-settings', hashKey: 'principalArn', rangeKey: 'name' },
  schedules: {
    suffix: 'schedules', hashKey: 'groupName', rangeKey: 'name',
    // Sparse: only enabled schedules with a due time carry `firing`, so the local firer's look
    // reads what is due by its `fireAt`, not the whole table.
    globalIndexes: { due: { hashKey: 'firing', rangeKey: 'fireAt', projection: 'KEYS_ONLY' } },
  },
  scheduleGroups: { suffix: 'schedule-groups', hashKey: 'name', rangeKey: undefined },
  autoscaling: { suffix: 'autoscaling', hashKey: 'resourceId', rangeKey: 'item' },
  usage: {
    suffix: 'usage', hashKey: 'cluster', rangeKey: 'taskId',
    // A report of a period reads the days it spans, not the whole table.
    globalIndexes: { byStoppedDay: { hashKey: 'stoppedDay', rangeKey: 'stoppedAt', projection: 'ALL' } },
  },
  capacityProviders: { suffix: 'capacity-providers', hashKey: 'name', rangeKey: undefined },
  // Launches asked of the fleet provider whose hosts are not recorded yet (capacity/launches.ts).
  launches: { suffix: 'launches', hashKey: 'launchId', rangeKey: undefined },
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
  /**
   * Global secondary indexes, by name: the cross-partition reads that would otherwise be scans.
   * `projection` is ALL, KEYS_ONLY, or the attributes projected beside the keys (INCLUDE).
   */
  globalIndexes?: Readonly<Record<string, GlobalIndex>>;
  /**
   * The attribute (epoch seconds) after which DynamoDB deletes an item, on AWS: STOPPED tasks
   * after ECS's retention, client tokens after their 24 hours. dynalite has no TTL.
   */
  ttlAttribute?: string;
}

/** A STOPPED task stays describable this long after it stops (ECS: at least an hour). */
export const STOPPED_TASK_RETENTION_SECONDS = 3600;

/** The TTL attribute's value: epoch seconds. */
export const ttlAt = (epochMs: number): number => Math.ceil(epochMs / 1000);

/** A table's keys and indexes, whoever declares it (Berth's tables, the local services'). */
export type KeyedTable = Pick<TableSchema, 'hashKey' | 'localIndexes' | 'globalIndexes'> & { rangeKey?: string };

export interface GlobalIndex {
  hashKey: string;
  rangeKey?: string;
  projection: 'ALL' | 'KEYS_ONLY' | readonly string[];
}

export const localIndexesOf = (t: KeyedTable): Readonly<Record<string, string>> => t.localIndexes ?? {};
export const globalIndexesOf = (t: KeyedTable): Readonly<Record<string, GlobalIndex>> => t.globalIndexes ?? {};

/** Every attribute a table's keys and indexes name: what its AttributeDefinitions hold. */
export function keyAttributesOf(t: KeyedTable): string[] {
  return [...new Set([
    t.hashKey, ...(t.rangeKey === undefined ? [] : [t.rangeKey]),
    ...Object.values(localIndexesOf(t)),
    ...Object.values(globalIndexesOf(t)).flatMap((g) => (g.rangeKey === undefined ? [g.hashKey] : [g.hashKey, g.rangeKey])),
  ])];
}

/** The index as CreateTable and CloudFormation declare it. */
export function globalIndexDeclaration(name: string, g: GlobalIndex) {
  return {
    IndexName: name,
    KeySchema: [
      { AttributeName: g.hashKey, KeyType: 'HASH' as const },
      ...(g.rangeKey === undefined ? [] : [{ AttributeName: g.rangeKey, KeyType: 'RANGE' as const }]),
    ],
    Projection: g.projection === 'ALL' || g.projection === 'KEYS_ONLY'
      ? { ProjectionType: g.projection }
      : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...g.projection] },
  };
}

export type TableKey = keyof typeof TABLES;
export type TableNames = Record<TableKey, string>;

/** Key attribute types: every key is a string but a task definition's revision and the indexes' times. */
export const KEY_TYPES: Record<string, 'S' | 'N'> = { revision: 'N', createdAt: 'N', stoppedAt: 'N', fireAt: 'N' };

export const DEFAULT_TABLE_PREFIX = 'berth-';

export function tableNames(prefix = DEFAULT_TABLE_PREFIX): TableNames {
  return Object.fromEntries(
    Object.entries(TABLES).map(([k, t]) => [k, `${prefix}${t.suffix}`]),
  ) as TableNames;
}
