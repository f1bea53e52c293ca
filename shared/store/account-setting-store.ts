import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccountSetting } from '../domain/account-settings';
import { scanAll } from './scan';

/** ECS account settings, one item per principal and name; the root user's are the account default. */
export class AccountSettingStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  async put(setting: AccountSetting): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: setting }));
  }

  /** One principal's own settings, by name. */
  async list(principalArn: string): Promise<AccountSetting[]> {
    return scanAll<AccountSetting>(this.db, new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'principalArn = :p',
      ExpressionAttributeValues: { ':p': principalArn },
      ConsistentRead: true,
    }));
  }

  /** Returns the setting it removed, if there was one. */
  async delete(principalArn: string, name: string): Promise<AccountSetting | undefined> {
    const r = await this.db.send(new DeleteCommand({ TableName: this.table, Key: { principalArn, name }, ReturnValues: 'ALL_OLD' }));
    return r.Attributes as AccountSetting | undefined;
  }
}
