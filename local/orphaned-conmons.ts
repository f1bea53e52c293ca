import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * conmon processes (with the `runc init` each holds) of containers that no longer exist.
 *
 * A podman service stopped while it starts a container (the one a local mode killed with SIGKILL
 * left running, which the next start ends) can leave the container created in runc, its
 * `runc init` waiting to be told to start, while podman's own record never says so. Removing the
 * container then deletes its storage, bundle included, and leaves the two processes running for
 * ever, each holding the container's namespaces. Podman no longer lists the container, so no
 * removal of ours can reach them: the local mode ends them as it starts and as it stops.
 */

/** Berth's containers' names begin so (task containers and namespace owners alike). */
const BERTH_NAME = /^berth-/;

export interface ProcessEntry {
  pid: number;
  ppid: number;
  argv: string[];
}

/**
 * The pids to end, decided purely: each conmon of a Berth container whose bundle directory is
 * gone, and the processes it started.
 */
export function orphanedConmons(processes: readonly ProcessEntry[], exists: (path: string) => boolean): number[] {
  const argOf = (argv: string[], flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const conmons = processes.filter((p) => {
    if (!p.argv[0]?.endsWith('conmon')) return false;
    const name = argOf(p.argv, '-n');
    const bundle = argOf(p.argv, '-b');
    return name !== undefined && BERTH_NAME.test(name) && bundle !== undefined && !exists(bundle);
  }).map((p) => p.pid);
  const orphans = new Set(conmons);
  return [...conmons, ...processes.filter((p) => orphans.has(p.ppid)).map((p) => p.pid)];
}

/** This machine's processes, from /proc. */
function processes(): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      // stat: "pid (comm) state ppid ...": comm may hold spaces, so read after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      out.push({ pid: Number(entry), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), argv });
    } catch {
      // It ended while we looked.
    }
  }
  return out;
}

/** Ends every orphaned conmon and what it started; says how many processes it ended. */
export function endOrphanedConmons(log: (line: string) => void): number {
  const pids = orphanedConmons(processes(), existsSync);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (pids.length > 0) log(`ended ${pids.length} process(es) of containers podman no longer has (conmon and runc init)`);
  return pids.length;
}
