import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionHeld, isConditionFailure } from '../../../shared/store/client';
import { scanAll } from '../../../shared/store/scan';
import type { TableSpec } from '../../dynalite';

export const SECRETS_TABLE: TableSpec = { name: 'berth-local-secrets', hashKey: 'name' };

export interface SecretVersion {
  /** The value, sealed (AES-256-GCM) for this secret's ARN and this version id. */
  sealed: string;
  kind: 'string' | 'binary';
  stages: string[];
  createdAt: number;
}

/** One secret and all its labelled versions, in one item: a put is one conditional write. */
export interface SecretRecord {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdAt: number;
  lastChangedAt: number;
  lastAccessedAt?: number;
  /** Set by DeleteSecret with a recovery window: when it was deleted, and when it is purged. */
  deletedAt?: number;
  purgeAt?: number;
  versions: Record<string, SecretVersion>;
  /** Bumped on every write: optimistic concurrency. */
  rev: number;
}

export class SecretWriteConflict extends Error {
  constructor(readonly secretName: string) {
    super(`The secret ${secretName} changed during the write`);
    this.name = 'SecretWriteConflict';
  }
}

export class SecretStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table = SECRETS_TABLE.name) {}

  async get(name: string): Promise<SecretRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { name }, ConsistentRead: true }));
    return r.Item as SecretRecord | undefined;
  }

  async list(): Promise<SecretRecord[]> {
    return scanAll<SecretRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  /** Creates the secret unless the name is taken; returns whether it was created. */
  async create(record: SecretRecord): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table, Item: record,
      // Two CreateSecret calls racing for one name: exactly one wins, the other sees it exists.
      ConditionExpression: 'attribute_not_exists(#n)', ExpressionAttributeNames: { '#n': 'name' },
    })));
  }

  /** Replaces the secret if nobody wrote it since `expectedRev` was read; else SecretWriteConflict. */
  async replace(record: SecretRecord, expectedRev: number): Promise<void> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: { ...record, rev: expectedRev + 1 },
        // Two PutSecretValue calls must not both move AWSCURRENT from the same old version.
        ConditionExpression: '#r = :rev', ExpressionAttributeNames: { '#r': 'rev' }, ExpressionAttributeValues: { ':rev': expectedRev },
      }));
    } catch (e) {
      if (isConditionFailure(e)) throw new SecretWriteConflict(record.name);
      throw e;
    }
  }

  async remove(name: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { name } }));
  }
}
