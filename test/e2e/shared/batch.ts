import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCli } from '../../support/aws-cli';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode } from '../../support/local-mode';

const ROLE = 'arn:aws:iam::000000000000:role/e2e-batch';
/** SigV4 in busybox's shell: how a container answers its token (see the file). */
const SFN_SEND = readFileSync(join(__dirname, '../../support/sfn-send.sh'), 'utf8');

/** The most intervals [from, to] open at one moment (an end at the same moment as a start comes first). */
function maxOverlap(intervals: readonly [number, number][]): number {
  const edges = intervals.flatMap(([from, to]) => [[from, 1], [to, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (open += d));
  return max;
}

/** Batch workflows: users' state machines on the local Step Functions slice, running real tasks. */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
  describe('Batch workflows (Step Functions)', () => {
    let m: LocalMode;
    let sfn: SFNClient;
    const suffix = randomBytes(3).toString('hex');
    const family = `batch-${suffix}`;
    const states = (args: string[]) => awsCli(m.local.url, 'stepfunctions', args);

    async function createMachine(name: string, definition: object): Promise<string> {
      const r = await states(['create-state-machine', '--name', `${name}-${suffix}`, '--role-arn', ROLE, '--definition', JSON.stringify(definition)]);
      expect(r).toMatchObject({ code: 0 });
      return r.json.stateMachineArn;
    }

    async function start(machineArn: string, input: object): Promise<string> {
      const r = await states(['start-execution', '--state-machine-arn', machineArn, '--input', JSON.stringify(input)]);
      expect(r).toMatchObject({ code: 0 });
      return r.json.executionArn;
    }

    const finished = (executionArn: string, timeoutMs = 90_000) => eventually(async () => {
      const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return e.status !== 'RUNNING' && e;
    }, timeoutMs, `${executionArn} to finish`) as Promise<DescribeExecutionCommandOutput>;

    beforeAll(async () => {
      m = mode();
      sfn = new SFNClient({ endpoint: m.local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', taskRoleArn: ROLE,
        containerDefinitions: [{ name: 'main', image: BUSYBOX, essential: true, stopTimeout: 2, command: ['sh', '-c', 'exit ${CODE:-0}'] }],
      }));
    });
    afterAll(() => sfn?.destroy());

    it('maps ecs:runTask.sync over 20 inputs, at most 5 tasks at once; a Catch takes the one that exits 3 (States.TaskFailed)', async () => {
      // Prepare
      const arn = await createMachine('fan-out', {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 5, End: true,
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'Run',
              States: {
                Run: {
                  Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync',
                  Parameters: {
                    Cluster: 'default', TaskDefinition: family, LaunchType: 'FARGATE',
                    Overrides: { ContainerOverrides: [{ Name: 'main', Environment: [{ Name: 'CODE', 'Value.$': '$.code' }] }] },
                  },
                  ResultSelector: { 'exit.$': '$.Containers[0].ExitCode', 'created.$': '$.CreatedAt', 'stopped.$': '$.StoppedAt' },
                  Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Failed' }],
                  End: true,
                },
                Failed: { Type: 'Pass', Parameters: { 'error.$': '$.error.Error', 'cause.$': 'States.StringToJson($.error.Cause)' }, End: true },
              },
            },
          },
        },
      });
      const items = Array.from({ length: 20 }, (_v, i) => ({ code: i === 7 ? '3' : '0' }));

      // Act
      const executionArn = await start(arn, { items });
      const done = await finished(executionArn, 180_000);

      // Assess
      expect(done.status).toBe('SUCCEEDED');
      const results = JSON.parse(done.output!) as any[];
      expect(results).toHaveLength(20);
      expect(results[7]).toMatchObject({ error: 'States.TaskFailed', cause: { LastStatus: 'STOPPED', Containers: [expect.objectContaining({ ExitCode: 3 })] } });
      const ran = results.map((r) => (r.error ? { exit: r.cause.Containers[0].ExitCode, created: r.cause.CreatedAt, stopped: r.cause.StoppedAt } : r));
      expect(ran.filter((r) => r.exit === 0)).toHaveLength(19);
      const overlap = maxOverlap(ran.map((r) => [r.created, r.stopped]));
      expect(overlap).toBeLessThanOrEqual(5);
      expect(overlap).toBeGreaterThan(1);
      const cli = await states(['get-execution-history', '--execution-arn', executionArn, '--max-items', '2000']);
      const types = (cli.json.events as { type: string }[]).map((e) => e.type);
      expect(types.filter((t) => t === 'TaskSucceeded')).toHaveLength(19);
      expect(types.filter((t) => t === 'TaskFailed')).toHaveLength(1);
    }, 240_000);

    it('a container answers its own .waitForTaskToken token with SendTaskSuccess, signed with its task role', async () => {
      // Prepare: the image's program answers the token the state machine hands it in TOKEN.
      const script = `${SFN_SEND}\nsfn_send SendTaskSuccess "{\\"taskToken\\":\\"$TOKEN\\",\\"output\\":\\"{\\\\\\"from\\\\\\":\\\\\\"$ITEM\\\\\\"}\\"}"`;
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family: `${family}-callback`, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', taskRoleArn: ROLE,
        containerDefinitions: [{ name: 'main', image: BUSYBOX, essential: true, stopTimeout: 2, command: ['sh', '-c', script] }],
      }));
      const arn = await createMachine('callback', {
        StartAt: 'Hand',
        States: {
          Hand: {
            Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.waitForTaskToken', TimeoutSeconds: 120, End: true,
            Parameters: {
              TaskDefinition: `${family}-callback`,
              Overrides: {
                ContainerOverrides: [{
                  Name: 'main',
                  Environment: [{ Name: 'TOKEN', 'Value.$': '$$.Task.Token' }, { Name: 'ITEM', 'Value.$': '$.item' }],
                }],
              },
            },
          },
        },
      });

      // Act
      const executionArn = await start(arn, { item: 'container' });
      const done = await finished(executionArn);

      // Assess
      expect(done).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ from: 'container' }) });
    }, 150_000);

    it('StopExecution aborts the execution and stops the task it runs', async () => {
      // Prepare
      const arn = await createMachine('stoppable', {
        StartAt: 'Long',
        States: {
          Long: {
            Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', End: true,
            Parameters: { TaskDefinition: family, Overrides: { ContainerOverrides: [{ Name: 'main', Command: ['sleep', '300'] }] } },
          },
        },
      });
      const executionArn = await start(arn, {});
      const taskArn = await eventually(async () => {
        const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
        const submitted = events!.find((e) => e.type === 'TaskSubmitted');
        return submitted && JSON.parse(submitted.taskSubmittedEventDetails!.output!).Tasks[0].TaskArn as string;
      }, 60_000, 'the task submitted');
      await eventually(async () => (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskArn.split('/').pop()! }))?.lastStatus === 'RUNNING', 60_000, 'its task RUNNING');

      // Act
      const stopped = await states(['stop-execution', '--execution-arn', executionArn, '--error', 'Cancelled', '--cause', 'by the e2e suite']);

      // Assess
      expect(stopped.code).toBe(0);
      expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Cancelled' });
      const task = await eventually(async () => {
        const t = await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskArn.split('/').pop()! });
        return t?.lastStatus === 'STOPPED' && t;
      }, 60_000, 'its task STOPPED');
      expect(task.stopCode).toBe('UserInitiated');
    }, 150_000);

    it.each([
      ['an unknown resource', { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::batch:submitJob.sync', End: true } } }],
      ['a definition that is not ASL', { StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } }],
    ])('refuses %s with InvalidDefinition, and creates nothing', async (_what, definition) => {
      // Prepare
      const before = await states(['list-state-machines']);

      // Act
      const r = await states(['create-state-machine', '--name', `bad-${suffix}`, '--role-arn', ROLE, '--definition', JSON.stringify(definition)]);

      // Assess
      expect(r).toMatchObject({ code: 254, errorType: 'InvalidDefinition' });
      expect((await states(['list-state-machines'])).json).toEqual(before.json);
    });
  });
}
