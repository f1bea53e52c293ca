import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import {
  type Namespace, SERVICE_CONNECT_TARGET_GROUP, type ServiceConnect, type ServiceConnectEndpoint, type WantedEndpoint, planPublish,
} from '../../../shared/cloud/service-connect';
import { SERVICE_CONNECT_CHECK, SERVICE_CONNECT_DRAIN_SECONDS } from '../../../shared/haproxy/config';
import { DEREGISTRATION_DELAY, type LocalLoadBalancer } from './balancer';
import type { NamespaceRecord, TargetGroupRecord } from './store';

/**
 * Service Connect locally, on the local load balancer: each endpoint a service publishes is a
 * target group of its own (hidden from the ELBv2 API) that HAProxy serves as TCP on
 * 127.0.0.1:proxyPort, checked by connecting; the agents relay their tasks' connections there
 * (agent/service-connect.ts). Namespaces are kept beside it, as Cloud Map's HTTP namespaces.
 * On AWS the same endpoints live in Berth's store (shared/cloud/store-service-connect.ts) and
 * each host's agent feeds its own HAProxy the same configuration (agent/service-connect-proxy.ts).
 */

/** A port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const toNamespace = (n: NamespaceRecord): Namespace => ({ arn: n.arn, id: n.id, name: n.name });

function toEndpoint(tg: TargetGroupRecord): ServiceConnectEndpoint {
  const e = tg.serviceConnect!;
  return { namespaceArn: e.namespaceArn, discoveryName: e.discoveryName, dnsName: e.dnsName, port: e.port, proxyPort: e.proxyPort, owner: e.owner, targetGroupArn: tg.arn };
}

export class LocalServiceConnect implements ServiceConnect {
  constructor(private readonly b: LocalLoadBalancer) {}

  private get namespaces(): NamespaceRecord[] {
    return this.b.view.namespaces ?? [];
  }

  async namespace(ref: string): Promise<Namespace | undefined> {
    const n = this.namespaces.find((x) => x.arn === ref || x.name === ref);
    return n && toNamespace(n);
  }

  createNamespace(name: string): Promise<Namespace> {
    return this.b.exclusive(async () => {
      const existing = this.namespaces.find((x) => x.name === name);
      if (existing) return toNamespace(existing);
      const id = `ns-${randomBytes(8).toString('hex')}`;
      const { region, accountId } = this.b.partition;
      const n: NamespaceRecord = { kind: 'namespace', arn: `arn:aws:servicediscovery:${region}:${accountId}:namespace/${id}`, id, name, createdAt: this.b.now() };
      await this.b.changeStructure({ ...this.b.view, namespaces: [...this.namespaces, n] }, { put: [n] }, false);
      return toNamespace(n);
    });
  }

  async endpoints(namespaceArn?: string): Promise<ServiceConnectEndpoint[]> {
    return this.b.view.targetGroups.filter((t) => t.serviceConnect && (namespaceArn === undefined || t.serviceConnect.namespaceArn === namespaceArn)).map(toEndpoint);
  }

  publish(owner: string, namespaceArn: string | undefined, wanted: readonly WantedEndpoint[]): Promise<ServiceConnectEndpoint[]> {
    return this.b.exclusive(async () => {
      const view = this.b.view;
      const groups = view.targetGroups.filter((t) => t.serviceConnect);
      const { kept, removed, added: toAdd } = planPublish(groups.map(toEndpoint), owner, namespaceArn, wanted);
      const gone = new Set(removed.map((e) => e.targetGroupArn));
      const added: TargetGroupRecord[] = [];
      for (const w of toAdd) {
        const arn = this.b.newArn(SERVICE_CONNECT_TARGET_GROUP);
        added.push({
          kind: 'targetgroup', arn, name: `sc-${arn.split('/').pop()}`, protocol: 'TCP', port: w.port, vpcId: 'vpc-local', targetType: 'ip',
          protocolVersion: 'HTTP1', healthCheck: { ...SERVICE_CONNECT_CHECK }, attributes: { [DEREGISTRATION_DELAY]: String(SERVICE_CONNECT_DRAIN_SECONDS) },
          targets: [], createdAt: this.b.now(),
          serviceConnect: { namespaceArn: namespaceArn!, discoveryName: w.discoveryName, dnsName: w.dnsName, port: w.port, owner, proxyPort: await freePort() },
        });
      }
      if (added.length > 0 || gone.size > 0) {
        const targetGroups = [...view.targetGroups.filter((t) => !gone.has(t.arn)), ...added];
        await this.b.changeStructure({ ...view, targetGroups }, { put: added, remove: [...gone] });
      }
      return [...kept, ...added.map(toEndpoint)];
    });
  }
}
