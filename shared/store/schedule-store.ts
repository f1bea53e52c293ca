import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from './client';
import { forEachLimited } from '../domain/limited';
import { scanAll } from './scan';

/** A schedule's target as the API takes and shows it (PascalCase, Scheduler's members). */
export type ScheduleTarget = Record<string, unknown> & { Arn: string; RoleArn: string };

/** One due time that could not run: its last error, once the retries were spent. */
export interface ScheduleFailure {
  dueAt: number;
  at: number;
  attempts: number;
  reason: string;
}

export interface ScheduleRecord {
  groupName: string;
  name: string;
  description?: string;
  scheduleExpression: string;
  scheduleExpressionTimezone?: string;
  /** Epoch milliseconds. */
  startDate?: number;
  endDate?: number;
  state: 'ENABLED' | 'DISABLED';
  flexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  actionAfterCompletion: 'NONE' | 'DELETE';
  target: ScheduleTarget;
  kmsKeyArn?: string;
  createdAt: number;
  modifiedAt: number;
  /** Every write raises it; every write but the first is conditional on it. */
  version: number;
  /** The due time being worked on, from the expression; absent once there is none. */
  dueAt?: number;
  /** When to try `dueAt` next: in its flexible window, or a retry's time. */
  fireAt?: number;
  /** Failed attempts at `dueAt` so far. */
  attempts: number;
  lastRun?: { dueAt: number; firedAt: number; taskArns: string[] };
  /** The last error of an attempt at `dueAt`, while it is retried. */
  lastError?: string;
  /** Due times given up on, newest last (at most MAX_FAILURES). */
  failures?: ScheduleFailure[];
}

export interface ScheduleGroupRecord {
  name: string;
  createdAt: number;
  modifiedAt: number;
  tags: { Key: string; Value: string }[];
}

export const MAX_FAILURES = 10;

/** The `due` index's one key value. */
const DUE = 'due';

export type ScheduleKey = { groupName: string; name: string };

/**
 * EventBridge Scheduler's schedules, keyed by group and name, and their groups. Each schedule
 * carries its own firing state (`dueAt`, `fireAt`, `attempts`), so one conditional write on
 * its version settles any race: two firers, a firer and an UpdateSchedule, a crash and a restart.
 */
export class ScheduleStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string, private readonly groupsTable: string) {}

  /** False when the group already exists. */
  async createGroup(group: ScheduleGroupRecord): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({ TableName: this.groupsTable, Item: group, ConditionExpression: 'attribute_not_exists(#n)', ExpressionAttributeNames: { '#n': 'name' } })));
  }

  async getGroup(name: string): Promise<ScheduleGroupRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.groupsTable, Key: { name }, ConsistentRead: true }));
    return r.Item as ScheduleGroupRecord | undefined;
  }

  async listGroups(): Promise<ScheduleGroupRecord[]> {
    return scanAll<ScheduleGroupRecord>(this.db, new ScanCommand({ TableName: this.groupsTable, ConsistentRead: true }));
  }

  async deleteGroup(name: string): Promise<boolean> {
    return conditionHeld(this.db.send(new DeleteCommand({ TableName: this.groupsTable, Key: { name }, ConditionExpression: 'attribute_exists(#n)', ExpressionAttributeNames: { '#n': 'name' } })));
  }

  /** False when a schedule of that name is already in the group. */
  async create(schedule: ScheduleRecord): Promise<boolean> {
    return this.putIf(schedule, 'attribute_not_exists(#n)', {});
  }

  /** Writes `schedule` (whose version is one more) over the one read at `expectedVersion`; false if that one changed meanwhile. */
  async replace(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    return this.putIf(schedule, '#v = :expected', { ':expected': expectedVersion });
  }

  async get(key: ScheduleKey): Promise<ScheduleRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { groupName: key.groupName, name: key.name }, ConsistentRead: true }));
    return r.Item as ScheduleRecord | undefined;
  }

  /** One group's schedules, by name; every group's when none is given. */
  async list(groupName?: string): Promise<ScheduleRecord[]> {
    const items = groupName === undefined
      ? await scanAll<ScheduleRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }))
      : await scanAll<ScheduleRecord>(this.db, new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'groupName = :g', ExpressionAttributeValues: { ':g': groupName }, ConsistentRead: true,
      }));
    return items.sort((a, b) => a.groupName.localeCompare(b.groupName) || a.name.localeCompare(b.name));
  }

  /**
   * Enabled schedules whose next try is at or before `now`: a Query of the sparse `due` index
   * (only what is due is read), then each read again, consistently, since an index lags its
   * table: a schedule disabled or moved on meanwhile is left out.
   */
  async listDue(now: number): Promise<ScheduleRecord[]> {
    const keys = await scanAll<ScheduleKey>(this.db, new QueryCommand({
      TableName: this.table, IndexName: 'due',
      KeyConditionExpression: 'firing = :due AND fireAt <= :now',
      ExpressionAttributeValues: { ':due': DUE, ':now': now },
    }));
    const out: ScheduleRecord[] = [];
    await forEachLimited(keys, 16, async (k) => {
      const s = await this.get(k);
      if (s && s.state === 'ENABLED' && s.fireAt !== undefined && s.fireAt <= now) out.push(s);
    });
    return out;
  }

  /** The earliest next try after `now` of any enabled schedule (the `due` index, one item), or undefined. */
  async nextFireAt(now: number): Promise<number | undefined> {
    const r = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: 'due', Limit: 1,
      KeyConditionExpression: 'firing = :due AND fireAt > :now',
      ExpressionAttributeValues: { ':due': DUE, ':now': now },
    }));
    return r.Items?.[0]?.fireAt as number | undefined;
  }

  /** Deletes the schedule; with `expectedVersion`, only if it is still that one. False if it was not. */
  async delete(key: ScheduleKey, expectedVersion?: number): Promise<boolean> {
    return conditionHeld(this.db.send(new DeleteCommand({
      TableName: this.table, Key: { groupName: key.groupName, name: key.name },
      ConditionExpression: expectedVersion === undefined ? 'attribute_exists(#n)' : '#v = :expected',
      ExpressionAttributeNames: expectedVersion === undefined ? { '#n': 'name' } : { '#v': 'version' },
      ExpressionAttributeValues: expectedVersion === undefined ? undefined : { ':expected': expectedVersion },
    })));
  }

  private async putIf(schedule: ScheduleRecord, condition: string, values: Record<string, unknown>): Promise<boolean> {
    // The `due` index's key, on the schedules that can fire and on no other (a read brings it back: it is set afresh).
    const item = { ...schedule, firing: schedule.state === 'ENABLED' && schedule.fireAt !== undefined ? DUE : undefined };
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table, Item: item, ConditionExpression: condition,
      ExpressionAttributeNames: condition.includes('#n') ? { '#n': 'name' } : { '#v': 'version' },
      ExpressionAttributeValues: Object.keys(values).length > 0 ? values : undefined,
    })));
  }
}
