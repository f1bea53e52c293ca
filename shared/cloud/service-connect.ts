import type { ServiceConnectRoute } from '../agent-wire/responses';

/**
 * The port behind ECS Service Connect: Cloud Map namespaces, and the endpoints services publish
 * in them, each served by a proxy the hosts run (locally: the local load balancer's HAProxy,
 * local/services/elbv2/service-connect.ts). An endpoint's tasks are the targets of a target
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
  /** The namespace's endpoints, every service's. */
  endpoints(namespaceArn: string): Promise<ServiceConnectEndpoint[]>;
  /**
   * Makes the service's endpoints exactly these (keeping those it has, adding the new, removing
   * the rest, in every namespace); answers them. A name and port another service holds is refused.
   */
  publish(owner: string, namespaceArn: string | undefined, endpoints: readonly { discoveryName: string; dnsName: string; port: number }[]): Promise<ServiceConnectEndpoint[]>;
}
