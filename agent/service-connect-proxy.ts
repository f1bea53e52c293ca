import { mkdirSync } from 'node:fs';
import { type ProxiedEndpoint, serviceConnectProxyConfig } from '../shared/haproxy/config';
import { HAProxy } from '../shared/haproxy/process';

/** How often the proxy asks for the endpoints' tasks: a task that joins or drains is served within this. */
export const DEFAULT_PROXY_REFRESH_MS = 2000;

export interface ServiceConnectProxyOptions {
  /** Every endpoint with its healthy tasks (the agent API's GetServiceConnectEndpoints). */
  endpoints: () => Promise<ProxiedEndpoint[]>;
  /** Where HAProxy keeps its configuration, socket and log. */
  dir: string;
  log: (line: string) => void;
  refreshMs?: number;
  /** Where its frontends listen for this host's tasks' relays; 127.0.0.1 unless given (as TaskRunner's serviceConnectProxyHost). */
  bindHost?: string;
}

/**
 * The host's own Service Connect proxy, as an EC2 host runs it: a HAProxy (the user data installs
 * it) that the agent starts and feeds, the same configuration the local load balancer writes for
 * its endpoints (shared/haproxy/config.ts), from Berth's store through the agent API. Each task's
 * relays (service-connect.ts) lead to 127.0.0.1:proxyPort here, as they lead to the local
 * load balancer's HAProxy locally. A change of the endpoints or their tasks reloads HAProxy,
 * which keeps the connections it has.
 */
export class ServiceConnectProxy {
  private readonly haproxy: HAProxy;
  private started = false;
  private applied?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: ServiceConnectProxyOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.haproxy = new HAProxy(o.dir, o.log);
  }

  /** Asks for the endpoints and brings HAProxy to them; one refresh at a time. */
  refresh(): Promise<void> {
    const next = this.chain.then(() => this.apply());
    this.chain = next.catch(() => {});
    return next;
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    const endpoints = sorted(await this.o.endpoints());
    // Nothing to serve yet: no HAProxy either.
    if (!this.started && endpoints.length === 0) return;
    const config = serviceConnectProxyConfig(this.haproxy.socketPath, endpoints, this.o.bindHost);
    if (config === this.applied) return;
    if (this.started) await this.haproxy.apply(config, true);
    else await this.haproxy.start(config);
    this.started = true;
    this.applied = config;
  }

  /** Refreshes now and every refreshMs after, until stopped; a failed refresh is said and tried again. */
  start(): void {
    const loop = () => {
      this.refresh().catch((e) => this.o.log(`Service Connect proxy: ${e instanceof Error ? e.message : e}`)).finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.o.refreshMs ?? DEFAULT_PROXY_REFRESH_MS);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.chain;
    await this.haproxy.stop();
  }
}

/** In a stable order, so the same endpoints write the same configuration and reload nothing. */
function sorted(endpoints: readonly ProxiedEndpoint[]): ProxiedEndpoint[] {
  const byServer = (a: { id: string; port: number }, b: { id: string; port: number }) => a.id.localeCompare(b.id) || a.port - b.port;
  return [...endpoints].sort((a, b) => a.proxyPort - b.proxyPort).map((e) => ({
    ...e, servers: [...e.servers].sort(byServer), ...(e.ingress ? { ingress: { ...e.ingress, servers: [...e.ingress.servers].sort(byServer) } } : {}),
  }));
}
