import { DescribeTasksCommand, type ECSClient, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

/** What breaks a launch benchmark (a task that never gets there, a failed call), never a slow figure. */
export class BenchFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchFailure';
  }
}

/** A timed launch the bench asks of its client process (launch-client.ts). */
export interface LaunchRequest {
  id: number;
  family: string;
  /** Poll DescribeTasks until this status; absent: RunTask only (the bench watches the store's write). */
  until?: 'RUNNING' | 'STOPPED';
  timeoutMs: number;
  pollMs: number;
}

/** Its answer; times are epoch ms (epochNow) taken in the client process. */
export interface LaunchDone {
  id: number;
  taskArn: string;
  sentAt: number;
  returnedAt: number;
  /** When DescribeTasks first showed `until`; absent without `until`. */
  seenAt?: number;
}

export type LaunchAnswer = LaunchDone | { id: number; error: string };

export const sleep = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));
/** Epoch milliseconds with sub-millisecond precision, comparable across processes and with Date.now(). */
export const epochNow = () => performance.timeOrigin + performance.now();
export const taskIdOf = (arn: string): string => arn.split('/').pop()!;

export async function describe(ecs: ECSClient, taskArns: string[]): Promise<Task[]> {
  const r = await ecs.send(new DescribeTasksCommand({ tasks: taskArns }));
  if (r.failures?.length) throw new BenchFailure(`DescribeTasks failed for ${r.failures.map((f) => `${f.arn}: ${f.reason}`).join(', ')}`);
  return r.tasks ?? [];
}

/**
 * Whether a call failed because its connection closed before the answer ("socket hang up",
 * ECONNRESET; the SDK names it TimeoutError): what a loaded machine's kept-alive socket can meet.
 * The bench's clients do not retry (a retry would hide inside a timed call), so one such reset
 * ended a whole run.
 */
const isConnectionReset = (e: unknown): boolean => /socket hang up|ECONNRESET/i.test(String(e));

/**
 * RunTask of `count` tasks. A call whose connection was reset is sent once more, with the same
 * clientToken, so it creates its tasks once whether or not the first reached the control plane;
 * and the resend is said on stderr, as it lengthens that call.
 */
export async function runTasks(ecs: ECSClient, family: string, count: number): Promise<string[]> {
  const command = new RunTaskCommand({ taskDefinition: family, count, clientToken: randomUUID() });
  const r = await ecs.send(command).catch((e: unknown) => {
    if (!isConnectionReset(e)) throw e;
    console.error(`RunTask of ${family} ×${count}: ${String(e)}; sent again with the same clientToken`);
    return ecs.send(command);
  });
  if (r.failures?.length || r.tasks?.length !== count) {
    throw new BenchFailure(`RunTask of ${family} ×${count} failed: ${JSON.stringify(r.failures ?? [])}`);
  }
  return r.tasks.map((t) => t.taskArn!);
}

/** Polls DescribeTasks every `pollMs` until the task shows `status`; returns when it was seen (epoch ms). */
export async function untilDescribed(ecs: ECSClient, arn: string, status: 'RUNNING' | 'STOPPED', timeoutMs: number, pollMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [task] = await describe(ecs, [arn]);
    const seenAt = epochNow();
    if (task.lastStatus === status) return seenAt;
    if (task.lastStatus === 'STOPPED') {
      throw new BenchFailure(`task ${taskIdOf(arn)} stopped before ${status}: ${task.stopCode}: ${task.stoppedReason}`);
    }
    if (performance.now() > deadline) throw new BenchFailure(`task ${taskIdOf(arn)} not ${status} within ${timeoutMs / 1000} s (still ${task.lastStatus})`);
    await sleep(pollMs);
  }
}
