import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Namespace, ServiceConnect, ServiceConnectEndpoint } from '../../../shared/cloud/service-connect';
import { InvalidParameterException } from '../../../shared/domain/errors';
import { endpointKey } from '../../../shared/domain/service-connect';
import { DEREGISTRATION_DELAY, type LocalLoadBalancer } from './balancer';
import type { NamespaceRecord, TargetGroupRecord } from './store';

/**
 * Service Connect locally, on the local load balancer: each endpoint a service publishes is a
 * target group of its own (hidden from the ELBv2 API) that HAProxy serves as TCP on
 * 127.0.0.1:proxyPort, checked by connecting; the agents relay their tasks' connections there
 * (agent/service-connect.ts). Namespaces are kept beside it, as Cloud Map's HTTP namespaces.
 */

/** How long a Service Connect endpoint drains a task the scheduler stops. */
export const SERVICE_CONNECT_DRAIN_SECONDS = 5;

const CHECK = {
  enabled: true, protocol: 'TCP', port: 'traffic-port', path: '', intervalSeconds: 5, timeoutSeconds: 5,
  healthyThresholdCount: 2, unhealthyThresholdCount: 2, httpCode: '',
};

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

  async endpoints(namespaceArn: string): Promise<ServiceConnectEndpoint[]> {
    return this.b.view.targetGroups.filter((t) => t.serviceConnect?.namespaceArn === namespaceArn).map(toEndpoint);
  }

  publish(owner: string, namespaceArn: string | undefined, wanted: readonly { discoveryName: string; dnsName: string; port: number }[]): Promise<ServiceConnectEndpoint[]> {
    return this.b.exclusive(async () => {
      const view = this.b.view;
      const mine = view.targetGroups.filter((t) => t.serviceConnect?.owner === owner);
      const same = (t: TargetGroupRecord, w: (typeof wanted)[number]) => t.serviceConnect!.namespaceArn === namespaceArn &&
        endpointKey(t.serviceConnect!.dnsName, t.serviceConnect!.port) === endpointKey(w.dnsName, w.port) && t.serviceConnect!.discoveryName === w.discoveryName;
      for (const w of wanted) {
        const held = view.targetGroups.find((t) => t.serviceConnect && t.serviceConnect.owner !== owner && t.serviceConnect.namespaceArn === namespaceArn &&
          (endpointKey(t.serviceConnect.dnsName, t.serviceConnect.port) === endpointKey(w.dnsName, w.port) || t.serviceConnect.discoveryName === w.discoveryName));
        if (held) {
          throw new InvalidParameterException(`The Service Connect name ${w.dnsName}:${w.port} or discoveryName ${w.discoveryName} is already used in the namespace by ${held.serviceConnect!.owner}.`);
        }
      }
      const kept = mine.filter((t) => wanted.some((w) => same(t, w)));
      const removed = mine.filter((t) => !kept.includes(t));
      const added: TargetGroupRecord[] = [];
      for (const w of wanted.filter((x) => !kept.some((t) => same(t, x)))) {
        const arn = this.b.newArn('targetgroup/ecs-service-connect');
        added.push({
          kind: 'targetgroup', arn, name: `sc-${arn.split('/').pop()}`, protocol: 'TCP', port: w.port, vpcId: 'vpc-local', targetType: 'ip',
          protocolVersion: 'HTTP1', healthCheck: { ...CHECK }, attributes: { [DEREGISTRATION_DELAY]: String(SERVICE_CONNECT_DRAIN_SECONDS) },
          targets: [], createdAt: this.b.now(),
          serviceConnect: { namespaceArn: namespaceArn!, discoveryName: w.discoveryName, dnsName: w.dnsName, port: w.port, owner, proxyPort: await freePort() },
        });
      }
      if (added.length > 0 || removed.length > 0) {
        const targetGroups = [...view.targetGroups.filter((t) => !removed.includes(t)), ...added];
        await this.b.changeStructure({ ...view, targetGroups }, { put: added, remove: removed.map((t) => t.arn) });
      }
      return [...kept, ...added].map(toEndpoint);
    });
  }
}
