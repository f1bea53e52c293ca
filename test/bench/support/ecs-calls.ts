import { DescribeTasksCommand, type ECSClient, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
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

export async function runTasks(ecs: ECSClient, family: string, count: number): Promise<string[]> {
  const r = await ecs.send(new RunTaskCommand({ taskDefinition: family, count }));
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
