import { InvalidParameterException } from './errors';
import { type Json, optBool, optInt, optObject, optObjectList, optString } from './fields';
import type { PortMapping } from './ports';

/**
 * ECS Service Connect, as a service asks for it (`serviceConnectConfiguration`): the service's
 * tasks join a namespace, where they reach every endpoint its services publish by name; the
 * service may publish endpoints of its own: a named port of its task definition
 * (`portName`), under a discovery name and client aliases (`dnsName:port`).
 */

/** ECS's rule for portMappings[].name and discoveryName: lowercase letters, digits, _ and -, not first. */
export const PORT_NAME = /^[a-z0-9_][a-z0-9_-]{0,63}$/;
/** A client alias's dnsName: as PORT_NAME, with dots, up to 127 characters. */
const DNS_NAME = /^[a-z0-9_][a-z0-9_.-]{0,126}$/i;

export interface ServiceConnectClientAlias {
  port: number;
  dnsName?: string;
}

export interface ServiceConnectService {
  portName: string;
  discoveryName?: string;
  clientAliases?: ServiceConnectClientAlias[];
}

/** The configuration as given (ECS echoes it in the service's deployments). */
export interface ServiceConnectConfiguration {
  enabled: boolean;
  namespace?: string;
  services?: ServiceConnectService[];
  logConfiguration?: Json;
}

/** One endpoint a service publishes: where its tasks are reached, and by which name and port. */
export interface PublishedEndpoint {
  discoveryName: string;
  dnsName: string;
  port: number;
  containerName: string;
  containerPort: number;
}

/** Reads `serviceConnectConfiguration`, refusing what Berth cannot honour with ECS's exception. */
export function readServiceConnectConfiguration(body: Json): ServiceConnectConfiguration | undefined {
  const c = optObject(body, 'serviceConnectConfiguration');
  if (!c) return undefined;
  const enabled = optBool(c, 'enabled', 'serviceConnectConfiguration.enabled');
  if (enabled === undefined) throw new InvalidParameterException('serviceConnectConfiguration.enabled is required.');
  const namespace = optString(c, 'namespace', 'serviceConnectConfiguration.namespace', 1024);
  const services = optObjectList(c, 'services', (s, path) => {
    const portName = optString(s, 'portName', `${path}.portName`, 64);
    if (!portName) throw new InvalidParameterException(`${path}.portName is required.`);
    const discoveryName = optString(s, 'discoveryName', `${path}.discoveryName`, 64);
    if (discoveryName !== undefined && !PORT_NAME.test(discoveryName)) {
      throw new InvalidParameterException(`${path}.discoveryName '${discoveryName}' is not valid: use up to 64 lowercase letters, numbers, underscores and hyphens, not starting with a hyphen.`);
    }
    if (optInt(s, 'ingressPortOverride', `${path}.ingressPortOverride`) !== undefined) {
      throw new InvalidParameterException(`${path}.ingressPortOverride is not supported: Berth's Service Connect proxy reaches each task on its named port.`);
    }
    if (s.tls !== undefined) throw new InvalidParameterException(`${path}.tls is not supported: Berth has no AWS Private CA to issue Service Connect certificates.`);
    if (s.timeout !== undefined) throw new InvalidParameterException(`${path}.timeout is not supported by Berth's Service Connect proxy.`);
    const clientAliases = optObjectList(s, 'clientAliases', (a, ap) => {
      const port = optInt(a, 'port', `${ap}.port`, { min: 1, max: 65535 });
      if (port === undefined) throw new InvalidParameterException(`${ap}.port is required.`);
      const dnsName = optString(a, 'dnsName', `${ap}.dnsName`, 127);
      if (dnsName !== undefined && !DNS_NAME.test(dnsName)) throw new InvalidParameterException(`${ap}.dnsName '${dnsName}' is not a valid DNS name.`);
      return { port, ...(dnsName !== undefined ? { dnsName } : {}) };
    }, `${path}.clientAliases`, 1);
    return { portName, ...(discoveryName !== undefined ? { discoveryName } : {}), ...(clientAliases ? { clientAliases } : {}) };
  }, 'serviceConnectConfiguration.services');
  const logConfiguration = optObject(c, 'logConfiguration', 'serviceConnectConfiguration.logConfiguration');
  if (!enabled && (services?.length ?? 0) > 0) {
    throw new InvalidParameterException('serviceConnectConfiguration.services must be empty when Service Connect is not enabled.');
  }
  return {
    enabled,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(services ? { services } : {}),
    ...(logConfiguration ? { logConfiguration } : {}),
  };
}

/**
 * The endpoints a configuration publishes, read against the task definition's named ports:
 * discoveryName defaults to the portName, an alias's dnsName to `discoveryName.namespace`, as in
 * ECS. A service without an alias is only discoverable, which Berth's proxy has no use for: it
 * publishes nothing then (as an ECS endpoint without an alias cannot be reached by name either).
 */
export function publishedEndpoints(
  config: ServiceConnectConfiguration, namespaceName: string, containers: readonly { name: string; portMappings?: PortMapping[] }[],
): PublishedEndpoint[] {
  const out: PublishedEndpoint[] = [];
  const seen = new Set<string>();
  for (const s of config.services ?? []) {
    const owner = containers.find((c) => (c.portMappings ?? []).some((p) => p.name === s.portName));
    const mapping = owner?.portMappings?.find((p) => p.name === s.portName);
    if (!owner || !mapping) {
      throw new InvalidParameterException(`Service Connect portName '${s.portName}' does not match the name of any port mapping in the task definition.`);
    }
    const discoveryName = s.discoveryName ?? s.portName;
    if (seen.has(`discovery ${discoveryName}`)) throw new InvalidParameterException(`The discoveryName '${discoveryName}' is used more than once.`);
    seen.add(`discovery ${discoveryName}`);
    for (const a of s.clientAliases ?? []) {
      const dnsName = a.dnsName ?? `${discoveryName}.${namespaceName}`;
      const key = endpointKey(dnsName, a.port);
      if (seen.has(key)) throw new InvalidParameterException(`The client alias ${dnsName}:${a.port} is used more than once.`);
      seen.add(key);
      out.push({ discoveryName, dnsName, port: a.port, containerName: owner.name, containerPort: mapping.containerPort });
    }
  }
  return out;
}

/** A name and port, unique within a namespace. */
export const endpointKey = (dnsName: string, port: number): string => `${dnsName.toLowerCase()}:${port}`;
