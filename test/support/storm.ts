import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { HistoryRecorder } from './history-recorder';
import { seededRandom } from '../bench/support/random';
import { BUSYBOX, type LocalMode } from './local-mode';

/** Seeded, so a failing run can be replayed with its seed. */
export { seededRandom };

export const seedFromEnv = (name: string): number => Number(process.env[name] ?? Date.now() % 1_000_000);

export interface StormPlan {
  /** How many tasks RunTask creates in all, in calls of 1–10. */
  tasks: number;
  /** Task sizes (Fargate notation), picked at random per RunTask call. */
  sizes: { cpu: string; memory: string }[];
  /** Seconds each container sleeps, picked at random per call. */
  sleepSeconds: number[];
  /** The RunTask calls start at random moments within this window. */
  spreadMs: number;
  /** Share of tasks that get a StopTask, at a random moment within `stopWithinMs` of creation. */
  stopShare: number;
  stopWithinMs: number;
  /** Share of those stops sent twice at once, with different reasons: the first must win. */
  doubleStopShare: number;
}

export interface StormResult {
  taskIds: string[];
  runCalls: number;
  failedRunCalls: number;
  stopCalls: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One definition per size; stopTimeout short, since `sleep` as PID 1 ignores SIGTERM. */
export async function registerStormFamilies(m: LocalMode, sizes: StormPlan['sizes']): Promise<string[]> {
  const families: string[] = [];
  for (const size of sizes) {
    const family = `storm-${size.cpu}-${size.memory}`;
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', ...size,
      containerDefinitions: [{ name: 'w', image: BUSYBOX, stopTimeout: 1, command: ['sh', '-c', 'sleep 1'] }],
    }));
    families.push(family);
  }
  return families;
}

/**
 * Fires the plan's RunTask calls concurrently over its window and, as tasks come back, their
 * StopTask calls: some before placement, some while launching or running, some after the end.
 * Resolves once every call has been answered.
 */
export async function runStorm(recorder: HistoryRecorder, families: string[], plan: StormPlan, random: () => number): Promise<StormResult> {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
  const counts: number[] = [];
  for (let left = plan.tasks; left > 0;) {
    const n = Math.min(left, 1 + Math.floor(random() * 10));
    counts.push(n);
    left -= n;
  }
  const taskIds: string[] = [];
  const stops: Promise<unknown>[] = [];
  let stopCalls = 0;
  let failedRunCalls = 0;
  let reasons = 0;
  const stopLater = (taskId: string) => {
    if (random() >= plan.stopShare) return;
    const twice = random() < plan.doubleStopShare;
    const delayMs = Math.floor(random() * plan.stopWithinMs);
    stops.push((async () => {
      await sleep(delayMs);
      const calls = twice ? 2 : 1;
      stopCalls += calls;
      await Promise.all(Array.from({ length: calls }, () => recorder.stopTask(taskId, `storm stop ${++reasons}`)));
    })());
  };
  await Promise.all(counts.map(async (count) => {
    const family = pick(families);
    const seconds = pick(plan.sleepSeconds);
    await sleep(Math.floor(random() * plan.spreadMs));
    const ids = await recorder.runTask({
      taskDefinition: family, count,
      overrides: { containerOverrides: [{ name: 'w', command: ['sh', '-c', `sleep ${seconds}`] }] },
    });
    if (ids.length === 0) failedRunCalls++;
    taskIds.push(...ids);
    ids.forEach(stopLater);
  }));
  await Promise.all(stops);
  return { taskIds, runCalls: counts.length, failedRunCalls, stopCalls };
}
