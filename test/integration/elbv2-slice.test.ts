import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DeleteTargetGroupCommand, DeregisterTargetsCommand, DescribeLoadBalancersCommand, DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupAttributesCommand, RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { startLocalElbv2 } from '../../local/services/elbv2';
import { backendName, serverName } from '../../local/services/elbv2/haproxy';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { awsCli } from '../support/aws-cli';
import { TEST_CREDENTIALS, eventually } from '../support/harness';
import { deferred } from '../support/deferred';

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/** The local ELBv2 slice with its HAProxy, driven by the AWS CLI and the SDK; targets are busybox httpd processes on loopback. */
describe('Local ELBv2 slice', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let elbv2: Awaited<ReturnType<typeof startLocalElbv2>>;
  let server: Awaited<ReturnType<typeof serve>>;
  let client: ElasticLoadBalancingV2Client;
  const dir = mkdtempSync(join(tmpdir(), 'berth-elbv2-'));
  const httpds: ChildProcess[] = [];
  const cli = (args: string[]) => awsCli(server.url, 'elbv2', args, TEST_CREDENTIALS);

  /** A web server answering `name` on / and 200 on /health while that file exists. */
  async function httpd(name: string, healthy = true): Promise<{ port: number; www: string }> {
    const port = await freePort();
    const www = join(dir, name);
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, 'index.html'), `${name}\n`);
    if (healthy) writeFileSync(join(www, 'health'), 'ok\n');
    httpds.push(spawn('busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', www], { stdio: 'ignore' }));
    return { port, www };
  }

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    elbv2 = await startLocalElbv2(berth, { dataDir: dir, dynamoEndpoint: dynamo.endpoint, log: () => {}, say: () => {}, healthCheckTimeScale: 0.1 });
    server = await serve({ 'POST /': byTarget({}, createApiHandler(() => berth, { log: () => {} }), elbv2.handler) });
    client = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  }, 60_000);
  afterAll(async () => {
    for (const p of httpds) p.kill();
    client?.destroy();
    await elbv2?.close();
    berth?.workflows.close();
    await server?.close();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('balances a listener across registered targets, shows initial → healthy → unhealthy → draining, then forgets the target', async () => {
    // Prepare: a load balancer, a target group with fast checks, a listener (AWS CLI)
    const lb = (await cli(['create-load-balancer', '--name', 'web', '--subnets', 'subnet-1'])).json.LoadBalancers[0];
    const tgr = (await cli(['create-target-group', '--name', 'web', '--protocol', 'HTTP', '--port', '80', '--target-type', 'ip',
      '--health-check-path', '/health', '--health-check-interval-seconds', '5', '--health-check-timeout-seconds', '2',
      '--healthy-threshold-count', '2', '--unhealthy-threshold-count', '2']));
    if (!tgr.json) throw new Error(tgr.stderr);
    const tg = tgr.json.TargetGroups[0];
    const port = await freePort();
    const listener = await cli(['create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', String(port),
      '--default-actions', `Type=forward,TargetGroupArn=${tg.TargetGroupArn}`]);
    expect(listener.code).toBe(0);
    expect(tg).toMatchObject({ TargetGroupName: 'web', Port: 80, HealthCheckPath: '/health', HealthCheckIntervalSeconds: 5, Matcher: { HttpCode: '200' } });
    // Draining lasts this long (real seconds): long enough that the read right after the
    // deregistration still sees it on a loaded machine.
    await cli(['modify-target-group-attributes', '--target-group-arn', tg.TargetGroupArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=5']);
    const a = await httpd('alpha');
    const b = await httpd('beta', false);

    // Act: register both
    const reg = await cli(['register-targets', '--target-group-arn', tg.TargetGroupArn, '--targets', `Id=127.0.0.1,Port=${a.port}`, `Id=127.0.0.1,Port=${b.port}`]);
    const health = async () => (await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions!;
    await eventually(async () => (await health()).find((h) => h.Target!.Port === a.port)?.TargetHealth?.State === 'healthy', 10_000, 'alpha healthy');
    const first = (await cli(['describe-target-health', '--target-group-arn', tg.TargetGroupArn])).json.TargetHealthDescriptions;
    writeFileSync(join(b.www, 'health'), 'ok\n');
    await eventually(async () => (await health()).every((h) => h.TargetHealth!.State === 'healthy'), 10_000, 'both healthy');
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add((await (await fetch(`http://127.0.0.1:${port}/`)).text()).trim());

    // Assess
    expect(reg.code).toBe(0);
    // beta had no health path yet: out of service, in its initial checks or (as ELBv2 moves a new
    // target once it fails UnhealthyThresholdCount checks in a row) already unhealthy
    expect(first.map((h: any) => [h.Target.Port, h.TargetHealth.State])).toEqual([[a.port, 'healthy'], [b.port, expect.stringMatching(/^(initial|unhealthy)$/)]]);
    expect([...answers].sort()).toEqual(['alpha', 'beta']);

    // Act: beta's health path starts failing, then alpha is deregistered
    rmSync(join(b.www, 'health'));
    await eventually(async () => (await health()).find((h) => h.Target!.Port === b.port)?.TargetHealth?.State === 'unhealthy', 10_000, 'beta unhealthy');
    const unhealthy = (await health()).find((h) => h.Target!.Port === b.port)!;
    await client.send(new DeregisterTargetsCommand({ TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));
    const draining = (await health()).find((h) => h.Target!.Port === a.port)!;

    // Assess
    expect(unhealthy.TargetHealth).toMatchObject({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' });
    expect(draining.TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    await eventually(async () => (await health()).length === 1, 30_000, 'alpha gone after the deregistration delay');
    expect((await elbv2.balancer.requestCounts()).get(tg.TargetGroupArn)).toBeGreaterThanOrEqual(6);
  });

  it('refuses an unknown target group, a bad target and a target group in use, with ELBv2 errors, changing nothing', async () => {
    // Prepare
    const unknown = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/none/0123456789abcdef';
    const tgs = { json: await client.send(new DescribeTargetGroupsCommand({})) };
    const inUse = tgs.json.TargetGroups![0].TargetGroupArn;

    // Act
    const cliMissing = await cli(['describe-target-health', '--target-group-arn', unknown]);
    const sdkMissing = await client.send(new RegisterTargetsCommand({ TargetGroupArn: unknown, Targets: [{ Id: '127.0.0.1', Port: 1 }] })).catch((e) => e);
    const badTarget = await client.send(new RegisterTargetsCommand({ TargetGroupArn: inUse!, Targets: [{ Id: 'i-0123456789abcdef0', Port: 80 }] })).catch((e) => e);
    const deleteInUse = await client.send(new DeleteTargetGroupCommand({ TargetGroupArn: inUse })).catch((e) => e);
    const badDelay = await client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: inUse, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '9999' }] })).catch((e) => e);
    const badName = await client.send(new CreateTargetGroupCommand({ Name: '-bad', Protocol: 'HTTP', Port: 80 })).catch((e) => e);
    const badLb = await client.send(new CreateListenerCommand({ LoadBalancerArn: unknown.replace('targetgroup', 'loadbalancer/app'), Port: 1, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: inUse }] })).catch((e) => e);

    // Assess
    expect(cliMissing.errorType).toBe('TargetGroupNotFound');
    expect(sdkMissing).toBeInstanceOf(TargetGroupNotFoundException);
    expect(sdkMissing.$metadata.httpStatusCode).toBe(400);
    expect(badTarget.name).toBe('InvalidTargetException');
    expect(deleteInUse.name).toBe('ResourceInUseException');
    expect(badDelay.name).toBe('InvalidConfigurationRequestException');
    expect(badName.name).toBe('ValidationError');
    expect(badLb.name).toBe('LoadBalancerNotFoundException');
    expect((await client.send(new DescribeTargetGroupsCommand({}))).TargetGroups).toEqual(tgs.json.TargetGroups);
    expect((await client.send(new DescribeLoadBalancersCommand({}))).LoadBalancers).toHaveLength(1);
  });

  it('answers an unsigned query-protocol call with an XML error', async () => {
    const r = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeLoadBalancers&Version=2015-12-01' });
    expect(r.status).toBe(403);
    expect(await r.text()).toMatch(/^<ErrorResponse xmlns="http:\/\/elasticloadbalancing.amazonaws.com\/doc\/2015-12-01\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationTokenException<\/Code>/);
  });

  /** A healthy target behind a listener of its own. */
  async function healthyTarget(name: string) {
    const lb = (await cli(['create-load-balancer', '--name', name, '--subnets', 'subnet-1'])).json.LoadBalancers[0];
    const tgArn: string = (await cli(['create-target-group', '--name', name, '--protocol', 'HTTP', '--port', '80', '--target-type', 'ip',
      '--health-check-path', '/health', '--health-check-interval-seconds', '5', '--health-check-timeout-seconds', '2',
      '--healthy-threshold-count', '2', '--unhealthy-threshold-count', '2'])).json.TargetGroups[0].TargetGroupArn;
    expect((await cli(['create-listener', '--load-balancer-arn', lb.LoadBalancerArn, '--protocol', 'HTTP', '--port', String(await freePort()),
      '--default-actions', `Type=forward,TargetGroupArn=${tgArn}`])).code).toBe(0);
    const { port } = await httpd(name);
    const target = { id: '127.0.0.1', port };
    await elbv2.balancer.register(tgArn, [target]);
    const state = async () => (await elbv2.balancer.health(tgArn))!.find((h) => h.target.port === port)?.state;
    await eventually(async () => (await state()) === 'healthy', 10_000, `${name} healthy`);
    return { tgArn, target, state };
  }

  it('refuses a deregistration that names a target not registered, draining none of the others', async () => {
    // Prepare
    const { tgArn, target, state } = await healthyTarget('partly');

    // Act
    const refused = await client.send(new DeregisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: target.id, Port: target.port }, { Id: '127.0.0.1', Port: 1 }] })).catch((e) => e);

    // Assess: HAProxy still sends it traffic (a server HAProxy drains shows as DRAIN)
    expect(refused.name).toBe('InvalidTargetException');
    expect(await state()).toBe('healthy');
    const row = (await elbv2.balancer.haproxy.stat()).find((r) => r.pxname === backendName(tgArn) && r.svname === serverName(target));
    expect(row?.status).toMatch(/^UP/);
  });

  it('never reports a healthy target unhealthy to a health read made while HAProxy already drains it', async () => {
    // Prepare
    const { tgArn, target, state } = await healthyTarget('race');
    // HAProxy carries out the drain, and its answer is held on the way back to the balancer
    const haproxy = elbv2.balancer.haproxy;
    const command = haproxy.command.bind(haproxy);
    const drainDone = deferred();
    const held = deferred();
    const spy = jest.spyOn(haproxy, 'command').mockImplementation(async (line) => {
      const answer = await command(line);
      if (/ state drain$/.test(line)) {
        drainDone.resolve();
        await held.promise;
      }
      return answer;
    });

    try {
      // Act: a health read while the deregistration is on its way
      const deregistering = elbv2.balancer.deregister(tgArn, [target]);
      await drainDone.promise;
      const reading = state();
      held.resolve();
      await deregistering;

      // Assess
      expect(await reading).toBe('draining');
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps in its state the targets HAProxy already drains when a later drain command fails, and lets them go once drained', async () => {
    // Prepare: two healthy targets; HAProxy's runtime API fails the second drain command
    const { tgArn, target: first, state } = await healthyTarget('fails');
    const { port } = await httpd('fails-2');
    const second = { id: '127.0.0.1', port };
    await elbv2.balancer.register(tgArn, [second]);
    await eventually(async () => (await elbv2.balancer.health(tgArn))!.every((h) => h.state === 'healthy'), 10_000, 'both healthy');
    await cli(['modify-target-group-attributes', '--target-group-arn', tgArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=1']);
    const haproxy = elbv2.balancer.haproxy;
    const command = haproxy.command.bind(haproxy);
    const spy = jest.spyOn(haproxy, 'command').mockImplementation(async (line) => {
      if (line.endsWith(`/${serverName(second)} state drain`)) throw new Error('the runtime API went away');
      return command(line);
    });

    try {
      // Act
      const failed = await elbv2.balancer.deregister(tgArn, [first, second]).then(() => undefined, (e: Error) => e);
      const right = await state();

      // Assess: the first drains as the state says, and leaves the group after its delay
      expect(failed?.message).toContain('the runtime API went away');
      expect(right).toBe('draining');
      await eventually(async () => (await state()) === undefined, 10_000, 'the drained target gone');
      expect((await elbv2.balancer.health(tgArn))!.map((h) => [h.target.port, h.state])).toEqual([[port, 'healthy']]);
    } finally {
      spy.mockRestore();
    }
  });
});
