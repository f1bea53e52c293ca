import {
  BatchGetCommand, type BatchGetCommandOutput, BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { ItemCache } from '../../local/item-cache';
import { deferred } from '../support/deferred';

/** A write the cache does not know (as a PartiQL statement would be): it names no key the cache can read. */
class StatementCommand {
  constructor(readonly input: { id: string }) {}
}

/** What a conditional write whose condition does not hold throws. */
class ConditionalCheckFailed extends Error {
  override name = 'ConditionalCheckFailedException';
}

/**
 * A stand-in for dynalite that answers the commands the cache looks at, on one table keyed by
 * `id`. Each call reaches the table and answers in two steps, each released by `step` (a
 * fast-check scheduler in the property, immediate otherwise), so a test can order a read's
 * arrival and its answer around a write's.
 */
class FakeTable {
  readonly rows = new Map<string, Record<string, unknown>>();
  requests = 0;
  /** The last version a write gave an item, when the table numbers them. */
  private version = 0;
  /**
   * `versioned`: every put and update gives its item the next version (`v`) as it reaches the
   * table. `unprocessed`: whether a batch read leaves the next key for the caller to ask again.
   */
  constructor(
    private readonly step: <T>(p: Promise<T>) => Promise<T> = (p) => p,
    private readonly versioned = false,
    private readonly unprocessed: () => boolean = () => false,
  ) {}

  private stamp(item: Record<string, unknown>): Record<string, unknown> {
    return this.versioned ? { ...item, v: ++this.version } : item;
  }

  readonly client = {
    send: async (command: unknown): Promise<unknown> => {
      this.requests++;
      await this.step(Promise.resolve());
      let answer: unknown;
      let failure: unknown;
      try {
        answer = this.apply(command);
      } catch (e) {
        failure = e;
      }
      await this.step(Promise.resolve());
      if (failure) throw failure;
      return answer;
    },
  } as unknown as DynamoDBDocumentClient;

  private apply(command: unknown): unknown {
    const row = (id: unknown) => {
      const r = this.rows.get(String(id));
      return r && structuredClone(r);
    };
    if (command instanceof GetCommand) return { Item: row(command.input.Key!.id) };
    if (command instanceof BatchGetCommand) {
      const responses: Record<string, unknown[]> = {};
      const unprocessed: Record<string, { Keys: Record<string, unknown>[] }> = {};
      for (const [t, r] of Object.entries(command.input.RequestItems!)) {
        responses[t] = [];
        for (const k of r.Keys!) {
          if (this.unprocessed()) (unprocessed[t] ??= { Keys: [] }).Keys.push(k);
          else responses[t].push(...(row(k.id) ? [row(k.id)] : []));
        }
      }
      return { Responses: responses, UnprocessedKeys: unprocessed };
    }
    if (command instanceof PutCommand) {
      this.rows.set(String(command.input.Item!.id), this.stamp(structuredClone(command.input.Item!)));
      return {};
    }
    if (command instanceof UpdateCommand) {
      if (command.input.ConditionExpression === 'never') throw new ConditionalCheckFailed();
      const id = String(command.input.Key!.id);
      const next = this.stamp({ ...(this.rows.get(id) ?? { id }), ...(command.input.ExpressionAttributeValues![':set'] as object) });
      this.rows.set(id, next);
      return command.input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {};
    }
    if (command instanceof StatementCommand) {
      this.rows.set(command.input.id, this.stamp({ ...(this.rows.get(command.input.id) ?? { id: command.input.id }) }));
      return {};
    }
    if (command instanceof DeleteCommand) {
      this.rows.delete(String(command.input.Key!.id));
      return {};
    }
    if (command instanceof BatchWriteCommand) {
      for (const r of command.input.RequestItems!.t) {
        if (r.PutRequest) this.rows.set(String(r.PutRequest.Item!.id), this.stamp(structuredClone(r.PutRequest.Item!)));
        if (r.DeleteRequest) this.rows.delete(String(r.DeleteRequest.Key!.id));
      }
      return {};
    }
    if (command instanceof TransactWriteCommand) {
      for (const t of command.input.TransactItems!) {
        if (t.Put) this.rows.set(String(t.Put.Item!.id), this.stamp(structuredClone(t.Put.Item!)));
        if (t.Update) this.rows.set(String(t.Update.Key!.id), this.stamp({ ...(this.rows.get(String(t.Update.Key!.id)) ?? { id: t.Update.Key!.id }) }));
        if (t.Delete) this.rows.delete(String(t.Delete.Key!.id));
      }
      return {};
    }
    return { Items: [...this.rows.values()] };
  }
}

/**
 * Holds back the answer of the first call `which` picks: `reached` resolves once that call has
 * reached the table, and its answer waits until `release` is called.
 */
function holdAnswer(table: FakeTable, which: (command: unknown) => boolean): { reached: Promise<void>; release: () => void } {
  const gate = deferred();
  const arrived = deferred();
  const send = table.client.send.bind(table.client);
  let held = false;
  table.client.send = (async (c: unknown) => {
    const out = await send(c as never);
    if (!held && which(c)) {
      held = true;
      arrived.resolve();
      await gate.promise;
    }
    return out;
  }) as never;
  return { reached: arrived.promise, release: () => gate.resolve() };
}

const cached = (table: FakeTable) => {
  const cache = new ItemCache();
  cache.cacheTable('t', ['id']);
  return { cache, db: cache.wrap(table.client) };
};
const get = async (db: DynamoDBDocumentClient, id: string) => (await db.send(new GetCommand({ TableName: 't', Key: { id } }))).Item;
const update = (id: string, set: object, allNew = false) =>
  new UpdateCommand({ TableName: 't', Key: { id }, UpdateExpression: 'SET x', ExpressionAttributeValues: { ':set': set }, ...(allNew ? { ReturnValues: 'ALL_NEW' } : {}) });

describe('ItemCache', () => {
  it('answers a second read of an unwritten item from memory, as a copy', async () => {
    // Prepare
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1, tags: new Set(['x']) });
    const { db } = cached(table);

    // Act
    const first = await get(db, 'a');
    first!.v = 99;
    const second = await get(db, 'a');

    // Assess: one request; the caller's change of its copy is not the cache's.
    expect(second).toEqual({ id: 'a', v: 1, tags: new Set(['x']) });
    expect(table.requests).toBe(1);
  });

  it.each([
    ['an update', (id: string) => update(id, { v: 2 })],
    ['a put', (id: string) => new PutCommand({ TableName: 't', Item: { id, v: 2 } })],
    ['a batch write', (id: string) => new BatchWriteCommand({ RequestItems: { t: [{ PutRequest: { Item: { id, v: 2 } } }] } })],
  ])('reads the item again after %s through another client of the cache', async (_what, write) => {
    // Prepare: the item cached by one client.
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const { cache, db } = cached(table);
    await get(db, 'a');

    // Act
    await cache.wrap(table.client).send(write('a') as never);

    // Assess
    expect(await get(db, 'a')).toEqual({ id: 'a', v: 2 });
  });

  it('keeps at most its size, dropping the item read longest ago', async () => {
    // Prepare: room for two.
    const table = new FakeTable();
    for (const id of ['a', 'b', 'c']) table.rows.set(id, { id });
    const cache = new ItemCache(2);
    cache.cacheTable('t', ['id']);
    const db = cache.wrap(table.client);

    // Act: a, b, a again (b is now the oldest), then c.
    for (const id of ['a', 'b', 'a', 'c']) await get(db, id);
    const before = table.requests;
    await get(db, 'a');
    await get(db, 'c');
    const kept = table.requests - before;
    await get(db, 'b');

    // Assess: a and c were kept, b was dropped.
    expect(kept).toBe(0);
    expect(table.requests - before).toBe(1);
  });

  it('finds a deleted item gone', async () => {
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const { db } = cached(table);
    await get(db, 'a');

    await db.send(new DeleteCommand({ TableName: 't', Key: { id: 'a' } }));

    expect(await get(db, 'a')).toBeUndefined();
  });

  it('keeps the item an ALL_NEW update answered with, and only then', async () => {
    // Prepare
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    table.rows.set('b', { id: 'b', v: 1 });
    const { db } = cached(table);

    // Act
    await db.send(update('a', { v: 2 }, true));
    await db.send(update('b', { v: 2 }));
    const before = table.requests;
    const [a, b] = [await get(db, 'a'), await get(db, 'b')];

    // Assess: a is answered from memory, b is read.
    expect([a, b]).toEqual([{ id: 'a', v: 2 }, { id: 'b', v: 2 }]);
    expect(table.requests - before).toBe(1);
  });

  it('asks a batch read only for the items it does not hold, and answers every one', async () => {
    // Prepare
    const table = new FakeTable();
    for (const id of ['a', 'b', 'c']) table.rows.set(id, { id, v: 1 });
    const { db } = cached(table);
    await get(db, 'a');
    const sent = jest.spyOn(table.client, 'send');

    // Act
    const out = await db.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] } } }));
    const again = await db.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ id: 'b' }, { id: 'c' }] } } }));

    // Assess
    expect(out.Responses!.t.map((i) => i.id).sort()).toEqual(['a', 'b', 'c']);
    expect(again.Responses!.t.map((i) => i.id).sort()).toEqual(['b', 'c']);
    expect(sent.mock.calls.map(([c]) => (c as BatchGetCommand).input.RequestItems!.t.Keys!.map((k) => k.id))).toEqual([['b', 'c']]);
  });

  it('passes reads of part of an item, of other tables and queries through, keeping nothing', async () => {
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const { db } = cached(table);

    for (let i = 0; i < 2; i++) {
      await db.send(new GetCommand({ TableName: 't', Key: { id: 'a' }, ProjectionExpression: 'v' }));
      await db.send(new GetCommand({ TableName: 'other', Key: { id: 'a' } }));
      await db.send(new QueryCommand({ TableName: 't', KeyConditionExpression: 'id = :a' }));
    }

    expect(table.requests).toBe(6);
  });

  it('forgets everything on a command it does not know', async () => {
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const { db } = cached(table);
    await get(db, 'a');
    class ExecuteStatementCommand { readonly input = { Statement: "UPDATE t SET v = 2 WHERE id = 'a'" }; }

    await db.send(new ExecuteStatementCommand() as never).catch(() => {});
    table.rows.set('a', { id: 'a', v: 2 });

    expect(await get(db, 'a')).toEqual({ id: 'a', v: 2 });
  });

  it('does not keep what a read found when a write of the item landed while it was on its way', async () => {
    // Prepare: a read that reaches the table, then waits to answer.
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const held = holdAnswer(table, (c) => c instanceof GetCommand);
    const { db } = cached(table);

    // Act: the write lands and ends while the read's answer (v 1) is held back.
    const reading = get(db, 'a');
    await held.reached;
    await db.send(update('a', { v: 2 }));
    held.release();
    const stale = await reading;

    // Assess: that read saw v 1, as it may; the next one finds v 2.
    expect(stale).toEqual({ id: 'a', v: 1 });
    expect(await get(db, 'a')).toEqual({ id: 'a', v: 2 });
  });

  it('keeps no ALL_NEW answer of an update that overlapped another write of the item', async () => {
    // Prepare: the first update reaches the table first, but its answer is held back.
    const table = new FakeTable();
    table.rows.set('a', { id: 'a', v: 1 });
    const held = holdAnswer(table, (c) => c instanceof UpdateCommand);
    const { db } = cached(table);

    // Act: the second update reaches the table after the first and answers before it.
    const first = db.send(update('a', { v: 2 }, true));
    await held.reached;
    await db.send(update('a', { v: 3 }, true));
    held.release();
    await first;

    // Assess: the table's item, not the first update's answer.
    expect(await get(db, 'a')).toEqual({ id: 'a', v: 3 });
  });

  it('never answers a read with an item older than the last write of it that ended before the read began: reads, updates and unknown writes of two items', async () => {
    type Op = { kind: 'get' | 'batch-get' | 'update' | 'update-all-new' | 'put' | 'statement'; id: 'a' | 'b' };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('get', 'get', 'batch-get', 'update', 'update-all-new', 'put', 'statement'),
      id: fc.constantFrom<Op['id']>('a', 'b'),
    });
    await fc.assert(fc.asyncProperty(fc.scheduler(), fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), async (s, clients) => {
      // Prepare: several clients of one cache, each sending its commands in turn. The table gives
      // an item a higher version at every write that reaches it, so versions order the writes.
      const table = new FakeTable((p) => s.schedule(p), true);
      const { cache } = cached(table);
      const versionOf = (item: Record<string, unknown> | undefined) => (item ? Number(item.v) : 0);
      /** The item's version in the table when the last write of it ended. */
      const floors = new Map<string, number>();
      const violations: string[] = [];
      const run = async (ops: Op[]) => {
        const db = cache.wrap(table.client);
        for (const o of ops) {
          if (o.kind === 'get' || o.kind === 'batch-get') {
            const floor = floors.get(o.id) ?? 0;
            const item = o.kind === 'get' ? await get(db, o.id)
              : (await db.send(new BatchGetCommand({ RequestItems: { t: { Keys: [{ id: o.id }] } } }))).Responses!.t[0];
            if (versionOf(item) < floor) violations.push(`${o.kind} ${o.id}: version ${versionOf(item)}, below ${floor}`);
            continue;
          }
          if (o.kind === 'put') await db.send(new PutCommand({ TableName: 't', Item: { id: o.id } }));
          else if (o.kind === 'statement') await db.send(new StatementCommand({ id: o.id }) as never);
          else await db.send(update(o.id, {}, o.kind === 'update-all-new'));
          floors.set(o.id, Math.max(floors.get(o.id) ?? 0, versionOf(table.rows.get(o.id))));
        }
      };

      // Act
      await s.waitFor(Promise.all(clients.map(run)));

      // Assess
      expect(violations).toEqual([]);
    }), { numRuns: 1000 });
  });
  it('never answers a read with an item older than the last write of it that ended before the read began: every kind of write, batch reads with unprocessed keys, caches of 1, 2 and 1,000 items', async () => {
    type Kind = 'get' | 'batch-get' | 'update' | 'update-all-new' | 'update-refused' | 'put' | 'delete' | 'batch-write' | 'transact' | 'statement';
    type Op = { kind: Kind; id: string; other: string };
    const ids = ['a', 'b', 'c'];
    const op = fc.record({
      kind: fc.constantFrom<Kind>('get', 'get', 'batch-get', 'batch-get', 'update', 'update-all-new', 'update-all-new', 'update-refused', 'put', 'delete',
        'batch-write', 'transact', 'statement'),
      id: fc.constantFrom(...ids),
      other: fc.constantFrom(...ids),
    });
    const clients = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 });
    await fc.assert(fc.asyncProperty(fc.scheduler(), clients, fc.constantFrom(1, 2, 1_000), fc.infiniteStream(fc.boolean()), async (s, runs, size, coins) => {
      // Prepare: several clients of one cache (of `size` items), each sending its commands in
      // turn. The table gives an item a higher version at every write that reaches it, so
      // versions order the writes; a batch read leaves some keys unprocessed, at random.
      const coin = coins[Symbol.iterator]();
      const table = new FakeTable((p) => s.schedule(p), true, () => coin.next().value! && coin.next().value!);
      const cache = new ItemCache(size);
      cache.cacheTable('t', ['id']);
      const versionOf = (item: Record<string, unknown> | undefined) => (item ? Number(item.v) : 0);
      /** The item's version in the table when the last write of it ended, and whether it was gone then. */
      const floors = new Map<string, { v: number; gone: boolean }>();
      /** The last version each item had, so a deleted one still has one to compare with. */
      const last = new Map<string, number>();
      const settle = (id: string) => {
        const row = table.rows.get(id);
        if (row) last.set(id, versionOf(row));
        const now = { v: row ? versionOf(row) : last.get(id) ?? 0, gone: !row };
        const was = floors.get(id);
        if (!was || now.v > was.v || (now.v === was.v && now.gone)) floors.set(id, now);
      };
      const violations: string[] = [];
      const check = (what: string, id: string, item: Record<string, unknown> | undefined, floor: { v: number; gone: boolean } | undefined) => {
        if (!floor || !item) return;
        if (versionOf(item) < floor.v || (floor.gone && versionOf(item) <= floor.v)) {
          violations.push(`${what} ${id}: version ${versionOf(item)}, below ${floor.v}${floor.gone ? ' (deleted)' : ''}`);
        }
      };
      const run = async (ops: Op[]) => {
        const db = cache.wrap(table.client);
        for (const o of ops) {
          if (o.kind === 'get') {
            const floor = floors.get(o.id);
            check('get', o.id, await get(db, o.id), floor);
            continue;
          }
          if (o.kind === 'batch-get') {
            const keys = [...new Set([o.id, o.other])];
            const before = new Map(keys.map((k) => [k, floors.get(k)]));
            const found: Record<string, unknown>[] = [];
            let asked: Record<string, unknown>[] | undefined = keys.map((id) => ({ id }));
            while (asked && asked.length > 0) {
              const out: BatchGetCommandOutput = await db.send(new BatchGetCommand({ RequestItems: { t: { Keys: asked } } }));
              found.push(...(out.Responses?.t ?? []));
              asked = out.UnprocessedKeys?.t?.Keys;
            }
            for (const k of keys) check('batch-get', k, found.find((i) => i.id === k), before.get(k));
            continue;
          }
          const written = [o.id];
          if (o.kind === 'put') await db.send(new PutCommand({ TableName: 't', Item: { id: o.id } }));
          else if (o.kind === 'delete') await db.send(new DeleteCommand({ TableName: 't', Key: { id: o.id } }));
          else if (o.kind === 'statement') await db.send(new StatementCommand({ id: o.id }) as never);
          else if (o.kind === 'update-refused') {
            await db.send(new UpdateCommand({ ...update(o.id, {}, true).input, ConditionExpression: 'never' })).catch((e: unknown) => {
              if (!(e instanceof ConditionalCheckFailed)) throw e;
            });
          } else if (o.kind === 'batch-write') {
            written.push(o.other);
            const items = [...new Set([o.id, o.other])].map((id, i) => (i === 0 ? { PutRequest: { Item: { id } } } : { DeleteRequest: { Key: { id } } }));
            await db.send(new BatchWriteCommand({ RequestItems: { t: items } }));
          } else if (o.kind === 'transact') {
            written.push(o.other);
            await db.send(new TransactWriteCommand({ TransactItems: [
              { Update: { TableName: 't', Key: { id: o.id }, UpdateExpression: 'SET x' } },
              ...(o.other !== o.id ? [{ Put: { TableName: 't', Item: { id: o.other } } }] : []),
            ] }));
          } else await db.send(update(o.id, {}, o.kind === 'update-all-new'));
          for (const id of written) settle(id);
        }
      };

      // Act
      await s.waitFor(Promise.all(runs.map(run)));

      // Assess
      expect(violations).toEqual([]);
    }), { numRuns: 300 });
  });
});
