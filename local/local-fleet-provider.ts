import { randomBytes } from 'node:crypto';
import { capacityOf, findType } from '../shared/capacity/catalog';
import type { InstanceType } from '../shared/capacity/types';
import { FleetLaunchError, type FleetProvider, type LaunchRequest, type LaunchedHost, type ProviderHost } from '../shared/cloud/fleet-provider';
import { isLiveHost } from '../shared/scheduler/placement';
import type { HostRecord } from '../shared/store';
import { LABELS, type ContainerRuntime } from '../agent/runtime/container-runtime';
import { removeUnusedNamespaces } from '../agent/task-namespaces';
import { removeTaskVolumes } from '../agent/task-volumes';
import type { LocalFleet } from './fleet';

/** How long after a host's termination its containers and networks are looked for once more. */
const SECOND_PASS_MS = 3_000;

/** How long a launch's client token answers with its first hosts (EC2 keeps its tokens at least a day). */
export const LAUNCH_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The fleet provider on one machine: a "host" is an agent process with the capacity of the
 * instance type asked for. An optional boot delay imitates EC2's. Terminating a host ends its
 * agent and removes its containers and networks, as terminating an instance would. A launch
 * asked again with its client token answers with the hosts it started, as CreateFleet does.
 */
export class LocalFleetProvider implements FleetProvider {
  /** Hosts launched whose agents have not started yet, with the timer that starts them. */
  private readonly booting = new Map<string, NodeJS.Timeout>();
  /** Terminated hosts' second passes, due (by their timer) and under way. */
  private readonly secondPasses = new Map<NodeJS.Timeout, () => Promise<void>>();
  private readonly passing = new Set<Promise<void>>();
  /** Each launch's answer by client token, while the token lasts. */
  private readonly launches = new Map<string, { at: number; hosts: LaunchedHost[] }>();
  /** The hosts started and not terminated: what listHosts answers. */
  private readonly running = new Map<string, ProviderHost>();

  constructor(
    private readonly fleet: LocalFleet,
    private readonly catalog: InstanceType[],
    private readonly runtime: ContainerRuntime,
    private readonly bootDelayMs = 0,
    /** The provider's clock: when its hosts started, for the orphan sweep's grace. */
    private readonly now: () => number = Date.now,
  ) {}

  async launch(request: LaunchRequest): Promise<LaunchedHost[]> {
    const now = this.now();
    for (const [token, l] of this.launches) if (now - l.at > LAUNCH_TOKEN_TTL_MS) this.launches.delete(token);
    const earlier = this.launches.get(request.clientToken);
    if (earlier) return earlier.hosts.map((h) => ({ ...h }));
    const type = findType(this.catalog, request.instanceType);
    if (!type) throw new FleetLaunchError(request, ['InvalidInstanceType'], `Unknown instance type ${request.instanceType}`);
    const capacity = capacityOf(type);
    const hosts = Array.from({ length: request.count }, (): LaunchedHost => {
      const hostId = `local-${randomBytes(4).toString('hex')}`;
      // Handed to this host's agent alone, as EC2 would through the instance's own metadata.
      const bootstrapToken = randomBytes(32).toString('base64url');
      this.booting.set(hostId, setTimeout(() => {
        this.booting.delete(hostId);
        this.fleet.start({ hostId, ...capacity }, { BERTH_BOOTSTRAP_TOKEN: bootstrapToken });
      }, this.bootDelayMs));
      this.running.set(hostId, { hostId, launchedAt: now, clientToken: request.clientToken });
      return { hostId, instanceType: type.name, market: request.market, bootstrapToken };
    });
    this.launches.set(request.clientToken, { at: now, hosts });
    return hosts.map((h) => ({ ...h }));
  }

  async listHosts(): Promise<ProviderHost[]> {
    return [...this.running.values()].map((h) => ({ ...h }));
  }

  async terminate(hostIds: string[]): Promise<void> {
    await Promise.all(hostIds.map(async (hostId) => {
      this.running.delete(hostId);
      // A host terminated while it boots never starts.
      clearTimeout(this.booting.get(hostId));
      this.booting.delete(hostId);
      // As EC2 ends a machine: at once. A graceful agent stop would tidy what is removed below
      // anyway, and would hold up the capacity cycle that terminates the host for seconds.
      await this.fleet.kill(hostId);
      const host = { [LABELS.host]: hostId };
      await removeEngineObjects(this.runtime, host);
      // The engine finishes what the agent asked for just before it was killed (a namespace made
      // ahead, say) after the pass above has listed: a second pass, a little later, removes it.
      const pass = () => removeEngineObjects(this.runtime, host).then(() => {}, () => {});
      const timer = setTimeout(() => {
        this.secondPasses.delete(timer);
        this.track(pass());
      }, SECOND_PASS_MS);
      this.secondPasses.set(timer, pass);
    }));
  }

  /**
   * After a restart of the local mode: the hosts the store still counts get their agents back
   * (each agent keeps what its tasks use and removes its other namespaces). Everything else an
   * earlier run of this data directory left in the engine goes, as its hosts are gone; what
   * other local modes on the machine made is not theirs to touch, and is not.
   */
  async resume(hosts: HostRecord[]): Promise<{ resumed: number; removed: number }> {
    const live = hosts.filter((h) => isLiveHost(h.status) && !this.fleet.agents.has(h.hostId));
    const removed = await removeLocalInstance(this.runtime, this.fleet.instance, new Set(live.map((h) => h.hostId)));
    for (const h of live) {
      this.fleet.start({ hostId: h.hostId, cpu: h.cpu, memory: h.memory });
      this.running.set(h.hostId, { hostId: h.hostId, launchedAt: this.now() });
    }
    return { resumed: live.length, removed };
  }

  /**
   * Once the agents have stopped: the namespaces they kept ready, with their networks, where an
   * agent ran out of time to remove them. Tasks' containers and namespaces stay for adoption.
   */
  async removeUnused(): Promise<number> {
    const mine = { [LABELS.instance]: this.fleet.instance };
    return removeUnusedNamespaces(this.runtime, await this.runtime.list(mine), await this.runtime.listNetworks(mine));
  }

  /**
   * Everything this local mode's hosts made, tasks included: for a data directory that will not
   * start again (a test's), where leaving tasks for adoption would only leak them.
   */
  discardAll(): Promise<number> {
    return removeLocalInstance(this.runtime, this.fleet.instance);
  }

  private track(pass: Promise<void>): void {
    this.passing.add(pass);
    void pass.finally(() => this.passing.delete(pass));
  }

  /** Stops booting hosts; the second passes of terminated hosts run now rather than never. */
  async close(): Promise<void> {
    for (const t of this.booting.values()) clearTimeout(t);
    this.booting.clear();
    for (const [timer, pass] of this.secondPasses) {
      clearTimeout(timer);
      this.track(pass());
    }
    this.secondPasses.clear();
    await Promise.all(this.passing);
  }
}

/** Rounds of removal: what the engine would not remove in one (a removal racing a container's own exit or cleanup) is tried again. */
export const REMOVE_ROUNDS = 3;
const REMOVE_ROUND_PAUSE_MS = 250;

/**
 * Removes the containers, networks and task volumes a local mode (by its data directory's label,
 * LABELS.instance) made, except those of the hosts kept; returns how many it removed.
 */
export function removeLocalInstance(runtime: ContainerRuntime, instance: string, kept: ReadonlySet<string> = new Set()): Promise<number> {
  return removeEngineObjects(runtime, { [LABELS.instance]: instance }, kept);
}

/**
 * Every container, network and task volume carrying these labels, except those of the hosts
 * kept. One that fails does not stop the others (the networks are tried even when a container
 * failed), and what failed is tried again, up to REMOVE_ROUNDS rounds in all. Rejects, naming
 * each object left, when some are still there.
 */
export async function removeEngineObjects(
  runtime: ContainerRuntime, labels: Record<string, string>, kept: ReadonlySet<string> = new Set(), pauseMs = REMOVE_ROUND_PAUSE_MS,
): Promise<number> {
  let removed = 0;
  for (let round = 1; ; round++) {
    const failures: string[] = [];
    const failed = (what: string, e: unknown) => failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    const settle = async <T>(items: T[], remove: (item: T) => Promise<unknown>, what: (item: T) => string) => {
      const results = await Promise.allSettled(items.map(remove));
      results.forEach((r, i) => (r.status === 'fulfilled' ? removed++ : failed(what(items[i]), r.reason)));
    };
    const containers = (await runtime.list(labels)).filter((c) => !kept.has(c.labels[LABELS.host]));
    // A namespace's owner takes the containers that joined it along (ContainerRuntime.remove).
    await settle(containers, (c) => runtime.remove(c.id), (c) => `container ${c.name}`);
    // Task networks outlive their containers in the engine.
    const keptNetworks = new Set((await Promise.all([...kept].map((hostId) => runtime.listNetworks({ [LABELS.host]: hostId })))).flat());
    await settle((await runtime.listNetworks(labels)).filter((n) => !keptNetworks.has(n)), (n) => runtime.removeNetwork(n), (n) => `network ${n}`);
    // Tasks' own volumes of the hosts that are gone; a kept host's agent sees to its own.
    try {
      removed += await removeTaskVolumes(runtime, labels, (v) => kept.has(v[LABELS.host]));
    } catch (e) {
      failed('task volumes', e);
    }
    if (failures.length === 0) return removed;
    if (round >= REMOVE_ROUNDS) throw new Error(`cannot remove ${failures.length} engine object(s) after ${round} tries: ${failures.join('; ')}`);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
