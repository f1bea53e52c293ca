import { DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { AgentApiError, AgentClient } from '../../agent/client';
import { ECS_RESERVED_PORTS } from '../../shared/domain/ports';
import { attachmentId } from '../../shared/domain/task-network';
import { awsEcs } from '../support/aws-cli';
import { expectConforms, expectEcsError } from '../support/ecs-model';
import { type Harness, eventually, settledSnapshot, startHarness } from '../support/harness';

/**
 * A task's address and host ports through the control plane, with the agent played through the
 * agent API: fixed host ports as a placement resource (RESOURCE:PORTS), reserved ports refused at
 * RunTask, and the address and bindings an agent reports shown as ECS shows an awsvpc task's.
 */
const ENDPOINT_PORT = 4566;
const idOf = (arn: string) => arn.split('/').pop()!;

describe('Task address and host ports', () => {
  let h: Harness;
  let agent: AgentClient;
  beforeAll(async () => {
    h = await startHarness({
      config: { placementTimeoutSeconds: 2, reservedHostPorts: [...ECS_RESERVED_PORTS, ENDPOINT_PORT] },
      timeoutSeconds: { AwaitRunning: 30, AwaitStopped: 30 },
    });
    // The only host: what it holds decides every placement below.
    agent = new AgentClient(h.url, 'addr-host-1', 'us-east-1');
    await agent.register(4096, 8192);
  });
  afterAll(() => h.close());
  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  /** A bridge-mode definition (EC2), whose port mappings are published on the host. */
  async function bridgeDefinition(family: string, portMappings: { containerPort: number; hostPort?: number }[]) {
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['EC2'], networkMode: 'bridge',
      containerDefinitions: [{ name: 'web', image: 'busybox', memory: 256, portMappings }],
    }));
  }
  const task = (taskId: string) => h.berth.store.tasks.get({ cluster: 'default', taskId });

  it.each([
    ['ECS\'s reserved port 22', 22],
    ['ECS\'s agent port 51678', 51678],
    ['the local endpoint\'s own port', ENDPOINT_PORT],
  ])('answers RunTask asking for %s with a RESOURCE:PORTS failure, and starts nothing', async (_what, port) => {
    // Prepare
    await bridgeDefinition(`reserved-${port}`, [{ containerPort: 80, hostPort: port }]);
    const before = await settledSnapshot(h);

    // Act
    const r = await h.ecs.send(new RunTaskCommand({ taskDefinition: `reserved-${port}`, launchType: 'EC2', count: 2 }));

    // Assess
    expect(r.tasks).toEqual([]);
    expect(r.failures).toEqual([{ reason: 'RESOURCE:PORTS', detail: `host port ${port}/tcp is reserved on every host` }]);
    expect(await settledSnapshot(h)).toEqual(before);
  });

  it('places two tasks that need one fixed host port on one host never together: the second fails with RESOURCE:PORTS', async () => {
    // Prepare
    await bridgeDefinition('fixed-8080', [{ containerPort: 80, hostPort: 8080 }]);
    await bridgeDefinition('fixed-8081', [{ containerPort: 80, hostPort: 8081 }]);
    const [first] = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'fixed-8080', launchType: 'EC2' }))).tasks!;
    await eventually(async () => (await task(idOf(first.taskArn!)))?.hostId, 20_000, 'the first placed');

    // Act
    const [second] = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'fixed-8080', launchType: 'EC2' }))).tasks!;
    const [other] = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'fixed-8081', launchType: 'EC2' }))).tasks!;

    // Assess
    const stopped = await eventually(async () => {
      const t = await task(idOf(second.taskArn!));
      return t?.lastStatus === 'STOPPED' ? t : undefined;
    }, 10_000, 'the second to fail');
    expect(stopped.stopCode).toBe('TaskFailedToStart');
    expect(stopped.stoppedReason).toContain('host port 8080/tcp');
    expect(stopped.stoppedReason).toContain('RESOURCE:PORTS');
    expect((await eventually(async () => (await task(idOf(other.taskArn!)))?.hostId, 20_000, 'the other placed'))).toBe('addr-host-1');
    const host = (await h.berth.store.hosts.get('addr-host-1'))!;
    expect([...(host.reservedPorts ?? [])].sort()).toEqual(['8080/tcp', '8081/tcp']);

    // And once the first stops, its port is free again.
    await h.ecs.send(new StopTaskCommand({ task: first.taskArn! }));
    await agent.report({ task: { cluster: 'default', taskId: idOf(first.taskArn!) }, lastStatus: 'STOPPED', containers: [], timestamps: {}, seq: Date.now() });
    await eventually(async () => !(await h.berth.store.hosts.get('addr-host-1'))!.reservedPorts?.includes('8080/tcp'), 10_000, 'port 8080 freed');
  });

  describe('what the agent reports', () => {
    let arn: string;
    let taskId: string;
    const network = { privateIPv4Address: '10.89.3.7', macAddress: '0a:58:0a:59:03:07' };
    const bindings = [{ bindIP: '127.0.0.1', containerPort: 80, hostPort: 49201, protocol: 'tcp' as const }];

    beforeAll(async () => {
      await bridgeDefinition('reported', [{ containerPort: 80 }]);
      [{ taskArn: arn }] = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'reported', launchType: 'EC2' }))).tasks! as { taskArn: string }[];
      taskId = idOf(arn);
      // Waiting for RUNNING: the launch workflow has stored its token, so nothing else moves the task meanwhile.
      await eventually(async () => (await task(taskId))?.launchToken, 20_000, 'the launch to wait for RUNNING');
    });

    it('refuses a report whose address is not an address, and changes nothing', async () => {
      // Prepare
      const before = await task(taskId);

      // Act
      const error = await agent.report({
        task: { cluster: 'default', taskId }, lastStatus: 'RUNNING', containers: [], timestamps: {}, seq: Date.now(),
        network: { privateIPv4Address: '10.89.3.700', macAddress: network.macAddress },
      }).then(() => undefined, (e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(AgentApiError);
      expect((error as AgentApiError).type).toBe('ClientException');
      expect(await task(taskId)).toEqual(before);
    });

    it('shows the address as an ENI attachment and each container\'s networkInterfaces and networkBindings, to the AWS CLI', async () => {
      // Act
      await agent.report({
        task: { cluster: 'default', taskId }, lastStatus: 'RUNNING', timestamps: { startedAt: Date.now() }, seq: Date.now(), network,
        containers: [{ name: 'web', image: 'busybox', essential: true, lastStatus: 'RUNNING', networkBindings: bindings }],
      });
      const cli = await awsEcs(h.url, ['describe-tasks', '--tasks', arn]);

      // Assess
      expect(cli.code).toBe(0);
      const t = cli.json.tasks[0];
      expect(t.attachments).toEqual([{
        id: attachmentId(taskId),
        type: 'ElasticNetworkInterface',
        status: 'ATTACHED',
        details: [
          { name: 'subnetId', value: expect.stringMatching(/^subnet-[0-9a-f]{17}$/) },
          { name: 'networkInterfaceId', value: expect.stringMatching(/^eni-[0-9a-f]{17}$/) },
          { name: 'macAddress', value: network.macAddress },
          { name: 'privateDnsName', value: 'ip-10-89-3-7.ec2.internal' },
          { name: 'privateIPv4Address', value: network.privateIPv4Address },
        ],
      }]);
      expect(t.attachments[0].id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(t.containers[0].networkInterfaces).toEqual([{ attachmentId: attachmentId(taskId), privateIpv4Address: network.privateIPv4Address }]);
      expect(t.containers[0].networkBindings).toEqual(bindings);
    });

    it('marks the attachment DELETED once the task has stopped, as ECS does', async () => {
      // Act
      await h.ecs.send(new StopTaskCommand({ task: arn }));
      await agent.report({
        task: { cluster: 'default', taskId }, lastStatus: 'STOPPED', timestamps: { stoppedAt: Date.now() }, seq: Date.now(), network,
        containers: [{ name: 'web', image: 'busybox', essential: true, lastStatus: 'STOPPED', exitCode: 0 }],
        stop: { stopCode: 'UserInitiated', stoppedReason: 'done' },
      });
      const t = (await h.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0];

      // Assess
      expect(t.lastStatus).toBe('STOPPED');
      expect(t.attachments?.map((a) => a.status)).toEqual(['DELETED']);
      expect(t.containers![0].networkInterfaces).toEqual([{ attachmentId: attachmentId(taskId), privateIpv4Address: network.privateIPv4Address }]);
    });
  });
});
