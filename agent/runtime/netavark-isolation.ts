import type Docker from 'dockerode';
import { execFile } from 'node:child_process';

/**
 * netavark 1.4 (Debian 12's podman) deletes the FORWARD chain's jump into its isolation chain
 * whenever any isolated network is torn down, and puts it back only when one is set up: in
 * between, every task network reaches every other. A jump of our own, which its teardown does not
 * match, keeps the isolation on. Docker keeps its own isolation rules in place and needs none.
 */

export const NETAVARK_ISOLATION_CHAIN = 'NETAVARK_ISOLATION_1';
/** Our jump; its comment sets it apart from netavark's own, which netavark deletes. */
export const ISOLATION_JUMP = ['FORWARD', '-m', 'comment', '--comment', 'berth: keep task networks isolated', '-j', NETAVARK_ISOLATION_CHAIN] as const;

export type IsolationOutcome = 'kept' | 'not podman' | 'not root';

/**
 * Makes sure our jump is in place, once: checked first, so running it again (another agent on
 * the same engine, a restart) adds nothing. Without root it cannot touch iptables and says so.
 */
export async function keepNetavarkIsolation(docker: Docker, uid = process.getuid?.()): Promise<IsolationOutcome> {
  const version: { Components?: { Name: string }[] } = await docker.version();
  if (!version.Components?.some((c) => /podman/i.test(c.Name))) return 'not podman';
  if (uid !== 0) return 'not root';
  // netavark makes the chain at its first isolated network; it is fine finding ours there.
  if (!(await iptables(['-S', NETAVARK_ISOLATION_CHAIN]))) await iptables(['-N', NETAVARK_ISOLATION_CHAIN]);
  if (await iptables(['-C', ...ISOLATION_JUMP])) return 'kept';
  if (!(await iptables(['-I', ISOLATION_JUMP[0], '1', ...ISOLATION_JUMP.slice(1)]))) {
    throw new Error('cannot add the task-network isolation rule to iptables');
  }
  // Agents sharing an engine may have raced between check and insert: one copy is enough.
  while ((await countJumps()) > 1) {
    if (!(await iptables(['-D', ...ISOLATION_JUMP]))) break;
  }
  return 'kept';
}

/** How many copies of our jump the FORWARD chain holds. */
export async function countJumps(): Promise<number> {
  const rules = await iptablesOutput(['-S', ISOLATION_JUMP[0]]);
  return rules.split('\n').filter((r) => r.includes(ISOLATION_JUMP[4])).length;
}

/** Runs iptables (waiting for its lock); resolves whether it succeeded. */
export async function iptables(args: readonly string[]): Promise<boolean> {
  return (await runIptables(args)) !== undefined;
}

async function iptablesOutput(args: readonly string[]): Promise<string> {
  return (await runIptables(args)) ?? '';
}

/** Its output, or undefined when it failed. */
function runIptables(args: readonly string[]): Promise<string | undefined> {
  const run = (file: string) => new Promise<string | undefined | 'missing'>((resolve) => {
    execFile(file, ['-w', ...args], (error, stdout) =>
      resolve(error ? ((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : undefined) : stdout));
  });
  // /usr/sbin is often missing from PATH.
  return run('iptables').then((r) => (r === 'missing' ? run('/usr/sbin/iptables') : r)).then((r) => (r === 'missing' ? undefined : r));
}
