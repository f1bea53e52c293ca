import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { secretSlices } from '../../local/services/secret-slices';
import { SECRETS_TABLE } from '../../local/services/secrets-manager/secret-store';
import { PARAMETERS_TABLE } from '../../local/services/ssm/parameter-store';
import { type Credentials, issueAccessKey } from '../../shared/auth/access-keys';
import { SealingKeyMismatchError } from '../../shared/auth/key-sealer';
import { LocalKeySealer } from '../../shared/cloud/local/local-key-sealer';
import { SEALING_KEY_FILE } from '../../shared/cloud/local/sealer';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';
import { signedFetch } from '../support/signed-fetch';

jest.setTimeout(60_000);

/**
 * A sealed key or secret that will not open (its key file replaced, or the item tampered with):
 * a request that needs it gets a 4xx in AWS's words, never a 500, and a start on a replaced key
 * file fails naming that file.
 */
describe('sealed secrets that will not open', () => {
  let dynamo: Dynalite;
  let dataDir: string;
  const berths: LocalBerth[] = [];
  const servers: { close(): Promise<void> }[] = [];

  const berthWith = (keySealer: LocalKeySealer) => {
    const b = localBerth({ dynamoEndpoint: dynamo.endpoint, keySealer });
    berths.push(b);
    return b;
  };
  const call = async (url: string, target: string, body: object, credentials: Credentials, service = 'ecs') => {
    const res = await signedFetch(url, { target, body: JSON.stringify(body), credentials, service });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const db = () => createDocumentClient({ endpoint: dynamo.endpoint });
  const flipLastByte = (base64: string) => {
    const raw = Buffer.from(base64, 'base64');
    raw[raw.length - 1] ^= 1;
    return raw.toString('base64');
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-unopenable-'));
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const b of berths) b.workflows.close();
    await dynamo?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('access keys', () => {
    it('answers a request signed with a key sealed under another key file with UnrecognizedClientException (400), not a 500', async () => {
      // Prepare: a key issued under one sealing key, served by a Berth holding another.
      const issuedBy = berthWith(LocalKeySealer.ephemeral());
      const key = await issueAccessKey(issuedBy, 'user');
      const replaced = berthWith(LocalKeySealer.ephemeral());
      const server = await serve({ 'POST /': createApiHandler(() => replaced, { log: () => {} }) });
      servers.push(server);

      // Act
      const r = await call(server.url, 'AmazonEC2ContainerServiceV20141113.ListClusters', {}, key);

      // Assess
      expect(r).toEqual({ status: 400, body: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } });
    });

    it('answers a request signed with a key whose sealed secret was tampered with the same way', async () => {
      // Prepare
      const b = berthWith(LocalKeySealer.ephemeral());
      const good = await issueAccessKey(b, 'user');
      const tampered = await issueAccessKey(b, 'user');
      const table = tableNames().accessKeys;
      const item = (await db().send(new GetCommand({ TableName: table, Key: { accessKeyId: tampered.accessKeyId } }))).Item!;
      const [scheme, payload] = String(item.sealedSecret).split(':');
      await db().send(new UpdateCommand({
        TableName: table, Key: { accessKeyId: tampered.accessKeyId },
        UpdateExpression: 'SET sealedSecret = :s', ExpressionAttributeValues: { ':s': `${scheme}:${flipLastByte(payload)}` },
      }));
      const server = await serve({ 'POST /': createApiHandler(() => b, { log: () => {} }) });
      servers.push(server);

      // Act
      const refused = await call(server.url, 'AmazonEC2ContainerServiceV20141113.ListClusters', {}, tampered);
      const served = await call(server.url, 'AmazonEC2ContainerServiceV20141113.ListClusters', {}, good);

      // Assess: only the tampered key is refused.
      expect(refused.status).toBe(400);
      expect(refused.body.__type).toBe('UnrecognizedClientException');
      expect(served.status).toBe(200);
    });

    it('tells at start whether the key file opens the keys in the table', async () => {
      // Prepare: the table holds keys sealed under several key files (the tests above), one of them `original`.
      const original = LocalKeySealer.ephemeral();
      await issueAccessKey(berthWith(original), 'user');

      // Act + assess: a key file that opens any of them passes; one that opens none does not.
      expect(await berthWith(original).store.accessKeys.sealerOpensStored()).toBe(true);
      expect(await berthWith(LocalKeySealer.ephemeral()).store.accessKeys.sealerOpensStored()).toBe(false);
    });
  });

  describe('the secret slices', () => {
    let url: string;
    let user: Credentials;

    beforeAll(async () => {
      const b = berthWith(LocalKeySealer.ephemeral());
      user = await issueAccessKey(b, 'user');
      const slices = (await secretSlices(b, { dataDir, dynamoEndpoint: dynamo.endpoint, log: () => {} })).handlers;
      const server = await serve({ 'POST /': byTarget(slices, createApiHandler(() => b, { log: () => {} })) });
      servers.push(server);
      url = server.url;
    });

    it('answers GetSecretValue for a value that does not open with DecryptionFailure (400)', async () => {
      // Prepare
      const created = await call(url, 'secretsmanager.CreateSecret', { Name: 'unopenable', SecretString: 's3cr3t' }, user, 'secretsmanager');
      expect(created.status).toBe(200);
      const item = (await db().send(new GetCommand({ TableName: SECRETS_TABLE.name, Key: { name: 'unopenable' } }))).Item!;
      const versionId = created.body.VersionId;
      await db().send(new UpdateCommand({
        TableName: SECRETS_TABLE.name, Key: { name: 'unopenable' },
        UpdateExpression: 'SET versions.#v.sealed = :s', ExpressionAttributeNames: { '#v': versionId },
        ExpressionAttributeValues: { ':s': flipLastByte(item.versions[versionId].sealed) },
      }));

      // Act
      const r = await call(url, 'secretsmanager.GetSecretValue', { SecretId: 'unopenable' }, user, 'secretsmanager');

      // Assess
      expect(r.status).toBe(400);
      expect(r.body.__type).toBe('DecryptionFailure');
      expect(JSON.stringify(r.body)).not.toContain('s3cr3t');
    });

    it('answers GetParameter with decryption, for a value that does not open, with InvalidKeyId (400)', async () => {
      // Prepare
      const put = await call(url, 'AmazonSSM.PutParameter', { Name: '/unopenable', Type: 'SecureString', Value: 't0ken' }, user, 'ssm');
      expect(put.status).toBe(200);
      const item = (await db().send(new GetCommand({ TableName: PARAMETERS_TABLE.name, Key: { name: '/unopenable' } }))).Item!;
      await db().send(new UpdateCommand({
        TableName: PARAMETERS_TABLE.name, Key: { name: '/unopenable' },
        UpdateExpression: 'SET sealed = :s', ExpressionAttributeValues: { ':s': flipLastByte(item.sealed) },
      }));

      // Act
      const r = await call(url, 'AmazonSSM.GetParameter', { Name: '/unopenable', WithDecryption: true }, user, 'ssm');

      // Assess
      expect(r.status).toBe(400);
      expect(r.body.__type).toBe('InvalidKeyId');
    });

    it('refuses to start on a replaced secrets.key, naming the file', async () => {
      // Prepare: the tables hold what the tests above sealed; the key file is swapped for another key.
      const keyFile = join(dataDir, SEALING_KEY_FILE);
      rmSync(keyFile);
      writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });

      // Act
      const started = secretSlices(berthWith(LocalKeySealer.ephemeral()), { dataDir, dynamoEndpoint: dynamo.endpoint, log: () => {} });

      // Assess
      await expect(started).rejects.toBeInstanceOf(SealingKeyMismatchError);
      await expect(started).rejects.toThrow(`${keyFile} does not open the secrets and parameters sealed in this data directory`);
    });
  });
});
