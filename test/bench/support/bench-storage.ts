import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
