import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalPackages } from '../../local/packages';
import { eventually } from './harness';
import { TEST_PACKAGES } from './test-packages';

/**
 * A real registry for the tests: Debian's `docker-registry` (the CNCF distribution registry) on
 * 127.0.0.1 and a free port, serving TLS with a certificate from a CA made here with openssl,
 * behind htpasswd basic auth (a bcrypt line from apache2-utils' htpasswd). Images reach it with
 * `podman push`, trusting the CA through --cert-dir.
 */

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of an image reference. */
  host: string;
  username: string;
  password: string;
  /** The CA's certificate (PEM file) and a directory holding it as `ca.crt` (podman's --cert-dir). */
  caFile: string;
  certDir: string;
  /** Pushes a local image under `repository:tag` and resolves with the manifest digest the registry stored. */
  push(localImage: string, reference: string, env: NodeJS.ProcessEnv): Promise<string>;
  /** The digest the registry serves for `repository:tag` now, asked over HTTPS with the CA. */
  manifestDigest(reference: string): Promise<string>;
  stop(): Promise<void>;
  /** Starts it again on the same port and storage, after stop(). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** What the registry needs from apt: `npm test` has installed them already, a benchmark may not have. */
const REGISTRY_PACKAGES = TEST_PACKAGES.filter((p) => ['docker-registry', 'apache2-utils', 'openssl'].includes(p.name));

export async function startTestRegistry(log: (m: string) => void = () => {}): Promise<TestRegistry> {
  await ensureLocalPackages(log, undefined, REGISTRY_PACKAGES, 'the test registry');
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = 'berth';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=berth-test-registry-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.pem']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'server.ext', '-out', 'server.pem']);
  writeFileSync(join(certDir, 'ca.crt'), readFileSync(join(dir, 'ca.pem')));
  writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', username, password]));
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'storage')} }, delete: { enabled: true } }`,
    `http: { addr: "${host}", tls: { certificate: ${join(dir, 'server.pem')}, key: ${join(dir, 'server.key')} } }`,
    `auth: { htpasswd: { realm: berth-test, path: ${join(dir, 'htpasswd')} } }`,
    '',
  ].join('\n'));
  const ca = readFileSync(join(dir, 'ca.pem'));
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    output = '';
    child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.stderr!.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    await eventually(async () => {
      if (child!.exitCode !== null) throw new Error(`docker-registry exited (${child!.exitCode}): ${output}`);
      return (await httpsStatus(`https://${host}/v2/`, ca, authorization).catch(() => 0)) === 200;
    }, 15_000, `docker-registry answering on ${host}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();

  return {
    host, username, password, caFile: join(dir, 'ca.pem'), certDir,
    start, stop,
    async push(localImage, reference, env) {
      const digestFile = join(dir, `digest-${Date.now()}-${Math.random().toString(36).slice(2)}`);
      await run('podman', ['push', '--quiet', '--cert-dir', certDir, '--creds', `${username}:${password}`, '--digestfile', digestFile,
        localImage, `${host}/${reference}`], env);
      return readFileSync(digestFile, 'utf8').trim();
    },
    async manifestDigest(reference) {
      const [repository, tag] = reference.split(':');
      const r = await httpsRequest(`https://${host}/v2/${repository}/manifests/${tag}`, ca, authorization, 'HEAD', {
        Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      });
      const digest = r.headers['docker-content-digest'];
      if (r.status !== 200 || typeof digest !== 'string') throw new Error(`HEAD ${reference}: ${r.status}`);
      return digest;
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function httpsStatus(url: string, ca: Buffer, authorization: string): Promise<number> {
  return (await httpsRequest(url, ca, authorization, 'GET')).status;
}

async function httpsRequest(url: string, ca: Buffer, authorization: string, method: string, headers: Record<string, string> = {}) {
  const { request } = await import('node:https');
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    const req = request(url, { method, ca, headers: { Authorization: authorization, ...headers }, timeout: 2_000 }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`));
      else resolve(String(stdout));
    });
  });
}
