import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';

/** A table only the local mode has: AWS keeps this data in its own services. */
export interface LocalTable {
  name: string;
  hashKey: string;
}

/** Creates the slices' tables in dynalite; existing ones are left as they are. */
export async function ensureLocalTables(endpoint: string, tables: readonly LocalTable[]): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await Promise.all(tables.map(async (t) => {
      try {
        await client.send(new CreateTableCommand({
          TableName: t.name,
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [{ AttributeName: t.hashKey, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: t.hashKey, AttributeType: 'S' }],
        }));
      } catch (e) {
        if (!(e instanceof ResourceInUseException)) throw e;
      }
      for (;;) {
        const d = await client.send(new DescribeTableCommand({ TableName: t.name }));
        if (d.Table?.TableStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }));
  } finally {
    client.destroy();
  }
}
