import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { removeLocalInstance } from '../../local/local-fleet-provider';
import { startPodmanService } from '../../local/podman';
import { registerDataDir } from './data-dirs';

const ROOT = join(__dirname, '..', '..');

/**
 * What `npm start` runs, read from package.json, as node's arguments: the control plane's bundle,
 * built again first only when a source changed (aside and renamed into place, so two lanes may
 * start it at once). The bundle is what a user runs, and on a loaded machine it was ready some
 * 4 s sooner than local/main.ts compiled under tsx.
 */
export const NPM_START: string[] = (() => {
  const [command, ...args] = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string).split(' ');
  if (command !== 'node') throw new Error(`npm start runs ${command}, not node`);
  return args.map((a) => (a.startsWith('-') ? a : join(ROOT, a)));
})();

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface LocalProcess {
  child: ChildProcess;
  output: string[];
}

/**
 * `npm start`'s program as a process of its own, resolved once it says it is ready. In a process
 * group of its own, it can be sent a terminal's Ctrl-C (interrupt).
 */
export async function spawnLocalMode(env: Record<string, string>, timeoutMs = 120_000, options: { ownGroup?: boolean } = {}): Promise<LocalProcess> {
  if (env.BERTH_DATA_DIR) registerDataDir(env.BERTH_DATA_DIR);
  const child = spawn(process.execPath, NPM_START, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownGroup ?? false,
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode not ready:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.join('').includes('berth: ready.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    child.once('exit', (code) => reject(new Error(`local mode exited (${code}):\n${output.join('')}`)));
  });
  return { child, output };
}

export function killHard(p: LocalProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGKILL');
  });
}

export function stopGently(p: LocalProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });
}

/** Ctrl-C in the terminal: SIGINT to every process of the group (spawned with ownGroup). */
export function interrupt(p: LocalProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    process.kill(-p.child.pid!, 'SIGINT');
  });
}

/** Resolves with the signal that ended the process (undefined for a plain exit). */
export function untilExit(p: LocalProcess, timeoutMs: number): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve, reject) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve(p.child.signalCode ?? undefined);
    const timer = setTimeout(() => reject(new Error(`local mode still alive after ${timeoutMs} ms:\n${p.output.join('').slice(-4000)}`)), timeoutMs);
    p.child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal ?? undefined);
    });
  });
}

/**
 * Once a test's last local mode process on a data directory has stopped: removes what its hosts
 * left for adoption (tasks' containers, namespaces, networks, volumes), every region's, through a
 * podman service of its own, since that data directory never starts again.
 */
export async function discardLocalData(dataDir: string): Promise<void> {
  const regions = join(dataDir, 'regions');
  const instances = [dataDir, ...(existsSync(regions) ? readdirSync(regions).map((r) => join(regions, r)) : [])];
  const podman = await startPodmanService({ dataDir, log: () => {} });
  try {
    const runtime = new DockerRuntime({ socketPath: podman.socketPath });
    for (const instance of instances) await removeLocalInstance(runtime, realpathSync(instance));
  } finally {
    await podman.stop();
  }
}
