import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, type Service } from '@aws-sdk/client-ecs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsEcs } from '../../support/aws-cli';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode } from '../../support/local-mode';

/**
 * Service Connect end to end with the AWS CLI: a client service's task reaches
 * `http://backend:8080` of a second service, balanced over its tasks, while that service is
 * redeployed, without a failed request; a namespace or portName that does not exist is refused.
 */

/** Answers its task id on / (from the task metadata endpoint); exits on SIGTERM. */
const SERVE_TASK_ID = ['sh', '-c', [
  'mkdir -p /www; wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task" | sed -n \'s/.*"TaskARN":"[^"]*\\/\\([0-9a-f]*\\)".*/\\1/p\' > /www/index.html',
  'trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait',
].join('; ')];

/** Asks http://backend:8080/ five times a second (within 3 s each: the static busybox's wget crashes given -T), appending `ok TASKID` or `FAIL` to /www/log, which it serves on 8081. */
const CLIENT_LOOP = ['sh', '-c', [
  'mkdir -p /www; : > /www/log; httpd -p 8081 -h /www; trap "exit 0" TERM',
  'while true; do if r=$(timeout 3 wget -q -O- http://backend:8080/ 2>/dev/null); then echo "ok $r" >> /www/log; else echo FAIL >> /www/log; fi; sleep 0.2; done',
].join('; ')];

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Service Connect', () => {
  let m: LocalMode;
  let clientLog: string;
  const ecs = (args: string[]) => awsEcs(m.local.url, args);
  const service = async (name: string): Promise<Service> => (await m.ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0];
  const tasksOf = async (name: string) => {
    const arns = (await m.ecs.send(new ListTasksCommand({ serviceName: name, desiredStatus: 'RUNNING' }))).taskArns ?? [];
    return arns.length === 0 ? [] : (await m.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks!;
  };
  const settled = async (name: string, count: number) => {
    const s = await service(name);
    return s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === count;
  };
  const readLog = async (): Promise<string[]> => {
    const r = await fetch(clientLog, { signal: AbortSignal.timeout(3000) });
    return (await r.text()).split('\n').filter(Boolean);
  };
  const register = async (family: string, container: object) => {
    const def = join(m.dataDir, `${family}.json`);
    writeFileSync(def, JSON.stringify({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [container],
    }));
    expect((await ecs(['register-task-definition', '--cli-input-json', `file://${def}`])).code).toBe(0);
  };
  const PUBLISH = JSON.stringify({ enabled: true, services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] });

  beforeAll(async () => {
    m = mode();
    await register('sc-backend', { name: 'web', image: BUSYBOX, command: SERVE_TASK_ID, stopTimeout: 2, portMappings: [{ containerPort: 8080, name: 'http' }] });
    await register('sc-client', { name: 'client', image: BUSYBOX, command: CLIENT_LOOP, stopTimeout: 2 });
    const cluster = await ecs(['update-cluster', '--cluster', 'default', '--service-connect-defaults', 'namespace=shop']);
    expect(cluster.code).toBe(0);
    expect(cluster.json.cluster.serviceConnectDefaults.namespace).toMatch(/^arn:aws:servicediscovery:us-east-1:\d+:namespace\/ns-/);
  }, 60_000);
  afterAll(async () => {
    for (const name of ['sc-client', 'sc-backend']) await ecs(['delete-service', '--service', name, '--force']);
    await eventually(async () => (await service('sc-backend')).status === 'INACTIVE' && (await service('sc-client')).status === 'INACTIVE', 60_000, 'both services INACTIVE');
    await ecs(['update-cluster', '--cluster', 'default', '--service-connect-defaults', 'namespace=']);
  }, 120_000);

  it('refuses a namespace or a portName that does not exist, creating nothing', async () => {
    // Act
    const tries = await Promise.all([
      JSON.stringify({ enabled: true, namespace: 'nowhere', services: [{ portName: 'http', clientAliases: [{ port: 8080 }] }] }),
      JSON.stringify({ enabled: true, services: [{ portName: 'nope', clientAliases: [{ port: 8080 }] }] }),
    ].map((c) => ecs(['create-service', '--service-name', 'sc-bad', '--task-definition', 'sc-backend', '--desired-count', '1', '--service-connect-configuration', c])));

    // Assess
    // (tls, which Berth refuses too, is newer than the AWS CLI 2.9 model: the unit tests cover it.)
    expect(tries.map((t) => t.errorType)).toEqual(['NamespaceNotFoundException', 'InvalidParameterException']);
    expect(tries[1].stderr).toContain("portName 'nope' does not match");
    expect((await m.ecs.send(new DescribeServicesCommand({ services: ['sc-bad'] }))).failures).toEqual([expect.objectContaining({ reason: 'MISSING' })]);
  });

  it('lets a client task reach http://backend:8080 of another service, balanced, and through its redeployment without an error', async () => {
    // Prepare: the backend publishes `backend:8080`; the client joins the namespace only.
    const created = await ecs(['create-service', '--service-name', 'sc-backend', '--task-definition', 'sc-backend', '--desired-count', '2',
      '--service-connect-configuration', PUBLISH]);
    expect(created.code).toBe(0);
    await eventually(() => settled('sc-backend', 2), 90_000, 'two healthy backend tasks');
    expect((await ecs(['create-service', '--service-name', 'sc-client', '--task-definition', 'sc-client', '--desired-count', '1',
      '--service-connect-configuration', '{"enabled":true}'])).code).toBe(0);
    await eventually(async () => (await tasksOf('sc-client'))[0]?.lastStatus === 'RUNNING', 60_000, 'the client RUNNING');
    const address = (await tasksOf('sc-client'))[0].containers![0].networkInterfaces![0].privateIpv4Address;
    clientLog = `http://${address}:8081/log`;
    const before = (await tasksOf('sc-backend')).map((t) => t.taskArn!.split('/').pop()!).sort();
    await eventually(async () => new Set((await readLog()).filter((l) => l.startsWith('ok ')).map((l) => l.slice(3))).size >= 2, 30_000, 'answers from both backend tasks');
    const from = (await readLog()).length;

    // Act: a rolling deployment replaces both backend tasks while the client keeps asking.
    expect((await ecs(['update-service', '--service', 'sc-backend', '--force-new-deployment'])).code).toBe(0);
    await eventually(async () => {
      const ids = (await tasksOf('sc-backend')).map((t) => t.taskArn!.split('/').pop()!);
      return (await settled('sc-backend', 2)) && ids.every((id) => !before.includes(id));
    }, 120_000, 'the redeployment completed');
    const after = (await tasksOf('sc-backend')).map((t) => t.taskArn!.split('/').pop()!).sort();
    await eventually(async () => {
      const lines = (await readLog()).slice(from);
      return after.some((id) => lines.includes(`ok ${id}`));
    }, 20_000, 'answers from the new tasks');
    const during = (await readLog()).slice(from);

    // Assess
    expect(created.json.service.deployments[0].serviceConnectConfiguration).toMatchObject({ enabled: true, services: [{ portName: 'http', discoveryName: 'backend' }] });
    expect(created.json.service.deployments[0].serviceConnectResources).toEqual([{ discoveryName: 'backend', discoveryArn: expect.stringMatching(/:service\/srv-/) }]);
    expect(during.filter((l) => l === 'FAIL')).toEqual([]);
    expect(during.length).toBeGreaterThan(10);
    const answered = new Set(during.map((l) => l.slice(3)));
    expect(before.some((id) => answered.has(id))).toBe(true);
    expect(after.some((id) => answered.has(id))).toBe(true);
  }, 240_000);
});
}
