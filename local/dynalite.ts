import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { KEY_TYPES, TABLES, tableNames } from '../shared/store/tables';

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

/** Creates Berth's tables as serverless.yml declares them; existing ones are left as they are. */
export async function createTables(endpoint: string, prefix?: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const names = tableNames(prefix);
  await Promise.all(Object.entries(TABLES).map(async ([key, t]) => {
    const keys: string[] = t.rangeKey === undefined ? [t.hashKey] : [t.hashKey, t.rangeKey];
    try {
      await client.send(new CreateTableCommand({
        TableName: names[key as keyof typeof TABLES],
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: KEY_TYPES[k] ?? 'S' })),
      }));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
    for (;;) {
      const d = await client.send(new DescribeTableCommand({ TableName: names[key as keyof typeof TABLES] }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }));
  client.destroy();
}
