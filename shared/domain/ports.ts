/**
 * Host ports, shared by the control plane and the agent (so it holds constants and pure helpers
 * only: the agent bundle must not pull server code).
 *
 * Every task has an address of its own (its network namespace's, shown as an ENI attachment), so
 * its containers never compete for a port with another task's. A port on the host itself is
 * published only when the definition asks for one, as ECS's bridge mode does: hostPort 0 (or
 * none) gets a port the agent picks from its dynamic range, a fixed hostPort gets that port, and
 * a fixed port is a placement resource. In awsvpc mode, as on Fargate, hostPort can only repeat
 * containerPort and publishes nothing: the task's own address is where it listens.
 */

/** What ECS keeps off limits on every container instance: SSH, Docker's API, ECS's agent. */
export const ECS_RESERVED_PORTS: readonly number[] = [22, 2375, 2376, 51678, 51679];

/**
 * The agent's dynamic host ports (hostPort 0): ECS's own default range, used when Docker cannot
 * tell the kernel's. Configurable per host (BERTH_HOST_PORT_RANGE).
 */
export const DEFAULT_DYNAMIC_PORT_RANGE = { from: 49153, to: 65535 } as const;

export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: Protocol;
  /** Service Connect's name for it (a service's serviceConnectConfiguration names ports by it). */
  name?: string;
  /** http, http2 or grpc: kept and echoed; Berth's Service Connect proxy relays TCP either way. */
  appProtocol?: string;
}

/** A published port, as ECS reports it in a container's networkBindings. */
export interface NetworkBinding {
  bindIP: string;
  containerPort: number;
  hostPort: number;
  protocol: Protocol;
}

/** One host port as the scheduler counts it: 8080/tcp and 8080/udp are different ports. */
export const hostPortKey = (port: number, protocol: Protocol): string => `${port}/${protocol}`;

/** Only awsvpc keeps a task's ports on its own address; bridge (ECS's EC2 default) publishes them. */
export const publishesHostPorts = (networkMode: string | undefined): boolean => networkMode !== 'awsvpc' && networkMode !== 'none';

/** The mappings the agent publishes on the host, each distinct one once. */
export function publishedMappings(networkMode: string | undefined, mappings: readonly PortMapping[]): PortMapping[] {
  if (!publishesHostPorts(networkMode)) return [];
  return [...new Map(mappings.map((p) => [`${p.hostPort}:${p.containerPort}/${p.protocol}`, p])).values()];
}

/** The fixed host ports a task needs (placement resources), as hostPortKey keys, sorted. */
export function fixedHostPorts(networkMode: string | undefined, containers: readonly { portMappings?: readonly PortMapping[] }[]): string[] {
  const mappings = publishedMappings(networkMode, containers.flatMap((c) => c.portMappings ?? []));
  return [...new Set(mappings.filter((p) => p.hostPort > 0).map((p) => hostPortKey(p.hostPort, p.protocol)))].sort();
}

/** Parses `49153-65535`; undefined when not given. */
export function parsePortRange(text: string | undefined): { from: number; to: number } | undefined {
  if (!text) return undefined;
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(text);
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1 || to > 65535 || from > to) throw new Error(`not a port range (FROM-TO within 1-65535): ${text}`);
  return { from, to };
}
