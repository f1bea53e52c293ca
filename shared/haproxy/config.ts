/**
 * The parts of a HAProxy configuration both of Berth's HAProxies write: the process's own
 * sections, health check options, and Service Connect's proxy (one TCP frontend on
 * 127.0.0.1:proxyPort per endpoint, balancing over the publishing service's tasks). The local
 * load balancer writes these beside its listeners (local/services/elbv2/haproxy.ts); an EC2
 * host's agent writes nothing else (agent/service-connect-proxy.ts). Pure, and free of server
 * code: the agent bundle carries it.
 */

/** What a server line's `check` needs of a target group's health check. */
export interface CheckSettings {
  enabled: boolean;
  /** `traffic-port`, or a port number as a string. */
  port: string;
  intervalSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
}

/** Service Connect's check of a task: a connect every 5 s, 2 to pass, 2 to fail. */
export const SERVICE_CONNECT_CHECK = {
  enabled: true, protocol: 'TCP', port: 'traffic-port', path: '', intervalSeconds: 5, timeoutSeconds: 5,
  healthyThresholdCount: 2, unhealthyThresholdCount: 2, httpCode: '',
} as const;

/** How long a Service Connect endpoint drains a task the scheduler stops. */
export const SERVICE_CONNECT_DRAIN_SECONDS = 5;

/** HAProxy's names for a target group's backend and a Service Connect endpoint's frontend: the last part of the ARN is unique. */
export const backendName = (targetGroupArn: string) => `tg-${targetGroupArn.split('/').pop()}`;
export const serviceConnectFrontendName = (targetGroupArn: string) => `sc-${targetGroupArn.split('/').pop()}`;
export const serverName = (t: { id: string; port: number }) => `${t.id}:${t.port}`;

/**
 * What `check` means on one server line: the target group's interval and thresholds. `timeScale`
 * shortens the interval (and timeout) locally, so tests need not wait out ELBv2's 5 s minimum.
 */
export function checkOptions(hc: CheckSettings, timeScale = 1): string {
  if (!hc.enabled) return '';
  const port = hc.port === 'traffic-port' ? '' : ` port ${hc.port}`;
  return `check inter ${Math.max(1, Math.round(hc.intervalSeconds * 1000 * timeScale))} rise ${hc.healthyThresholdCount} fall ${hc.unhealthyThresholdCount}${port}`;
}

/** The process's own sections: master-worker, the runtime API socket, the defaults. */
export function processSections(socketPath: string): string[] {
  return [
    'global',
    '  master-worker',
    `  stats socket ${socketPath} mode 600 level admin expose-fd listeners`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 5s',
    // HAProxy will not run without a proxy; this one serves nothing.
    'backend berth-idle',
  ];
}

/** The opening of every backend: round robin, and a connection refused tried on another target. */
export function backendHead(targetGroupArn: string): string[] {
  return [
    `backend ${backendName(targetGroupArn)}`,
    '  balance roundrobin',
    // A connection refused is safe to try on another target: the request never reached one.
    '  option redispatch',
    '  retries 2',
    '  retry-on conn-failure empty-response',
  ];
}

/**
 * How far above its proxy port an endpoint's ingress listens on each host: where other hosts'
 * proxies reach the endpoint's tasks that run on this one at their own (host-local) addresses.
 */
export const INGRESS_PORT_OFFSET = 10_000;

/** One Service Connect endpoint as a host's proxy serves it, with the tasks it balances over. */
export interface ProxiedEndpoint {
  /** The endpoint's target group: it names the frontends and backends. */
  targetGroupArn: string;
  proxyPort: number;
  servers: readonly ProxiedServer[];
  /**
   * The endpoint's tasks that run on this host, for other hosts' proxies: served on the host's
   * own address (`bind`) and `port`. A task's own address is reachable only from its host.
   */
  ingress?: { bind: string; port: number; servers: readonly ProxiedServer[] };
}

export interface ProxiedServer {
  /** An IPv4 address the proxy reaches the task (or another host's ingress) at, and the port. */
  id: string;
  port: number;
  /** Another host's ingress stands for this many tasks. */
  weight?: number;
  /** Draining: no new connection goes there. */
  draining?: boolean;
}

const serverLine = (s: ProxiedServer, timeScale: number) =>
  `  server ${serverName(s)} ${s.id}:${s.port} ${checkOptions(SERVICE_CONNECT_CHECK, timeScale)}${s.draining ? ' weight 0' : s.weight !== undefined ? ` weight ${s.weight}` : ''}`;

/**
 * One endpoint's frontend and backend: TCP, whatever the protocol, on bindHost:proxyPort
 * (127.0.0.1: only the host itself, and the agent's relays for its tasks, reach it); a task is
 * checked by connecting. With an ingress, a second pair on the host's address.
 */
export function serviceConnectSections(e: ProxiedEndpoint, timeScale = 1, bindHost = '127.0.0.1'): { frontend: string[]; backend: string[] } {
  const frontend = [`frontend ${serviceConnectFrontendName(e.targetGroupArn)}`, '  mode tcp', `  bind ${bindHost}:${e.proxyPort}`, `  default_backend ${backendName(e.targetGroupArn)}`];
  const backend = [...backendHead(e.targetGroupArn), '  mode tcp', ...e.servers.map((s) => serverLine(s, timeScale))];
  if (e.ingress) {
    const ingressArn = `${e.targetGroupArn}-ingress`;
    frontend.push(`frontend ${serviceConnectFrontendName(ingressArn)}`, '  mode tcp', `  bind ${e.ingress.bind}:${e.ingress.port}`, `  default_backend ${backendName(ingressArn)}`);
    backend.push(...backendHead(ingressArn), '  mode tcp', ...e.ingress.servers.map((s) => serverLine(s, timeScale)));
  }
  return { frontend, backend };
}

/** A whole configuration that serves only Service Connect's endpoints: an EC2 host's proxy. */
export function serviceConnectProxyConfig(socketPath: string, endpoints: readonly ProxiedEndpoint[], bindHost = '127.0.0.1'): string {
  const sections = endpoints.map((e) => serviceConnectSections(e, 1, bindHost));
  return `${[...processSections(socketPath), ...sections.flatMap((s) => s.frontend), ...sections.flatMap((s) => s.backend)].join('\n')}\n`;
}
