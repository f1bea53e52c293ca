import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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
