import type { Berth } from '../context';
import type { Namespace } from '../cloud/service-connect';
import { InvalidParameterException, NamespaceNotFoundException } from '../domain/errors';
import type { ServiceConnectState } from '../domain/service';
import { type PublishedEndpoint, type ServiceConnectConfiguration, endpointKey, publishedEndpoints } from '../domain/service-connect';
import type { TaskDefinitionRecord } from '../store';

/**
 * Service Connect on CreateService and UpdateService: everything is checked before anything is
 * written (resolve), then the endpoints are published (apply), so a refused call changes nothing.
 */

export interface ResolvedServiceConnect {
  configuration: ServiceConnectConfiguration;
  namespace: Namespace;
  endpoints: PublishedEndpoint[];
}

/** The namespace a configuration names (or the cluster's default), and its endpoints against the definition. */
export async function resolveServiceConnect(
  b: Berth, owner: string, configuration: ServiceConnectConfiguration, clusterDefault: string | undefined, def: TaskDefinitionRecord,
): Promise<ResolvedServiceConnect> {
  if (!b.serviceConnect) throw new InvalidParameterException('Service Connect is not available on this Berth endpoint.');
  const ref = configuration.namespace ?? clusterDefault;
  if (!ref) {
    throw new InvalidParameterException('Service Connect requires a namespace: name one in serviceConnectConfiguration, or give the cluster serviceConnectDefaults.');
  }
  const namespace = await b.serviceConnect.namespace(ref);
  if (!namespace) throw new NamespaceNotFoundException();
  if (def.networkMode === 'host') throw new InvalidParameterException('Service Connect does not support the host network mode.');
  const endpoints = publishedEndpoints(configuration, namespace.name, def.containerDefinitions);
  const taken = (await b.serviceConnect.endpoints(namespace.arn)).filter((e) => e.owner !== owner);
  for (const e of endpoints) {
    const other = taken.find((t) => endpointKey(t.dnsName, t.port) === endpointKey(e.dnsName, e.port) || t.discoveryName === e.discoveryName);
    if (other) {
      throw new InvalidParameterException(`The Service Connect endpoint ${e.dnsName}:${e.port} (discoveryName ${e.discoveryName}) is already used in namespace ${namespace.name}.`);
    }
  }
  return { configuration, namespace, endpoints };
}

/** Publishes what was resolved (or, with undefined, withdraws the service's endpoints); the service's state. */
export async function applyServiceConnect(b: Berth, owner: string, resolved: ResolvedServiceConnect | undefined): Promise<ServiceConnectState | undefined> {
  if (!resolved) {
    await b.serviceConnect?.publish(owner, undefined, []);
    return undefined;
  }
  const published = await b.serviceConnect!.publish(owner, resolved.namespace.arn, resolved.endpoints);
  return {
    configuration: resolved.configuration,
    namespaceArn: resolved.namespace.arn,
    endpoints: resolved.endpoints.map((e) => {
      const p = published.find((x) => endpointKey(x.dnsName, x.port) === endpointKey(e.dnsName, e.port))!;
      return { targetGroupArn: p.targetGroupArn, containerName: e.containerName, containerPort: e.containerPort, discoveryName: e.discoveryName };
    }),
  };
}
