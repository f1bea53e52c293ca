import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';

/**
 * Task networks are kept apart by a rule set Berth owns, not by the engine's: a chain of its own
 * in the mangle table, jumped to from mangle's FORWARD, that drops every packet routed from one
 * task network's bridge to another's. The engine names each task network's bridge after
 * BRIDGE_PREFIX (bridgeName), so one static rule covers every task network, present and future,
 * of every agent and every local mode on the machine: nothing is added or removed per network,
 * so there is no window while networks come and go, and nothing is left behind by one.
 *
 * Why mangle: the filter table's FORWARD chain belongs to the engines. netavark 1.4 deletes its
 * own isolation jump whenever any isolated network is torn down, and its NETAVARK_FORWARD chain
 * accepts everything a network sends; Docker keeps its chains on top. Neither touches mangle,
 * whose FORWARD hook runs before filter's, so a drop there holds whatever they add or delete.
 *
 * The same chain drops whatever a task network sends to EC2's instance metadata service, which
 * a task would otherwise reach through the host's routing (the host's role is behind it).
 *
 * What stays open: a task's own loopback (never routed) and the host to a task's address and back
 * (OUTPUT and INPUT, never FORWARD); a task reaching outside the host, whose packets leave by
 * another interface. A task network holds one namespace (one pause container), so nothing is
 * bridged between two endpoints of one bridge.
 */

export const ISOLATION_CHAIN = 'BERTH-ISOLATION';
/** Task bridges are named `${BRIDGE_PREFIX}` and 10 hex digits (Linux allows 15 characters). */
export const BRIDGE_PREFIX = 'berth';
const TABLE = 'mangle';
const COMMENT = 'berth: no traffic between task networks';
/** EC2's instance metadata service: a task that reached it could take the host's role. */
export const IMDS_ADDRESS = '169.254.169.254';
const IMDS_COMMENT = 'berth: tasks never reach the instance metadata service';

/** The bridge a task network gets: derived from its name, so a retried create asks for the same. */
export function bridgeName(network: string): string {
  return `${BRIDGE_PREFIX}${createHash('sha256').update(network).digest('hex').slice(0, 10)}`;
}

export type IsolationOutcome = 'kept' | 'not root';

export interface IsolationRuleSet {
  /** The chain's name; tests pass one of their own. */
  chain: string;
  /** The interface prefix the drop matches. */
  bridgePrefix: string;
  /** The metadata service's address tasks may not reach (EC2's unless configured otherwise, as tests do). */
  metadataAddress?: string;
}

export const ISOLATION_RULE_SET: IsolationRuleSet = { chain: ISOLATION_CHAIN, bridgePrefix: BRIDGE_PREFIX };

/** The chain's rules, each as `iptables -S` prints it, so what is in place can be compared. */
export function isolationRules(set: IsolationRuleSet): string[] {
  return [
    `-A ${set.chain} -i ${set.bridgePrefix}+ -o ${set.bridgePrefix}+ -m comment --comment "${COMMENT}" -j DROP`,
    // With the launch template's hop limit of 1 (IMDSv2's answers die one hop out), the second wall.
    `-A ${set.chain} -d ${set.metadataAddress ?? IMDS_ADDRESS}/32 -i ${set.bridgePrefix}+ -m comment --comment "${IMDS_COMMENT}" -j DROP`,
  ];
}

/**
 * Puts the rule set in place, as often as it is called, from as many agents as share the host:
 * the chain's content is written whole in one iptables-restore transaction (which replaces it, so
 * it never holds two copies or half of one), and the jump is added only when missing. Without
 * root it cannot touch iptables and says so.
 */
export async function keepTaskNetworksApart(uid = process.getuid?.(), set: IsolationRuleSet = ISOLATION_RULE_SET): Promise<IsolationOutcome> {
  if (uid !== 0) return 'not root';
  const wanted = isolationRules(set);
  // Written only when it differs: every agent on the host calls this as it starts, and a rewrite
  // would zero the drop counters an operator (or a test) reads.
  const held = await chainRules(set.chain);
  if (held.length !== wanted.length || held.some((r, i) => r !== wanted[i])) {
    const rules = [`*${TABLE}`, `:${set.chain} - [0:0]`, ...wanted, 'COMMIT', ''].join('\n');
    // --noflush leaves every other chain alone; the chain declared is flushed and refilled.
    if ((await run('iptables-restore', ['-w', '--noflush'], rules)) === undefined) {
      throw new Error(`cannot write the ${set.chain} chain with iptables-restore`);
    }
  }
  // Agents that start together each took turns at iptables' own lock only per command: two of
  // them finding no jump both added one, then both removed the copy they counted, leaving none.
  if ((await run('flock', [JUMP_LOCK, 'sh', '-c', ONE_JUMP, 'sh', set.chain])) === undefined) {
    throw new Error(`cannot add the jump to ${set.chain} to the ${TABLE} table's FORWARD chain`);
  }
  return 'kept';
}

/** The file agents sharing a host hold while they check, add and de-duplicate the jump. */
const JUMP_LOCK = '/run/berth-isolation.lock';

/** Adds the jump to the chain named by $1 when it is missing; leaves one copy of a doubled one (an agent of an earlier version had no lock). */
const ONE_JUMP = [
  'PATH="$PATH:/usr/sbin:/sbin"',
  `iptables -w -t ${TABLE} -C FORWARD -j "$1" 2>/dev/null || iptables -w -t ${TABLE} -I FORWARD 1 -j "$1" || exit 1`,
  `while [ "$(iptables -w -t ${TABLE} -S FORWARD | grep -cxF -- "-A FORWARD -j $1")" -gt 1 ]; do iptables -w -t ${TABLE} -D FORWARD -j "$1" || break; done`,
].join('\n');

/** The FORWARD rule that sends every forwarded packet through the chain. */
export const jumpOf = (chain: string) => ['FORWARD', '-j', chain] as const;

/** How many jumps to the chain mangle's FORWARD chain holds. */
export async function countJumps(chain = ISOLATION_CHAIN): Promise<number> {
  const rules = (await run('iptables', ['-w', '-t', TABLE, '-S', 'FORWARD'])) ?? '';
  return rules.split('\n').filter((r) => r.trim() === `-A FORWARD -j ${chain}`).length;
}

/** The chain's rules as `iptables -S` prints them (empty when it does not exist). */
export async function chainRules(chain = ISOLATION_CHAIN): Promise<string[]> {
  const rules = (await run('iptables', ['-w', '-t', TABLE, '-S', chain])) ?? '';
  return rules.split('\n').filter((r) => r.startsWith('-A '));
}

/** Runs iptables (waiting for its lock); resolves whether it succeeded. */
export async function iptables(args: readonly string[]): Promise<boolean> {
  return (await run('iptables', ['-w', ...args])) !== undefined;
}

/** Its output, or undefined when it failed. */
function run(command: string, args: readonly string[], input?: string): Promise<string | undefined> {
  const once = (file: string) => new Promise<string | undefined | 'missing'>((resolve) => {
    const child = execFile(file, args, (error, stdout) =>
      resolve(error ? ((error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : undefined) : stdout));
    if (input !== undefined) child.stdin?.end(input);
  });
  // /usr/sbin is often missing from PATH.
  return once(command).then((r) => (r === 'missing' ? once(`/usr/sbin/${command}`) : r)).then((r) => (r === 'missing' ? undefined : r));
}
