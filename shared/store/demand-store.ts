import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PendingDemand } from '../capacity/types';
import { conditionHeld, isConditionFailure } from './client';
import { scanAll } from './scan';

/** The `waiting` index's one partition: a task waiting for room on a task token. */
const WAITING = 'room';

/** A task's launch waiting for room, and the token that wakes it. */
export interface RoomWaiter {
  taskId: string;
  capacityToken: string;
}

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

  /**
   * Keeps the token a task's launch waits on until room is added or released. False when the
   * task has no demand (placed, failed, or pinned to a host): then only the wait's timeout ends it.
   */
  async awaitRoom(taskId: string, capacityToken: string): Promise<boolean> {
    return conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { taskId }, UpdateExpression: 'SET capacityToken = :t, waiting = :w',
      ConditionExpression: 'attribute_exists(taskId)', ExpressionAttributeValues: { ':t': capacityToken, ':w': WAITING },
    })));
  }

  /** The longest-waiting tasks with a token, oldest first: a Query of the sparse `waiting` index. */
  async waiters(limit?: number): Promise<RoomWaiter[]> {
    const command = new QueryCommand({
      TableName: this.table, IndexName: 'waiting', KeyConditionExpression: 'waiting = :w',
      ExpressionAttributeValues: { ':w': WAITING }, Limit: limit,
    });
    if (limit !== undefined) return ((await this.db.send(command)).Items ?? []) as RoomWaiter[];
    return scanAll<RoomWaiter>(this.db, command);
  }

  /** The task's waiting token, read by key; undefined when it waits on none. */
  async waiterOf(taskId: string): Promise<RoomWaiter | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { taskId }, ProjectionExpression: 'taskId, capacityToken', ConsistentRead: true }));
    return r.Item?.capacityToken === undefined ? undefined : (r.Item as RoomWaiter);
  }

  /** Takes the token off the task, once: of two wakers only the one whose removal lands sends it. */
  async takeWaiter(w: RoomWaiter): Promise<boolean> {
    return conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { taskId: w.taskId }, UpdateExpression: 'REMOVE capacityToken, waiting',
      ConditionExpression: 'capacityToken = :t', ExpressionAttributeValues: { ':t': w.capacityToken },
    })));
  }

  async remove(taskId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { taskId } }));
  }
}
