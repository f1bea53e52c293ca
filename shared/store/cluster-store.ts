import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CAPACITY_PROVIDER_NAMES, type CapacityProviderStrategyItem } from '../domain/capacity-strategy';
import type { ClusterConfiguration, ClusterSetting } from '../domain/cluster-settings';
import type { Tag } from '../domain/fields';
import { dropUndefined } from '../domain/task-definition';
import { isConditionFailure, setTagsByName, updateIf } from './client';
import { scanAll } from './scan';
import { UpdateExpression } from './update-expression';

export interface ClusterRecord {
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  createdAt: number;
  tags: Tag[];
  /** Absent on clusters an older Berth made: containerInsights disabled. */
  settings?: ClusterSetting[];
  configuration?: ClusterConfiguration;
  /**
   * PutClusterCapacityProviders' list, with the custom providers created for the cluster; absent
   * means both Fargate providers, as ECS clusters show.
   */
  capacityProviders?: string[];
  defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** The Service Connect namespace (ARN) its services join by default; '' once removed. */
  serviceConnectDefaults?: { namespace: string };
}

/** What CreateCluster sets besides the name and tags. */
export type ClusterOptions = Pick<ClusterRecord, 'settings' | 'configuration' | 'capacityProviders' | 'defaultCapacityProviderStrategy' | 'serviceConnectDefaults'>;

export const associatedProviders = (c: Pick<ClusterRecord, 'capacityProviders'>): string[] =>
  c.capacityProviders ?? [...CAPACITY_PROVIDER_NAMES];

/**
 * How long a cluster's status, once read, answers the checks of frequent reads (a DescribeTasks
 * poll). This process's own writes of a status forget it at once; another process's (another
 * Lambda's DeleteCluster) show within this, as ECS's own reads are eventually consistent.
 */
export const CLUSTER_STATUS_MAX_AGE_MS = 1000;

export class ClusterStore {
  /** Statuses read by recentStatus, with the time each was read. */
  private readonly statuses = new Map<string, { status: ClusterRecord['status'] | undefined; readAt: number }>();
  /** Moved before and after every write of a status: a read across one is not kept. */
  private statusWrites = 0;

  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** The cluster's status (undefined: no such cluster), read at most CLUSTER_STATUS_MAX_AGE_MS ago. */
  async recentStatus(name: string, now: number): Promise<ClusterRecord['status'] | undefined> {
    const kept = this.statuses.get(name);
    if (kept && now >= kept.readAt && now - kept.readAt < CLUSTER_STATUS_MAX_AGE_MS) return kept.status;
    const writes = this.statusWrites;
    const status = (await this.get(name))?.status;
    if (writes === this.statusWrites) {
      if (this.statuses.size >= 1000) this.statuses.clear();
      this.statuses.set(name, { status, readAt: now });
    }
    return status;
  }

  /** A write that may change a cluster's status: what recentStatus kept is forgotten as it starts and as it ends. */
  private async writingStatus<T>(write: () => Promise<T>): Promise<T> {
    this.statusWrites++;
    this.statuses.clear();
    try {
      return await write();
    } finally {
      this.statusWrites++;
      this.statuses.clear();
    }
  }

  /** CreateCluster is idempotent on an ACTIVE cluster and revives an INACTIVE one, as in ECS. */
  async create(name: string, tags: Tag[], now: number, options: ClusterOptions = {}): Promise<ClusterRecord> {
    try {
      await this.writingStatus(() => this.db.send(new PutCommand({
        TableName: this.table,
        Item: { name, status: 'ACTIVE', createdAt: now, tags, ...dropUndefined(options) } satisfies ClusterRecord,
        // Two concurrent creates must not reset each other's tags on a live cluster.
        ConditionExpression: 'attribute_not_exists(#n) OR #s = :inactive',
        ExpressionAttributeNames: { '#n': 'name', '#s': 'status' },
        ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
      })));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    return (await this.get(name))!;
  }

  async get(name: string): Promise<ClusterRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { name }, ConsistentRead: true }));
    return r.Item as ClusterRecord | undefined;
  }

  async list(): Promise<ClusterRecord[]> {
    return scanAll<ClusterRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  async deactivate(name: string): Promise<ClusterRecord | undefined> {
    return this.writingStatus(() => updateIf<ClusterRecord>(this.db, {
      TableName: this.table,
      Key: { name },
      UpdateExpression: 'SET #s = :inactive',
      ConditionExpression: 'attribute_exists(#n)',
      ExpressionAttributeNames: { '#n': 'name', '#s': 'status' },
      ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
    }));
  }

  /** UpdateCluster, UpdateClusterSettings and PutClusterCapacityProviders: sets what is given; undefined unless the cluster is ACTIVE. */
  async update(name: string, changes: ClusterOptions): Promise<ClusterRecord | undefined> {
    const u = new UpdateExpression().set(changes);
    if (u.toString() === '') {
      const c = await this.get(name);
      return c?.status === 'ACTIVE' ? c : undefined;
    }
    return updateIf<ClusterRecord>(this.db, {
      TableName: this.table,
      Key: { name },
      UpdateExpression: u.toString(),
      // A cluster deleted meanwhile stays deleted rather than coming back with new settings.
      ConditionExpression: '#s = :active',
      ExpressionAttributeNames: { ...u.names, '#s': 'status' },
      ExpressionAttributeValues: { ...u.values, ':active': 'ACTIVE' },
    });
  }

  setTags(name: string, tags: Tag[]): Promise<void> {
    return setTagsByName(this.db, this.table, name, tags);
  }
}
