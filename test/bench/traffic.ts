/**
 * bench:traffic — what the local load balancer (HAProxy) costs: the same closed-loop HTTP load
 * (BERTH_BENCH_TRAFFIC_CONNECTIONS concurrent clients, default 16, for
 * BERTH_BENCH_TRAFFIC_SECONDS each, default 10) sent straight to one task's own address, then
 * through a listener whose target group holds that task alone (the balancer's own overhead: the
 * same task, one hop more), then through a listener to the 3-task service, in the same run:
 * requests per second and p50/p99 latency, each beside the direct figure as a ratio (the
 * issue's goal: at most 1.2× in p99).
 * Exits 1 only when something breaks (a failed request, a service that never turns healthy).
 */
import { CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocal } from '../../local/runtime';
import { percentile } from './support/stats';
import { formatTable, ms, perSecond, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const CONNECTIONS = Number(process.env.BERTH_BENCH_TRAFFIC_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BERTH_BENCH_TRAFFIC_SECONDS ?? 10);

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

const get = (url: string) => new Promise<boolean>((resolve) => {
  const req = request(url, { timeout: 5000 }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode === 200));
  });
  req.on('error', () => resolve(false));
  req.on('timeout', () => req.destroy());
  req.end();
});

/** CONNECTIONS clients, each sending its next request when the last is answered, for SECONDS. */
async function load(url: string): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      if (await get(url)) latencies.push(performance.now() - t0);
      else failed++;
    }
  }));
  return { rps: latencies.length / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-traffic-'));
  const logs: string[] = [];
  const local = await startLocal({ dataDir, port: 0, hosts: 1, maxHosts: 1, hostType: 'c6i.xlarge', healthCheckTimeScale: 0.1, log: (l) => logs.push(l) });
  const clients = { endpoint: local.url, region: 'us-east-1', maxAttempts: 3, credentials: local.credentials };
  const ecs = new ECSClient(clients);
  const elb = new ElasticLoadBalancingV2Client(clients);
  try {
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: 'bench-traffic', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'web', image: 'localhost/busybox:latest', stopTimeout: 2, portMappings: [{ containerPort: 8080 }],
        command: ['sh', '-c', 'mkdir -p /www; echo hello > /www/index.html; trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'] }],
    }));
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'bench', Subnets: ['subnet-1'] }))).LoadBalancers![0];
    const tg = (await elb.send(new CreateTargetGroupCommand({
      Name: 'bench', Protocol: 'HTTP', Port: 8080, TargetType: 'ip', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2,
    }))).TargetGroups![0];
    const port = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: port, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] }));
    await ecs.send(new CreateServiceCommand({
      serviceName: 'bench-traffic', taskDefinition: 'bench-traffic', desiredCount: 3,
      loadBalancers: [{ targetGroupArn: tg.TargetGroupArn, containerName: 'web', containerPort: 8080 }],
    }));
    console.log('waiting for 3 healthy targets …');
    await until('3 healthy targets', async () => {
      const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }))).TargetHealthDescriptions ?? [];
      return h.length === 3 && h.every((x) => x.TargetHealth?.State === 'healthy');
    });
    const [taskArn] = (await ecs.send(new ListTasksCommand({ serviceName: 'bench-traffic' }))).taskArns!;
    const [task] = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks!;
    const ip = task.containers![0].networkInterfaces![0].privateIpv4Address!;
    // A second listener whose target group holds that one task: the same work as direct, through HAProxy.
    const one = (await elb.send(new CreateTargetGroupCommand({
      Name: 'bench-one', Protocol: 'HTTP', Port: 8080, TargetType: 'ip', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2,
    }))).TargetGroups![0];
    const onePort = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: onePort, DefaultActions: [{ Type: 'forward', TargetGroupArn: one.TargetGroupArn }] }));
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: one.TargetGroupArn, Targets: [{ Id: ip, Port: 8080 }] }));
    await until('the one target healthy', async () => {
      const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: one.TargetGroupArn }))).TargetHealthDescriptions ?? [];
      return h.length === 1 && h[0].TargetHealth?.State === 'healthy';
    });

    console.log(`${CONNECTIONS} clients, ${SECONDS} s each: straight to one task …`);
    const direct = await load(`http://${ip}:8080/`);
    console.log('… through a listener to that same task alone …');
    const single = await load(`http://127.0.0.1:${onePort}/`);
    console.log('… through the listener to 3 tasks …');
    const balanced = await load(`http://127.0.0.1:${port}/`);

    const rows = [
      ['requests/s', perSecond(direct.rps), perSecond(single.rps), ratio(direct.rps, single.rps), perSecond(balanced.rps), ratio(direct.rps, balanced.rps)],
      ['p50 latency', ms(direct.p50), ms(single.p50), ratio(single.p50, direct.p50), ms(balanced.p50), ratio(balanced.p50, direct.p50)],
      ['p99 latency', ms(direct.p99), ms(single.p99), ratio(single.p99, direct.p99), ms(balanced.p99), ratio(balanced.p99, direct.p99)],
    ];
    console.log(`\n${formatTable(['measured', 'baseline: one task direct (same run)', 'listener → that task', 'ratio (overhead)', 'listener → 3 tasks', 'ratio'], rows)}`);
    console.log('(requests/s ratios are direct ÷ listener: above 1 means the listener serves fewer; the middle ratio is the balancer\'s own cost)');
    if (direct.failed + single.failed + balanced.failed > 0) {
      console.error(`failed requests: ${direct.failed} direct, ${single.failed} through the one-task listener, ${balanced.failed} through the 3-task listener`);
      process.exitCode = 1;
    }
    await ecs.send(new DeleteServiceCommand({ service: 'bench-traffic', force: true }));
  } finally {
    ecs.destroy();
    elb.destroy();
    await local.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
