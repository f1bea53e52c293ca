import { DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListContainerInstancesCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsEcs } from '../../support/aws-cli';
import { expectRecordedCallsConform } from '../../support/ecs-model';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, untilStatus } from '../../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';

/**
 * Each task has its own address, with real containers: three replicas of one definition, all
 * listening on containerPort 8080, run side by side on one host and each answers at its own
 * private IPv4 address; a task that asks for hostPort 0 gets a port on 127.0.0.1 that answers.
 * Every ECS response the AWS CLI and the SDK got validates against the CLI's ECS model.
 */

/** Serves a page naming the task (its TASK_NAME) on 8080; httpd as PID 1 goes on SIGTERM. */
const SERVE_NAME = ['sh', '-c', 'mkdir -p /www && echo "$TASK_NAME" > /www/index.html && trap "exit 0" TERM && httpd -f -p 8080 -h /www & wait'];
const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => (r.ok ? r.text() : undefined)).catch(() => undefined);
const detail = (t: Task, name: string) => t.attachments?.[0]?.details?.find((d) => d.name === name)?.value;

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Task addresses', () => {
  let m: LocalMode;
  let proxy: RecordingProxy;
  let ecs: ECSClient;
  beforeAll(async () => {
    m = mode();
    proxy = await startRecordingProxy(m.local.url);
    ecs = new ECSClient({ endpoint: proxy.url, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS });
  });
  afterAll(async () => {
    ecs?.destroy();
    await proxy?.close();
  });
  // Conformance: every ECS response of these tests, against awscli's model.
  afterEach(() => expectRecordedCallsConform(proxy.calls));

  describe('three replicas of one definition with containerPort 8080', () => {
    const names = ['replica-1', 'replica-2', 'replica-3'];
    let arns: string[];

    beforeAll(async () => {
      const definition = join(m.dataDir, 'web.json');
      writeFileSync(definition, JSON.stringify({
        family: 'addr-web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'web', image: BUSYBOX, command: SERVE_NAME, stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }],
      }));
      const reg = await awsEcs(proxy.url, ['register-task-definition', '--cli-input-json', `file://${definition}`]);
      expect(reg.code).toBe(0);
      // All on one host of the fleet, by a memberOf constraint on its instance id.
      const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
      const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns!.slice(0, 1) }));
      const onOneHost = `type=memberOf,expression=ec2InstanceId == ${containerInstances![0].ec2InstanceId}`;
      arns = [];
      for (const name of names) {
        const overrides = JSON.stringify({ containerOverrides: [{ name: 'web', environment: [{ name: 'TASK_NAME', value: name }] }] });
        const run = await awsEcs(proxy.url, ['run-task', '--task-definition', 'addr-web', '--overrides', overrides, '--placement-constraints', onOneHost]);
        expect(run.code).toBe(0);
        arns.push(run.json.tasks[0].taskArn);
      }
      await Promise.all(arns.map((arn) => untilStatus(ecs, arn, 'RUNNING', 120_000)));
    }, 300_000);

    it('runs all three RUNNING on one host', async () => {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: arns }));

      expect(tasks!.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
      expect(new Set(tasks!.map((t) => t.containerInstanceArn)).size).toBe(1);
    });

    it('shows each task\'s address in describe-tasks as an ENI attachment and its containers\' networkInterfaces', async () => {
      // Act
      const cli = await awsEcs(proxy.url, ['describe-tasks', '--tasks', ...arns]);

      // Assess
      expect(cli.code).toBe(0);
      const tasks: Task[] = cli.json.tasks;
      const ips = tasks.map((t) => detail(t, 'privateIPv4Address'));
      expect(new Set(ips).size).toBe(3);
      for (const t of tasks) {
        expect(t.attachments).toHaveLength(1);
        expect(t.attachments![0]).toMatchObject({ type: 'ElasticNetworkInterface', status: 'ATTACHED' });
        expect(detail(t, 'privateIPv4Address')).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(detail(t, 'macAddress')).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
        expect(detail(t, 'networkInterfaceId')).toMatch(/^eni-[0-9a-f]{17}$/);
        expect(detail(t, 'subnetId')).toMatch(/^subnet-[0-9a-f]{17}$/);
        expect(t.containers![0].networkInterfaces).toEqual([{ attachmentId: t.attachments![0].id, privateIpv4Address: detail(t, 'privateIPv4Address') }]);
        // awsvpc publishes nothing on the host: the task's own address is where it listens.
        expect(t.containers![0].networkBindings).toEqual([]);
      }
    });

    it('answers HTTP at each task\'s own address, each with its own name', async () => {
      // Prepare
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: arns }));

      // Act
      const bodies = await Promise.all(tasks!.map((t) =>
        eventually(() => get(`http://${detail(t, 'privateIPv4Address')}:8080/index.html`), 20_000, `task ${t.taskArn} to answer`)));

      // Assess: the task at each address is the one that serves there.
      const byArn = new Map(arns.map((arn, i) => [arn, `${names[i]}\n`]));
      expect(bodies).toEqual(tasks!.map((t) => byArn.get(t.taskArn!)));
    });
  });

  it('gives a task that asks for hostPort 0 a networkBinding on 127.0.0.1 from the dynamic range, which answers', async () => {
    // Prepare: bridge mode, as ECS's dynamic host ports are.
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: 'addr-dynamic', requiresCompatibilities: ['EC2'], networkMode: 'bridge',
      containerDefinitions: [{
        name: 'web', image: BUSYBOX, memory: 128, stopTimeout: 2, command: SERVE_NAME,
        environment: [{ name: 'TASK_NAME', value: 'dynamic' }], portMappings: [{ containerPort: 8080, hostPort: 0 }],
      }],
    }));

    // Act
    const run = await ecs.send(new RunTaskCommand({ taskDefinition: 'addr-dynamic', launchType: 'EC2' }));
    const t = await untilStatus(ecs, run.tasks![0].taskArn!, 'RUNNING', 120_000);
    const [binding] = t.containers![0].networkBindings!;
    const body = await eventually(() => get(`http://127.0.0.1:${binding.hostPort}/index.html`), 20_000, 'the published port to answer');

    // Assess
    expect(t.containers![0].networkBindings).toEqual([{ bindIP: '127.0.0.1', containerPort: 8080, hostPort: binding.hostPort, protocol: 'tcp' }]);
    expect(binding.hostPort).toBeGreaterThanOrEqual(49153);
    expect(binding.hostPort).toBeLessThanOrEqual(65535);
    expect(body).toBe('dynamic\n');
    // Its own address answers too.
    expect(await eventually(() => get(`http://${detail(t, 'privateIPv4Address')}:8080/index.html`), 20_000, 'its own address')).toBe('dynamic\n');
  }, 180_000);
});
}
