import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';

export interface DynamoOptions {
  /** dynalite's URL locally; absent on AWS. */
  endpoint?: string;
  region?: string;
}

export function createDocumentClient(options: DynamoOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 5,
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export const isConditionFailure = (e: unknown): boolean =>
  e instanceof Error && e.name === 'ConditionalCheckFailedException';

/**
 * One conditional UpdateItem: the item as written, or undefined when its condition did not hold
 * (the race or state it guards against); any other failure is thrown.
 */
export async function updateIf<T>(db: DynamoDBDocumentClient, input: Omit<UpdateCommandInput, 'ReturnValues'>): Promise<T | undefined> {
  try {
    const r = await db.send(new UpdateCommand({ ...input, ReturnValues: 'ALL_NEW' }));
    return r.Attributes as T;
  } catch (e) {
    if (isConditionFailure(e)) return undefined;
    throw e;
  }
}

/** Replaces the tags of an item keyed by `name` (a cluster, a capacity provider); it must exist. */
export async function setTagsByName(db: DynamoDBDocumentClient, table: string, name: string, tags: readonly object[]): Promise<void> {
  await db.send(new UpdateCommand({
    TableName: table,
    Key: { name },
    UpdateExpression: 'SET tags = :t',
    ConditionExpression: 'attribute_exists(#n)',
    ExpressionAttributeNames: { '#n': 'name' },
    ExpressionAttributeValues: { ':t': tags },
  }));
}

/**
 * Whether a conditional write held: false when its condition did not (the race or state it
 * guards against), and any other failure thrown.
 */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}
