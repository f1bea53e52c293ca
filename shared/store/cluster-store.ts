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

export class ClusterStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** CreateCluster is idempotent on an ACTIVE cluster and revives an INACTIVE one, as in ECS. */
  async create(name: string, tags: Tag[], now: number, options: ClusterOptions = {}): Promise<ClusterRecord> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { name, status: 'ACTIVE', createdAt: now, tags, ...dropUndefined(options) } satisfies ClusterRecord,
        // Two concurrent creates must not reset each other's tags on a live cluster.
        ConditionExpression: 'attribute_not_exists(#n) OR #s = :inactive',
        ExpressionAttributeNames: { '#n': 'name', '#s': 'status' },
        ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
      }));
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
    return updateIf<ClusterRecord>(this.db, {
      TableName: this.table,
      Key: { name },
      UpdateExpression: 'SET #s = :inactive',
      ConditionExpression: 'attribute_exists(#n)',
      ExpressionAttributeNames: { '#n': 'name', '#s': 'status' },
      ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
    });
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
