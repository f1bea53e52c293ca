import { DeleteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../shared/store/client';
import { scanAll } from '../shared/store/scan';
import { TABLES, type TableKey, type TableNames } from '../shared/store/tables';

/**
 * How often the local mode looks for expired items. Each look scans the tables it sweeps, so not
 * often: nothing needs an item gone the moment it expires (DynamoDB's own TTL takes up to days).
 */
export const TTL_SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * DynamoDB's TTL, which dynalite does not have: deletes every item of a table that declares a TTL
 * attribute (tables.ts) once that attribute, in epoch seconds, is in the past, as DynamoDB would.
 * Items without the attribute stay. `now` is the control plane's clock. Returns how many went.
 */
export async function sweepExpired(db: DynamoDBDocumentClient, tables: TableNames, now: number): Promise<number> {
  const nowSeconds = Math.floor(now / 1000);
  let deleted = 0;
  for (const [name, schema] of Object.entries(TABLES) as [TableKey, (typeof TABLES)[TableKey]][]) {
    if (!('ttlAttribute' in schema)) continue;
    const keys = schema.rangeKey === undefined ? [schema.hashKey] : [schema.hashKey, schema.rangeKey];
    const names = { '#ttl': schema.ttlAttribute, ...Object.fromEntries(keys.map((k, i) => [`#k${i}`, k])) };
    const expired = await scanAll<Record<string, unknown>>(db, new ScanCommand({
      TableName: tables[name],
      FilterExpression: '#ttl < :now',
      ProjectionExpression: keys.map((_, i) => `#k${i}`).join(', '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':now': nowSeconds },
    }));
    for (const key of expired) {
      try {
        await db.send(new DeleteCommand({
          TableName: tables[name], Key: key,
          // Rewritten since the scan (a client token claimed again, say): it is not expired any more.
          ConditionExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': schema.ttlAttribute },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }));
        deleted++;
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
  }
  return deleted;
}

/** Sweeps every interval until stopped; a failed sweep is logged and the next one tries again. */
export function startTtlSweep(
  db: DynamoDBDocumentClient, tables: TableNames, now: () => number, log: (line: string) => void, intervalMs = TTL_SWEEP_INTERVAL_MS,
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweepExpired(db, tables, now()).catch((e) => log(`TTL sweep failed: ${e}`));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
