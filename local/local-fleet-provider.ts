import { randomBytes } from 'node:crypto';
import { capacityOf, findType } from '../shared/capacity/catalog';
import type { InstanceType } from '../shared/capacity/types';
import { FleetLaunchError, type FleetProvider, type LaunchRequest, type LaunchedHost } from '../shared/cloud/fleet-provider';
import { isLiveHost } from '../shared/scheduler/placement';
import type { HostRecord } from '../shared/store';
import { LABELS, type ContainerRuntime } from '../agent/runtime/container-runtime';
import type { LocalFleet } from './fleet';

/**
 * The fleet provider on one machine: a "host" is an agent process with the capacity of the
 * instance type asked for. An optional boot delay imitates EC2's. Terminating a host ends its
 * agent and removes its containers, as terminating an instance would.
 */
export class LocalFleetProvider implements FleetProvider {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly fleet: LocalFleet,
    private readonly catalog: InstanceType[],
    private readonly runtime: ContainerRuntime,
    private readonly bootDelayMs = 0,
  ) {}

  async launch(request: LaunchRequest): Promise<LaunchedHost[]> {
    const type = findType(this.catalog, request.instanceType);
    if (!type) throw new FleetLaunchError(request, ['InvalidInstanceType'], `Unknown instance type ${request.instanceType}`);
    const capacity = capacityOf(type);
    return Array.from({ length: request.count }, () => {
      const hostId = `local-${randomBytes(4).toString('hex')}`;
      // Handed to this host's agent alone, as EC2 would through the instance's own metadata.
      const bootstrapToken = randomBytes(32).toString('base64url');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.fleet.start({ hostId, ...capacity }, { BERTH_BOOTSTRAP_TOKEN: bootstrapToken });
      }, this.bootDelayMs);
      this.timers.add(timer);
      return { hostId, instanceType: type.name, market: request.market, bootstrapToken };
    });
  }

  async terminate(hostIds: string[]): Promise<void> {
    await Promise.all(hostIds.map(async (hostId) => {
      // As EC2 ends a machine: at once. A graceful agent stop would tidy what is removed below
      // anyway, and would hold up the capacity cycle that terminates the host for seconds.
      await this.fleet.kill(hostId);
      const containers = await this.runtime.list({ [LABELS.host]: hostId });
      await Promise.all(containers.map((c) => this.runtime.remove(c.id)));
      // The host's task networks, which outlive their containers in the engine.
      const networks = await this.runtime.listNetworks({ [LABELS.host]: hostId });
      await Promise.all(networks.map((n) => this.runtime.removeNetwork(n)));
    }));
  }

  /** After a restart of the local mode: the hosts the store still counts get their agents back. */
  resume(hosts: HostRecord[]): number {
    let resumed = 0;
    for (const h of hosts) {
      if (!isLiveHost(h.status) || this.fleet.agents.has(h.hostId)) continue;
      this.fleet.start({ hostId: h.hostId, cpu: h.cpu, memory: h.memory });
      resumed++;
    }
    return resumed;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
