import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type KeySealer, SEALING_CHECK_SAMPLE, type SealingContext, opensAnySealed } from '../auth/key-sealer';
import { conditionHeld, isConditionFailure } from './client';

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * A user of the ECS API; an operator, who may also make the calls AWS itself makes (the
   * operator API) and is a user too; a host's agent (then `hostId` names it); or a task, whose
   * containers got it as their task role's credentials (then `hostId`, `cluster` and `taskId`
   * name it, and it expires).
   */
  principal: 'user' | 'operator' | 'host' | 'task';
  hostId?: string;
  cluster?: string;
  taskId?: string;
  /** Epoch ms after which it signs nothing (only a task's key has one). */
  expiresAt?: number;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

/** The item as stored: the secret only sealed. */
type StoredAccessKey = Omit<AccessKeyRecord, 'secretAccessKey'> & {
  sealedSecret?: string;
  /** Only in items written before secrets were sealed; sealed in place when next read. */
  secretAccessKey?: string;
};

/** A sealed secret opens only on the item of its own key id. */
const contextOf = (accessKeyId: string): SealingContext => ({ purpose: 'berth-access-key', accessKeyId });

/**
 * Issued access keys. A SigV4 verifier needs the secret itself, so it is kept, but only sealed
 * (KMS on AWS, AES-256-GCM locally): the table, its backups and exports hold no usable secret.
 */
export class AccessKeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly sealer: KeySealer,
  ) {}

  /** Stores the key unless its id is taken; returns whether it was stored. */
  async put(key: AccessKeyRecord): Promise<boolean> {
    const { secretAccessKey, ...rest } = key;
    const item: StoredAccessKey = { ...rest, sealedSecret: await this.sealer.seal(secretAccessKey, contextOf(key.accessKeyId)) };
    return conditionHeld(this.db.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(accessKeyId)' })));
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { accessKeyId }, ConsistentRead: true }));
    const item = r.Item as StoredAccessKey | undefined;
    if (!item) return undefined;
    const { sealedSecret, secretAccessKey: plain, ...rest } = item;
    if (sealedSecret !== undefined) {
      return { ...rest, secretAccessKey: await this.sealer.open(sealedSecret, contextOf(accessKeyId)) };
    }
    if (plain === undefined) return undefined;
    await this.sealInPlace(accessKeyId, plain);
    return { ...rest, secretAccessKey: plain };
  }

  /** Whether this store's sealer opens the secrets already sealed in the table (true when there are none). */
  async sealerOpensStored(): Promise<boolean> {
    const r = await this.db.send(new ScanCommand({
      TableName: this.table,
      FilterExpression: 'attribute_exists(sealedSecret)',
      ProjectionExpression: 'accessKeyId, sealedSecret',
      ConsistentRead: true,
    }));
    const items = (r.Items ?? []).slice(0, SEALING_CHECK_SAMPLE) as Pick<StoredAccessKey, 'accessKeyId' | 'sealedSecret'>[];
    return opensAnySealed(items.map((i) => () => this.sealer.open(i.sealedSecret!, contextOf(i.accessKeyId))));
  }

  /** Makes the key one of another kind (the local mode's own key becomes its operator's). */
  async setPrincipal(accessKeyId: string, principal: AccessKeyRecord['principal']): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table, Key: { accessKeyId }, UpdateExpression: 'SET principal = :p',
      ConditionExpression: 'attribute_exists(accessKeyId)', ExpressionAttributeValues: { ':p': principal },
    }));
  }

  /**
   * The keys of people (users and operators), without their secrets, oldest first. A Scan: the
   * table also holds every host's and task's keys, and this is an operator's command, never a
   * per-task path.
   */
  async listPeople(): Promise<Omit<AccessKeyRecord, 'secretAccessKey'>[]> {
    const people: Omit<AccessKeyRecord, 'secretAccessKey'>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.db.send(new ScanCommand({
        TableName: this.table,
        FilterExpression: 'principal IN (:user, :operator)',
        ProjectionExpression: 'accessKeyId, principal, #s, createdAt',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':user': 'user', ':operator': 'operator' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }));
      people.push(...(r.Items ?? []) as Omit<AccessKeyRecord, 'secretAccessKey'>[]);
      start = r.LastEvaluatedKey;
    } while (start);
    return people.sort((a, b) => a.createdAt - b.createdAt || a.accessKeyId.localeCompare(b.accessKeyId));
  }

  /** Revokes a key for good: it signs nothing any more. Revoking one that is gone is a no-op. */
  async revoke(accessKeyId: string): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: { accessKeyId }, UpdateExpression: 'SET #s = :inactive',
        ConditionExpression: 'attribute_exists(accessKeyId)',
        ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':inactive': 'Inactive' },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /** A key stored in the clear by an older Berth (a local data directory) is sealed on first use. */
  private async sealInPlace(accessKeyId: string, plain: string): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: { accessKeyId },
        UpdateExpression: 'SET sealedSecret = :sealed REMOVE secretAccessKey',
        // Only the secret we read: a key replaced meanwhile is not overwritten.
        ConditionExpression: 'secretAccessKey = :plain',
        ExpressionAttributeValues: { ':sealed': await this.sealer.seal(plain, contextOf(accessKeyId)), ':plain': plain },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }
}
