import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TaskUsage } from '../billing/usage';
import { conditionHeld } from './client';
import { dayOf, daysBetween } from './days';
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
    // stoppedDay keys the byStoppedDay index; a record without stoppedAt has no place in it.
    const item = usage.stoppedAt === undefined ? usage : { ...usage, stoppedDay: dayOf(usage.stoppedAt) };
    return conditionHeld(this.db.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(taskId)' })));
  }

  async get(key: { cluster: string; taskId: string }): Promise<TaskUsage | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { cluster: key.cluster, taskId: key.taskId }, ConsistentRead: true }));
    return r.Item === undefined ? undefined : withoutDay(r.Item);
  }

  /**
   * The records of tasks that stopped from `since` to `until` (epoch ms): what a report of a
   * period reads. One Query of the byStoppedDay index per day spanned, not a scan of every record.
   */
  async stoppedSince(since: number, until: number): Promise<TaskUsage[]> {
    const days = await Promise.all(daysBetween(since, until).map((day) => scanAll<Record<string, unknown>>(this.db, new QueryCommand({
      TableName: this.table,
      IndexName: 'byStoppedDay',
      KeyConditionExpression: 'stoppedDay = :d AND stoppedAt >= :since',
      ExpressionAttributeValues: { ':d': day, ':since': since },
    }))));
    return days.flat().map(withoutDay);
  }
}

/** The index's key is the store's, not part of the record. */
function withoutDay(item: Record<string, unknown>): TaskUsage {
  const { stoppedDay: _day, ...usage } = item;
  return usage as unknown as TaskUsage;
}
