import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Tag } from '../domain/fields';
import type { TaskDefinitionSpec } from '../domain/task-definition';
import { updateIf } from './client';
import { scanAll } from './scan';

export interface TaskDefinitionRecord extends TaskDefinitionSpec {
  revision: number;
  /** DELETE_IN_PROGRESS once DeleteTaskDefinitions took it: ECS's status until the revision is gone. */
  status: 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';
  registeredAt: number;
  deregisteredAt?: number;
  tags: Tag[];
}

/** Revision 0 of each family holds its revision counter. */
const HEAD = 0;

export class TaskDefinitionStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async register(spec: TaskDefinitionSpec, tags: Tag[], now: number): Promise<TaskDefinitionRecord> {
    // ADD is atomic, so concurrent registrations of one family get distinct revisions.
    const head = await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { family: spec.family, revision: HEAD },
      UpdateExpression: 'ADD latestRevision :one',
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }));
    const revision = head.Attributes!.latestRevision as number;
    const record: TaskDefinitionRecord = { ...spec, revision, status: 'ACTIVE', registeredAt: now, tags };
    await this.db.send(new PutCommand({ TableName: this.table, Item: record }));
    return record;
  }

  async get(family: string, revision: number): Promise<TaskDefinitionRecord | undefined> {
    if (revision === HEAD) return undefined;
    const r = await this.db.send(new GetCommand({
      TableName: this.table, Key: { family, revision }, ConsistentRead: true,
    }));
    return r.Item as TaskDefinitionRecord | undefined;
  }

  /** The newest ACTIVE revision of a family: what `family` alone refers to. */
  async latestActive(family: string): Promise<TaskDefinitionRecord | undefined> {
    const items = await this.revisions(family);
    return items.filter((d) => d.status === 'ACTIVE').at(-1);
  }

  /** Every revision of one family, oldest first. */
  async revisions(family: string): Promise<TaskDefinitionRecord[]> {
    return scanAll<TaskDefinitionRecord>(this.db, new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: '#f = :f AND revision > :head',
      ExpressionAttributeNames: { '#f': 'family' },
      ExpressionAttributeValues: { ':f': family, ':head': HEAD },
      ConsistentRead: true,
    }));
  }

  /** Every revision of every family, sorted by family then revision. */
  async all(): Promise<TaskDefinitionRecord[]> {
    const items = await scanAll<TaskDefinitionRecord>(this.db, new ScanCommand({
      TableName: this.table,
      FilterExpression: 'revision > :head',
      ExpressionAttributeValues: { ':head': HEAD },
      ConsistentRead: true,
    }));
    return items.sort((a, b) => (a.family < b.family ? -1 : a.family > b.family ? 1 : a.revision - b.revision));
  }

  async deregister(family: string, revision: number, now: number): Promise<TaskDefinitionRecord | undefined> {
    return updateIf<TaskDefinitionRecord>(this.db, {
      TableName: this.table,
      Key: { family, revision },
      // Deregistering twice keeps the first deregisteredAt; a deleted revision stays deleted.
      UpdateExpression: 'SET #s = :inactive, deregisteredAt = if_not_exists(deregisteredAt, :now)',
      ConditionExpression: 'attribute_exists(#f) AND revision > :head AND #s <> :deleting',
      ExpressionAttributeNames: { '#s': 'status', '#f': 'family' },
      ExpressionAttributeValues: { ':inactive': 'INACTIVE', ':now': now, ':head': HEAD, ':deleting': 'DELETE_IN_PROGRESS' },
    });
  }

  /**
   * DeleteTaskDefinitions: an INACTIVE revision becomes DELETE_IN_PROGRESS (again for one
   * already there). Undefined when the revision is missing or still ACTIVE; the caller reads
   * which, to report it as ECS does.
   */
  async markDeleted(family: string, revision: number): Promise<TaskDefinitionRecord | undefined> {
    return updateIf<TaskDefinitionRecord>(this.db, {
      TableName: this.table,
      Key: { family, revision },
      UpdateExpression: 'SET #s = :deleting',
      // Checked on the item itself, so a revision is never deleted while it is ACTIVE.
      ConditionExpression: 'revision > :head AND #s IN (:inactive, :deleting)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':inactive': 'INACTIVE', ':deleting': 'DELETE_IN_PROGRESS', ':head': HEAD },
    });
  }

  async setTags(family: string, revision: number, tags: Tag[]): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: { family, revision },
      UpdateExpression: 'SET tags = :t',
      ConditionExpression: 'attribute_exists(#f)',
      ExpressionAttributeNames: { '#f': 'family' },
      ExpressionAttributeValues: { ':t': tags },
    }));
  }
}
