import type { ServiceConnectRoute } from '../agent-wire/responses';
import { InvalidParameterException } from '../domain/errors';
import { endpointKey } from '../domain/service-connect';

/**
 * The port behind ECS Service Connect: Cloud Map namespaces, and the endpoints services publish
 * in them, each served by a proxy the hosts run (locally: the local load balancer's HAProxy,
 * local/services/elbv2/service-connect.ts; on AWS: each host's own HAProxy, which its agent
 * feeds from Berth's store, store-service-connect.ts and agent/service-connect-proxy.ts). An endpoint's tasks are the targets of a target
 * group of its own, so a service's tasks join, drain from and are judged by it exactly as by
 * the target groups of its `loadBalancers`.
 */

export interface Namespace {
  arn: string;
  id: string;
  name: string;
}

export interface ServiceConnectEndpoint extends ServiceConnectRoute {
  namespaceArn: string;
  discoveryName: string;
  /** The service that publishes it (its ARN). */
  owner: string;
  /** Where the service's tasks join (a LoadBalancing target group). */
  targetGroupArn: string;
}

export interface ServiceConnect {
  /** A namespace by name or ARN; undefined when there is none. */
  namespace(ref: string): Promise<Namespace | undefined>;
  /** Creates an HTTP namespace of that name, or answers the one there is (as ECS does for a cluster's default). */
  createNamespace(name: string): Promise<Namespace>;
  /** The namespace's endpoints, every service's; without a namespace, every namespace's. */
  endpoints(namespaceArn?: string): Promise<ServiceConnectEndpoint[]>;
  /**
   * Makes the service's endpoints exactly these (keeping those it has, adding the new, removing
   * the rest, in every namespace); answers them. A name and port another service holds is refused.
   */
  publish(owner: string, namespaceArn: string | undefined, endpoints: readonly WantedEndpoint[]): Promise<ServiceConnectEndpoint[]>;
}

/** What a service asks to publish: a discovery name, and the name and port its clients dial. */
export interface WantedEndpoint {
  discoveryName: string;
  dnsName: string;
  port: number;
}

/** An endpoint's target groups carry this in their ARN: LoadBalancing calls for them go to Service Connect, not ELBv2. */
export const SERVICE_CONNECT_TARGET_GROUP = 'targetgroup/ecs-service-connect';
export const isServiceConnectTargetGroup = (arn: string): boolean => arn.includes(`:${SERVICE_CONNECT_TARGET_GROUP}/`);

/**
 * What a publish changes, decided purely (both adapters carry it out): the owner's endpoints
 * that stay, those that go, and the wanted ones to add; a name and port or discovery name that
 * another service holds in the namespace is refused with ECS's exception.
 */
export function planPublish<E extends ServiceConnectEndpoint>(
  all: readonly E[], owner: string, namespaceArn: string | undefined, wanted: readonly WantedEndpoint[],
): { kept: E[]; removed: E[]; added: WantedEndpoint[] } {
  const key = (e: { dnsName: string; port: number }) => endpointKey(e.dnsName, e.port);
  for (const w of wanted) {
    const held = all.find((e) => e.owner !== owner && e.namespaceArn === namespaceArn && (key(e) === key(w) || e.discoveryName === w.discoveryName));
    if (held) {
      throw new InvalidParameterException(`The Service Connect name ${w.dnsName}:${w.port} or discoveryName ${w.discoveryName} is already used in the namespace by ${held.owner}.`);
    }
  }
  const same = (e: E, w: WantedEndpoint) => e.namespaceArn === namespaceArn && key(e) === key(w) && e.discoveryName === w.discoveryName;
  const mine = all.filter((e) => e.owner === owner);
  const kept = mine.filter((e) => wanted.some((w) => same(e, w)));
  return { kept, removed: mine.filter((e) => !kept.includes(e)), added: wanted.filter((w) => !kept.some((e) => same(e, w))) };
}
