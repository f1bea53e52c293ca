import { ListClustersCommand } from '@aws-sdk/client-ecs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../agent/client';
import { issueAccessKey } from '../../shared/auth/access-keys';
import { hashBootstrapToken } from '../../shared/lifecycle/reports';
import { LocalKeySealer } from '../../shared/cloud/local/local-key-sealer';
import { createStore } from '../../shared/store';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';
import { type Harness, startHarness, storeSnapshot } from '../support/harness';

const CONTEXT = { purpose: 'berth-access-key', accessKeyId: 'BKAAAAAAAAAAAAAAAAAA' };

describe('LocalKeySealer', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-sealer-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('opens what it sealed, and the sealed text does not contain the secret', async () => {
    // Prepare
    const sealer = LocalKeySealer.ephemeral();

    // Act
    const sealed = await sealer.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', CONTEXT);

    // Assess
    expect(sealed).toMatch(/^aes-256-gcm:[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('wJalrXUtnFEMI');
    expect(await sealer.open(sealed, CONTEXT)).toBe('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    // A fresh IV each time: the same secret never seals to the same text.
    expect(await sealer.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', CONTEXT)).not.toBe(sealed);
  });

  it.each([
    ['under another context (another key id)', async (s: string) => ({ sealed: s, context: { ...CONTEXT, accessKeyId: 'BKBBBBBBBBBBBBBBBBBB' }, sealer: undefined })],
    ['once tampered with', async (s: string) => {
      const raw = Buffer.from(s.slice('aes-256-gcm:'.length), 'base64');
      raw[raw.length - 1] ^= 1;
      return { sealed: `aes-256-gcm:${raw.toString('base64')}`, context: CONTEXT, sealer: undefined };
    }],
    ['truncated', async () => ({ sealed: 'aes-256-gcm:AAAA', context: CONTEXT, sealer: undefined })],
    ['sealed by KMS', async () => ({ sealed: 'kms:AAAA', context: CONTEXT, sealer: undefined })],
    ['under another key', async (s: string) => ({ sealed: s, context: CONTEXT, sealer: LocalKeySealer.ephemeral() })],
  ])('refuses to open a secret %s', async (_what, variant) => {
    // Prepare
    const sealer = LocalKeySealer.ephemeral();
    const v = await variant(await sealer.seal('secret', CONTEXT));

    // Act + assess
    await expect((v.sealer ?? sealer).open(v.sealed, v.context)).rejects.toMatchObject({ name: 'KeySealError' });
  });

  it('creates its key file 0600 once, and reads the same key back', async () => {
    // Prepare
    const file = join(dir, 'access-keys.key');

    // Act
    const first = LocalKeySealer.fromKeyFile(file);
    const key = readFileSync(file);
    const second = LocalKeySealer.fromKeyFile(file);

    // Assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(key).toHaveLength(32);
    expect(readFileSync(file)).toEqual(key);
    expect(await second.open(await first.seal('kept across restarts', CONTEXT), CONTEXT)).toBe('kept across restarts');
  });

  it('refuses a key file that others may read', () => {
    // Prepare
    const file = join(dir, 'access-keys.key');
    LocalKeySealer.fromKeyFile(file);
    chmodSync(file, 0o644);

    // Act + assess
    expect(() => LocalKeySealer.fromKeyFile(file)).toThrow(/readable by others/);
  });
});

describe('Access keys at rest', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { openHostRegistration: false } });
  });
  afterAll(() => h.close());

  const rawTable = () => createDocumentClient({ endpoint: h.dynamoEndpoint });

  it('keeps no secret in the clear in the access-keys table: users\' keys and hosts\' keys', async () => {
    // Prepare: a user's key (the harness's own and a new one) and a host's key, issued at registration.
    const user = await issueAccessKey(h.berth, 'user');
    await h.berth.store.hosts.launching({ hostId: 'i-sealed', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840, bootstrapTokenHash: hashBootstrapToken('t-sealed') }, Date.now());
    const host = (await new AgentClient(h.url, 'i-sealed', 'us-east-1', { bootstrapToken: 't-sealed' }).register(2048, 3840)).credentials!;
    const secrets = [h.credentials.secretAccessKey, user.secretAccessKey, host.secretAccessKey];

    // Act: read the table raw, as a backup, an export or a stolen read role would.
    const items = (await storeSnapshot(h)).accessKeys as Record<string, unknown>[];
    const raw = JSON.stringify(items);

    // Assess
    expect(items.length).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) expect(raw).not.toContain(secret);
    for (const item of items) {
      expect(item).not.toHaveProperty('secretAccessKey');
      expect(item.sealedSecret).toMatch(/^aes-256-gcm:/);
    }
  });

  it('opens the sealed secret on lookup: SigV4 calls with the key still verify', async () => {
    // Act
    const r = await h.ecs.send(new ListClustersCommand({}));

    // Assess
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect((await h.berth.store.accessKeys.get(h.credentials.accessKeyId))?.secretAccessKey).toBe(h.credentials.secretAccessKey);
  });

  it("will not open a sealed secret copied onto another key's item", async () => {
    // Prepare: an attacker who may write the table copies the user's sealed secret onto a key id
    // of their own choosing.
    const db = rawTable();
    const { Item } = await db.send(new GetCommand({ TableName: tableNames().accessKeys, Key: { accessKeyId: h.credentials.accessKeyId } }));
    await db.send(new PutCommand({ TableName: tableNames().accessKeys, Item: { ...Item, accessKeyId: 'BKCOPIEDCOPIEDCOPIED' } }));

    // Act + assess
    await expect(h.berth.store.accessKeys.get('BKCOPIEDCOPIEDCOPIED')).rejects.toMatchObject({ name: 'KeySealError' });
    db.destroy();
  });

  it('seals in place a key that an older Berth stored in the clear, the first time it is read', async () => {
    // Prepare: an item as written before secrets were sealed.
    const db = rawTable();
    await db.send(new PutCommand({
      TableName: tableNames().accessKeys,
      Item: { accessKeyId: 'BKLEGACYLEGACYLEGACY', secretAccessKey: 'legacy-secret', principal: 'user', status: 'Active', createdAt: 1 },
    }));

    // Act
    const key = await h.berth.store.accessKeys.get('BKLEGACYLEGACYLEGACY');

    // Assess
    expect(key?.secretAccessKey).toBe('legacy-secret');
    const { Item } = await db.send(new GetCommand({ TableName: tableNames().accessKeys, Key: { accessKeyId: 'BKLEGACYLEGACYLEGACY' } }));
    expect(Item).not.toHaveProperty('secretAccessKey');
    expect(Item?.sealedSecret).toMatch(/^aes-256-gcm:/);
    expect((await h.berth.store.accessKeys.get('BKLEGACYLEGACYLEGACY'))?.secretAccessKey).toBe('legacy-secret');
    db.destroy();
  });

  it('opens keys across a restart only with the same key file', async () => {
    // Prepare: two stores over the same table, as before and after a restart.
    const dir = mkdtempSync(join(tmpdir(), 'berth-sealer-'));
    const file = join(dir, 'access-keys.key');
    const before = createStore(createDocumentClient({ endpoint: h.dynamoEndpoint }), tableNames(), { keySealer: LocalKeySealer.fromKeyFile(file) });
    await before.accessKeys.put({ accessKeyId: 'BKRESTARTRESTARTREST', secretAccessKey: 'survives', principal: 'user', status: 'Active', createdAt: 1 });

    // Act
    const after = createStore(createDocumentClient({ endpoint: h.dynamoEndpoint }), tableNames(), { keySealer: LocalKeySealer.fromKeyFile(file) });
    const stranger = createStore(createDocumentClient({ endpoint: h.dynamoEndpoint }), tableNames(), { keySealer: LocalKeySealer.ephemeral() });

    // Assess
    expect((await after.accessKeys.get('BKRESTARTRESTARTREST'))?.secretAccessKey).toBe('survives');
    await expect(stranger.accessKeys.get('BKRESTARTRESTARTREST')).rejects.toMatchObject({ name: 'KeySealError' });
    rmSync(dir, { recursive: true, force: true });
  });
});
