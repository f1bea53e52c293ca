import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ManagedInstancesProvider } from '../domain/capacity-provider';
import type { Tag } from '../domain/fields';
import { conditionHeld, setTagsByName, updateIf } from './client';
import { scanAll } from './scan';

/** A custom capacity provider: a pool of the fleet. FARGATE and FARGATE_SPOT are not stored. */
export interface CapacityProviderRecord {
  name: string;
  /** The cluster it was created for: a Managed Instances provider is available there only. */
  cluster: string;
  createdAt: number;
  tags: Tag[];
  managedInstancesProvider: ManagedInstancesProvider;
  /** Bumped by each update; an update of a stale copy is refused. */
  version: number;
}

export class CapacityProviderStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** False when the name is taken. */
  async create(record: Omit<CapacityProviderRecord, 'version'>): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table,
      Item: { ...record, version: 1 },
      // Two creates of one name: one wins, the other is told the name is taken.
      ConditionExpression: 'attribute_not_exists(#n)',
      ExpressionAttributeNames: { '#n': 'name' },
    })));
  }

  async get(name: string): Promise<CapacityProviderRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { name }, ConsistentRead: true }));
    return r.Item as CapacityProviderRecord | undefined;
  }

  async list(): Promise<CapacityProviderRecord[]> {
    return scanAll<CapacityProviderRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  /** Replaces the pool's description; undefined when the provider is gone or changed meanwhile. */
  async update(current: CapacityProviderRecord, managedInstancesProvider: ManagedInstancesProvider): Promise<CapacityProviderRecord | undefined> {
    return updateIf<CapacityProviderRecord>(this.db, {
      TableName: this.table,
      Key: { name: current.name },
      UpdateExpression: 'SET managedInstancesProvider = :m, version = :next',
      ConditionExpression: 'version = :v',
      ExpressionAttributeValues: { ':m': managedInstancesProvider, ':v': current.version, ':next': current.version + 1 },
    });
  }

  setTags(name: string, tags: Tag[]): Promise<void> {
    return setTagsByName(this.db, this.table, name, tags);
  }

  async delete(name: string): Promise<CapacityProviderRecord | undefined> {
    const r = await this.db.send(new DeleteCommand({ TableName: this.table, Key: { name }, ReturnValues: 'ALL_OLD' }));
    return r.Attributes as CapacityProviderRecord | undefined;
  }
}
