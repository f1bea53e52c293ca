import {
  DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, type Task,
} from '@aws-sdk/client-ecs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clientSettings } from './client-settings';

/**
 * `npm run demo`: runs one task against a running `npm start` and shows its lifecycle states
 * and its output as they happen.
 */
async function main() {
  const { endpoint, dataDir, region, credentials = { accessKeyId: 'none', secretAccessKey: 'none' } } = clientSettings('demo');
  const ecs = new ECSClient({ endpoint, region, maxAttempts: 1, credentials });
  const started = Date.now();
  const at = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);

  console.log(`demo: registering task definition "berth-demo" at ${endpoint}`);
  try {
    await ecs.send(new RegisterTaskDefinitionCommand({
      family: 'berth-demo', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{
        name: 'demo', image: 'localhost/busybox:latest', stopTimeout: 5,
        command: ['sh', '-c', 'echo "hello from a Berth task on $(hostname)"; for i in 1 2 3; do echo "working ($i/3)"; sleep 1; done; echo "done, exiting 0"'],
      }],
    }));
  } catch (e) {
    console.error(`demo: cannot reach Berth at ${endpoint} (${e instanceof Error ? e.message : e}). Start it first: npm start`);
    process.exit(1);
  }

  console.log('demo: run-task');
  const run = await ecs.send(new RunTaskCommand({ taskDefinition: 'berth-demo' }));
  const task = run.tasks![0];
  const taskId = task.taskArn!.split('/').pop()!;
  console.log(`demo: task ${task.taskArn}`);
  const logFile = join(dataDir, 'logs', taskId, 'demo.log');

  let lastStatus = '';
  let printedLines = 0;
  let final: Task | undefined;
  while (!final) {
    const t = (await ecs.send(new DescribeTasksCommand({ tasks: [task.taskArn!] }))).tasks![0];
    if (t.lastStatus !== lastStatus) {
      lastStatus = t.lastStatus!;
      console.log(`${at()}  lastStatus ${lastStatus}`);
    }
    if (existsSync(logFile)) {
      const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
      for (const line of lines.slice(printedLines)) console.log(`${at()}  | ${line}`);
      printedLines = lines.length;
    }
    if (t.lastStatus === 'STOPPED') final = t;
    else await new Promise((r) => setTimeout(r, 100));
  }
  const c = final.containers![0];
  console.log(`demo: STOPPED, stopCode ${final.stopCode} (${final.stoppedReason}); container exit code ${c.exitCode}`);
  const ms = (a?: Date, b?: Date) => (a && b ? `${b.getTime() - a.getTime()} ms` : 'n/a');
  console.log(`demo: RunTask → RUNNING took ${ms(final.createdAt, final.startedAt)}; whole task ${ms(final.createdAt, final.stoppedAt)}`);
  ecs.destroy();
}

main().catch((e) => {
  console.error(`demo: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
