import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PendingDemand } from '../capacity/types';
import { isConditionFailure } from './client';
import { scanAll } from './scan';

/**
 * Tasks that found no room. Placement writes here and the capacity manager reads: the two
 * steps talk through recorded demand, never by calling each other.
 */
export class DemandStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** Records the demand once; `since` stays the first time the task found no room. */
  async record(demand: PendingDemand): Promise<void> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: demand, ConditionExpression: 'attribute_not_exists(taskId)',
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  async list(): Promise<PendingDemand[]> {
    return scanAll<PendingDemand>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  async remove(taskId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { taskId } }));
  }
}
