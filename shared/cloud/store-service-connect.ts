import { randomBytes } from 'node:crypto';
import type { Partition } from '../domain/arns';
import { SERVICE_CONNECT_DRAIN_SECONDS } from '../haproxy/config';
import type { EndpointItem, EndpointTarget, ServiceConnectStore } from '../store/service-connect-store';
import type { LoadBalancing, Target, TargetHealth } from './load-balancing';
import {
  type Namespace, SERVICE_CONNECT_TARGET_GROUP, type ServiceConnect, type ServiceConnectEndpoint, type WantedEndpoint, isServiceConnectTargetGroup, planPublish,
} from './service-connect';

/** Where proxy ports start on the hosts: above the well-known and registered ports services use, below the hosts' dynamic host ports. */
export const FIRST_PROXY_PORT = 20_000;

/**
 * Service Connect on AWS, kept in Berth's own store (shared/store/service-connect-store.ts):
 * namespaces as Cloud Map's HTTP namespaces would be, each endpoint with a proxy port of its own
 * and its target group of tasks. It is also the LoadBalancing port for those target groups, so a
 * service's tasks join, drain from and leave them exactly as they do ELBv2's. Every host's
 * proxy (agent/service-connect-proxy.ts) reads the endpoints and their tasks through the agent
 * API and checks the tasks itself; here a task counts as healthy once registered (its service
 * registers it only when RUNNING), draining for SERVICE_CONNECT_DRAIN_SECONDS once deregistered.
 */
export class StoreServiceConnect implements ServiceConnect, LoadBalancing {
  constructor(private readonly store: ServiceConnectStore, private readonly partition: Partition, private readonly now: () => number) {}

  async namespace(ref: string): Promise<Namespace | undefined> {
    const n = (await this.store.namespaces()).find((x) => x.arn === ref || x.name === ref);
    return n && { arn: n.arn, id: n.id, name: n.name };
  }

  async createNamespace(name: string): Promise<Namespace> {
    const id = `ns-${randomBytes(8).toString('hex')}`;
    const { region, accountId } = this.partition;
    const n = await this.store.createNamespace({ arn: `arn:aws:servicediscovery:${region}:${accountId}:namespace/${id}`, id, name, createdAt: this.now() });
    return { arn: n.arn, id: n.id, name: n.name };
  }

  async endpoints(namespaceArn?: string): Promise<ServiceConnectEndpoint[]> {
    return (await this.store.endpoints()).filter((e) => namespaceArn === undefined || e.namespaceArn === namespaceArn).map(endpointOf);
  }

  async publish(owner: string, namespaceArn: string | undefined, wanted: readonly WantedEndpoint[]): Promise<ServiceConnectEndpoint[]> {
    const all = await this.store.endpoints();
    const { kept, removed, added } = planPublish(all, owner, namespaceArn, wanted);
    for (const e of removed) await this.store.deleteEndpoint(e);
    const used = new Set(all.filter((e) => !removed.includes(e)).map((e) => e.proxyPort));
    const out = kept.map(endpointOf);
    for (const w of added) {
      const targetGroupArn = `arn:aws:elasticloadbalancing:${this.partition.region}:${this.partition.accountId}:${SERVICE_CONNECT_TARGET_GROUP}/${randomBytes(8).toString('hex')}`;
      let proxyPort = FIRST_PROXY_PORT;
      // Another publish may claim a port between the read and the claim: the claim decides.
      while (used.has(proxyPort) || !(await this.store.claimPort(proxyPort, targetGroupArn))) proxyPort++;
      used.add(proxyPort);
      const e: ServiceConnectEndpoint = { namespaceArn: namespaceArn!, discoveryName: w.discoveryName, dnsName: w.dnsName, port: w.port, proxyPort, owner, targetGroupArn };
      await this.store.putEndpoint({ ...e, targets: [], version: 1 });
      out.push(e);
    }
    return out;
  }

  /** Changes an endpoint's targets, re-reading when another pass changed them meanwhile. */
  private async change(targetGroupArn: string, fn: (targets: EndpointTarget[], now: number) => EndpointTarget[]): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const e = await this.store.endpoint(targetGroupArn);
      if (!e) return;
      if (await this.store.setTargets(targetGroupArn, fn(e.targets, this.now()), e.version)) return;
    }
    throw new Error(`Service Connect endpoint ${targetGroupArn}: its targets kept changing under the write`);
  }

  async register(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    await this.change(targetGroupArn, (current, now) => [
      ...current.filter((c) => !targets.some((t) => same(c, t))),
      ...targets.map((t) => ({ id: t.id, port: t.port, registeredAt: now })),
    ]);
  }

  async deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    await this.change(targetGroupArn, (current, now) => current.map((c) => (targets.some((t) => same(c, t)) && c.drainingUntil === undefined
      ? { ...c, drainingUntil: now + SERVICE_CONNECT_DRAIN_SECONDS * 1000 } : c)));
  }

  async health(targetGroupArn: string): Promise<TargetHealth[] | undefined> {
    const e = await this.store.endpoint(targetGroupArn);
    if (!e) return undefined;
    const now = this.now();
    // Past its drain a target leaves the group, as ELBv2 forgets it.
    if (e.targets.some((t) => t.drainingUntil !== undefined && t.drainingUntil <= now)) {
      await this.change(targetGroupArn, (current, at) => current.filter((t) => t.drainingUntil === undefined || t.drainingUntil > at));
    }
    return e.targets.filter((t) => t.drainingUntil === undefined || t.drainingUntil > now).map((t) => (t.drainingUntil === undefined
      ? { target: { id: t.id, port: t.port }, state: 'healthy' }
      : { target: { id: t.id, port: t.port }, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' }));
  }
}

const same = (a: Target, b: Target) => a.id === b.id && a.port === b.port;

function endpointOf(e: EndpointItem | ServiceConnectEndpoint): ServiceConnectEndpoint {
  const { namespaceArn, discoveryName, dnsName, port, proxyPort, owner, targetGroupArn } = e;
  return { namespaceArn, discoveryName, dnsName, port, proxyPort, owner, targetGroupArn };
}

/** Service Connect's target groups to Service Connect, every other one to the load balancer: the services' LoadBalancing on AWS. */
export function withServiceConnect(serviceConnect: LoadBalancing, elb: LoadBalancing): LoadBalancing {
  const to = (arn: string) => (isServiceConnectTargetGroup(arn) ? serviceConnect : elb);
  return {
    register: (arn, targets) => to(arn).register(arn, targets),
    deregister: (arn, targets) => to(arn).deregister(arn, targets),
    health: (arn) => to(arn).health(arn),
  };
}
