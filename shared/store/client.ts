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
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Before the document client's marshalling, which comes at the serialize step.
  doc.middlewareStack.add((next) => async (args) => next({ ...args, input: ownConstructorsAsMaps(args.input) as object }), {
    step: 'initialize',
    name: 'ownConstructorsAsMaps',
  });
  return doc;
}

/**
 * The marshaller tells a map from a class instance by its `constructor` property. A member named
 * `constructor` in a user's map (logConfiguration.options, dockerLabels) made a write throw, and
 * one holding an object with a `name` could pass for a Set or a string. Every plain object with
 * such a member goes to the marshaller as a Map, which it writes as the same M attribute; the
 * rest is passed as it is (the same objects when nothing changed).
 */
export function ownConstructorsAsMaps(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(ownConstructorsAsMaps);
    return items.some((v, i) => v !== value[i]) ? items : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const entries = Object.entries(value);
  const converted = entries.map(([k, v]) => [k, ownConstructorsAsMaps(v)] as const);
  if (Object.hasOwn(value, 'constructor')) return new Map(converted);
  return converted.some(([, v], i) => v !== entries[i][1]) ? Object.fromEntries(converted) : value;
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
