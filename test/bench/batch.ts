/**
 * bench:batch — a Step Functions fan-out on the local mode, beside the same work done by hand:
 *
 * - measured: one execution of a Map of 200 `ecs:runTask.sync` items with MaxConcurrency 50
 *   (busybox tasks that exit at once), from StartExecution until DescribeExecution says SUCCEEDED
 *   (polled every 50 ms);
 * - baseline: the same 200 tasks by RunTask, 50 at a time (five calls of 10), each batch awaited by
 *   polling DescribeTasks every 50 ms until all are STOPPED, then the next batch.
 *
 * The goal is a ratio at or under 1.2×. The two alternate (baseline, measured, baseline, measured)
 * so a change in the machine's load moves both. Exits 1 only when something breaks.
 */
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BUSYBOX_IMAGE } from '../../local/podman';
import { startLocal } from '../../local/runtime';
import { TEST_CREDENTIALS } from '../support/harness';
import { formatTable, ratio } from './support/table';
import { assertNothingLeft } from './support/bench-storage';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

/** BERTH_BENCH_BATCH_ITEMS and _CONCURRENCY shrink it for a quick look; the figures quoted are 200 and 50. */
const ITEMS = Number(process.env.BERTH_BENCH_BATCH_ITEMS ?? 200);
const CONCURRENCY = Number(process.env.BERTH_BENCH_BATCH_CONCURRENCY ?? 50);
const POLL_MS = 50;
const ROUNDS = 2;
const FAMILY = 'bench-batch';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-batch-'));
  // Two hosts with room for 50 tasks of 256 CPU / 512 MiB at once.
  const local = await startLocal({ dataDir, port: 0, hosts: 2, maxHosts: 2, hostType: 'c6i.4xlarge', credentials: TEST_CREDENTIALS, log: () => {} });
  const ecs = new ECSClient({ endpoint: local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  const sfn = new SFNClient({ endpoint: local.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  try {
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: FAMILY, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'main', image: BUSYBOX_IMAGE, essential: true, command: ['true'] }],
    }));
    const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
      name: 'bench-fan-out', roleArn: 'arn:aws:iam::000000000000:role/bench',
      definition: JSON.stringify({
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map', MaxConcurrency: CONCURRENCY, ItemsPath: '$.items', ResultSelector: { 'count.$': 'States.ArrayLength($)' }, End: true,
            ItemProcessor: { StartAt: 'Run', States: { Run: { Type: 'Task', Resource: 'arn:aws:states:::ecs:runTask.sync', Parameters: { TaskDefinition: FAMILY }, ResultSelector: { 'exit.$': '$.Containers[0].ExitCode' }, End: true } } },
          },
        },
      }),
    }));

    const viaStepFunctions = async (): Promise<number> => {
      const t0 = performance.now();
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ items: Array.from({ length: ITEMS }, (_v, i) => i) }) }));
      for (;;) {
        const e = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (e.status === 'SUCCEEDED') return performance.now() - t0;
        if (e.status !== 'RUNNING') throw new Error(`execution ${e.status}: ${e.error} ${e.cause}`);
        await sleep(POLL_MS);
      }
    };

    const viaRunTask = async (): Promise<number> => {
      const t0 = performance.now();
      for (let done = 0; done < ITEMS; done += CONCURRENCY) {
        const arns: string[] = [];
        for (let i = 0; i < Math.min(CONCURRENCY, ITEMS - done); i += 10) {
          const r = await ecs.send(new RunTaskCommand({ taskDefinition: FAMILY, count: Math.min(10, CONCURRENCY - i, ITEMS - done - i) }));
          if (r.failures?.length) throw new Error(`RunTask failures: ${JSON.stringify(r.failures)}`);
          arns.push(...r.tasks!.map((t) => t.taskArn!));
        }
        for (;;) {
          const pending: string[] = [];
          for (let i = 0; i < arns.length; i += 100) {
            const d = await ecs.send(new DescribeTasksCommand({ tasks: arns.slice(i, i + 100) }));
            pending.push(...d.tasks!.filter((t) => t.lastStatus !== 'STOPPED').map((t) => t.taskArn!));
          }
          if (pending.length === 0) break;
          await sleep(POLL_MS);
        }
      }
      return performance.now() - t0;
    };

    const rows: string[][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const baseline = await viaRunTask();
      const measured = await viaStepFunctions();
      rows.push([String(round), `${(measured / 1000).toFixed(1)} s`, `${(baseline / 1000).toFixed(1)} s`, ratio(measured, baseline)]);
      console.log(`round ${round}: Map ${(measured / 1000).toFixed(1)} s, RunTask batches ${(baseline / 1000).toFixed(1)} s`);
    }
    console.log(`\nbench:batch — ${ITEMS} tasks, ${CONCURRENCY} at a time (goal: ratio ≤ 1.2×)\n`);
    console.log(formatTable(['round', `Map of runTask.sync (MaxConcurrency ${CONCURRENCY})`, `RunTask × ${CONCURRENCY}, polled`, 'ratio'], rows));
  } finally {
    ecs.destroy();
    sfn.destroy();
    await local.close({ discard: true });
    assertNothingLeft([dataDir]);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
