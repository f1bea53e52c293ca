import {
  type AttributeValue, BatchWriteItemCommand, ConditionalCheckFailedException, PutItemCommand, type BatchWriteItemCommandOutput, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException,
  ResourceNotFoundException, ScanCommand, type TableDescription, type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { memoizeDynaliteParsers } from './dynalite-parsers';
import { closeDynaliteIterators } from './dynalite-iterators';
import { FLEET_ITEM } from '../shared/store/host-store';
import { createDocumentClient } from '../shared/store/client';
import { ItemCache } from './item-cache';
import { type GlobalIndex, KEY_TYPES, TABLES, globalIndexDeclaration, globalIndexesOf, keyAttributesOf, localIndexesOf, tableNames } from '../shared/store/tables';

// Its expression parsers first, as packrat parsers: without, a nested condition costs tens of ms.
memoizeDynaliteParsers();
// And every Query's and Scan's iterator closed once read: without, each one held memory for good.
closeDynaliteIterators();
// dynalite has no type declarations; it returns an http.Server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: { path?: string; createTableMs?: number }) => Server = require('dynalite');

export interface Dynalite {
  endpoint: string;
  /**
   * Destroys every client `documentClientFor` made for it (their kept-alive sockets), then stops.
   * Says how many requests were still being answered or came in meanwhile: none once everything
   * that uses the store has stopped first, as it must (a later one fails with "Database is closed").
   */
  close(): Promise<{ lateRequests: number }>;
}

/** The clients made for each running dynalite, by endpoint: its close destroys them. */
const clientsOf = new Map<string, Set<DynamoDBDocumentClient>>();

/** The item cache of each running dynalite, by endpoint: every client of one shares it. */
const cachesOf = new Map<string, ItemCache>();

/** Tables whose whole items a client's reads may answer from memory, with their key attributes. */
export type CachedTables = readonly { table: string; key: readonly string[] }[];

/**
 * A document client for a dynalite this process started, destroyed by its close: a client the SDK
 * keeps a socket open for would otherwise hold dynalite's close until that socket times out.
 * Reads of `cached` tables' items go through the dynalite's item cache (item-cache.ts), which
 * every client made here keeps up to date: only this process writes its dynalite.
 */
export function documentClientFor(endpoint: string, cached: CachedTables = []): DynamoDBDocumentClient {
  const client = createDocumentClient({ endpoint });
  clientsOf.get(endpoint)?.add(client);
  const cache = cachesOf.get(endpoint);
  if (!cache) return client;
  for (const { table, key } of cached) cache.cacheTable(table, key);
  return cache.wrap(client);
}

/** A plain DynamoDB client for a local dynalite (any credentials do), for the caller to destroy. */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Starts dynalite on 127.0.0.1: in memory, or in LevelDB files under `path` so state survives. */
export async function startDynalite(options: { path?: string; port?: number } = {}): Promise<Dynalite> {
  const server = dynalite({ path: options.path, createTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients = new Set<DynamoDBDocumentClient>();
  clientsOf.set(endpoint, clients);
  cachesOf.set(endpoint, new ItemCache());
  let answering = 0;
  let closing = false;
  let lateRequests = 0;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing) lateRequests++;
    answering++;
    res.once('close', () => answering--);
  });
  return {
    endpoint,
    close: async () => {
      closing = true;
      lateRequests += answering;
      clientsOf.delete(endpoint);
      cachesOf.delete(endpoint);
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return { lateRequests };
    },
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

/**
 * Creates tables in dynalite and waits until each is ACTIVE; existing ones are left as they are.
 * A table an older Berth made without an index this version needs is rebuilt with it, its items
 * kept (dynalite cannot add an index to a table, and a query that needs one would fail far from
 * here).
 */
export async function ensureTables(endpoint: string, tables: readonly TableSpec[], log: (line: string) => void = () => {}): Promise<string[]> {
  const client = localDynamoClient(endpoint);
  const made: string[] = [];
  try {
    await Promise.all(tables.map(async (t) => {
      const backup = `${t.name}${UPGRADE_SUFFIX}`;
      // An upgrade cut short: its copy is whole once the table was deleted or already rebuilt.
      const interrupted = await describe(client, backup);
      const current = await describe(client, t.name);
      if (interrupted && (!current || missingIndexes(current, t).length === 0)) {
        await upgradeFrom(client, backup, t, log);
        return;
      }
      if (interrupted) await deleteTable(client, backup);
      if (!current) made.push(t.name);
      const d = current ?? await createTable(client, t);
      const missing = missingIndexes(d, t);
      if (missing.length === 0) return;
      log(`rebuilding table ${t.name}, made by an older Berth, with its new index(es) ${missing.join(', ')}`);
      await createTable(client, { name: backup, hashKey: t.hashKey, rangeKey: t.rangeKey, keyTypes: t.keyTypes });
      await copyItems(client, t.name, backup);
      await deleteTable(client, t.name);
      await upgradeFrom(client, backup, t, log);
    }));
    return made;
  } finally {
    client.destroy();
  }
}

/** The copy a table's rebuild keeps its items in until they are back. */
const UPGRADE_SUFFIX = '.upgrading';

/** The table made anew from its spec, the copy's items put back, then the copy deleted. */
async function upgradeFrom(client: DynamoDBClient, backup: string, t: TableSpec, log: (line: string) => void): Promise<void> {
  if (!(await describe(client, t.name))) await createTable(client, t);
  const copied = await copyItems(client, backup, t.name);
  await deleteTable(client, backup);
  log(`table ${t.name} rebuilt, ${copied} item(s) kept`);
}

async function createTable(client: DynamoDBClient, t: TableSpec): Promise<TableDescription> {
  const keys = t.rangeKey === undefined ? [t.hashKey] : [t.hashKey, t.rangeKey];
  const indexes = Object.entries(t.localIndexes ?? {});
  const globals = Object.entries(t.globalIndexes ?? {});
  try {
    await client.send(new CreateTableCommand({
      TableName: t.name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      AttributeDefinitions: keyAttributesOf(t).map((k) => ({ AttributeName: k, AttributeType: t.keyTypes?.[k] ?? 'S' })),
      LocalSecondaryIndexes: indexes.length === 0 ? undefined : indexes.map(([IndexName, rangeKey]) => ({
        IndexName,
        KeySchema: [{ AttributeName: t.hashKey, KeyType: 'HASH' }, { AttributeName: rangeKey, KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'ALL' },
      })),
      GlobalSecondaryIndexes: globals.length === 0 ? undefined : globals.map(([name, g]) => globalIndexDeclaration(name, g)),
    }));
  } catch (e) {
    // Made meanwhile by a start running beside this one.
    if (!(e instanceof ResourceInUseException)) throw e;
  }
  for (;;) {
    const d = await describe(client, t.name);
    if (d?.TableStatus === 'ACTIVE') return d;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function missingIndexes(d: TableDescription, t: TableSpec): string[] {
  const present = new Set([...(d.LocalSecondaryIndexes ?? []), ...(d.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName));
  return [...Object.keys(t.localIndexes ?? {}), ...Object.keys(t.globalIndexes ?? {})].filter((name) => !present.has(name));
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
  } catch (e) {
    if (e instanceof ResourceNotFoundException) return undefined;
    throw e;
  }
}

async function deleteTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  while (await describe(client, name)) await new Promise((r) => setTimeout(r, 20));
}

/** Every item of one table put into another (puts of whole items: a repeat changes nothing). */
async function copyItems(client: DynamoDBClient, from: string, to: string): Promise<number> {
  let copied = 0;
  let ExclusiveStartKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: from, ConsistentRead: true, ExclusiveStartKey }));
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests: WriteRequest[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      while (requests?.length) {
        const r: BatchWriteItemCommandOutput = await client.send(new BatchWriteItemCommand({ RequestItems: { [to]: requests } }));
        requests = r.UnprocessedItems?.[to];
      }
    }
    copied += items.length;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return copied;
}

/** Creates Berth's tables as serverless.yml declares them. */
export async function createTables(endpoint: string, prefix?: string, log?: (line: string) => void): Promise<void> {
  const names = tableNames(prefix);
  const made = await ensureTables(endpoint, Object.entries(TABLES).map(([key, t]) => ({
    name: names[key as keyof typeof TABLES], hashKey: t.hashKey, rangeKey: t.rangeKey, keyTypes: KEY_TYPES, localIndexes: localIndexesOf(t),
    globalIndexes: globalIndexesOf(t),
  })), log);
  // A new hosts table holds no host an older Berth recorded: its fleet item needs no seed scan.
  if (made.includes(names.hosts)) {
    const client = localDynamoClient(endpoint);
    try {
      await client.send(new PutItemCommand({
        TableName: names.hosts, Item: { hostId: { S: FLEET_ITEM }, seeded: { BOOL: true } }, ConditionExpression: 'attribute_not_exists(hostId)',
      })).catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
    } finally {
      client.destroy();
    }
  }
}
