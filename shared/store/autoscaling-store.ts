import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  PolicyState, ScalableTargetRecord, ScalingActivityRecord, ScalingPolicyRecord, ScheduledActionRecord, TargetKey,
} from '../autoscaling/types';
import { conditionHeld, updateIf } from './client';
import { scanAll } from './scan';

/**
 * Application Auto Scaling's items, one table: keyed by the target's resource id, with one item
 * for the target (`target`), one per policy (`policy#NAME`), one per scheduled action
 * (`scheduled#NAME`) and one per activity (`activity#START#ID`, so a Query lists them in order).
 */
const TARGET = 'target';
const POLICY = 'policy#';
const SCHEDULED = 'scheduled#';
const ACTIVITY = 'activity#';

type Item<T> = T & { resourceId: string; item: string };

const strip = <T>(i: Record<string, unknown> | undefined): T | undefined => {
  if (!i) return undefined;
  const { item: _, ...rest } = i;
  return rest as T;
};

export class AutoscalingStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async getTarget(key: TargetKey): Promise<ScalableTargetRecord | undefined> {
    return this.get<ScalableTargetRecord>(key.resourceId, TARGET);
  }

  async putTarget(t: ScalableTargetRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...t, item: TARGET } }));
  }

  /**
   * Changes a target's capacity range, if it is still registered: a scheduled action firing
   * while the target is deregistered must not bring it back.
   */
  async setCapacityRange(key: TargetKey, range: { minCapacity: number; maxCapacity: number }): Promise<ScalableTargetRecord | undefined> {
    return strip(await updateIf<Record<string, unknown>>(this.db, {
      TableName: this.table,
      Key: { resourceId: key.resourceId, item: TARGET },
      UpdateExpression: 'SET minCapacity = :min, maxCapacity = :max',
      ConditionExpression: 'attribute_exists(resourceId)',
      ExpressionAttributeValues: { ':min': range.minCapacity, ':max': range.maxCapacity },
    }));
  }

  async listTargets(): Promise<ScalableTargetRecord[]> {
    return this.scanKind<ScalableTargetRecord>(TARGET, '=');
  }

  /** The target and everything under it but its activities, which stay describable. */
  async deleteTarget(key: TargetKey): Promise<void> {
    const items = await this.query(key.resourceId);
    for (const i of items.filter((x) => !String(x.item).startsWith(ACTIVITY))) {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: { resourceId: key.resourceId, item: i.item } }));
    }
  }

  async putPolicy(p: ScalingPolicyRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...p, item: POLICY + p.policyName } }));
  }

  async getPolicy(key: TargetKey, name: string): Promise<ScalingPolicyRecord | undefined> {
    return this.get<ScalingPolicyRecord>(key.resourceId, POLICY + name);
  }

  async listPolicies(key?: TargetKey): Promise<ScalingPolicyRecord[]> {
    return key ? this.queryKind<ScalingPolicyRecord>(key, POLICY) : this.scanKind<ScalingPolicyRecord>(POLICY, 'begins_with');
  }

  /**
   * Writes only the controller's memory of a policy, never its configuration, and only while the
   * policy exists: a PutScalingPolicy or DeleteScalingPolicy meanwhile keeps what it wrote.
   */
  async setPolicyState(key: TargetKey, name: string, state: PolicyState): Promise<boolean> {
    return (await updateIf(this.db, {
      TableName: this.table,
      Key: { resourceId: key.resourceId, item: POLICY + name },
      UpdateExpression: 'SET #state = :s',
      ConditionExpression: 'attribute_exists(resourceId)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':s': state },
    })) !== undefined;
  }

  async deletePolicy(key: TargetKey, name: string): Promise<boolean> {
    return this.deleteIfExists(key.resourceId, POLICY + name);
  }

  async putScheduledAction(a: ScheduledActionRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...a, item: SCHEDULED + a.scheduledActionName } }));
  }

  async listScheduledActions(key?: TargetKey): Promise<ScheduledActionRecord[]> {
    return key ? this.queryKind<ScheduledActionRecord>(key, SCHEDULED) : this.scanKind<ScheduledActionRecord>(SCHEDULED, 'begins_with');
  }

  /**
   * Marks a fire time as done, once: of two passes that saw the same action due, only the one
   * whose write lands carries it out.
   */
  async markFired(key: TargetKey, name: string, previous: number | undefined, firedAt: number): Promise<boolean> {
    return (await updateIf(this.db, {
      TableName: this.table,
      Key: { resourceId: key.resourceId, item: SCHEDULED + name },
      UpdateExpression: 'SET lastFiredAt = :f',
      ConditionExpression: previous === undefined
        ? 'attribute_exists(resourceId) AND attribute_not_exists(lastFiredAt)'
        : 'attribute_exists(resourceId) AND lastFiredAt = :p',
      ExpressionAttributeValues: { ':f': firedAt, ...(previous === undefined ? {} : { ':p': previous }) },
    })) !== undefined;
  }

  async deleteScheduledAction(key: TargetKey, name: string): Promise<boolean> {
    return this.deleteIfExists(key.resourceId, SCHEDULED + name);
  }

  async putActivity(a: ScalingActivityRecord): Promise<void> {
    const item = `${ACTIVITY}${String(a.startTime).padStart(15, '0')}#${a.activityId}`;
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...a, item } }));
  }

  /** A target's activities, or every target's, newest first. */
  async listActivities(key?: TargetKey): Promise<ScalingActivityRecord[]> {
    const all = key ? await this.queryKind<ScalingActivityRecord>(key, ACTIVITY) : await this.scanKind<ScalingActivityRecord>(ACTIVITY, 'begins_with');
    return all.sort((a, b) => b.startTime - a.startTime || (a.activityId < b.activityId ? 1 : -1));
  }

  private async get<T>(resourceId: string, item: string): Promise<T | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { resourceId, item }, ConsistentRead: true }));
    return strip<T>(r.Item);
  }

  private async deleteIfExists(resourceId: string, item: string): Promise<boolean> {
    return conditionHeld(this.db.send(new DeleteCommand({ TableName: this.table, Key: { resourceId, item }, ConditionExpression: 'attribute_exists(resourceId)' })));
  }

  private async query(resourceId: string, prefix?: string): Promise<Item<Record<string, unknown>>[]> {
    return scanAll(this.db, new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: prefix ? 'resourceId = :r AND begins_with(#i, :p)' : 'resourceId = :r',
      ExpressionAttributeNames: prefix ? { '#i': 'item' } : undefined,
      ExpressionAttributeValues: { ':r': resourceId, ...(prefix ? { ':p': prefix } : {}) },
      ConsistentRead: true,
    }));
  }

  private async queryKind<T extends TargetKey>(key: TargetKey, prefix: string): Promise<T[]> {
    return (await this.query(key.resourceId, prefix)).map((i) => strip<T>(i)!);
  }

  private async scanKind<T extends TargetKey>(value: string, how: '=' | 'begins_with'): Promise<T[]> {
    const items = await scanAll<Record<string, unknown>>(this.db, new ScanCommand({
      TableName: this.table,
      FilterExpression: how === '=' ? '#i = :v' : 'begins_with(#i, :v)',
      ExpressionAttributeNames: { '#i': 'item' },
      ExpressionAttributeValues: { ':v': value },
      ConsistentRead: true,
    }));
    return items.map((i) => strip<T>(i)!).sort((a, b) => (a.resourceId < b.resourceId ? -1 : 1));
  }
}
