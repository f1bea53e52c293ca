import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from './client';
import { ttlAt } from './tables';

/** ECS keeps a RunTask clientToken for 24 hours. */
export const CLIENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

export interface ClientTokenRecord {
  key: string;
  /** A digest of the request's parameters: the same token with others is a conflict. */
  requestHash: string;
  taskIds: string[];
  createdAt: number;
  expiresAt: number;
}

export class ClientTokenStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /**
   * Claims the token for this request. Whoever loses the race gets the winner's record back,
   * so every caller with one token works on one set of task ids.
   */
  async claim(record: ClientTokenRecord, now: number): Promise<ClientTokenRecord> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        // On AWS, DynamoDB's TTL deletes the token once its 24 hours are over.
        Item: { ...record, ttl: ttlAt(record.expiresAt) },
        // A token is free when unseen or when its 24 hours are over.
        ConditionExpression: 'attribute_not_exists(#k) OR expiresAt < :now',
        ExpressionAttributeNames: { '#k': 'key' },
        ExpressionAttributeValues: { ':now': now },
      }));
      return record;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { key: record.key }, ConsistentRead: true }));
      const { ttl: _ttl, ...claimed } = r.Item as ClientTokenRecord & { ttl?: number };
      return claimed;
    }
  }
}
