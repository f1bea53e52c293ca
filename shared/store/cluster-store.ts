import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CAPACITY_PROVIDER_NAMES, type CapacityProviderName, type CapacityProviderStrategyItem,
} from '../domain/capacity-strategy';
import type { Tag } from '../domain/fields';
import { isConditionFailure } from './client';
import { scanAll } from './scan';

export interface ClusterRecord {
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
  createdAt: number;
  tags: Tag[];
  /** PutClusterCapacityProviders' list; absent means both Fargate providers, as ECS clusters show. */
  capacityProviders?: CapacityProviderName[];
  defaultCapacityProviderStrategy?: CapacityProviderStrategyItem[];
}

export const associatedProviders = (c: Pick<ClusterRecord, 'capacityProviders'>): CapacityProviderName[] =>
  c.capacityProviders ?? [...CAPACITY_PROVIDER_NAMES];

export class ClusterStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** CreateCluster is idempotent on an ACTIVE cluster and revives an INACTIVE one, as in ECS. */
  async create(name: string, tags: Tag[], now: number, providers: Pick<ClusterRecord, 'capacityProviders' | 'defaultCapacityProviderStrategy'> = {}): Promise<ClusterRecord> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { name, status: 'ACTIVE', createdAt: now, tags, ...providers } satisfies ClusterRecord,
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
    try {
      const r = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: { name },
        UpdateExpression: 'SET #s = :inactive',
        ConditionExpression: 'attribute_exists(#n)',
        ExpressionAttributeNames: { '#n': 'name', '#s': 'status' },
        ExpressionAttributeValues: { ':inactive': 'INACTIVE' },
        ReturnValues: 'ALL_NEW',
      }));
      return r.Attributes as ClusterRecord;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  /** PutClusterCapacityProviders: both lists at once, on an ACTIVE cluster only. */
  async setCapacityProviders(
    name: string, capacityProviders: CapacityProviderName[], defaultCapacityProviderStrategy: CapacityProviderStrategyItem[],
  ): Promise<ClusterRecord | undefined> {
    try {
      const r = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: { name },
        UpdateExpression: 'SET capacityProviders = :p, defaultCapacityProviderStrategy = :d',
        // A DeleteCluster racing this must not leave an INACTIVE cluster with fresh providers.
        ConditionExpression: '#s = :active',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': capacityProviders, ':d': defaultCapacityProviderStrategy, ':active': 'ACTIVE' },
        ReturnValues: 'ALL_NEW',
      }));
      return r.Attributes as ClusterRecord;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  async setTags(name: string, tags: Tag[]): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { name },
      UpdateExpression: 'SET tags = :t',
      ConditionExpression: 'attribute_exists(#n)',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':t': tags },
    }));
  }
}
