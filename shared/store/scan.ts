import { BatchGetCommand, type BatchGetCommandOutput, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Follows LastEvaluatedKey to the end; for the small tables Berth scans (hosts, families). */
export async function scanAll<T>(db: DynamoDBDocumentClient, command: ScanCommand | QueryCommand): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    command.input.ExclusiveStartKey = startKey;
    const r = await db.send(command as ScanCommand);
    items.push(...((r.Items ?? []) as T[]));
    startKey = r.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/**
 * Items by key, read consistently in BatchGetItem calls of up to 100 keys (the call's limit),
 * keys DynamoDB hands back unprocessed asked again with backoff. Missing items are left out; the
 * keys must be distinct (BatchGetItem refuses a request that names one twice).
 */
export async function batchGetAll<T>(
  db: DynamoDBDocumentClient, table: string, keys: readonly Record<string, unknown>[],
  projection?: { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> },
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] | undefined = keys.slice(i, i + 100);
    // DynamoDB may hand back some keys unprocessed under load: ask again for those.
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));
      const r: BatchGetCommandOutput = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true, ...projection } } }));
      found.push(...((r.Responses?.[table] ?? []) as T[]));
      pending = r.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}
