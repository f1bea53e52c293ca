import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { type GlobalIndex, KEY_TYPES, TABLES, globalIndexDeclaration, globalIndexesOf, keyAttributesOf, localIndexesOf, tableNames } from '../shared/store/tables';

// dynalite has no type declarations; it returns an http.Server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: { path?: string; createTableMs?: number }) => Server = require('dynalite');

export interface Dynalite {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1: in memory, or in LevelDB files under `path` so state survives. */
export async function startDynalite(options: { path?: string; port?: number } = {}): Promise<Dynalite> {
  const server = dynalite({ path: options.path, createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A table to create: its name and its key, string-typed unless `keyTypes` says otherwise. */
export interface TableSpec {
  name: string;
  hashKey: string;
  rangeKey?: string;
  keyTypes?: Readonly<Record<string, 'S' | 'N'>>;
  /** Local secondary indexes: name → range key, all attributes projected. */
  localIndexes?: Readonly<Record<string, string>>;
  /** Global secondary indexes by name (dynalite has them, but cannot add one to a table). */
  globalIndexes?: Readonly<Record<string, GlobalIndex>>;
}

/** A table in the data directory lacks an index this version needs. */
export class OutdatedTableError extends Error {
  override readonly name = 'OutdatedTableError';
  constructor(readonly table: string, readonly missingIndexes: readonly string[]) {
    super(`table ${table} was made by an older Berth: it lacks the index(es) ${missingIndexes.join(', ')}, which can only be made ` +
      'with the table. Start with a new data directory (BERTH_DATA_DIR), or remove this one to start afresh');
  }
}

/**
 * Creates tables in dynalite and waits until each is ACTIVE; existing ones are left as they are,
 * unless one lacks an index this version needs (OutdatedTableError).
 */
export async function ensureTables(endpoint: string, tables: readonly TableSpec[]): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await Promise.all(tables.map(async (t) => {
      const keys = t.rangeKey === undefined ? [t.hashKey] : [t.hashKey, t.rangeKey];
      const indexes = Object.entries(t.localIndexes ?? {});
      const globals = Object.entries(t.globalIndexes ?? {});
      const attributes = keyAttributesOf(t);
      try {
        await client.send(new CreateTableCommand({
          TableName: t.name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
          AttributeDefinitions: attributes.map((k) => ({ AttributeName: k, AttributeType: t.keyTypes?.[k] ?? 'S' })),
          LocalSecondaryIndexes: indexes.length === 0 ? undefined : indexes.map(([IndexName, rangeKey]) => ({
            IndexName,
            KeySchema: [{ AttributeName: t.hashKey, KeyType: 'HASH' }, { AttributeName: rangeKey, KeyType: 'RANGE' }],
            Projection: { ProjectionType: 'ALL' },
          })),
          GlobalSecondaryIndexes: globals.length === 0 ? undefined : globals.map(([name, g]) => globalIndexDeclaration(name, g)),
        }));
      } catch (e) {
        if (!(e instanceof ResourceInUseException)) throw e;
      }
      for (;;) {
        const d = await client.send(new DescribeTableCommand({ TableName: t.name }));
        if (d.Table?.TableStatus !== 'ACTIVE') {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        // A local index can only be made with its table, and dynalite cannot add a global one
        // later: a table made by an older Berth without one would fail every query that needs
        // it, far from here.
        const present = new Set([...(d.Table.LocalSecondaryIndexes ?? []), ...(d.Table.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName));
        const missing = [...indexes, ...globals].map(([name]) => name).filter((name) => !present.has(name));
        if (missing.length > 0) throw new OutdatedTableError(t.name, missing);
        return;
      }
    }));
  } finally {
    client.destroy();
  }
}

/** Creates Berth's tables as serverless.yml declares them. */
export async function createTables(endpoint: string, prefix?: string): Promise<void> {
  const names = tableNames(prefix);
  await ensureTables(endpoint, Object.entries(TABLES).map(([key, t]) => ({
    name: names[key as keyof typeof TABLES], hashKey: t.hashKey, rangeKey: t.rangeKey, keyTypes: KEY_TYPES, localIndexes: localIndexesOf(t),
    globalIndexes: globalIndexesOf(t),
  })));
}
