import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type IncomingMessage, Server } from 'node:http';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';

/**
 * The local mode's store keeps the items its agents' woken polls read (local/item-cache.ts):
 * a host's item as its touch wrote it, so the poll that a binding wakes reads it from memory;
 * and never one older than a write another client of the same dynalite made since.
 */
describe('the local mode\'s item cache', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let other: LocalBerth;
  /** The DynamoDB operations dynalite received, as its HTTP server saw them. */
  const requests: string[] = [];
  const emit = Server.prototype.emit;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    other = localBerth({ dynamoEndpoint: dynamo.endpoint });
    Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
      const target = event === 'request' ? String((args[0] as IncomingMessage).headers['x-amz-target'] ?? '') : '';
      if (target.startsWith('DynamoDB_')) requests.push(target);
      return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
    } as typeof emit;
  }, 60_000);
  afterAll(async () => {
    Server.prototype.emit = emit;
    berth?.workflows.close();
    other?.workflows.close();
    await dynamo?.close();
  });

  it('answers the read of a host after its touch from memory, and after another client\'s write the item that write left', async () => {
    // Prepare
    await berth.store.hosts.register({ hostId: 'cached-1', cpu: 1024, memory: 2048 }, 0, { open: true });
    await berth.store.hosts.touch('cached-1');
    const touched = (await other.store.hosts.get('cached-1'))!.version!;

    // Act: a read right after the touch; then another client's heartbeat (whose answer is not
    // the item), and the same read.
    requests.length = 0;
    const fromMemory = await berth.store.hosts.get('cached-1');
    const readsAfterTouch = [...requests];
    expect(await other.store.hosts.heartbeat('cached-1', 1234)).toBe(true);
    requests.length = 0;
    const afterWrite = await berth.store.hosts.get('cached-1');

    // Assess
    expect(readsAfterTouch).toEqual([]);
    expect(fromMemory!.version).toBe(touched);
    expect(requests).toEqual(['DynamoDB_20120810.GetItem']);
    expect(afterWrite).toMatchObject({ version: touched, lastHeartbeatAt: 1234 });
  });
});
