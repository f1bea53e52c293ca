import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from '../../../shared/store/client';
import { scanAll } from '../../../shared/store/scan';
import type { TableSpec } from '../../dynalite';

export const PARAMETERS_TABLE: TableSpec = { name: 'berth-local-ssm-parameters', hashKey: 'name' };

export const PARAMETER_TYPES = ['String', 'StringList', 'SecureString'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** One parameter at its latest version. Every value is sealed, SecureString or not. */
export interface ParameterRecord {
  name: string;
  type: ParameterType;
  /** Sealed (AES-256-GCM) for this name and version. */
  sealed: string;
  version: number;
  description?: string;
  keyId?: string;
  dataType: string;
  tier: 'Standard' | 'Advanced';
  lastModifiedAt: number;
}

export class ParameterStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table = PARAMETERS_TABLE.name) {}

  async get(name: string): Promise<ParameterRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { name }, ConsistentRead: true }));
    return r.Item as ParameterRecord | undefined;
  }

  async list(): Promise<ParameterRecord[]> {
    return scanAll<ParameterRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }));
  }

  /**
   * Writes version `record.version` if the stored one is the version before it (or none, for
   * version 1); returns whether it was written.
   */
  async put(record: ParameterRecord): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table, Item: record,
      // Two overwrites racing from one version: one wins, so versions never repeat.
      ConditionExpression: record.version === 1 ? 'attribute_not_exists(#n)' : '#v = :previous',
      ExpressionAttributeNames: record.version === 1 ? { '#n': 'name' } : { '#v': 'version' },
      ExpressionAttributeValues: record.version === 1 ? undefined : { ':previous': record.version - 1 },
    })));
  }
}
