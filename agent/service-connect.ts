import { execFile } from 'node:child_process';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import type { ServiceConnectRoute } from '../shared/agent-wire';

/**
 * Service Connect inside a task. On ECS a proxy in every task listens where the task's
 * /etc/hosts sends each endpoint's name. Berth keeps tasks as they are and uses the host's proxy
 * (HAProxy, which balances over the publishing service's healthy tasks):
 *
 * - the task's /etc/hosts names each endpoint by an address of its own, from 198.18.0.0/15
 *   (RFC 2544's range for tests, never routed): the namespace owner's extraHosts, which the
 *   task's containers share;
 * - a DNAT rule in the task's network namespace turns `address:port` into the task's gateway and
 *   the endpoint's `proxyPort`, so no packet ever leaves for the made-up address;
 * - on the gateway the agent relays the task's own connections (no one else's) to the host's
 *   proxy on `proxyHost:proxyPort`.
 *
 * Task networks stay apart: a task reaches only its gateway, as for its metadata endpoint.
 */

/** The address the task's /etc/hosts gives the i-th route. */
export function routeAddress(i: number): string {
  const n = i + 1;
  return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

/** The namespace owner's extraHosts for these routes. */
export const hostsEntries = (routes: readonly ServiceConnectRoute[]): string[] => routes.map((r, i) => `${r.dnsName}:${routeAddress(i)}`);

/** The task namespace's nat table: each route's address and port, sent to the gateway's proxy port. */
export function natRules(routes: readonly ServiceConnectRoute[], gateway: string): string {
  return [
    '*nat',
    ':OUTPUT ACCEPT [0:0]',
    ...routes.map((r, i) => `-A OUTPUT -d ${routeAddress(i)}/32 -p tcp --dport ${r.port} -j DNAT --to-destination ${gateway}:${r.proxyPort}`),
    'COMMIT',
    '',
  ].join('\n');
}

/** Writes the rules into the network namespace of the process `pid` (the task's namespace owner). */
export function writeNatRules(pid: number, rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile('nsenter', ['-t', String(pid), '-n', 'iptables-restore', '-w'], (e, _out, stderr) => {
      if (e) reject(new Error(`cannot route the task's Service Connect names: ${stderr.trim() || e.message}`));
      else resolve();
    });
    child.stdin?.end(rules);
  });
}

/** The agent's side for one task: a relay per route on the task's gateway, for the task alone. */
export class ServiceConnectRelays {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(private readonly proxyHost = '127.0.0.1') {}

  async open(gateway: string, taskAddress: string, routes: readonly ServiceConnectRoute[]): Promise<void> {
    for (const port of new Set(routes.map((r) => r.proxyPort))) {
      const server = createServer((inbound) => this.relay(inbound, taskAddress, port));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: gateway, port }, () => resolve());
      });
      this.servers.push(server);
    }
  }

  private relay(inbound: Socket, taskAddress: string, port: number): void {
    if (inbound.remoteAddress?.replace(/^::ffff:/, '') !== taskAddress) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: this.proxyHost, port });
    for (const s of [inbound, outbound]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    }
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
