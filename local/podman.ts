import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Log, isStaticElf } from './packages';

/**
 * What the local mode needs of podman (packages.ts installs it): a containers.conf that works on
 * this kind of machine, podman's Docker-compatible API on a socket of our own, and a busybox image made
 * without any registry.
 */

export type { Log };

export const BUSYBOX_IMAGE = 'localhost/busybox:latest';
// Bump the revision when the rootfs changes, so machines that have the old image rebuild it.
const BUSYBOX_LABEL = 'berth.rootfs';
const BUSYBOX_REVISION = '1';

/**
 * Under the data directory: CA certificates (PEM) the local mode's podman trusts for registries
 * beside the system's, for a registry with a certificate of its own. Read when podman starts.
 */
export const REGISTRY_CERTS_DIR = 'registry-certs';
// Go's defaults on Linux, which SSL_CERT_DIR replaces; the system's bundle file stays trusted.
const SYSTEM_CERT_DIRS = '/etc/ssl/certs:/etc/pki/tls/certs';

const PING_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

const withSudo = (command: string) => (process.getuid?.() === 0 ? command : `sudo ${command}`);

/**
 * Writes the containers.conf every podman call of ours uses: crun fails on hybrid cgroups, and
 * containers do not start without nofile and nproc limits. k8s-file logs need no journald, so
 * `logs --follow` works on machines without systemd.
 */
export function writeContainersConf(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'containers.conf');
  writeFileSync(path, [
    '# Written by berth; passed to podman through CONTAINERS_CONF.',
    '[containers]',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    'log_driver = "k8s-file"',
    '',
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n'));
  return path;
}

export interface PodmanService {
  /** The Docker-compatible API's unix socket. */
  socketPath: string;
  /** The environment other podman commands should run with (CONTAINERS_CONF). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts `podman system service` on `${dataDir}/podman.sock` and waits until it answers. */
export async function startPodmanService(options: { dataDir: string; log: Log }): Promise<PodmanService> {
  const { dataDir, log } = options;
  const socketPath = join(dataDir, 'podman.sock');
  const registryCerts = join(dataDir, REGISTRY_CERTS_DIR);
  mkdirSync(registryCerts, { recursive: true });
  const env = {
    ...process.env, CONTAINERS_CONF: writeContainersConf(dataDir),
    // podman is a Go program: its TLS roots come from SSL_CERT_DIR, a list of directories.
    SSL_CERT_DIR: `${process.env.SSL_CERT_DIR ?? SYSTEM_CERT_DIRS}:${registryCerts}`,
  };
  // A local mode killed without a word leaves its service running: end it, not to pile them up.
  await stopOrphan(join(dataDir, 'podman.pid'), log);
  // A socket left by a service that died would make us think it answers, or make the bind fail.
  if (existsSync(socketPath)) unlinkSync(socketPath);

  log(`starting podman system service on ${socketPath}`);
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: Ctrl-C reaches the local mode and its agents, which still need
    // the service to remove their namespaces; the local mode stops it after them.
    detached: true,
  });
  const pidFile = join(dataDir, 'podman.pid');
  if (child.pid !== undefined) writeFileSync(pidFile, String(child.pid));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (e) => {
      stderr += `\n${e.message}`;
      resolve(null);
    });
  });

  // The service lives in a group of its own, so it would outlive this process: a process that
  // exits without stopping it (an uncaught error, a test worker ended) takes it along.
  const endWithUs = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', endWithUs);
  const stop = async () => {
    process.off('exit', endWithUs);
    await stopChild(child, exited);
    rmSync(pidFile, { force: true });
  };
  const deadline = Date.now() + PING_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (await ping(socketPath)) break;
    if (exitCode !== undefined) {
      throw new Error(`podman system service exited (${exitCode ?? 'failed to start'}) before answering on ${socketPath}: ${stderr.trim() || 'no output'}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`podman system service did not answer GET /_ping on ${socketPath} within ${PING_TIMEOUT_MS / 1000} s: ${stderr.trim() || 'no output'}`);
    }
    await sleep(100);
  }
  return { socketPath, env, stop };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopOrphan(pidFile: string, log: Log): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  // Only a podman process is ours to end: the pid may have been reused since.
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  if (!cmdline.includes('podman')) return;
  log(`stopping the podman service a previous run left behind (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Makes BUSYBOX_IMAGE available without a registry: a rootfs of Debian's static busybox with a
 * link per applet, imported as an image. An image of that name that we did not build (it lacks
 * our label) is replaced, so tests can count on what this rootfs holds (/tmp, users, applets).
 */
export async function ensureBusyboxImage(options: { env: NodeJS.ProcessEnv; log: Log }): Promise<void> {
  const { env, log } = options;
  if (await succeeds('podman', ['image', 'exists', BUSYBOX_IMAGE], env)) {
    const label = await run('podman', ['image', 'inspect', '--format', `{{index .Labels "${BUSYBOX_LABEL}"}}`, BUSYBOX_IMAGE], { env });
    if (label.trim() === BUSYBOX_REVISION) return;
    log(`${BUSYBOX_IMAGE} exists but was not built by berth; rebuilding it`);
  }

  const busybox = '/bin/busybox';
  if (!existsSync(busybox) || !isStaticElf(busybox)) {
    throw new Error(`${BUSYBOX_IMAGE} is built from Debian's static busybox, and ${busybox} is ${existsSync(busybox) ? 'not static' : 'missing'}; install it with: ${withSudo('apt-get install -y busybox-static')}`);
  }
  log(`building ${BUSYBOX_IMAGE} from Debian's busybox-static`);
  const work = mkdtempSync(join(tmpdir(), 'berth-busybox-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp']) mkdirSync(join(rootfs, dir), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync(busybox, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    // Every applet in /bin, and also where a distribution puts it (usr/bin/env, sbin/ip, ...),
    // so both `/bin/sleep` and `/usr/bin/env` work.
    const applets = (await run(busybox, ['--list'])).split('\n').map((l) => l.trim()).filter(Boolean);
    const fullPaths = (await run(busybox, ['--list-full'])).split('\n').map((l) => l.trim()).filter((l) => l.includes('/'));
    for (const path of [...applets.map((a) => `bin/${a}`), ...fullPaths]) {
      const link = join(rootfs, path);
      if (existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync('/bin/busybox', link);
    }
    writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');

    const tarball = join(work, 'rootfs.tar');
    await run('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tarball, '.']);
    await run('podman', [
      'import',
      '--change', 'CMD ["/bin/sh"]',
      '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change', `LABEL ${BUSYBOX_LABEL}=${BUSYBOX_REVISION}`,
      tarball, BUSYBOX_IMAGE,
    ], { env });
    log(`built ${BUSYBOX_IMAGE} (${applets.length} applets)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: options.env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`, { cause: error }));
      else resolve(String(stdout));
    });
  });
}

function succeeds(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => execFile(file, args, { env }, (error) => resolve(!error)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
