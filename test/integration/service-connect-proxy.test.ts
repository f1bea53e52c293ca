import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceConnectRelays } from '../../agent/service-connect';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { startLocalElbv2 } from '../../local/services/elbv2';
import { LocalServiceConnect } from '../../local/services/elbv2/service-connect';
import { type Harness, eventually, startHarness } from '../support/harness';
import { randomBytes } from 'node:crypto';
import { type Server as HttpServer, createServer as createHttpServer } from 'node:http';
import { AgentClient } from '../../agent/client';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { ServiceConnectProxy } from '../../agent/service-connect-proxy';
import { TaskRunner } from '../../agent/task-runner';
import type { TaskReportBody } from '../../agent/client';
import { StoreServiceConnect, withServiceConnect } from '../../shared/cloud/store-service-connect';
import { INGRESS_PORT_OFFSET } from '../../shared/haproxy/config';
import type { LoadBalancing } from '../../shared/cloud/load-balancing';
import { BUSYBOX_IMAGE, type PodmanService, ensureBusyboxImage, startPodmanService } from '../../local/podman';

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

/** Answers every HTTP request with `name`: a stand-in for a published task on another host. */
function webTask(name: string): Promise<{ server: HttpServer; port: number }> {
  return new Promise((resolve) => {
    const server = createHttpServer((_req, res) => res.end(`${name}\n`)).listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

/**
 * Service Connect as on EC2: no local load balancer. The endpoints and their tasks are in Berth's
 * store (StoreServiceConnect, on dynalite); each host's agent asks for them through the agent API
 * and feeds its own HAProxy; a real task on podman reaches the other service by name through it.
 * Three hosts on one machine, each with an address of its own on the loopback: B runs the client
 * task; A publishes a backend task on a host port; C runs one at its own (host-local) address,
 * which B's proxy reaches through C's ingress.
 */
describe('Service Connect on EC2 hosts: each agent feeds its own proxy', () => {
  let h: Harness;
  let podman: PodmanService;
  let runtime: DockerRuntime;
  const proxies: ServiceConnectProxy[] = [];
  let sc: StoreServiceConnect;
  const dir = mkdtempSync(join(tmpdir(), 'berth-sc-ec2-'));
  const webs: HttpServer[] = [];
  const RUN = randomBytes(4).toString('hex');
  const HOST_A = 'i-0aaaaaaaaaaaaaaa1';
  const HOST_B = 'i-0bbbbbbbbbbbbbbb2';
  const HOST_C = 'i-0ccccccccccccccc3';
  const OWNER = 'arn:aws:ecs:us-east-1:000000000000:service/default/backend';

  beforeAll(async () => {
    h = await startHarness();
    sc = new StoreServiceConnect(h.berth.store.serviceConnect, h.berth.partition, () => h.berth.now());
    const noElb: LoadBalancing = { register: async () => { throw new Error('not ELBv2'); }, deregister: async () => { throw new Error('not ELBv2'); }, health: async () => undefined };
    h.berth.serviceConnect = sc;
    h.berth.loadBalancing = withServiceConnect(sc, noElb);
    podman = await startPodmanService({ dataDir: dir, log: () => {} });
    await ensureBusyboxImage({ env: podman.env, log: () => {} });
    runtime = new DockerRuntime({ socketPath: podman.socketPath, labels: { 'berth.test-run': RUN } });
  }, 120_000);
  afterAll(async () => {
    for (const p of proxies) await p.stop();
    for (const w of webs) w.close();
    await podman?.stop();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function host(hostId: string, address: string): Promise<AgentClient> {
    const agent = new AgentClient(h.url, hostId, 'us-east-1', { credentialsFile: join(dir, `${hostId}.json`), address });
    await agent.register(2048, 4096);
    return agent;
  }

  function proxyOf(agent: AgentClient, bindHost?: string): ServiceConnectProxy {
    const p = new ServiceConnectProxy({ endpoints: () => agent.serviceConnectEndpoints(), dir: join(dir, `proxy-${agent.hostId}`), log: () => {}, bindHost });
    proxies.push(p);
    return p;
  }

  it('lets a task reach http://backend:8080 on tasks of two other hosts, and follows a drain', async () => {
    // Prepare: the backend service publishes an endpoint; its task on A answers on a host port, its task on C at its own address.
    await host(HOST_A, '127.0.0.1');
    const b = await host(HOST_B, '127.0.0.1');
    const c = await host(HOST_C, '127.0.0.3');
    const ns = await sc.createNamespace('shop');
    const [endpoint] = await sc.publish(OWNER, ns.arn, [{ discoveryName: 'backend', dnsName: 'backend', port: 8080 }]);
    const onA = await webTask('a');
    const onC = await webTask('c');
    webs.push(onA.server, onC.server);
    const taskOnC = randomBytes(16).toString('hex');
    await h.berth.store.tasks.create({
      cluster: 'default', taskId: taskOnC, taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/backend:1', family: 'backend', revision: 1,
      containers: [], overrides: { containerOverrides: [] }, cpu: 256, memory: 512, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 1,
      createdAt: Date.now(), launchType: 'FARGATE', placementStrategy: 'spread', tags: [], group: 'service:backend', hostId: HOST_C,
      network: { privateIPv4Address: '127.0.0.1', macAddress: '02:00:00:00:00:01' },
    });
    await h.berth.loadBalancing!.register(endpoint.targetGroupArn, [{ id: HOST_A, port: onA.port }, { id: '127.0.0.1', port: onC.port }]);
    const proxyB = proxyOf(b);
    const proxyC = proxyOf(c, '127.0.0.3');
    await proxyC.refresh();
    await proxyB.refresh();
    const taskId = randomBytes(16).toString('hex');
    const reports: TaskReportBody[] = [];
    const runner = new TaskRunner({
      cluster: 'default', taskId, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${taskId}`, family: 'client', revision: 1,
      desiredStatus: 'RUNNING', lastStatus: 'PENDING', createdAt: Date.now(), cpu: 256, memory: 512, networkMode: 'awsvpc',
      serviceConnect: [{ dnsName: endpoint.dnsName, port: endpoint.port, proxyPort: endpoint.proxyPort }],
      containers: [{
        name: 'client', image: BUSYBOX_IMAGE, essential: true,
        // Exits 0 only when both tasks answered by name.
        command: ['sh', '-c', 'out=$(for i in 1 2 3 4 5 6; do timeout 3 wget -q -O- http://backend:8080/; done); echo "$out"; echo "$out" | grep -qx a && echo "$out" | grep -qx c'],
      }],
    }, { hostId: HOST_B, runtime, logDir: join(dir, 'logs'), report: async (body) => void reports.push(body) });

    // Act
    await runner.launch();
    await sc.deregister(endpoint.targetGroupArn, [{ id: HOST_A, port: onA.port }]);
    await proxyB.refresh();
    const afterDrain = new Set<string | undefined>();
    for (let i = 0; i < 4; i++) afterDrain.add(await askHttp(endpoint.proxyPort));

    // Assess
    expect(reports.at(-1)).toMatchObject({ lastStatus: 'STOPPED', containers: [{ exitCode: 0 }] });
    const ingress = endpoint.proxyPort + INGRESS_PORT_OFFSET;
    expect(await b.serviceConnectEndpoints()).toEqual([{ targetGroupArn: endpoint.targetGroupArn, proxyPort: endpoint.proxyPort, servers: [{ id: '127.0.0.3', port: ingress, weight: 1 }] }]);
    expect(await c.serviceConnectEndpoints()).toEqual([{
      targetGroupArn: endpoint.targetGroupArn, proxyPort: endpoint.proxyPort, servers: [{ id: '127.0.0.1', port: onC.port }],
      ingress: { bind: '127.0.0.3', port: ingress, servers: [{ id: '127.0.0.1', port: onC.port }] },
    }]);
    expect([...afterDrain]).toEqual(['c']);
    expect(await sc.health(endpoint.targetGroupArn)).toEqual([
      { target: { id: HOST_A, port: onA.port }, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' },
      { target: { id: '127.0.0.1', port: onC.port }, state: 'healthy' },
    ]);
  }, 120_000);
});

/** One GET to the host's proxy on 127.0.0.1:port; the body, trimmed. */
function askHttp(port: number): Promise<string | undefined> {
  return fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) }).then(async (r) => (await r.text()).trim(), () => undefined);
}
