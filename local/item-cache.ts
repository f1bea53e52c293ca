import {
  BatchGetCommand, type BatchGetCommandInput, type BatchGetCommandOutput, BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient,
  GetCommand, type GetCommandOutput, PutCommand, QueryCommand, ScanCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

/**
 * Whole items of some tables, kept in memory as this process last read or wrote them, so a read
 * of an item nobody has written since is answered without a request.
 *
 * Sound only where every write to those tables goes through this process: the local mode, whose
 * dynalite no other process writes. There a client polling DescribeTasks every few ms (what
 * `aws ecs wait` and the SDK's waiters do) costs the control plane a request to dynalite per
 * poll, each about 2 ms of CPU on the thread that also launches the tasks, through the SDK's
 * middleware and two HTTP stacks. On AWS, where many Lambdas write the same table, nothing is
 * cached (shared/store takes its client from the wiring).
 *
 * Every client of one dynalite shares one cache (documentClientFor), so a write through any of
 * them drops the item. A read fills the cache only if no write of that item started or ended
 * while it was on its way, nor is one still on its way: a read that raced a write could
 * otherwise keep the item as it was before the write.
 */
export class ItemCache {
  /** The cached tables' key attributes, by table name. */
  private readonly keysOf = new Map<string, readonly string[]>();
  /** Items by table and key, least recently used first. */
  private readonly items = new Map<string, Record<string, unknown>>();
  /** Writes on their way, by table and key. */
  private readonly writing = new Map<string, number>();
  /** When each item's last write started or ended, on `clock`. */
  private readonly touchedAt = new Map<string, number>();
  /** Moves at every write's start and end. */
  private clock = 0;
  /** Reads that began before this could not see every write: they fill nothing. */
  private forgotBefore = 0;
  /** Writes on their way whose items the cache cannot name: while any is, nothing is filled. */
  private unknownWrites = 0;

  /** A thousand tasks of a few KiB each: what clients poll is what was launched lately. */
  constructor(private readonly maxItems = 1_000) {}

  /** Caches the items of `table`, whose key is `keyAttributes` (hash key first). */
  cacheTable(table: string, keyAttributes: readonly string[]): void {
    this.keysOf.set(table, keyAttributes);
  }

  /** A client that answers cached reads from memory and drops the items it writes. */
  wrap(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
    const wrapped = Object.create(client) as DynamoDBDocumentClient;
    wrapped.send = ((command: unknown, options?: unknown) => {
      // The stores never pass a callback; one would bypass what keeps the cache true.
      if (typeof options === 'function') throw new TypeError('the item cache answers promises only');
      return this.send(command, (c) => client.send(c as never, options as never) as Promise<unknown>);
    }) as DynamoDBDocumentClient['send'];
    return wrapped;
  }

  /** Drops every item: what a write the cache cannot read the keys of costs. */
  clear(): void {
    this.items.clear();
    this.touchedAt.clear();
    this.forgotBefore = ++this.clock;
  }

  private async send(command: unknown, send: Send): Promise<unknown> {
    if (command instanceof GetCommand) return this.get(command, send);
    if (command instanceof BatchGetCommand) return this.batchGet(command, send);
    // Reads the cache does not answer; they change nothing.
    if (command instanceof QueryCommand || command instanceof ScanCommand || command instanceof TransactGetCommand || readsTablesOnly(command)) {
      return send(command);
    }
    const written = this.writtenKeys(command);
    // A write it cannot see the keys of, or a command it does not know: nothing cached may stay,
    // nor may a read that was on its way while it ran fill anything.
    if (!written) {
      this.unknownWrites++;
      this.clear();
      try {
        return await send(command);
      } finally {
        this.unknownWrites--;
        this.clear();
      }
    }
    return this.write(written, command, send);
  }

  private async get(command: GetCommand, send: Send): Promise<unknown> {
    const { TableName: table, Key: key } = command.input;
    const id = table !== undefined && this.wholeItems(table, command.input) ? this.idOf(table, key) : undefined;
    if (id === undefined) return send(command);
    const hit = this.hit(id);
    if (hit) return { $metadata: {}, Item: hit } satisfies GetCommandOutput;
    const began = this.clock;
    const out = await send(command) as GetCommandOutput;
    if (out.Item) this.fill(id, out.Item, began);
    return out;
  }

  private async batchGet(command: BatchGetCommand, send: Send): Promise<unknown> {
    const hits: Record<string, Record<string, unknown>[]> = {};
    const misses: NonNullable<BatchGetCommandInput['RequestItems']> = {};
    for (const [table, request] of Object.entries(command.input.RequestItems ?? {})) {
      const cached = this.wholeItems(table, request);
      const left = (request.Keys ?? []).filter((key) => {
        const hit = cached ? this.hit(this.idOf(table, key)) : undefined;
        if (hit) (hits[table] ??= []).push(hit);
        return !hit;
      });
      if (left.length > 0) misses[table] = { ...request, Keys: left };
    }
    if (Object.keys(misses).length === 0) return { $metadata: {}, Responses: hits, UnprocessedKeys: {} } satisfies BatchGetCommandOutput;
    const began = this.clock;
    const out = await send(Object.keys(hits).length === 0 ? command : new BatchGetCommand({ ...command.input, RequestItems: misses })) as BatchGetCommandOutput;
    for (const [table, items] of Object.entries(out.Responses ?? {})) {
      if (!this.wholeItems(table, misses[table])) continue;
      for (const item of items) {
        const id = this.idOf(table, item);
        if (id !== undefined) this.fill(id, item, began);
      }
    }
    if (Object.keys(hits).length === 0) return out;
    const responses = { ...out.Responses };
    for (const [table, items] of Object.entries(hits)) responses[table] = [...(responses[table] ?? []), ...items];
    return { ...out, Responses: responses };
  }

  private async write(ids: readonly string[], command: unknown, send: Send): Promise<unknown> {
    const marks = ids.map((id) => {
      this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
      return this.forget(id);
    });
    let out: unknown;
    // An update that answers with the whole item (ALL_NEW) gives the item as the next read would
    // find it, when no other write of it started or ended meanwhile.
    let written: { id: string; item: Record<string, unknown> } | undefined;
    try {
      out = await send(command);
      const item = (out as { Attributes?: Record<string, unknown> }).Attributes;
      if (command instanceof UpdateCommand && command.input.ReturnValues === 'ALL_NEW' && item && ids.length === 1
        && this.touchedAt.get(ids[0]) === marks[0] && this.writing.get(ids[0]) === 1) written = { id: ids[0], item };
    } finally {
      for (const id of ids) {
        const left = this.writing.get(id)! - 1;
        if (left > 0) this.writing.set(id, left);
        else this.writing.delete(id);
        this.forget(id);
      }
    }
    if (written) this.fill(written.id, written.item, this.clock);
    return out;
  }

  /** The keys of cached tables that a write names; undefined when it is not a write it knows. */
  private writtenKeys(command: unknown): string[] | undefined {
    const ids: string[] = [];
    const add = (table: string | undefined, key: Record<string, unknown> | undefined) => {
      if (table === undefined || !this.keysOf.has(table)) return true;
      const id = key && this.idOf(table, key);
      if (id === undefined) return false;
      ids.push(id);
      return true;
    };
    if (command instanceof PutCommand) return add(command.input.TableName, command.input.Item) ? ids : undefined;
    if (command instanceof UpdateCommand || command instanceof DeleteCommand) {
      return add(command.input.TableName, command.input.Key) ? ids : undefined;
    }
    if (command instanceof BatchWriteCommand) {
      for (const [table, requests] of Object.entries(command.input.RequestItems ?? {})) {
        for (const r of requests) if (!add(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key)) return undefined;
      }
      return ids;
    }
    if (command instanceof TransactWriteCommand) {
      for (const t of command.input.TransactItems ?? []) {
        const item = t.Put ? add(t.Put.TableName, t.Put.Item) : t.Update ? add(t.Update.TableName, t.Update.Key)
          : t.Delete ? add(t.Delete.TableName, t.Delete.Key) : true;
        if (!item) return undefined;
      }
      return ids;
    }
    return undefined;
  }

  /** Whether a read of `table` asks for whole items, which are what the cache keeps. */
  private wholeItems(table: string, request: { ProjectionExpression?: string; AttributesToGet?: string[] } | undefined): boolean {
    return this.keysOf.has(table) && !!request && !request.ProjectionExpression && !request.AttributesToGet;
  }

  private idOf(table: string, key: Record<string, unknown> | undefined): string | undefined {
    const attributes = this.keysOf.get(table);
    if (!attributes || !key) return undefined;
    const values = attributes.map((a) => key[a]);
    if (values.some((v) => typeof v !== 'string' && typeof v !== 'number')) return undefined;
    return JSON.stringify([table, ...values]);
  }

  private hit(id: string | undefined): Record<string, unknown> | undefined {
    const item = id === undefined ? undefined : this.items.get(id);
    if (!item) return undefined;
    // Most recently used last.
    this.items.delete(id!);
    this.items.set(id!, item);
    return structuredClone(item);
  }

  /** Keeps what a read that began at `began` found, unless a write of the item came near it. */
  private fill(id: string, item: Record<string, unknown>, began: number): void {
    if (began < this.forgotBefore || this.unknownWrites > 0 || this.writing.has(id) || (this.touchedAt.get(id) ?? -1) > began) return;
    this.items.delete(id);
    this.items.set(id, structuredClone(item));
    if (this.items.size > this.maxItems) this.items.delete(this.items.keys().next().value!);
  }

  /** Drops the item and marks it touched now; returns the mark. */
  private forget(id: string): number {
    this.items.delete(id);
    this.touchedAt.set(id, ++this.clock);
    // The marks only matter to reads on their way; a long-lived process must not keep them all.
    if (this.touchedAt.size > 4 * this.maxItems) {
      this.touchedAt.clear();
      this.forgotBefore = this.clock;
    }
    return this.clock;
  }
}

type Send = (command: unknown) => Promise<unknown>;

/** DescribeTable, ListTables and the like: about tables, changing no item. */
function readsTablesOnly(command: unknown): boolean {
  return /^(Describe|List)\w*Command$/.test((command as { constructor?: { name?: string } }).constructor?.name ?? '');
}
