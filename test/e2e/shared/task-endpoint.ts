import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { LABELS } from '../../../agent/runtime/container-runtime';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, EXECUTION_ROLE, type LocalMode, containerLog, describe1, untilStatus } from '../../support/local-mode';

const ROLE = 'arn:aws:iam::000000000000:role/e2e-task-role';

/** Each line the container printed as `KEY rest`, once it printed DONE. */
async function printed(m: LocalMode, taskArn: string, container = 'main'): Promise<Record<string, string>> {
  const lines = await eventually(async () => {
    const out = containerLog(m.dataDir, taskArn, container);
    return out.includes('DONE') && out;
  }, 30_000, `${taskArn} to print DONE (so far: ${JSON.stringify(containerLog(m.dataDir, taskArn, container))})`);
  return Object.fromEntries(lines.map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]));
}

/** A container's variables, as the engine holds them. */
async function envOf(docker: Docker, id: string): Promise<Record<string, string>> {
  const env = (await docker.getContainer(id).inspect()).Config.Env ?? [];
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** What a container sees, as on ECS: the task metadata endpoint, ECS's labels, its task role's credentials. */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
  describe('Task metadata endpoint and task role credentials', () => {
    let m: LocalMode;
    let docker: Docker;
    let sm: SecretsManagerClient;
    const secrets: Record<'mine' | 'other', string> = { mine: '', other: '' };
    let family: string;
    let taskArn: string;
    let out: Record<string, string>;
    let described: Task;

    beforeAll(async () => {
      m = mode();
      docker = new Docker({ socketPath: m.local.dockerSocket });
      sm = new SecretsManagerClient({ endpoint: m.local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      const suffix = randomBytes(3).toString('hex');
      for (const which of ['mine', 'other'] as const) {
        secrets[which] = (await sm.send(new CreateSecretCommand({ Name: `e2e/endpoint-${which}-${suffix}`, SecretString: `value-${which}` }))).ARN!;
      }
      family = `endpoint-${suffix}`;
      // No -T: the static busybox's wget crashes with it.
      const wget = 'wget -q -O -';
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', taskRoleArn: ROLE, executionRoleArn: EXECUTION_ROLE,
        containerDefinitions: [
          {
            name: 'main', image: BUSYBOX, essential: true, stopTimeout: 2,
            secrets: [{ name: 'MINE', valueFrom: secrets.mine }],
            dockerLabels: { 'com.example.team': 'e2e' },
            command: ['sh', '-c', [
              `echo "TASK $(${wget} $ECS_CONTAINER_METADATA_URI_V4/task 2>&1)"`,
              `echo "SELF $(${wget} $ECS_CONTAINER_METADATA_URI_V4)"`,
              `echo "V3 $(${wget} $ECS_CONTAINER_METADATA_URI/task)"`,
              `echo "STATS $(${wget} $ECS_CONTAINER_METADATA_URI_V4/stats | head -c 40)"`,
              `echo "CREDS $(${wget} --header "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" $AWS_CONTAINER_CREDENTIALS_FULL_URI)"`,
              `echo "NOTOKEN $(${wget} $AWS_CONTAINER_CREDENTIALS_FULL_URI 2>&1)"`,
              'echo "ENDPOINT $AWS_ENDPOINT_URL"',
              'echo DONE',
              'sleep 300',
            ].join('\n')],
          },
          { name: 'sidecar', image: BUSYBOX, essential: false, stopTimeout: 2, command: ['sleep', '300'] },
        ],
      }));
      taskArn = (await m.ecs.send(new RunTaskCommand({ taskDefinition: family }))).tasks![0].taskArn!;
      out = await printed(m, taskArn);
      described = await describe1(m.ecs, taskArn);
    }, 90_000);

    afterAll(() => sm?.destroy());

    it('a container reads its own task: ARN, size, containers and address, as DescribeTasks has them', () => {
      // Assess
      const task = JSON.parse(out.TASK);
      const address = described.attachments![0].details!.find((d) => d.name === 'privateIPv4Address')!.value;
      expect(task).toMatchObject({
        Cluster: described.clusterArn,
        TaskARN: taskArn,
        Family: family,
        Revision: String(described.taskDefinitionArn!.split(':').pop()),
        DesiredStatus: 'RUNNING',
        Limits: { CPU: 0.25, Memory: 512 },
      });
      const byName = Object.fromEntries(task.Containers.map((c: any) => [c.Name, c]));
      expect(Object.keys(byName).sort()).toEqual(['main', 'sidecar']);
      for (const c of described.containers!) {
        expect(byName[c.name!]).toMatchObject({
          DockerId: c.runtimeId,
          ContainerARN: c.containerArn,
          Networks: [expect.objectContaining({ NetworkMode: 'awsvpc', IPv4Addresses: [address] })],
        });
      }
      expect(JSON.parse(out.SELF)).toMatchObject({ Name: 'main', DockerId: byName.main.DockerId, Labels: { 'com.example.team': 'e2e' } });
      expect(JSON.parse(out.V3)).toMatchObject({ TaskARN: taskArn });
      expect(out.STATS).toMatch(/^\{"/);
    });

    it('every container carries ECS\'s labels beside its dockerLabels', async () => {
      // Act
      const taskId = taskArn.split('/').pop()!;
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.task}=${taskId}`] } });

      // Assess
      const ecsLabels = (name: string) => ({
        'com.amazonaws.ecs.cluster': described.clusterArn,
        'com.amazonaws.ecs.task-arn': taskArn,
        'com.amazonaws.ecs.container-name': name,
        'com.amazonaws.ecs.task-definition-family': family,
        'com.amazonaws.ecs.task-definition-version': described.taskDefinitionArn!.split(':').pop(),
      });
      const byName = Object.fromEntries(containers.map((c) => [c.Labels[LABELS.container], c.Labels]));
      expect(Object.keys(byName).sort()).toEqual(['main', 'sidecar']);
      expect(byName.main).toMatchObject({ ...ecsLabels('main'), 'com.example.team': 'e2e' });
      expect(byName.sidecar).toMatchObject(ecsLabels('sidecar'));
    });

    it('a container reads its task role\'s credentials; without the token it is refused', () => {
      // Assess
      const creds = JSON.parse(out.CREDS);
      expect(creds).toEqual({
        AccessKeyId: expect.stringMatching(/^BT/), SecretAccessKey: expect.any(String), Token: expect.any(String),
        Expiration: expect.any(String), RoleArn: ROLE,
      });
      expect(Date.parse(creds.Expiration)).toBeGreaterThan(Date.now());
      expect(out.NOTOKEN).toMatch(/401/);
      expect(out.ENDPOINT).toBe('http://127.0.0.1:51679');
    });

    it('another task\'s token, id or endpoint is refused to a task', async () => {
      // Prepare: what the first task's container holds, read from the engine
      const main = described.containers!.find((c) => c.name === 'main')!;
      const env = await envOf(docker, main.runtimeId!);
      const gateway = JSON.parse(out.SELF).Networks[0].SubnetGatewayIpv4Address.split('/')[0];
      const otherPath = new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).pathname;
      const wget = 'wget -q -O -';

      // Act: a second task of the same definition tries them
      const second = (await m.ecs.send(new RunTaskCommand({
        taskDefinition: family,
        overrides: { containerOverrides: [{
          name: 'main',
          environment: [
            { name: 'OTHER_TOKEN', value: env.AWS_CONTAINER_AUTHORIZATION_TOKEN },
            { name: 'OTHER_URI', value: env.AWS_CONTAINER_CREDENTIALS_FULL_URI },
            { name: 'OTHER_GW', value: `http://${gateway}:51679` },
          ],
          command: ['sh', '-c', [
            `echo "OWN_URI_OTHER_TOKEN $(${wget} --header "Authorization: $OTHER_TOKEN" $AWS_CONTAINER_CREDENTIALS_FULL_URI 2>&1)"`,
            `echo "OTHER_ID $(${wget} --header "Authorization: $OTHER_TOKEN" $OTHER_URI 2>&1)"`,
            `echo "OTHER_GW $(${wget} --header "Authorization: $OTHER_TOKEN" $OTHER_GW${otherPath} 2>&1)"`,
            `echo "OTHER_META $(${wget} $OTHER_GW${new URL(env.ECS_CONTAINER_METADATA_URI_V4).pathname}/task 2>&1)"`,
            `echo "OWN $(${wget} --header "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN" $AWS_CONTAINER_CREDENTIALS_FULL_URI | head -c 16)"`,
            'echo DONE',
          ].join('\n')],
        }] },
      }))).tasks![0].taskArn!;
      const seen = await printed(m, second);

      // Assess
      expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toMatch(/^[\w-]{32}$/);
      expect(seen.OWN_URI_OTHER_TOKEN).toMatch(/403/);
      expect(seen.OTHER_ID).toMatch(/404/);
      expect(seen.OTHER_GW).toMatch(/403/);
      expect(seen.OTHER_META).toMatch(/403/);
      expect(seen.OWN).toBe('{"AccessKeyId":"');
    }, 60_000);

    it('the credentials read on the local endpoint what the task may, and nothing once it stopped', async () => {
      // Prepare
      const creds = JSON.parse(out.CREDS);
      const asTask = new SecretsManagerClient({
        endpoint: m.local.url, region: 'us-east-1', maxAttempts: 1,
        credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.Token },
      });
      const read = (id: string) => asTask.send(new GetSecretValueCommand({ SecretId: id })).then((r) => r.SecretString, (e: Error) => e.name);

      // Act
      const mine = await read(secrets.mine);
      const other = await read(secrets.other);
      await m.ecs.send(new StopTaskCommand({ task: taskArn }));
      await untilStatus(m.ecs, taskArn, 'STOPPED', 60_000);
      const afterStop = await read(secrets.mine);
      asTask.destroy();

      // Assess
      expect({ mine, other, afterStop }).toEqual({ mine: 'value-mine', other: 'AccessDeniedException', afterStop: 'AccessDeniedException' });
    }, 90_000);
  });
}
