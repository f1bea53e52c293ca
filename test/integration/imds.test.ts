import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../agent/client';
import { ImdsClient } from '../../agent/identity/imds';
import { bundleAgent } from '../../local/agent-bundle';
import { writeContainersConf } from '../../local/podman';
import { agentUserData } from '../../shared/cloud/aws/user-data';
import { type Harness, eventually, startHarness } from '../support/harness';
import { createTestIdentitySigner, identityDocument } from '../support/identity-ca';

interface FakeImds {
  url: string;
  /** Every request, as `METHOD path token?`. */
  requests: string[];
  close(): Promise<void>;
}

/** The instance's private IPv4, as the fake IMDS tells it (and the test identity document). */
const PRIVATE_IP = '10.0.1.23';

/**
 * IMDSv2 as EC2 serves it, over local HTTP: a PUT to /latest/api/token with a TTL header gives a
 * session token, and the identity document and signature answer only a GET that carries it
 * (401 otherwise, as on an instance that requires tokens).
 */
async function startFakeImds(document: string, signature: string, host = '127.0.0.1'): Promise<FakeImds> {
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
    else if (req.url === '/latest/meta-data/instance-id') res.writeHead(200).end(JSON.parse(document).instanceId);
    else if (req.url === '/latest/meta-data/local-ipv4') res.writeHead(200).end(PRIVATE_IP);
    // IMDS wraps the base64 signature over lines.
    else if (req.url === '/latest/dynamic/instance-identity/signature') res.writeHead(200).end(signature.replace(/(.{76})/g, '$1\n'));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
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

/**
 * The rendered user data's agent part on a host of its own: a podman container over this
 * machine's files (an overlay: nothing it writes lands here), in a network namespace the test
 * makes. There 169.254.169.254:80 is led (DNAT, inside the namespace only) to a fake IMDS of the
 * test's, and the stack's address serves the agent bundle and passes the rest on to the local
 * control plane. Amazon Linux's parts are stood in for: dnf gives node-22 its name, and
 * systemctl starts a unit's ExecStart with its EnvironmentFile. Needs root (ip netns), as CI runs.
 */
describe('The user data in a container, against a fake IMDS and the local endpoint', () => {
  const signer = createTestIdentitySigner();
  const tag = randomBytes(3).toString('hex');
  const [ns, hostSide, nsSide] = [`berthud${tag}`, `buh${tag}`, `bun${tag}`];
  const gateway = `10.253.${randomBytes(1)[0]}.1`;
  const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  let h: Harness;
  let imds: FakeImds;
  let stack: Server;
  let stackUrl: string;
  let dir: string;
  let bundle: Buffer;
  let podmanEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    h = await startHarness({
      config: { openHostRegistration: false, instanceIdentity: { certificates: { 'us-east-1': signer.certificatePem }, maxDocumentAgeSeconds: 1800 } },
    });
    bundle = readFileSync(await bundleAgent());
    dir = mkdtempSync(join(tmpdir(), 'berth-user-data-'));
    podmanEnv = { ...process.env, CONTAINERS_CONF: writeContainersConf(dir) };
    // The namespace: a veth to this machine, and the metadata address led to the fake inside it.
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', ns);
    ip('addr', 'add', `${gateway}/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    const inside = gateway.replace(/\.1$/, '.2');
    for (const args of [['addr', 'add', `${inside}/30`, 'dev', nsSide], ['link', 'set', nsSide, 'up'], ['link', 'set', 'lo', 'up'], ['route', 'add', 'default', 'via', gateway]]) {
      ip('netns', 'exec', ns, 'ip', ...args);
    }
    // The stack: the bundle at /agent.js, everything else to the local control plane.
    const target = new URL(h.url);
    stack = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/agent.js') return void res.writeHead(200).end(bundle);
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => stack.listen(0, gateway, resolve));
    stackUrl = `http://${gateway}:${(stack.address() as AddressInfo).port}`;
    // The stand-ins for Amazon Linux's dnf and systemd, and the container's entry.
    const write = (name: string, lines: string[]) => writeFileSync(join(dir, name), `${lines.join('\n')}\n`, { mode: 0o755 });
    write('dnf', ['#!/bin/sh', '# nodejs22 installs node as node-22.', 'ln -sf "$(command -v node)" /usr/bin/node-22']);
    write('systemctl', [
      '#!/bin/bash',
      '# `enable --now UNIT`: run the unit\'s ExecStart with its EnvironmentFile, in the foreground. Docker has no unit here.',
      '[ "$1 $2" = "enable --now" ] && [ -f "/etc/systemd/system/$3" ] || exit 0',
      'unit="/etc/systemd/system/$3"',
      'set -a; . "$(sed -n \'s/^EnvironmentFile=//p\' "$unit")"; set +a',
      'exec $(sed -n \'s/^ExecStart=//p\' "$unit")',
    ]);
    write('run.sh', ['#!/bin/bash', 'set -eu', 'install -m 0755 /berth-test/dnf /berth-test/systemctl /usr/local/sbin/', 'exec bash /berth-test/user-data.sh']);
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => stack?.close(resolve));
    await imds?.close();
    await h?.close();
    try {
      ip('netns', 'del', ns);
    } catch {
      // never made
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The fake IMDS of one instance, reached from the namespace at 169.254.169.254:80. */
  async function imdsFor(instanceId: string): Promise<FakeImds> {
    await imds?.close();
    const document = identityDocument({ instanceId });
    imds = await startFakeImds(document, signer.sign(document), gateway);
    const port = new URL(imds.url).port;
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-t', 'nat', '-F', 'OUTPUT']);
    execFileSync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-d', '169.254.169.254/32', '-p', 'tcp', '--dport', '80',
      '-j', 'DNAT', '--to-destination', `${gateway}:${port}`]);
    return imds;
  }

  /** Runs the user data in a container of its own; resolves with its exit code and output once it ends. */
  function boot(userData: string, name: string): { done: Promise<{ code: number | null; output: string }>; remove: () => void } {
    writeFileSync(join(dir, 'user-data.sh'), userData);
    const child = spawn('podman', [
      'run', '--rm', '--name', name, '--network', `ns:/run/netns/${ns}`, '-v', `${dir}:/berth-test:ro`,
      '--rootfs', '/:O', '/bin/bash', '/berth-test/run.sh',
    ], { env: podmanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
    // A container that exits while `rm -f` kills it fails that rm ('container state improper:
    // stopped'); the second finds it stopped and removes it.
    const rm = () => void execFileSync('podman', ['rm', '-f', '-t', '0', name], { env: podmanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    return { done, remove: () => { try { rm(); } catch { rm(); } } };
  }

  it('fetches the bundle, checks its SHA-256 and starts the agent, which registers the instance from IMDS', async () => {
    // Prepare: the capacity manager launched this instance.
    const instanceId = `i-0${tag}0000000001`;
    await h.berth.store.hosts.launching({ hostId: instanceId, instanceId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840 }, Date.now());
    const fake = await imdsFor(instanceId);
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    const userData = agentUserData({ endpoint: stackUrl, region: 'us-east-1', bundleUrl: `${stackUrl}/agent.js`, bundleSha256: sha256 });

    // Act
    const host = boot(userData, `berth-user-data-${tag}-1`);
    try {
      const registered = await eventually(async () => {
        const record = await h.berth.store.hosts.get(instanceId);
        return record?.status === 'ACTIVE' ? record : undefined;
      }, 60_000, `${instanceId} registered`).catch(async (e) => {
        throw new Error(`${e.message}; the container said: ${(await Promise.race([host.done, Promise.resolve({ output: '(still running)' })])).output}`);
      });

      // Assess: ACTIVE at the host's own capacity, at its private address (where other hosts'
      // Service Connect proxies reach it); the script asked IMDS (v2) for the instance id and the
      // address, the agent for its document.
      expect(registered.instanceId).toBe(instanceId);
      await eventually(async () => (await h.berth.store.hosts.get(instanceId))?.address === PRIVATE_IP, 10_000, 'the address registered');
      expect(fake.requests).toEqual(expect.arrayContaining([
        'PUT /latest/api/token',
        'GET /latest/meta-data/instance-id with-token',
        'GET /latest/meta-data/local-ipv4 with-token',
        'GET /latest/dynamic/instance-identity/document with-token',
        'GET /latest/dynamic/instance-identity/signature with-token',
      ]));
      expect(fake.requests.filter((r) => !r.startsWith('PUT') && !r.endsWith('with-token'))).toEqual([]);
    } finally {
      host.remove();
      await host.done;
    }
  }, 90_000);

  it('refuses a bundle whose SHA-256 is not the one it was given: no agent starts', async () => {
    // Prepare
    const instanceId = `i-0${tag}0000000002`;
    await h.berth.store.hosts.launching({ hostId: instanceId, instanceId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3840 }, Date.now());
    const fake = await imdsFor(instanceId);
    const other = createHash('sha256').update('another bundle').digest('hex');
    const userData = agentUserData({ endpoint: stackUrl, region: 'us-east-1', bundleUrl: `${stackUrl}/agent.js`, bundleSha256: other });

    // Act
    const { code, output } = await boot(userData, `berth-user-data-${tag}-2`).done;

    // Assess: the script stops at the check; IMDS was asked for the instance id only, never for the document.
    expect(code).not.toBe(0);
    expect(output).toMatch(/FAILED/);
    expect(fake.requests.some((r) => r.includes('instance-identity'))).toBe(false);
    expect((await h.berth.store.hosts.get(instanceId))!.status).toBe('LAUNCHING');
  }, 60_000);
});
