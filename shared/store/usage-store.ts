import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TaskUsage } from '../billing/usage';
import { conditionHeld } from './client';
import { scanAll } from './scan';

/** The meter's records: one per stopped task, keyed as the task is (cluster, taskId). */
export class UsageStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /**
   * Writes the task's record unless it has one: the meter runs again after a crash, and from
   * every path that stops a task, and the first record stands. Returns whether this call wrote it.
   */
  async record(usage: TaskUsage): Promise<boolean> {
    // Two writers of one task's record (a re-run step, a write-off racing the stop workflow):
    // exactly one put succeeds.
    return conditionHeld(this.db.send(new PutCommand({ TableName: this.table, Item: usage, ConditionExpression: 'attribute_not_exists(taskId)' })));
  }

  async get(key: { cluster: string; taskId: string }): Promise<TaskUsage | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { cluster: key.cluster, taskId: key.taskId }, ConsistentRead: true }));
    return r.Item as TaskUsage | undefined;
  }

  /** The records of tasks that stopped at or after `since` (epoch ms): what a report of a period reads. */
  async stoppedSince(since: number): Promise<TaskUsage[]> {
    return scanAll<TaskUsage>(this.db, new ScanCommand({
      TableName: this.table, FilterExpression: 'stoppedAt >= :since', ExpressionAttributeValues: { ':since': since }, ConsistentRead: true,
    }));
  }
}
