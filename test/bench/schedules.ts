/**
 * bench:batch, second part — schedule firing lateness over 1,000 simulated due times:
 *
 * - measured: 1,000 one-time schedules (`at()`, due on whole seconds spread over two minutes) fired by
 *   the local mode's firer on its timer (every second, the local default): lateness is the
 *   task's createdAt (RunTask's write) minus the due time;
 * - baseline: the same due times, each its own timer that calls RunTask with the same request at
 *   its due time: what firing costs with no firer at all.
 *
 * The tasks are simulated: Berth on dynalite, RunTask real, but no launch workflow starts (no
 * host runs them), so only the firing is measured. The schedules are made minutes ahead and the
 * firer's clock (FireOptions.now) is shifted so they come due right after, as the local mode's
 * tests shift it. Prints p50, p99 and the maximum of each beside the other as a ratio. Exits 1
 * only when something breaks (a due time that never ran, or ran twice).
 */
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { performance } from 'node:perf_hooks';
import { LOCAL_DEFAULTS } from '../../local/runtime';
import { LocalScheduleFirer } from '../../local/schedule-firer';
import { RunTask } from '../../shared/ecs-api/tasks';
import { CreateSchedule } from '../../shared/schedules/operations';
import { runTaskBodyOf } from '../../shared/schedules/target';
import { startHarness } from '../support/harness';
import { percentile } from './support/stats';
import { formatTable, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

/** BERTH_BENCH_SCHEDULES and _SPREAD_SECONDS shrink it for a quick look; the figures quoted are 1,000 over 120 s. */
const COUNT = Number(process.env.BERTH_BENCH_SCHEDULES ?? 1000);
const SPREAD_SECONDS = Number(process.env.BERTH_BENCH_SCHEDULES_SPREAD_SECONDS ?? 120);
/** A run that has not finished by then has broken: it gives up rather than hold the machine. */
const GIVE_UP_MS = (2 * SPREAD_SECONDS + 20 * 60) * 1000;
const FAMILY = 'bench-schedule';
const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/default';
const ROLE = 'arn:aws:iam::000000000000:role/bench';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const second = 1000;
const atOf = (t: number) => `at(${new Date(t).toISOString().slice(0, 19)})`;

async function main(): Promise<void> {
  setTimeout(() => {
    console.error(`bench:batch (schedules): gave up after ${GIVE_UP_MS / 60_000} minutes`);
    process.exit(1);
  }, GIVE_UP_MS).unref();
  const h = await startHarness();
  // No launch: the tasks stay PROVISIONING, so the store sees only the firing's writes.
  h.berth.workflows = { start: async () => {}, succeed: async () => {}, fail: async () => {}, close: () => {} } as unknown as typeof h.berth.workflows;
  const b = h.berth;
  try {
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: FAMILY, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'main', image: 'localhost/busybox:latest', command: ['true'] }],
    }));
    const createdAtOf = async (startedBy: (name: string) => boolean) => new Map((await b.store.tasks.list('default'))
      .filter((t) => t.startedBy && startedBy(t.startedBy)).map((t) => [t.startedBy!, t.createdAt]));
    // Due times on whole seconds, the same offsets for both runs.
    const offsets = Array.from({ length: COUNT }, (_v, i) => Math.floor((i * SPREAD_SECONDS) / COUNT) * second);

    // Baseline: a timer per due time, each calling RunTask with the schedule's own request.
    const base = Math.ceil((Date.now() + 3 * second) / second) * second;
    await Promise.all(offsets.map(async (offset, i) => {
      await sleep(base + offset - Date.now());
      const body = runTaskBodyOf({ TaskDefinitionArn: FAMILY }, 'default', { groupName: 'timer', name: `t${i}`, target: { Arn: CLUSTER, RoleArn: ROLE } }, `timer-${i}`);
      await RunTask(b, body, {});
    }));
    const timerTasks = await createdAtOf((s) => s.startsWith('scheduler/timer/'));
    const baseline = offsets.map((offset, i) => timerTasks.get(`scheduler/timer/t${i}`)! - (base + offset));

    // Measured: the schedules, made an hour ahead, then the firer's clock shifted to just before.
    const ahead = Math.ceil((Date.now() + 3_600 * second) / second) * second;
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i += 50) {
      await Promise.all(offsets.slice(i, i + 50).map((offset, j) => CreateSchedule(b, {
        Name: `s${i + j}`, ScheduleExpression: atOf(ahead + offset), FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: FAMILY } },
      }, {})));
    }
    console.log(`made ${COUNT} schedules in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const shift = ahead - (Math.ceil((Date.now() + 2 * second) / second) * second);
    const firer = new LocalScheduleFirer(b, { now: () => Date.now() + shift, log: () => {} });
    firer.start(LOCAL_DEFAULTS.scheduleIntervalMs);
    let fired = new Map<string, number>();
    const deadline = Date.now() + SPREAD_SECONDS * second + 120 * second;
    for (let polls = 1; fired.size < COUNT; polls++) {
      if (Date.now() > deadline) throw new Error(`only ${fired.size} of ${COUNT} schedules ran`);
      await sleep(2000);
      if (polls % 15 === 0) console.log(`${fired.size} of ${COUNT} ran`);
      fired = await createdAtOf((s) => s.startsWith('scheduler/default/'));
    }
    await firer.stop();
    const measured = offsets.map((offset, i) => fired.get(`scheduler/default/s${i}`)! + shift - (ahead + offset));
    const left = (await b.store.schedules.list('default')).filter((s) => s.dueAt !== undefined);
    if (left.length > 0 || (await b.store.tasks.list('default')).length !== 2 * COUNT) throw new Error('a due time did not run exactly once');

    const row = (label: string, p: (xs: number[]) => number) => [label, `${p(measured).toFixed(0)} ms`, `${p(baseline).toFixed(0)} ms`, ratio(p(measured), p(baseline))];
    console.log(`\nbench:batch — schedule firing lateness, ${COUNT} due times over ${SPREAD_SECONDS} s (task createdAt − due time; the firer looks every ${LOCAL_DEFAULTS.scheduleIntervalMs} ms)\n`);
    console.log(formatTable(['lateness', 'local firer', 'a timer per due time calling RunTask', 'ratio'], [
      row('p50', (xs) => percentile(xs, 50)),
      row('p99', (xs) => percentile(xs, 99)),
      row('max', (xs) => Math.max(...xs)),
    ]));
  } finally {
    await h.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
