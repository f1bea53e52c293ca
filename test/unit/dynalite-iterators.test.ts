import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PutItemCommand, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Dynalite, createTables, localDynamoClient, startDynalite } from '../../local/dynalite';
import { closeDynaliteIterators } from '../../local/dynalite-iterators';
import { tableNames } from '../../shared/store/tables';
import { eventually } from '../support/harness';

// The module dynalite's databases come from (jest gives this file and dynalite the same one).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AbstractLevel } = require('abstract-level') as {
  AbstractLevel: { prototype: { attachResource(r: object): void; detachResource(r: object): void } };
};

/**
 * dynalite reads each Query and Scan through an abstract-level iterator; an iterator never closed
 * stays among its database's open resources, holding the data it began on, for good
 * (local/dynalite-iterators.ts).
 */
describe('dynalite', () => {
  let dynamo: Dynalite;
  /** The iterators dynalite's databases hold open now, and how many they ever opened. */
  const open = new Set<object>();
  let opened = 0;
  const { attachResource, detachResource } = AbstractLevel.prototype;

  beforeAll(async () => {
    AbstractLevel.prototype.attachResource = function (resource) {
      if (typeof (resource as { next?: unknown }).next === 'function') {
        open.add(resource);
        opened++;
      }
      return attachResource.call(this, resource);
    };
    AbstractLevel.prototype.detachResource = function (resource) {
      open.delete(resource);
      return detachResource.call(this, resource);
    };
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
  });
  afterAll(async () => {
    AbstractLevel.prototype.attachResource = attachResource;
    AbstractLevel.prototype.detachResource = detachResource;
    await dynamo.close();
  });

  it('closes the iterator of every Query and Scan it answered, read to the end or cut short by a Limit', async () => {
    // Prepare
    const client = localDynamoClient(dynamo.endpoint);
    const table = tableNames().tasks;
    for (let i = 0; i < 5; i++) {
      await client.send(new PutItemCommand({ TableName: table, Item: { cluster: { S: 'c' }, taskId: { S: `t${i}` } } }));
    }
    const before = open.size;
    const openedBefore = opened;

    // Act
    for (let i = 0; i < 10; i++) {
      await client.send(new ScanCommand({ TableName: table }));
      await client.send(new ScanCommand({ TableName: table, Limit: 2 }));
      await client.send(new QueryCommand({
        TableName: table, KeyConditionExpression: '#c = :c', ExpressionAttributeNames: { '#c': 'cluster' }, ExpressionAttributeValues: { ':c': { S: 'c' } }, Limit: 1,
      }));
    }

    // Assess: none of the 30 left open (iterators close just after their answers are sent); and
    // this watched dynalite's own iterators (a second copy of the module would show none).
    await eventually(async () => open.size === before, 5_000, 'every iterator closed').catch(() => undefined);
    expect(opened - openedBefore).toBeGreaterThanOrEqual(30);
    expect(open.size).toBe(before);
    client.destroy();
  });

  // Last: were local/dynalite.ts not to apply it, this call would, and the test above would not see it.
  it('is patched once: a second call changes nothing', () => {
    expect(closeDynaliteIterators()).toBe(false);
  });
});
