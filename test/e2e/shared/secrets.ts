import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS } from '../../../agent/runtime/container-runtime';
import { awsCli } from '../../support/aws-cli';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, EXECUTION_ROLE, type LocalMode, containerLog, untilStatus } from '../../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';

/** What a container printed. Today the agent writes files; this is the one place that knows. */
const containerOutput = (m: LocalMode, taskArn: string, container: string): string[] => containerLog(m.dataDir, taskArn, container);

/** Every regular file under `dir`, as bytes: dynalite's LevelDB files, credentials, logs. */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    const st = lstatSync(path);
    if (st.isDirectory()) return filesUnder(path);
    return st.isFile() ? [{ path, bytes: readFileSync(path) }] : [];
  });
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const randomValue = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;

/** The container proves it got each variable by its length and digest, never printing it. */
const PROVE = (names: string[]) =>
  `for v in ${names.join(' ')}; do eval "x=\\$$v"; echo "$v \${#x} $(printf %s "$x" | sha256sum | cut -d' ' -f1)"; done`;

/**
 * Secrets end to end: values created with the AWS CLI in the local Secrets Manager and Parameter
 * Store reach real containers as environment variables, and nowhere else.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode (not indented, to keep
// its history readable as a move).
export function suite(mode: () => LocalMode): void {
describe('Secrets injected into containers', () => {
  let m: LocalMode;
  let proxy: RecordingProxy;
  let ecs: ECSClient;
  const cli = (service: string, args: string[]) => awsCli(proxy.url, service, args);
  /** Every value that must not leak, by what it is. */
  const values: Record<string, string> = {};
  /** Every workflow input, as the engine was given it (the local engine keeps no history). */
  const workflowInputs: string[] = [];
  /** The engine's own start, put back when this suite ends: the local mode is shared. */
  let startWorkflow: LocalMode['local']['berth']['workflows']['start'];

  beforeAll(async () => {
    m = mode();
    proxy = await startRecordingProxy(m.local.url);
    ecs = new ECSClient({ endpoint: proxy.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    const workflows = m.local.berth.workflows;
    startWorkflow = workflows.start;
    const start = workflows.start.bind(workflows);
    workflows.start = (workflow, name, input) => {
      workflowInputs.push(JSON.stringify({ workflow, name, input }));
      return start(workflow, name, input);
    };
  }, 180_000);

  afterAll(async () => {
    ecs?.destroy();
    await proxy?.close();
    m.local.berth.workflows.start = startWorkflow;
  });

  const register = async (family: string, secrets: { name: string; valueFrom: string }[], command: string, environment: { name: string; value: string }[] = []) => {
    await ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', executionRoleArn: EXECUTION_ROLE,
      containerDefinitions: [{ name: 'main', image: BUSYBOX, essential: true, secrets, environment, command: ['sh', '-c', command] }],
    }));
    return family;
  };

  const run = async (family: string) => (await ecs.send(new RunTaskCommand({ taskDefinition: family }))).tasks![0].taskArn!;

  describe('a task with secrets', () => {
    let taskArn: string;
    let canary: string;
    const valueFroms: Record<string, string> = {};

    it('receives a whole secret, a JSON key, an AWSPREVIOUS version and an SSM SecureString', async () => {
      // prepare: the values, made with the AWS CLI
      values.WHOLE = randomValue('whole');
      values.PASSWORD = randomValue('password');
      values.PREVIOUS = randomValue('previous');
      values.CURRENT = randomValue('current');
      values.PARAM = randomValue('param');
      canary = randomValue('canary');
      const suffix = randomBytes(3).toString('hex');
      const whole = await cli('secretsmanager', ['create-secret', '--name', `e2e/whole-${suffix}`, '--secret-string', values.WHOLE]);
      const json = await cli('secretsmanager', ['create-secret', '--name', `e2e/json-${suffix}`,
        '--secret-string', JSON.stringify({ username: 'app', password: values.PASSWORD })]);
      const rotated = await cli('secretsmanager', ['create-secret', '--name', `e2e/rotated-${suffix}`, '--secret-string', values.PREVIOUS]);
      const put = await cli('secretsmanager', ['put-secret-value', '--secret-id', rotated.json.ARN, '--secret-string', values.CURRENT]);
      const param = await cli('ssm', ['put-parameter', '--name', `/e2e/${suffix}/param`, '--type', 'SecureString', '--value', values.PARAM]);
      for (const r of [whole, json, rotated, put, param]) expect(r).toMatchObject({ code: 0 });
      Object.assign(valueFroms, {
        WHOLE: whole.json.ARN,
        PASSWORD: `${json.json.ARN}:password::`,
        PREVIOUS: `${rotated.json.ARN}::AWSPREVIOUS:`,
        CURRENT: rotated.json.ARN,
        PARAM: `/e2e/${suffix}/param`,
      });
      const names = Object.keys(valueFroms);
      const family = await register(`secrets-${suffix}`, names.map((name) => ({ name, valueFrom: valueFroms[name] })), PROVE(names),
        [{ name: 'CANARY', value: canary }]);

      // act
      taskArn = await run(family);
      const stopped = await untilStatus(ecs, taskArn, 'STOPPED', 90_000);

      // assess
      expect({ stopCode: stopped.stopCode, stoppedReason: stopped.stoppedReason, exitCode: stopped.containers![0].exitCode })
        .toEqual({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', exitCode: 0 });
      const lines = await eventually(async () => {
        const out = containerOutput(m, taskArn, 'main');
        return out.length >= names.length && out;
      }, 30_000, `the proof lines (so far: ${JSON.stringify(containerOutput(m, taskArn, 'main'))})`);
      expect(lines).toEqual(names.map((n) => `${n} ${values[n].length} ${sha256(values[n])}`));
    }, 180_000);

    it('shows valueFrom only in DescribeTasks and DescribeTaskDefinition', async () => {
      const task = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks![0];
      const def = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn! }))).taskDefinition!;
      expect(def.containerDefinitions![0].secrets).toEqual(Object.entries(valueFroms).map(([name, valueFrom]) => ({ name, valueFrom })));
    });

    it('leaves no value in the data directory, the local mode output, the task records, workflow inputs or any other API response', async () => {
      // prepare: what there is to search
      const files = filesUnder(m.dataDir);
      const output = m.logs.join('\n');
      const responses = proxy.calls.filter((c) => !/\.(GetSecretValue|GetParameters?)$/.test(c.target));
      const tasks = JSON.stringify(await m.local.berth.store.tasks.list('default'));
      // The search can find: a plain environment value of the same task is in dynalite's files.
      expect(files.some((f) => f.path.includes('dynamodb') && f.bytes.includes(canary))).toBe(true);
      expect(responses.some((c) => c.body.includes(canary))).toBe(true);
      expect(responses.some((c) => c.target.endsWith('.CreateSecret'))).toBe(true);
      expect(output).toMatch(/"operation":"CreateSecret"/);
      expect(workflowInputs.some((w) => w.includes(taskArn.split('/').pop()!))).toBe(true);

      // act + assess
      for (const [what, value] of Object.entries(values)) {
        const inFiles = files.filter((f) => f.bytes.includes(value) || f.bytes.includes(Buffer.from(value).toString('base64'))).map((f) => f.path);
        expect({ what, inFiles }).toEqual({ what, inFiles: [] });
        expect({ what, inOutput: output.includes(value) }).toEqual({ what, inOutput: false });
        expect({ what, inResponses: responses.filter((c) => c.body.includes(value)).map((c) => c.target) }).toEqual({ what, inResponses: [] });
        expect({ what, inTasks: tasks.includes(value) }).toEqual({ what, inTasks: false });
        expect({ what, inWorkflows: workflowInputs.some((w) => w.includes(value)) }).toEqual({ what, inWorkflows: false });
      }
    });
  });

  describe('a task whose secret cannot be had', () => {
    let docker: Docker;
    let arns: Record<string, string>;

    beforeAll(async () => {
      docker = new Docker({ socketPath: m.local.dockerSocket });
      const existing = await cli('secretsmanager', ['create-secret', '--name', `e2e/nokey-${randomBytes(3).toString('hex')}`, '--secret-string', '{"a":"b"}']);
      arns = {
        secret: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:e2e/never-created-AbCdEf',
        key: `${existing.json.ARN}:absent::`,
        parameter: '/e2e/never/created',
      };
    });

    it.each([
      ['a missing secret', 'secret', /unable to retrieve secret from asm: failed to fetch secret .*never-created.*ResourceNotFoundException/],
      ['an absent JSON key', 'key', /did not contain json key absent/],
      ['a missing parameter', 'parameter', /unable to retrieve secrets from ssm: invalid parameters: \/e2e\/never\/created/],
    ])('%s stops it TaskFailedToStart, and no container is created', async (_what, kind, detail) => {
      // prepare: watch the engine for any container created meanwhile
      const created: string[] = [];
      const events = await docker.getEvents({ filters: { type: ['container'], event: ['create'] } });
      events.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          try {
            const e = JSON.parse(line);
            created.push(e.Actor?.Attributes?.[LABELS.task] ?? '');
          } catch { /* a partial line */ }
        }
      });
      const family = await register(`missing-${kind}-${randomBytes(3).toString('hex')}`, [{ name: 'S', valueFrom: arns[kind] }], 'echo should never run');

      // act
      const taskArn = await run(family);
      const t = await untilStatus(ecs, taskArn, 'STOPPED', 60_000);
      (events as unknown as { destroy(): void }).destroy();
      const taskId = taskArn.split('/').pop()!;
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.task}=${taskId}`] } });

      // assess
      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(t.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: /);
      expect(t.stoppedReason).toMatch(detail);
      expect(created).not.toContain(taskId);
      expect(containers).toEqual([]);
      expect(containerOutput(m, taskArn, 'main')).toEqual([]);
    }, 120_000);
  });
});
}
