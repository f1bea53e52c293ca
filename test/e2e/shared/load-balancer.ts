import { DescribeServicesCommand, ListTasksCommand, DescribeTasksCommand, type Service } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsCli, awsEcs } from '../../support/aws-cli';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode } from '../../support/local-mode';

/**
 * Services behind the local load balancer (a real HAProxy), end to end with the AWS CLI: a
 * 3-task HTTP service behind a listener answers from all three tasks; a rolling deployment
 * under a client loop fails no request; a task whose health path starts failing is drained and
 * replaced; describe-target-health shows the states as they change.
 */

/** Answers its task id on / (from the task metadata endpoint), 200 on /health while that file exists; exits on SIGTERM. */
const SERVE_TASK_ID = ['sh', '-c', [
  'mkdir -p /www; wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task" | sed -n \'s/.*"TaskARN":"[^"]*\\/\\([0-9a-f]*\\)".*/\\1/p\' > /www/index.html',
  'echo ok > /www/health; trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait',
].join('; ')];

const run = promisify(execFile);

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

const get = async (url: string): Promise<string | undefined> => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const text = (await r.text()).trim();
    return r.ok ? text : undefined;
  } catch {
    return undefined;
  }
};

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Services behind a load balancer', () => {
  let m: LocalMode;
  let elb: ElasticLoadBalancingV2Client;
  let tgArn: string;
  let lbArn: string;
  let listenerUrl: string;
  const elbv2 = (args: string[]) => awsCli(m.local.url, 'elbv2', args, TEST_CREDENTIALS);
  const ecs = (args: string[]) => awsEcs(m.local.url, args);
  const health = async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
  const service = async (): Promise<Service> => (await m.ecs.send(new DescribeServicesCommand({ services: ['lb-web'] }))).services![0];
  const runningTasks = async () => {
    const arns = (await m.ecs.send(new ListTasksCommand({ serviceName: 'lb-web', desiredStatus: 'RUNNING' }))).taskArns ?? [];
    return arns.length === 0 ? [] : (await m.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks!;
  };
  const taskId = (arn: string) => arn.split('/').pop()!;
  /** The deployment is done: one COMPLETED deployment, 3 targets healthy, nothing else in the group. */
  const settled = async () => {
    const s = await service();
    const h = await health();
    return s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === 3 &&
      h.length === 3 && h.every((x) => x.TargetHealth!.State === 'healthy');
  };

  beforeAll(async () => {
    m = mode();
    elb = new ElasticLoadBalancingV2Client({ endpoint: m.local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const def = join(m.dataDir, 'lb-web.json');
    writeFileSync(def, JSON.stringify({
      family: 'lb-web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'web', image: BUSYBOX, command: SERVE_TASK_ID, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }],
    }));
    expect((await ecs(['register-task-definition', '--cli-input-json', `file://${def}`])).code).toBe(0);
    lbArn = (await elbv2(['create-load-balancer', '--name', 'lb-web', '--subnets', 'subnet-1'])).json.LoadBalancers[0].LoadBalancerArn;
    tgArn = (await elbv2(['create-target-group', '--name', 'lb-web', '--protocol', 'HTTP', '--port', '8080', '--target-type', 'ip',
      '--health-check-path', '/health', '--health-check-interval-seconds', '5', '--health-check-timeout-seconds', '2',
      '--healthy-threshold-count', '2', '--unhealthy-threshold-count', '2'])).json.TargetGroups[0].TargetGroupArn;
    await elbv2(['modify-target-group-attributes', '--target-group-arn', tgArn, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=2']);
    const port = await freePort();
    const listener = await elbv2(['create-listener', '--load-balancer-arn', lbArn, '--protocol', 'HTTP', '--port', String(port),
      '--default-actions', `Type=forward,TargetGroupArn=${tgArn}`]);
    expect(listener.code).toBe(0);
    listenerUrl = `http://127.0.0.1:${port}/`;
  }, 120_000);
  afterAll(async () => {
    await ecs(['delete-service', '--service', 'lb-web', '--force']);
    await eventually(async () => (await service()).status === 'INACTIVE', 60_000, 'the service INACTIVE');
    await elbv2(['delete-load-balancer', '--load-balancer-arn', lbArn]);
    await elbv2(['delete-target-group', '--target-group-arn', tgArn]);
    elb?.destroy();
  }, 120_000);

  it('refuses an unknown target group and a containerName or containerPort not in the definition, creating nothing', async () => {
    // Prepare
    const unknownTg = tgArn.replace(/[0-9a-f]{16}$/, '0000000000000000');
    const lb = (tg: string, name: string, port: number) => `targetGroupArn=${tg},containerName=${name},containerPort=${port}`;

    // Act
    const tries = await Promise.all([lb(unknownTg, 'web', 8080), lb(tgArn, 'nope', 8080), lb(tgArn, 'web', 9999)].map((l) =>
      ecs(['create-service', '--service-name', 'lb-bad', '--task-definition', 'lb-web', '--desired-count', '1', '--load-balancers', l])));

    // Assess
    expect(tries.map((t) => t.errorType)).toEqual(['InvalidParameterException', 'InvalidParameterException', 'InvalidParameterException']);
    expect(tries[0].stderr).toContain(`The target group with targetGroupArn ${unknownTg} does not exist.`);
    expect(tries[1].stderr).toContain('The container nope does not exist in the task definition.');
    expect(tries[2].stderr).toContain('The container web did not have a container port 9999 defined.');
    expect((await m.ecs.send(new DescribeServicesCommand({ services: ['lb-bad'] }))).failures).toEqual([expect.objectContaining({ reason: 'MISSING' })]);
  });

  it('puts a 3-task service behind the listener: each task registers once RUNNING, and curl reaches all three', async () => {
    // Act
    const created = await ecs(['create-service', '--service-name', 'lb-web', '--task-definition', 'lb-web', '--desired-count', '3',
      '--load-balancers', `targetGroupArn=${tgArn},containerName=web,containerPort=8080`, '--health-check-grace-period-seconds', '5']);
    await eventually(settled, 90_000, 'three healthy targets and a completed deployment');
    const tasks = await runningTasks();
    const answers = new Set<string>();
    await eventually(async () => {
      answers.add((await get(listenerUrl)) ?? 'failed');
      return answers.size >= 3;
    }, 10_000, 'answers from three tasks');
    const cli = (await elbv2(['describe-target-health', '--target-group-arn', tgArn])).json.TargetHealthDescriptions;

    // Assess
    expect(created.json.service.loadBalancers).toEqual([{ targetGroupArn: tgArn, containerName: 'web', containerPort: 8080 }]);
    expect([...answers].sort()).toEqual(tasks.map((t) => taskId(t.taskArn!)).sort());
    const addresses = tasks.map((t) => t.containers![0].networkInterfaces![0].privateIpv4Address).sort();
    expect(cli.map((h: any) => h.Target.Id).sort()).toEqual(addresses);
    expect(cli.every((h: any) => h.Target.Port === 8080 && h.TargetHealth.State === 'healthy')).toBe(true);
  }, 120_000);

  it('rolls out a new deployment under a client loop with zero failed requests; old targets drain on the way', async () => {
    // Prepare: a client that never stops asking, and a watcher of target states
    const running = await runningTasks();
    const before = new Set(running.map((t) => taskId(t.taskArn!)));
    const oldTargets = new Set(running.map((t) => t.containers![0].networkInterfaces![0].privateIpv4Address!));
    let done = false;
    let ok = 0;
    const failures: string[] = [];
    const client = (async () => {
      while (!done) {
        const r = await get(listenerUrl);
        if (r === undefined) failures.push(new Date().toISOString());
        else ok++;
      }
    })();
    const seen = new Set<string>();
    const oldUnhealthy = new Set<string>();
    const watcher = (async () => {
      while (!done) {
        const targets = await health().catch(() => undefined);
        for (const h of targets ?? []) {
          seen.add(h.TargetHealth!.State!);
          if (h.TargetHealth!.State !== 'unhealthy' || !oldTargets.has(h.Target!.Id!)) continue;
          // An old task's address may have come back as a new task's (a per-task network's subnet
          // is free again once the old one is removed), and a new target may fail its first
          // checks while its server starts: it counts only while no new task holds the address.
          // (A listing that failed proves nothing either way: the next look decides.)
          const tasks = await runningTasks().catch(() => undefined);
          const holders = tasks?.filter((t) => t.containers![0].networkInterfaces?.[0]?.privateIpv4Address === h.Target!.Id);
          if (holders?.every((t) => before.has(taskId(t.taskArn!)))) oldUnhealthy.add(`${h.Target!.Id}: ${h.TargetHealth!.Reason}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    // Act
    const update = await ecs(['update-service', '--service', 'lb-web', '--force-new-deployment']);
    await eventually(async () => (await settled()) && (await runningTasks()).every((t) => !before.has(taskId(t.taskArn!))), 120_000, 'the new deployment complete');
    done = true;
    await Promise.all([client, watcher]);
    const after = new Set<string>();
    for (let i = 0; i < 12; i++) after.add((await get(listenerUrl)) ?? 'failed');

    // Assess
    expect(update.code).toBe(0);
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(20);
    // (`initial` lasts about a second here; the integration test shows it deterministically.)
    expect(seen).toContain('draining');
    // The old targets drain and go, never failing their checks first (a task stopped before its
    // target drained would). A new target may fail its first checks while its server starts on a
    // loaded machine, as on AWS: the deployment waits for it to be healthy.
    expect([...oldUnhealthy]).toEqual([]);
    expect([...after].some((id) => before.has(id) || id === 'failed')).toBe(false);
    const stopped = (await m.ecs.send(new ListTasksCommand({ serviceName: 'lb-web', desiredStatus: 'STOPPED' }))).taskArns!;
    const old = (await m.ecs.send(new DescribeTasksCommand({ tasks: stopped }))).tasks!.filter((t) => before.has(taskId(t.taskArn!)));
    expect(old.map((t) => t.stopCode)).toEqual(['ServiceSchedulerInitiated', 'ServiceSchedulerInitiated', 'ServiceSchedulerInitiated']);
  }, 180_000);

  it('drains and replaces a task whose health path starts failing', async () => {
    // Prepare
    const [victim] = await runningTasks();
    const ip = victim.containers![0].networkInterfaces![0].privateIpv4Address!;

    // Act: its /health starts answering 404
    await run('podman', ['--remote', '--url', `unix://${m.local.dockerSocket}`, 'exec', `berth-${taskId(victim.taskArn!)}-web`, 'rm', '/www/health']);
    const states: string[] = [];
    const victimTask = async () => (await m.ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn!] }))).tasks![0];
    // Until the victim stops: its replacement may later get the same address.
    await eventually(async () => {
      const state = (await health()).find((h) => h.Target!.Id === ip)?.TargetHealth?.State ?? 'gone';
      if (states.at(-1) !== state) states.push(state);
      return (await victimTask()).lastStatus === 'STOPPED';
    }, 60_000, 'the failing task STOPPED').catch((e) => {
      throw new Error(`${e.message}; its target went ${states.join(' → ')}`);
    });
    await eventually(settled, 90_000, 'three healthy targets again');
    const stoppedVictim = await victimTask();

    // Assess
    // The first look may come after its checks already failed (they run every 0.5 s here).
    expect(states.slice(states[0] === 'healthy' ? 1 : 0).slice(0, 2)).toEqual(['unhealthy', 'draining']);
    expect(stoppedVictim.stoppedReason).toBe(`Task failed ELB health checks in (target-group ${tgArn})`);
    expect((await service()).events!.map((e) => e.message)).toContainEqual(expect.stringContaining(`(task ${taskId(victim.taskArn!)}) (port 8080) is unhealthy in (target-group ${tgArn}) due to (reason Health checks failed with these codes: [404]).`));
    expect((await runningTasks()).map((t) => t.taskArn)).not.toContain(victim.taskArn);
  }, 180_000);
});
}
