import { randomUUID } from 'node:crypto';
import type { Partition } from '../domain/arns';
import { toEcsTask } from '../ecs-api/shapes';
import type { TaskRecord } from '../store';

/**
 * Step Functions' optimized ECS integration, as state machines see it: parameters and results in
 * PascalCase, RunTask's answer with the SDK's metadata, `.sync` ending on the stopped task, and
 * the error names users catch. Shared by the local Step Functions slice and the AWS callback path.
 */
export const ECS_RESOURCES = {
  runTask: 'arn:aws:states:::ecs:runTask',
  sync: 'arn:aws:states:::ecs:runTask.sync',
  callback: 'arn:aws:states:::ecs:runTask.waitForTaskToken',
} as const;

/** A `.sync` or `.waitForTaskToken` RunTask whose answer lists failures (no room, no such definition...). */
export const FAILURES_ERROR = 'AmazonECS.Unknown';
/** A task whose essential container did not exit 0: what users put in Retry and Catch. */
export const TASK_FAILED_ERROR = 'States.TaskFailed';
/** The prefix of the error a RunTask call that ECS refused fails the state with (`ECS.InvalidParameterException`). */
export const ECS_ERROR_PREFIX = 'ECS.';

const mapKeys = (v: unknown, key: (k: string) => string, value: (k: string, x: unknown) => unknown = (_k, x) => x): unknown => {
  if (Array.isArray(v)) return v.map((x) => mapKeys(x, key, value));
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [key(k), mapKeys(value(k, x), key, value)]));
};

/** `Cluster`, `Overrides.ContainerOverrides[].Environment[].Name` → RunTask's own member names. */
export const camelCaseKeys = (v: unknown): unknown => mapKeys(v, (k) => k.charAt(0).toLowerCase() + k.slice(1));

/**
 * ECS's answer as Step Functions hands it on: every member PascalCase, and timestamps (ECS's
 * `...At`, epoch seconds on the wire) in epoch milliseconds, as the Java SDK behind it renders them.
 */
export const pascalCaseKeys = (v: unknown): unknown => mapKeys(
  v,
  (k) => k.charAt(0).toUpperCase() + k.slice(1),
  (k, x) => (k.endsWith('At') && typeof x === 'number' ? Math.round(x * 1000) : x),
);

/** `ecs:runTask`'s output: RunTask's answer plus the metadata the SDK behind Step Functions adds. */
export function runTaskOutput(answer: { tasks: object[]; failures: object[] }, requestId: string = randomUUID()): Record<string, unknown> {
  return {
    ...(pascalCaseKeys(answer) as object),
    SdkHttpMetadata: {
      AllHttpHeaders: { 'Content-Type': ['application/x-amz-json-1.1'], 'x-amzn-RequestId': [requestId] },
      HttpHeaders: { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

export type StoppedOutcome =
  | { ok: true; output: Record<string, unknown> }
  | { ok: false; error: string; cause: string };

/**
 * How `.sync` ends on a STOPPED task: its output is the task as DescribeTasks shows it, in
 * PascalCase; an essential container that did not exit 0 (or never ran) fails the state with
 * States.TaskFailed, the task as its cause.
 */
export function stoppedOutcome(p: Partition, task: TaskRecord): StoppedOutcome {
  const output = pascalCaseKeys(toEcsTask(p, task)) as Record<string, unknown>;
  const failed = task.containers.some((c) => c.essential && c.exitCode !== 0);
  return failed ? { ok: false, error: TASK_FAILED_ERROR, cause: JSON.stringify(output) } : { ok: true, output };
}
