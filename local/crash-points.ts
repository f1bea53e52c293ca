import { WORKFLOWS, type WorkflowName } from '../shared/cloud/workflow-engine';
import type { LocalFunction, LocalWorkflowEngine } from '../shared/cloud/local/local-workflow-engine';
import { LAUNCH_POINTS, type LaunchCheckpoint } from '../shared/capacity/launches';
import { LIFECYCLE_STEP_NAMES } from '../shared/lifecycle/steps';
import type { TaskRef } from '../shared/lifecycle/task-ref';
import type { HostStore } from '../shared/store';

/**
 * Fault injection for the crash suite: the local mode kills itself with SIGKILL at one named
 * point, as a power cut or an OOM kill would, so a restart must recover from the store alone.
 * Armed only by BERTH_CRASH_AT; without it nothing is wrapped and nothing changes. Several
 * points may be armed at once, each for its own task (see crashHook).
 *
 * The points are derived from the code: around every lifecycle step, and just before each
 * workflow starts, which is where RunTask (its task records written) and StopTask (its
 * desiredStatus written) hand over to the lifecycle.
 */
export const workflowStartPoint = (w: WorkflowName) => `${w}Workflow:beforeStart`;

/** Inside `place`: the host's room is reserved, the task not yet bound to that host. */
export const RESERVED_POINT = 'place:reserved';

export const CRASH_POINTS: readonly string[] = [
  ...WORKFLOWS.map(workflowStartPoint),
  ...LIFECYCLE_STEP_NAMES.flatMap((s) => [`${s}:before`, `${s}:after`]),
  RESERVED_POINT,
];

/**
 * The capacity manager's launches: recorded and not yet asked for; asked for and not yet
 * recorded. They hold no task, so the task crash suite (which has a task per point) leaves them
 * out; capacity-manager.test.ts cuts a cycle short at them instead.
 */
export const LAUNCH_CRASH_POINTS: readonly string[] = Object.values(LAUNCH_POINTS);

/** `<point>[@<startedBy>]`: the point, for any task or only for the tasks of one RunTask. */
export interface CrashSpec {
  point: string;
  startedBy?: string;
}

export class UnknownCrashPointError extends Error {
  constructor(readonly point: string) {
    super(`BERTH_CRASH_AT names no crash point: ${point} (known: ${[...CRASH_POINTS, ...LAUNCH_CRASH_POINTS].join(', ')})`);
    this.name = 'UnknownCrashPointError';
  }
}

/** BERTH_CRASH_AT: one spec, or several separated by commas. */
export function parseCrashPlan(text: string | undefined): CrashSpec[] | undefined {
  if (!text) return undefined;
  return text.split(',').map((entry) => {
    const at = entry.indexOf('@');
    const point = at < 0 ? entry : entry.slice(0, at);
    // A typo must not quietly turn a crash test into a test of nothing.
    if (!CRASH_POINTS.includes(point) && !LAUNCH_CRASH_POINTS.includes(point)) throw new UnknownCrashPointError(point);
    return { point, startedBy: at < 0 ? undefined : entry.slice(at + 1) };
  });
}

export type CrashHook = (point: string, task: TaskRef | undefined) => Promise<void>;

const never = () => new Promise<never>(() => {});

/**
 * Holds each task that reaches its spec's point there, and dies once every spec has a task
 * held. With one spec that is a crash at that point. With several, one crash finds many tasks,
 * each stopped between the same two steps as a crash of its own would have left it.
 */
export function crashHook(
  plan: CrashSpec[],
  startedByOf: (task: TaskRef) => Promise<string | undefined>,
  log: (line: string) => void = () => {},
  die: () => void = () => process.kill(process.pid, 'SIGKILL'),
): CrashHook {
  const reached = new Set<CrashSpec>();
  return async (point, task) => {
    const candidates = plan.filter((s) => s.point === point);
    if (candidates.length === 0) return;
    const startedBy = candidates.some((s) => s.startedBy !== undefined) && task ? await startedByOf(task) : undefined;
    const spec = candidates.find((s) => s.startedBy === undefined || s.startedBy === startedBy);
    if (!spec) return;
    if (!reached.has(spec)) {
      reached.add(spec);
      log(`crash point ${point}${spec.startedBy ? `@${spec.startedBy}` : ''} reached (${reached.size}/${plan.length})`);
    }
    if (reached.size === plan.length) die();
    // Nothing after the point may run: not while others are still on their way to theirs, and
    // not in the moment before SIGKILL lands either.
    await never();
  };
}

/** Each lifecycle function with the hook called before it runs and after it returns. */
export function withCrashPoints(functions: Record<string, LocalFunction>, hook: CrashHook): Record<string, LocalFunction> {
  return Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, async (payload: any) => {
    await hook(`${name}:before`, payload?.task);
    const result = await fn(payload);
    await hook(`${name}:after`, payload?.task);
    return result;
  }]));
}

/** The engine with the hook called just before an execution starts. */
export function crashBeforeWorkflowStart(engine: LocalWorkflowEngine, hook: CrashHook): void {
  const start = engine.start.bind(engine);
  engine.start = async (workflow, executionName, input) => {
    await hook(workflowStartPoint(workflow), (input as { task?: TaskRef }).task);
    return start(workflow, executionName, input);
  };
}

/** The capacity manager's launch checkpoints with the hook: a crash in the middle of a launch, of no task. */
export const launchCheckpoint = (hook: CrashHook): LaunchCheckpoint => (point) => hook(point, undefined);

/** The host store with the hook called once a reservation is written, before anyone binds it. */
export function crashAfterReserve(hosts: HostStore, hook: CrashHook): void {
  // Every reservation, single or batched, is one reserveAll write.
  const reserveAll = hosts.reserveAll.bind(hosts);
  hosts.reserveAll = async (hostId, plans, cluster, now) => {
    const reserved = await reserveAll(hostId, plans, cluster, now);
    if (reserved) for (const plan of plans) await hook(RESERVED_POINT, { cluster, taskId: plan.taskId });
    return reserved;
  };
}
