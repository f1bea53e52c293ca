import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type RunTaskCommandInput, type Task } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { LABELS } from '../../agent/runtime/container-runtime';
import type { ObservedReport } from '../../local/report-observer';
import type { TaskStatus } from '../../shared/domain/task';
import type { HostRecord, TaskRecord } from '../../shared/store';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HistoryEvent, type HostSample, type RunningContainer, TIMESTAMP_ORDER, type TaskView, checkHistory } from './history';
import type { LocalMode } from './local-mode';

export interface SamplingPace {
  /** Pause between two reads of every host item. */
  hostSampleMs: number;
  /** Pause between two reads of every task item. */
  taskSampleMs: number;
  /** Pause between two lists of the running containers. */
  runtimeSampleMs: number;
}

export const DEFAULT_PACE: SamplingPace = { hostSampleMs: 50, taskSampleMs: 250, runtimeSampleMs: 100 };

const idOf = (arn: string) => arn.split('/').pop()!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function fromRecord(t: TaskRecord): TaskView {
  const view: TaskView = {
    taskId: t.taskId, lastStatus: t.lastStatus, desiredStatus: t.desiredStatus, hostId: t.hostId,
    stopCode: t.stopCode, stoppedReason: t.stoppedReason,
  };
  for (const k of TIMESTAMP_ORDER) if (t[k] !== undefined) view[k] = t[k];
  return view;
}

/** A task as a client sees it through the ECS API. */
function fromApi(t: Task): TaskView {
  const view: TaskView = {
    taskId: idOf(t.taskArn!), lastStatus: t.lastStatus as TaskStatus, desiredStatus: t.desiredStatus!,
    stopCode: t.stopCode, stoppedReason: t.stoppedReason,
  };
  for (const k of TIMESTAMP_ORDER) if (t[k]) view[k] = t[k]!.getTime();
  return view;
}

function fromHost(h: HostRecord): HostSample {
  return {
    hostId: h.hostId, status: h.status, cpu: h.cpu, memory: h.memory,
    reservedCpu: h.reservedCpu, reservedMemory: h.reservedMemory, taskCount: h.taskCount,
    reservations: Object.fromEntries(Object.entries(h.reservations).map(([id, r]) => [id, { cpu: r.cpu, memory: r.memory }])),
  };
}

/**
 * Records a run's history for `checkHistory`: the test makes its calls through here, the local
 * mode hands every agent report to `onReport`, and samplers read the store and the container
 * engine until stopped. Clock: this process's Date.now, which the agents share.
 */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  /** The tasks RunTask created, so the engine's other containers (other tests') are ignored. */
  readonly taskIds = new Set<string>();
  private m?: LocalMode;
  private docker?: Docker;
  private sampling = false;
  private samplers: Promise<void>[] = [];
  /** Samples that failed (a read timed out under load); kept to be shown, never silently lost. */
  readonly samplerErrors: string[] = [];

  readonly onReport = (r: ObservedReport): void => {
    const request = (r.request ?? {}) as { hostId?: string; task?: { taskId?: string }; lastStatus?: TaskStatus; seq?: number };
    const response = (r.response ?? {}) as { applied?: boolean; lastStatus?: TaskStatus; desiredStatus?: string; __type?: string; message?: string };
    const taskId = request.task?.taskId ?? '';
    this.events.push({
      kind: 'report', invokedAt: r.invokedAt, completedAt: r.completedAt,
      hostId: request.hostId ?? '', taskId, reported: request.lastStatus!, seq: request.seq, status: r.status,
      ...(r.status === 200
        ? { applied: response.applied, task: { taskId, lastStatus: response.lastStatus!, desiredStatus: response.desiredStatus! } }
        : { error: `${response.__type}: ${response.message}` }),
    });
  };

  attach(m: LocalMode): this {
    this.m = m;
    this.docker = new Docker({ socketPath: m.local.dockerSocket });
    return this;
  }

  private get mode(): LocalMode {
    if (!this.m) throw new Error('attach the recorder to a local mode first');
    return this.m;
  }

  /** RunTask through the SDK; returns the new task ids (none when it failed). */
  async runTask(input: RunTaskCommandInput): Promise<string[]> {
    const invokedAt = Date.now();
    try {
      const r = await this.mode.ecs.send(new RunTaskCommand(input));
      const tasks = (r.tasks ?? []).map((t) => ({ ...fromApi(t), cpu: Number(t.cpu), memory: Number(t.memory) }));
      for (const t of tasks) this.taskIds.add(t.taskId);
      this.events.push({ kind: 'run-task', invokedAt, completedAt: Date.now(), tasks });
      return tasks.map((t) => t.taskId);
    } catch (e) {
      this.events.push({ kind: 'run-task', invokedAt, completedAt: Date.now(), tasks: [], error: message(e) });
      return [];
    }
  }

  async stopTask(taskId: string, reason: string): Promise<TaskView | undefined> {
    const invokedAt = Date.now();
    try {
      const r = await this.mode.ecs.send(new StopTaskCommand({ task: taskId, reason }));
      const task = fromApi(r.task!);
      this.events.push({ kind: 'stop-task', invokedAt, completedAt: Date.now(), taskId, reason, task });
      return task;
    } catch (e) {
      this.events.push({ kind: 'stop-task', invokedAt, completedAt: Date.now(), taskId, reason, error: message(e) });
      return undefined;
    }
  }

  /** SIGKILLs a host's agent, as a crash would; its containers keep running. */
  async kill(hostId: string): Promise<void> {
    this.events.push({ kind: 'kill', at: Date.now(), hostId });
    await this.mode.local.fleet.kill(hostId);
  }

  private async hosts(): Promise<HostSample[]> {
    return (await this.mode.local.berth.store.hosts.list()).map(fromHost);
  }

  private async running(): Promise<RunningContainer[]> {
    const list = await this.docker!.listContainers({ filters: { label: [LABELS.host, LABELS.task] } });
    return list
      .filter((c) => c.State === 'running' && this.taskIds.has(c.Labels[LABELS.task]))
      .map((c) => ({ hostId: c.Labels[LABELS.host], taskId: c.Labels[LABELS.task], container: c.Labels[LABELS.container], containerId: c.Id }));
  }

  private loop(pauseMs: number, sample: () => Promise<HistoryEvent>): Promise<void> {
    return (async () => {
      while (this.sampling) {
        try {
          this.events.push(await sample());
        } catch (e) {
          this.samplerErrors.push(message(e));
        }
        await sleep(pauseMs);
      }
    })();
  }

  /** Starts reading hosts, tasks and running containers, each in its own loop. */
  startSampling(pace: SamplingPace = DEFAULT_PACE): void {
    this.sampling = true;
    const timed = async <T>(read: () => Promise<T>) => {
      const invokedAt = Date.now();
      const value = await read();
      return { invokedAt, completedAt: Date.now(), value };
    };
    this.samplers = [
      this.loop(pace.hostSampleMs, async () => {
        const r = await timed(() => this.hosts());
        return { kind: 'host-sample', invokedAt: r.invokedAt, completedAt: r.completedAt, hosts: r.value };
      }),
      this.loop(pace.taskSampleMs, async () => {
        const r = await timed(() => this.mode.local.berth.store.tasks.list('default'));
        const tasks = r.value.filter((t) => this.taskIds.has(t.taskId)).map(fromRecord);
        return { kind: 'task-sample', invokedAt: r.invokedAt, completedAt: r.completedAt, tasks };
      }),
      this.loop(pace.runtimeSampleMs, async () => {
        const r = await timed(() => this.running());
        return { kind: 'runtime-sample', invokedAt: r.invokedAt, completedAt: r.completedAt, running: r.value };
      }),
    ];
  }

  async stopSampling(): Promise<void> {
    this.sampling = false;
    await Promise.all(this.samplers);
  }

  /** The end of the run: every task as DescribeTasks shows it, the hosts and the engine. */
  async final(): Promise<void> {
    const invokedAt = Date.now();
    const ids = [...this.taskIds];
    const tasks: TaskView[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const r = await this.mode.ecs.send(new DescribeTasksCommand({ tasks: ids.slice(i, i + 100) }));
      tasks.push(...(r.tasks ?? []).map(fromApi));
    }
    const hosts = await this.hosts();
    const running = await this.running();
    this.events.push({ kind: 'final', invokedAt, completedAt: Date.now(), tasks, hosts, running });
  }

  /** The hosts the store holds now: for choosing whom to kill. */
  hostRecords(): Promise<HostRecord[]> {
    return this.mode.local.berth.store.hosts.list();
  }

  /** The tasks the store holds now, for waiting on the run to end. */
  async taskRecords(): Promise<TaskRecord[]> {
    return (await this.mode.local.berth.store.tasks.list('default')).filter((t) => this.taskIds.has(t.taskId));
  }
}

/**
 * Waits until every recorded task is STOPPED and no host holds room, printing progress to
 * stderr as it goes. Resolves false at the deadline rather than throwing, so that the caller
 * still records the final view and lets the checker say which tasks did not end and how.
 */
export async function waitForRunToEnd(recorder: HistoryRecorder, timeoutMs: number, label: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  for (;;) {
    const tasks = await recorder.taskRecords();
    const unfinished = tasks.filter((t) => t.lastStatus !== 'STOPPED');
    const held = unfinished.length === 0 ? (await recorder.hostRecords()).reduce((s, h) => s + h.taskCount, 0) : -1;
    if (unfinished.length === 0 && held === 0) return true;
    if (Date.now() > deadline) return false;
    if (Date.now() - lastPrint > 15_000) {
      lastPrint = Date.now();
      const byStatus: Record<string, number> = {};
      for (const t of unfinished) byStatus[`${t.lastStatus}/${t.desiredStatus}`] = (byStatus[`${t.lastStatus}/${t.desiredStatus}`] ?? 0) + 1;
      process.stderr.write(`${label}: ${new Date().toISOString()} ${tasks.length - unfinished.length}/${tasks.length} STOPPED; unfinished ${JSON.stringify(byStatus)}${held > 0 ? `; ${held} reservation(s) held` : ''}\n`);
    }
    await sleep(500);
  }
}

/**
 * Ends a recorded run: waits for every task to end, stops the samplers, takes the final view,
 * saves the history as `history.json` in `dataDir`, and checks it.
 */
export async function settleRun(recorder: HistoryRecorder, dataDir: string, timeoutMs: number, label: string) {
  const ended = await waitForRunToEnd(recorder, timeoutMs, label);
  const settledAt = Date.now();
  await recorder.stopSampling();
  await recorder.final();
  const events = recorder.events;
  writeFileSync(join(dataDir, 'history.json'), JSON.stringify(events));
  const final = events.find((e) => e.kind === 'final') as Extract<HistoryEvent, { kind: 'final' }>;
  const stopCodes: Record<string, number> = {};
  for (const t of final.tasks) stopCodes[t.stopCode ?? 'none'] = (stopCodes[t.stopCode ?? 'none'] ?? 0) + 1;
  return { ended, settledAt, events, violations: checkHistory(events), final, stopCodes };
}
