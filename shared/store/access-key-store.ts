import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './client';

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** A user of the ECS API, or a host's agent (then `hostId` names it). */
  principal: 'user' | 'host';
  hostId?: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

/** Issued access keys. A SigV4 verifier needs the secret itself, so it is stored, never logged. */
export class AccessKeyStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** Stores the key unless its id is taken; returns whether it was stored. */
  async put(key: AccessKeyRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: key, ConditionExpression: 'attribute_not_exists(accessKeyId)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { accessKeyId }, ConsistentRead: true }));
    return r.Item as AccessKeyRecord | undefined;
  }
}
