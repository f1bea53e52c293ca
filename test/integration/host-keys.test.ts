import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentApiError, AgentClient } from '../../agent/client';
import { issueAccessKey } from '../../shared/auth/access-keys';
import { createOperatorApiHandler } from '../../shared/agent-api/handler';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { runCapacityCycle } from '../../shared/capacity/manager';
import { serve } from '../../local/server';
import { type Harness, startHarness, storeSnapshot } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

/** What an agent gets back from a call, error or not. */
const outcome = (p: Promise<unknown>) => p.then(() => ({ ok: true }), (e: AgentApiError) => ({ ok: false, type: e.type, status: e.status }));

describe('Host keys and operator keys', () => {
  let h: Harness;
  let operatorApi: Awaited<ReturnType<typeof serve>>;
  let dir: string;
  /** How far the control plane's clock is ahead of the wall clock. */
  let aheadMs = 0;

  beforeAll(async () => {
    h = await startHarness({ now: () => Date.now() + aheadMs });
    operatorApi = await serve({ 'POST /operator': createOperatorApiHandler(() => h.berth, { log: () => {} }) });
    dir = mkdtempSync(join(tmpdir(), 'berth-host-keys-'));
  });
  afterAll(async () => {
    await operatorApi.close();
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('a host written off', () => {
    it('gets an auth error for its signed calls, and its heartbeat changes nothing', async () => {
      // Prepare: a registered host whose agent then falls silent past the heartbeat timeout.
      const agent = new AgentClient(h.url, 'lost-host', 'us-east-1', { credentialsFile: join(dir, 'lost-host.json') });
      await agent.register(2048, 4096);
      expect(await outcome(agent.heartbeat())).toEqual({ ok: true });
      aheadMs += 31_000;
      // A poll is no heartbeat, but the server now trusts the key it read for the next 10 s.
      await agent.poll({}, 0);
      const terminated: string[] = [];

      // Act
      const cycle = await runCapacityCycle(h.berth, {
        provider: { launch: async () => [], terminate: async (ids) => void terminated.push(...ids), listHosts: async () => [] },
        catalog: DEFAULT_CATALOG,
        policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 0, idleTimeoutSeconds: 300, market: 'on-demand' },
        heartbeatTimeoutSeconds: 30,
        bootTimeoutSeconds: 600,
      });
      const lost = await h.berth.store.hosts.get('lost-host');
      // Within those 10 s the key still verifies, and the heartbeat is refused by the host's state.
      const lateHeartbeat = await outcome(agent.heartbeat());
      // Past the time a server trusts a key it read before (10 s), the key itself is refused.
      aheadMs += 11_000;
      const calls = await Promise.all([agent.heartbeat(), agent.poll({}, 0), agent.register(2048, 4096)].map(outcome));

      // Assess
      expect(cycle.lost).toEqual(['lost-host']);
      expect(terminated).toEqual(['lost-host']);
      expect(lost!.status).toBe('LOST');
      expect(lateHeartbeat).toEqual({ ok: false, type: 'AccessDeniedException', status: 400 });
      for (const call of calls) expect(call).toEqual({ ok: false, type: 'UnrecognizedClientException', status: 400 });
      const after = await h.berth.store.hosts.get('lost-host');
      expect(after).toEqual(lost);
      const key = await h.berth.store.accessKeys.get(agent.hostCredentials().accessKeyId);
      expect(key!.status).toBe('Inactive');
    });
  });

  describe('the operator API', () => {
    const interrupt = (credentials: { accessKeyId: string; secretAccessKey: string }, body: object) => signedFetch(`${operatorApi.url}/operator`, {
      target: 'BerthOperator.SendSpotInterruption', body: JSON.stringify(body), credentials,
    });

    it('denies a user key and changes nothing', async () => {
      // Prepare
      const agent = new AgentClient(h.url, 'spot-host-1', 'us-east-1', { credentialsFile: join(dir, 'spot-host-1.json') });
      await agent.register(2048, 4096);
      const before = await storeSnapshot(h);

      // Act
      const res = await interrupt(h.credentials, { hostId: 'spot-host-1' });

      // Assess
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ __type: 'AccessDeniedException', message: `User: ${h.credentials.accessKeyId} is not authorized to perform: berth:SendSpotInterruption` });
      expect(await storeSnapshot(h)).toEqual(before);
    });

    it.each([
      ['no hostId', {}],
      ['a hostId of the wrong type', { hostId: 42 }],
      ['an unknown member', { hostId: 'spot-host-2', force: true }],
    ])('refuses %s from an operator key and changes nothing', async (_what, body) => {
      // Prepare
      const operator = await issueAccessKey(h.berth, 'operator');
      const agent = new AgentClient(h.url, 'spot-host-2', 'us-east-1', { credentialsFile: join(dir, 'spot-host-2.json') });
      await agent.register(2048, 4096).catch(() => undefined);
      const before = await storeSnapshot(h);

      // Act
      const res = await interrupt(operator, body);

      // Assess
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ __type: 'ClientException' });
      expect(await storeSnapshot(h)).toEqual(before);
    });

    it('takes an operator key: the host drains', async () => {
      // Prepare
      const operator = await issueAccessKey(h.berth, 'operator');
      const agent = new AgentClient(h.url, 'spot-host-3', 'us-east-1', { credentialsFile: join(dir, 'spot-host-3.json') });
      await agent.register(2048, 4096);

      // Act
      const res = await interrupt(operator, { hostId: 'spot-host-3' });

      // Assess
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ stopped: [] });
      expect((await h.berth.store.hosts.get('spot-host-3'))!.status).toBe('DRAINING');
    });

    it('an operator key is also a user of the ECS API', async () => {
      // Prepare
      const operator = await issueAccessKey(h.berth, 'operator');

      // Act
      const res = await signedFetch(h.url, { target: 'AmazonEC2ContainerServiceV20141113.ListClusters', body: '{}', credentials: operator });

      // Assess
      expect(res.status).toBe(200);
    });
  });

  describe('people\'s keys (npm run keys)', () => {
    const keys = (credentials: { accessKeyId: string; secretAccessKey: string }, ...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, '../../local/keys.ts'), ...args], {
        env: { ...process.env, BERTH_ENDPOINT: operatorApi.url, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      }).then(({ stdout }) => JSON.parse(stdout), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    const listClusters = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      signedFetch(h.url, { target: 'AmazonEC2ContainerServiceV20141113.ListClusters', body: '{}', credentials }).then((r) => r.status);

    it('creates a user key that signs ECS calls, lists it without its secret, and revokes it for good', async () => {
      // Prepare
      const operator = await issueAccessKey(h.berth, 'operator');

      // Act
      const created = (await keys(operator, 'create', '--json')).accessKey;
      const statusWithNewKey = await listClusters(created);
      const listed = (await keys(operator, 'list', '--json')).accessKeys;
      const revoked = (await keys(operator, 'revoke', created.accessKeyId, '--json')).accessKey;
      // Past the time a server trusts a key it read before (10 s).
      aheadMs += 11_000;
      const statusAfterRevoke = await listClusters(created);

      // Assess
      expect(created).toMatchObject({ accessKeyId: expect.stringMatching(/^BK[A-Z2-7]{18}$/), secretAccessKey: expect.any(String), principal: 'user', status: 'Active' });
      expect(statusWithNewKey).toBe(200);
      expect(listed).toContainEqual({ accessKeyId: created.accessKeyId, principal: 'user', status: 'Active', createdAt: expect.any(Number) });
      expect(listed.map((k: { principal: string }) => k.principal)).not.toContain('host');
      expect(JSON.stringify(listed)).not.toContain(created.secretAccessKey);
      expect(revoked).toEqual({ accessKeyId: created.accessKeyId, principal: 'user', status: 'Inactive' });
      expect(statusAfterRevoke).toBe(400);
    }, 60_000);

    it('denies a user key every key operation, and changes nothing', async () => {
      // Prepare
      const before = await storeSnapshot(h);

      // Act
      const outcomes = [await keys(h.credentials, 'create'), await keys(h.credentials, 'revoke', h.credentials.accessKeyId)];

      // Assess
      for (const o of outcomes) {
        expect(o.code).toBe(1);
        expect(o.stderr).toContain(`AccessDeniedException: User: ${h.credentials.accessKeyId} is not authorized to perform: berth:`);
      }
      expect(await storeSnapshot(h)).toEqual(before);
    }, 60_000);

    it.each([
      ['a host\'s key', async () => (await registeredAgent('keys-host')).hostCredentials().accessKeyId, 'ResourceNotFoundException'],
      ['an unknown key', async () => 'BKNOSUCHKEY234567ABC', 'ResourceNotFoundException'],
      ['a malformed key id', async () => 'not-a-key!', 'ClientException'],
    ])('refuses to revoke %s, and changes nothing', async (_what, keyId, type) => {
      // Prepare
      const operator = await issueAccessKey(h.berth, 'operator');
      const id = await keyId();
      const before = await storeSnapshot(h);

      // Act
      const res = await signedFetch(`${operatorApi.url}/operator`, { target: 'BerthOperator.RevokeAccessKey', body: JSON.stringify({ accessKeyId: id }), credentials: operator });

      // Assess
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ __type: type });
      expect(await storeSnapshot(h)).toEqual(before);
    });

    async function registeredAgent(hostId: string): Promise<AgentClient> {
      const agent = new AgentClient(h.url, hostId, 'us-east-1', { credentialsFile: join(dir, `${hostId}.json`) });
      await agent.register(2048, 4096);
      return agent;
    }
  });
});
