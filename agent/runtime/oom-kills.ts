import { closeSync, constants, openSync, readSync } from 'node:fs';

/**
 * Whether the kernel killed a container for memory, from the kernel's own log.
 *
 * Docker says so in State.OOMKilled, but podman (4.3 with runc, on cgroup v1 here) reports an
 * OOM kill as exit 137 with OOMKilled false, and the counter the kernel keeps (memory.oom_control's
 * oom_kill on v1, memory.events on v2) lives in the container's own cgroup, which the engine
 * removes as the container exits, often before anyone can read it. The kernel also writes one
 * line per OOM kill to its log, naming the killed process's cgroup, which holds the container's
 * id whatever the engine and cgroup driver (`/docker/ID`, `docker-ID.scope`, `libpod-ID`):
 *
 *   oom-kill:constraint=CONSTRAINT_MEMCG,...,oom_memcg=/...,task_memcg=/libpod_parent/libpod-ID,task=dd,pid=21383,uid=0
 *
 * That line is written before the process dies, so it is there once the engine reports the exit.
 * Reading /dev/kmsg needs root (CAP_SYSLOG), which the agent has on a host; without it the answer
 * is false and only the engine's word counts.
 */

const KERNEL_LOG = '/dev/kmsg';
const RECORD_BYTES = 8192;

/** True when a line of the kernel's log records an OOM kill of a process in the container's cgroup. */
export function logShowsOomKill(lines: Iterable<string>, containerId: string): boolean {
  for (const line of lines) {
    const at = line.indexOf('oom-kill:');
    if (at < 0) continue;
    const memcg = /(?:^|,)task_memcg=([^,]*)/.exec(line.slice(at + 'oom-kill:'.length))?.[1];
    if (memcg?.includes(containerId)) return true;
  }
  return false;
}

/**
 * The kernel's log as it is now, line by line: /dev/kmsg gives one record per read, and says
 * EAGAIN at its end (EPIPE for records overwritten while reading, which are skipped). Undefined
 * when it cannot be read.
 */
export function readKernelLog(path: string = KERNEL_LOG): string[] | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(RECORD_BYTES);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue;
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  return Buffer.concat(chunks).toString('utf8').split('\n');
}

/** Whether the kernel's log records an OOM kill in the container; false when the log cannot be read. */
export function kernelKilledForMemory(containerId: string, path?: string): boolean {
  const lines = readKernelLog(path);
  return lines !== undefined && logShowsOomKill(lines, containerId);
}
