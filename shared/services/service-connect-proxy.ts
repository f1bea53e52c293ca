import type { Berth } from '../context';
import { IPV4 } from '../domain/task-network';
import type { ProxiedEndpoint } from '../haproxy/config';

/**
 * What every host's Service Connect proxy serves (agent/service-connect-proxy.ts asks through
 * the agent API): each endpoint of every namespace, with the publishing service's healthy tasks
 * as the LoadBalancing port knows them. A task published on its host's own ports is named by its
 * host id there: it is reached at the address its host's agent registered.
 */
export async function proxiedEndpoints(b: Berth): Promise<ProxiedEndpoint[]> {
  if (!b.serviceConnect || !b.loadBalancing) return [];
  const addresses = new Map<string, Promise<string | undefined>>();
  const addressOf = (id: string): Promise<string | undefined> => {
    if (IPV4.test(id)) return Promise.resolve(id);
    if (!addresses.has(id)) addresses.set(id, b.store.hosts.get(id).then((h) => h?.address));
    return addresses.get(id)!;
  };
  const endpoints = await b.serviceConnect.endpoints();
  return Promise.all(endpoints.map(async (e) => {
    const healthy = ((await b.loadBalancing!.health(e.targetGroupArn)) ?? []).filter((h) => h.state === 'healthy');
    const servers = await Promise.all(healthy.map(async (h) => ({ id: await addressOf(h.target.id), port: h.target.port })));
    return { targetGroupArn: e.targetGroupArn, proxyPort: e.proxyPort, servers: servers.filter((s): s is { id: string; port: number } => s.id !== undefined) };
  }));
}
