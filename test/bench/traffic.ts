/**
 * bench:traffic — what the local load balancer (HAProxy) costs: the same closed-loop HTTP load
 * (BERTH_BENCH_TRAFFIC_CONNECTIONS concurrent clients, default 16, for
 * BERTH_BENCH_TRAFFIC_SECONDS each, default 10) sent straight to one task's own address, then
 * through a listener whose target group holds that task alone (the balancer's own overhead: the
 * same task, one hop more), then through a listener to the 3-task service, in the same run:
 * requests per second and p50/p99 latency, each beside the direct figure as a ratio (the
 * issue's goal: at most 1.2× in p99). Then the load step: with an ALBRequestCountPerTarget policy
 * (a datapoint every PERIOD_MS), the time from the load's start to the first scale-out activity
 * and to the first new task serving, beside AWS's floor (three datapoints) and a task added by
 * hand, measured in the same run.
 * Exits 1 only when something breaks (a failed request, a service that never turns healthy).
 */
import {
  CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand, RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLocal } from '../../local/runtime';
import { type Credentials, signedFetch } from '../support/signed-fetch';
import type { Berth } from '../../shared/context';
import { percentile } from './support/stats';
import { formatTable, ms, perSecond, ratio } from './support/table';
import { assertNothingLeft } from './support/bench-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

const CONNECTIONS = Number(process.env.BERTH_BENCH_TRAFFIC_CONNECTIONS ?? 16);
const SECONDS = Number(process.env.BERTH_BENCH_TRAFFIC_SECONDS ?? 10);
/** Application Auto Scaling's datapoint period here (AWS: a minute). */
const PERIOD_MS = 1000;
/** AWS's rule: three datapoints above the target before a scale-out. */
const SCALE_OUT_DATAPOINTS = 3;

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

/**
 * A new connection for every request, on every path: busybox's httpd closes each one, so a
 * client kept alive to HAProxy alone would spare the listener the handshake the direct path pays.
 */
const noKeepAlive = new Agent({ keepAlive: false });

const get = (url: string) => new Promise<boolean>((resolve) => {
  const req = request(url, { timeout: 5000, agent: noKeepAlive }, (res) => {
    res.resume();
    res.on('end', () => resolve(res.statusCode === 200));
  });
  req.on('error', () => resolve(false));
  req.on('timeout', () => req.destroy());
  req.end();
});

/** CONNECTIONS clients, each sending its next request when the last is answered, for SECONDS (or until `stop` says). */
async function load(url: string, stop?: () => boolean): Promise<{ rps: number; p50: number; p99: number; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (stop ? !stop() : performance.now() < end) {
      const t0 = performance.now();
      if (await get(url)) latencies.push(performance.now() - t0);
      else failed++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  return { rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), failed };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Healthy targets in the group now. */
async function healthy(elb: ElasticLoadBalancingV2Client, tg: string): Promise<number> {
  const h = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [];
  return h.filter((x) => x.TargetHealth?.State === 'healthy').length;
}

/**
 * The load step: first a task added by hand (UpdateService 3 → 4, to its target healthy; then
 * back), the baseline of what launching and checking a task costs; then an ALBRequestCountPerTarget
 * policy far below the load, and the load starts: the time to the first scale-out activity and
 * to the group's first new healthy target.
 */
async function loadStep(
  ecs: ECSClient, elb: ElasticLoadBalancingV2Client, local: { url: string; credentials: Credentials; berth: Berth }, lbArn: string, tg: string, url: string,
) {
  const { berth } = local;
  const before = await healthy(elb, tg);
  const handStart = performance.now();
  await ecs.send(new UpdateServiceCommand({ service: 'bench-traffic', desiredCount: before + 1 }));
  await until('the task added by hand healthy', async () => (await healthy(elb, tg)) > before);
  const byHandMs = performance.now() - handStart;
  await ecs.send(new UpdateServiceCommand({ service: 'bench-traffic', desiredCount: before }));
  await until('back to the service\'s tasks', async () => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? []).length === before);

  // Signed JSON calls in this process: the AWS CLI's start-up would take the machine from the load.
  const aas = async (operation: string, body: object) => {
    const r = await signedFetch(`${local.url}/`, {
      target: `AnyScaleFrontendService.${operation}`, body: JSON.stringify(body), credentials: local.credentials, service: 'application-autoscaling',
    });
    if (r.status !== 200) throw new Error(`${operation}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ ScalingActivities?: { StartTime: number | string }[] }>;
  };
  const key = { ServiceNamespace: 'ecs', ScalableDimension: 'ecs:service:DesiredCount', ResourceId: 'service/default/bench-traffic' };
  const label = `${lbArn.split(':loadbalancer/')[1]}/${tg.split(':').pop()}`;
  await aas('RegisterScalableTarget', { ...key, MinCapacity: before, MaxCapacity: before + 3 });
  console.log(`load step: ${CONNECTIONS} clients through the listener, a policy of 100 requests per target per ${PERIOD_MS} ms …`);
  let stop = false;
  const t0 = performance.now();
  const wallStart = Date.now();
  const loading = load(url, () => stop);
  await aas('PutScalingPolicy', {
    ...key, PolicyName: 'requests', PolicyType: 'TargetTrackingScaling',
    TargetTrackingScalingPolicyConfiguration: { TargetValue: 100, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: label }, ScaleOutCooldown: 0 },
  });
  let activityMs = NaN;
  let servingMs = NaN;
  try {
    await until('the first scale-out activity', async () => {
      const [first] = (await aas('DescribeScalingActivities', { ServiceNamespace: 'ecs', ResourceId: key.ResourceId })).ScalingActivities ?? [];
      // Its own StartTime (epoch seconds, as JSON 1.1 carries timestamps): when the controller decided.
      if (first) activityMs = new Date(typeof first.StartTime === 'number' ? first.StartTime * 1000 : first.StartTime).getTime() - wallStart;
      return first !== undefined;
    }, 60_000);
    await until('a new task serving', async () => (await healthy(elb, tg)) > before, 60_000);
    servingMs = performance.now() - t0;
  } finally {
    stop = true;
  }
  const [policy] = await berth.store.autoscaling.listPolicies({ resourceId: key.ResourceId });
  const datapoints = (policy?.state.datapoints ?? []).map((d) => `${((d.t - wallStart) / 1000).toFixed(1)}:${Math.round(d.v)}`).join(' ');
  return { byHandMs, activityMs, servingMs, datapoints, load: await loading };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-traffic-'));
  const logs: string[] = [];
  const local = await startLocal({
    dataDir, port: 0, hosts: 1, maxHosts: 1, hostType: 'c6i.xlarge', healthCheckTimeScale: 0.1, autoscalingPeriodMs: PERIOD_MS, log: (l) => logs.push(l),
  });
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
    // A task the load step stops leaves within a second, not ELBv2's default 300 s.
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '1' }] }));
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
    const step = await loadStep(ecs, elb, local, lb.LoadBalancerArn!, tg.TargetGroupArn!, `http://127.0.0.1:${port}/`);
    const floor = SCALE_OUT_DATAPOINTS * PERIOD_MS;
    console.log(`\n${formatTable([`load step (ALBRequestCountPerTarget, ${PERIOD_MS} ms datapoints)`, 'measured', 'baseline (same run)', 'ratio'], [
      ['to the first scale-out activity', ms(step.activityMs), `${ms(floor)} (${SCALE_OUT_DATAPOINTS} datapoints)`, ratio(step.activityMs, floor)],
      ['to the new tasks serving', ms(step.servingMs), `${ms(floor + step.byHandMs)} (those + a task added by hand)`, ratio(step.servingMs, floor + step.byHandMs)],
    ])}`);
    console.log(`(a task added by hand, UpdateService to its first healthy check: ${ms(step.byHandMs)}; ${step.load.failed} failed requests during the step)`);
    console.log(`(the policy's datapoints, s after the load started: requests per target: ${step.datapoints})`);
    if (direct.failed + single.failed + balanced.failed + step.load.failed > 0) {
      console.error(`failed requests: ${direct.failed} direct, ${single.failed} through the one-task listener, ${balanced.failed} through the 3-task listener`);
      process.exitCode = 1;
    }
    await ecs.send(new DeleteServiceCommand({ service: 'bench-traffic', force: true }));
  } finally {
    ecs.destroy();
    elb.destroy();
    await local.close({ discard: true });
    rmSync(dataDir, { recursive: true, force: true });
    assertNothingLeft([dataDir]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
