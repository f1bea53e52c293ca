import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentClient } from '../../agent/client';
import { ImdsClient } from '../../agent/identity/imds';
import { type Harness, startHarness } from '../support/harness';
import { createTestIdentitySigner, identityDocument } from '../support/identity-ca';

interface FakeImds {
  url: string;
  /** Every request, as `METHOD path token?`. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * IMDSv2 as EC2 serves it, over local HTTP: a PUT to /latest/api/token with a TTL header gives a
 * session token, and the identity document and signature answer only a GET that carries it
 * (401 otherwise, as on an instance that requires tokens).
 */
async function startFakeImds(document: string, signature: string): Promise<FakeImds> {
  const token = 'AQAEAFake-session-token==';
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const given = req.headers['x-aws-ec2-metadata-token'];
    requests.push(`${req.method} ${req.url}${given ? ' with-token' : ''}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      res.writeHead(ttl >= 1 && ttl <= 21600 ? 200 : 400).end(ttl >= 1 && ttl <= 21600 ? token : '');
      return;
    }
    if (req.method !== 'GET' || given !== token) {
      res.writeHead(401).end();
      return;
    }
    if (req.url === '/latest/dynamic/instance-identity/document') res.writeHead(200, { 'content-type': 'text/plain' }).end(document);
    // IMDS wraps the base64 signature over lines.
    else if (req.url === '/latest/dynamic/instance-identity/signature') res.writeHead(200).end(signature.replace(/(.{76})/g, '$1\n'));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('The agent on EC2', () => {
  const signer = createTestIdentitySigner();
  const instanceId = 'i-0feedface0000001';
  const document = identityDocument({ instanceId });
  let imds: FakeImds;
  let h: Harness;

  beforeAll(async () => {
    imds = await startFakeImds(document, signer.sign(document));
    h = await startHarness({
      config: { openHostRegistration: false, instanceIdentity: { certificates: { 'us-east-1': signer.certificatePem }, maxDocumentAgeSeconds: 1800 } },
    });
  });
  afterAll(async () => {
    await h.close();
    await imds.close();
  });

  describe('ImdsClient', () => {
    it('reads the document and its signature with an IMDSv2 session token', async () => {
      // Act
      const identity = await new ImdsClient(imds.url).instanceIdentity();

      // Assess: the exact bytes IMDS served, and the signature without its line breaks.
      expect(identity.document).toBe(document);
      expect(identity.signature).toBe(signer.sign(document));
      expect(imds.requests.slice(-3)).toEqual([
        'PUT /latest/api/token',
        'GET /latest/dynamic/instance-identity/document with-token',
        'GET /latest/dynamic/instance-identity/signature with-token',
      ]);
    });

    it('fails with ImdsError where there is no IMDS', async () => {
      // Prepare: a port nothing listens on.
      const closed = await startFakeImds('', '');
      await closed.close();

      // Act + assess
      await expect(new ImdsClient(closed.url).instanceIdentity()).rejects.toMatchObject({ name: 'ImdsError' });
    });
  });

  it('registers the instance Berth launched with the document from IMDS, then signs with its own key', async () => {
    // Prepare: the capacity manager launched this instance.
    await h.berth.store.hosts.launching({ hostId: instanceId, instanceId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840 }, Date.now());
    const agent = new AgentClient(h.url, instanceId, 'us-east-1', { instanceIdentity: () => new ImdsClient(imds.url).instanceIdentity() });

    // Act
    const r = await agent.register(2048, 3840);

    // Assess
    expect(r.credentials?.accessKeyId).toMatch(/^BH/);
    expect((await h.berth.store.hosts.get(instanceId))!.status).toBe('ACTIVE');
    // Nothing to pre-pull yet: no service, no task run.
    await expect(agent.heartbeat()).resolves.toEqual({ prePull: [] });
  });

  it('sends the bootstrap token instead when it has one, and never asks IMDS', async () => {
    // Prepare
    const asked = imds.requests.length;
    const agent = new AgentClient(h.url, 'i-0feedface0000002', 'us-east-1', {
      bootstrapToken: 'no-such-token',
      instanceIdentity: () => new ImdsClient(imds.url).instanceIdentity(),
    });

    // Act + assess: refused (no such launch), and IMDS was not consulted.
    await expect(agent.register(2048, 3840)).rejects.toMatchObject({ type: 'AccessDeniedException' });
    expect(imds.requests.length).toBe(asked);
  });

  it('cannot register another instance with this instance\'s document', async () => {
    // Prepare: a second launched instance, whose agent presents the first one's document.
    await h.berth.store.hosts.launching({ hostId: 'i-0feedface0000003', instanceId: 'i-0feedface0000003', instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840 }, Date.now());
    const impostor = new AgentClient(h.url, 'i-0feedface0000003', 'us-east-1', { instanceIdentity: () => new ImdsClient(imds.url).instanceIdentity() });

    // Act + assess
    await expect(impostor.register(2048, 3840)).rejects.toMatchObject({ type: 'AccessDeniedException', status: 400 });
    expect((await h.berth.store.hosts.get('i-0feedface0000003'))!.status).toBe('LAUNCHING');
  });
});
