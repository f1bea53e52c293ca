import type { Berth } from '../context';
import type { Task } from '../domain/task';
import type { ServiceConnectEndpoint } from '../cloud/service-connect';
import { IPV4 } from '../domain/task-network';
import { INGRESS_PORT_OFFSET, type ProxiedEndpoint, type ProxiedServer } from '../haproxy/config';
import { serviceGroup } from './apply';

/**
 * What every host's Service Connect proxy serves (agent/service-connect-proxy.ts asks through
 * the agent API): each endpoint of every namespace, with the publishing service's healthy tasks
 * as the LoadBalancing port knows them, each reached the way this host can reach it.
 */

/** A healthy target, with where it runs. */
export interface LocatedTarget {
  id: string;
  port: number;
  /**
   * `task`: the task's own address (awsvpc), reachable only from its host; `host`: a port its
   * host published, reachable at the host's address (an `instance` target names the host by id).
   */
  kind: 'task' | 'host';
  /** The host it runs on, when known, and that host's registered address. */
  hostId?: string;
  hostAddress?: string;
}

/**
 * One endpoint for the proxy of host `self`, decided purely: a task on this host (or of no known
 * host: the local mode's single machine) is reached at its own address; a task on another host at
 * that host's ingress, one server per host weighted by its tasks; a published host port at its
 * host's address. This host's own tasks are offered to the others on its ingress.
 */
export function proxyPlan(endpoint: Pick<ServiceConnectEndpoint, 'targetGroupArn' | 'proxyPort'>, targets: readonly LocatedTarget[], self: { hostId: string; address?: string }): ProxiedEndpoint {
  const ingressPort = endpoint.proxyPort + INGRESS_PORT_OFFSET;
  const servers: ProxiedServer[] = [];
  const viaIngress = new Map<string, number>();
  const own: ProxiedServer[] = [];
  for (const t of targets) {
    if (t.kind === 'host') {
      if (t.hostAddress !== undefined) servers.push({ id: t.hostAddress, port: t.port });
      continue;
    }
    if (t.hostId === undefined || t.hostId === self.hostId) {
      servers.push({ id: t.id, port: t.port });
      if (t.hostId === self.hostId) own.push({ id: t.id, port: t.port });
    } else if (t.hostAddress !== undefined) {
      viaIngress.set(t.hostAddress, (viaIngress.get(t.hostAddress) ?? 0) + 1);
    }
  }
  for (const [address, count] of viaIngress) servers.push({ id: address, port: ingressPort, weight: count });
  return {
    targetGroupArn: endpoint.targetGroupArn, proxyPort: endpoint.proxyPort, servers,
    ...(own.length > 0 && self.address !== undefined ? { ingress: { bind: self.address, port: ingressPort, servers: own } } : {}),
  };
}

/**
 * Which host runs the live task at each address, of a service's tasks. A stopped task's record
 * keeps its address for an hour after the address is free again, so only live tasks count; an
 * address that live tasks on two hosts hold (on EC2 a task's address is local to its host) maps to
 * `null`: no one can tell which host a target at it is on.
 */
export function hostsByAddress(tasks: readonly Pick<Task, 'lastStatus' | 'hostId' | 'network'>[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const t of tasks) {
    const address = t.network?.privateIPv4Address;
    if (t.lastStatus === 'STOPPED' || !address || !t.hostId) continue;
    out.set(address, out.has(address) && out.get(address) !== t.hostId ? null : t.hostId);
  }
  return out;
}

/** The owner service's tasks' addresses: which host runs the task at each. */
async function taskHosts(b: Berth, owner: string): Promise<Map<string, string | null>> {
  const m = /:service\/([^/]+)\/([^/]+)$/.exec(owner);
  if (!m) return new Map();
  return hostsByAddress(await b.store.tasks.listByGroup(m[1], serviceGroup(m[2])));
}

/** Every endpoint as host `hostId`'s proxy serves it. */
export async function proxiedEndpoints(b: Berth, hostId: string): Promise<ProxiedEndpoint[]> {
  if (!b.serviceConnect || !b.loadBalancing) return [];
  const addresses = new Map((await b.store.hosts.list()).flatMap((h) => (h.address ? [[h.hostId, h.address] as const] : [])));
  const self = { hostId, address: addresses.get(hostId) };
  const endpoints = await b.serviceConnect.endpoints();
  return Promise.all(endpoints.map(async (e) => {
    const healthy = ((await b.loadBalancing!.health(e.targetGroupArn)) ?? []).filter((h) => h.state === 'healthy');
    const hostOf = healthy.some((h) => IPV4.test(h.target.id)) ? await taskHosts(b, e.owner) : new Map<string, string | null>();
    const located = healthy.flatMap(({ target: t }): LocatedTarget[] => {
      if (!IPV4.test(t.id)) return [{ id: t.id, port: t.port, kind: 'host', hostId: t.id, hostAddress: addresses.get(t.id) }];
      const on = hostOf.get(t.id);
      // Sent to either host, half the requests would reach the wrong task.
      if (on === null) return [];
      return [{ id: t.id, port: t.port, kind: 'task', ...(on ? { hostId: on, hostAddress: addresses.get(on) } : {}) }];
    });
    return proxyPlan(e, located, self);
  }));
}
