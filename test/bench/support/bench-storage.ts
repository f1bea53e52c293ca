import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeContainersConf } from '../../../local/podman';
import { engineLeftovers, processLeftovers } from '../../support/leftovers';

/**
 * A containers-storage of a bench's own, under its data directory: other local modes and test
 * runs on the machine neither share its containers nor contend for its podman database and locks.
 * startLocal passes process.env on to podman, its service and the agents.
 */
export function privateStorage(dataDir: string): void {
  const conf = join(dataDir, 'storage.conf');
  writeFileSync(conf, [
    '[storage]',
    'driver = "overlay"',
    `graphroot = "${join(dataDir, 'storage', 'graph')}"`,
    `runroot = "${join(dataDir, 'storage', 'run')}"`,
    '',
  ].join('\n'));
  process.env.CONTAINERS_STORAGE_CONF = conf;
}

/** Ends the podman service the local mode started in `dataDir`, by its pid file. */
export function stopPodmanService(dataDir: string): void {
  const pidFile = join(dataDir, 'podman.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    // Only if the pid is still that service: it may have exited and the pid been reused.
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(dataDir, 'podman.sock'))) process.kill(pid, 'SIGTERM');
  } catch {
    // gone already
  }
}

/** Removes the data directory; overlay leaves its own mount in the storage, which rm -r cannot remove. Throws what is left. */
export function removeDataDir(dataDir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m): m is string => m !== undefined && m.startsWith(dataDir))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // rm says what is left
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Removes what the local mode of `dataDir` left in the engine: every container of the bench's own
 * storage (a plain close, as Ctrl-C makes it, leaves running tasks for the next start), their pods
 * and volumes, and the networks labelled with `dataDir` (networks are the machine's, not the
 * storage's). Their conmon processes end with them.
 */
export function removeEngineObjects(dataDir: string): void {
  if (!process.env.CONTAINERS_STORAGE_CONF) throw new Error('removeEngineObjects: only in a bench\'s own storage (privateStorage)');
  // The local mode's own containers.conf (runc), as its podman calls use it.
  const env = { ...process.env, CONTAINERS_CONF: writeContainersConf(dataDir) };
  const podman = (args: string[]) => execFileSync('podman', args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
  // A task's containers join its namespace's, which cannot go before them: podman removes them in
  // parallel and refuses a namespace whose dependents are still going, so a pass or two more.
  for (let pass = 1; ; pass++) {
    try {
      podman(['rm', '--all', '--force', '--depend', '--time', '0']);
      break;
    } catch (e) {
      if (pass === 3) throw e;
    }
  }
  podman(['volume', 'rm', '--all', '--force']);
  const networks = (JSON.parse(podman(['network', 'ls', '--format', 'json']) || '[]') as { name: string; labels?: Record<string, string> }[])
    .filter((n) => n.labels?.['berth.instance'] === dataDir || n.labels?.['berth.instance']?.startsWith(`${dataDir}/`));
  for (const n of networks) podman(['network', 'rm', '--force', n.name]);
}

/**
 * A bench's last check: nothing it made may remain, neither engine objects labelled with its data
 * directories (the test run's own check, test/support/leftovers.js) nor processes naming its
 * directories (conmon, HAProxy, podman's service). Returns what is left, one line each.
 */
export function leftBehind(dataDirs: string[], dirs: string[] = dataDirs): string[] {
  return [...engineLeftovers(dataDirs), ...processLeftovers(dirs)];
}

/**
 * `leftBehind`, once what was just removed has had up to `timeoutMs` to go: a container's conmon
 * ends a moment after its container is removed. Returns what is still left then.
 */
export async function leftBehindOnceGone(dataDirs: string[], dirs: string[] = dataDirs, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = leftBehind(dataDirs, dirs);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Throws, naming each, what `leftBehind` finds: a bench that leaves something running fails. */
export function assertNothingLeft(dataDirs: string[], dirs: string[] = dataDirs): void {
  const left = leftBehind(dataDirs, dirs);
  if (left.length > 0) throw new Error(`the bench left ${left.length} thing(s) behind:\n  ${left.join('\n  ')}`);
}
