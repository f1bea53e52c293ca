import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceConnectRelays } from '../../agent/service-connect';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { startLocalElbv2 } from '../../local/services/elbv2';
import { LocalServiceConnect } from '../../local/services/elbv2/service-connect';
import { eventually } from '../support/harness';

/** Says `name` to whoever connects, then closes: a stand-in for a published task. */
function sayer(name: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.end(`${name}\n`)).listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/** Service Connect's proxy path without containers: an endpoint served by the local HAProxy, reached through the agent's relay. */
describe('Service Connect proxy', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let elbv2: Awaited<ReturnType<typeof startLocalElbv2>>;
  let sc: LocalServiceConnect;
  const servers: Server[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'berth-sc-'));

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    elbv2 = await startLocalElbv2(berth, { dataDir: dir, dynamoEndpoint: dynamo.endpoint, log: () => {}, say: () => {}, healthCheckTimeScale: 0.1 });
    sc = new LocalServiceConnect(elbv2.balancer);
  }, 60_000);
  afterAll(async () => {
    for (const s of servers) s.close();
    await elbv2?.close();
    berth?.workflows.close();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('balances an endpoint over its healthy targets, reached through a relay that serves only its task', async () => {
    // Prepare
    const ns = await sc.createNamespace('shop');
    const [endpoint] = await sc.publish('arn:service/backend', ns.arn, [{ discoveryName: 'backend', dnsName: 'backend', port: 8080 }]);
    const a = await sayer('a');
    const b = await sayer('b');
    servers.push(a.server, b.server);
    await elbv2.balancer.register(endpoint.targetGroupArn, [{ id: '127.0.0.1', port: a.port }, { id: '127.0.0.1', port: b.port }]);
    await eventually(async () => ((await elbv2.balancer.health(endpoint.targetGroupArn)) ?? []).every((h) => h.state === 'healthy'), 20_000, 'both targets healthy');
    const relayPort = endpoint.proxyPort;
    const relays = new ServiceConnectRelays('127.0.0.1');
    const other = new ServiceConnectRelays('127.0.0.1');

    // Act: the relay listens on 127.0.0.2 (the "gateway") for a task at 127.0.0.1, and on to HAProxy on 127.0.0.1.
    await relays.open('127.0.0.2', '127.0.0.1', [{ dnsName: 'backend', port: 8080, proxyPort: relayPort }]);
    const answers = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) answers.add(await askAt('127.0.0.2', relayPort));
    await relays.close();
    await other.open('127.0.0.2', '127.0.0.9', [{ dnsName: 'backend', port: 8080, proxyPort: relayPort }]);
    const stranger = await askAt('127.0.0.2', relayPort);
    await other.close();
    const again = await sc.publish('arn:service/backend', ns.arn, [{ discoveryName: 'backend', dnsName: 'backend', port: 8080 }]);
    const taken = await sc.publish('arn:service/other', ns.arn, [{ discoveryName: 'x', dnsName: 'backend', port: 8080 }]).catch((e: Error) => e);

    // Assess
    expect([...answers].sort()).toEqual(['a', 'b']);
    expect(stranger).toBeUndefined();
    expect(again).toEqual([endpoint]);
    expect(taken).toMatchObject({ name: 'InvalidParameterException' });
    expect(await sc.endpoints(ns.arn)).toEqual([endpoint]);
    expect(await sc.namespace('shop')).toEqual(ns);
    expect(await sc.namespace(ns.arn)).toEqual(ns);
  }, 60_000);
});

function askAt(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const c = createConnection({ host, port });
    c.setEncoding('utf8');
    c.on('data', (d) => (out += d));
    c.on('end', () => resolve(out.trim() || undefined));
    c.on('close', () => resolve(out.trim() || undefined));
    c.on('error', () => resolve(undefined));
    c.setTimeout(3000, () => c.destroy());
  });
}
