import { type TaskStatus, statusRank } from '../../shared/domain/task';

/**
 * A run's history, in the spirit of Jepsen: every client call and every agent report with the
 * moment it was invoked and the moment it completed, every kill, and periodic samples of the
 * store and of the container engine. `checkHistory` judges it after the run; it is pure, so
 * its own tests feed it bad histories and prove that it catches each violation.
 */

/** Epoch milliseconds. An observation happened at some instant within [invokedAt, completedAt]. */
export interface Interval {
  invokedAt: number;
  completedAt: number;
}

/** The task timestamps, in the order ECS's lifecycle sets them. */
export const TIMESTAMP_ORDER = [
  'createdAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt',
] as const;
export type TimestampName = (typeof TIMESTAMP_ORDER)[number];

/** What one observation saw of a task. */
export interface TaskView extends Partial<Record<TimestampName, number>> {
  taskId: string;
  lastStatus: TaskStatus;
  desiredStatus: string;
  hostId?: string;
  stopCode?: string;
  stoppedReason?: string;
}

/** What one observation saw of a host's item. */
export interface HostSample {
  hostId: string;
  status: string;
  cpu: number;
  memory: number;
  reservedCpu: number;
  reservedMemory: number;
  taskCount: number;
  reservations: Record<string, { cpu: number; memory: number }>;
}

/** A container the engine said was running, by the labels its agent gave it. */
export interface RunningContainer {
  hostId: string;
  taskId: string;
  /** The container's name in its task and the engine's id for it: a second id means a second start. */
  container?: string;
  containerId?: string;
}

export type HistoryEvent =
  | (Interval & { kind: 'run-task'; tasks: (TaskView & { cpu: number; memory: number })[]; error?: string })
  | (Interval & { kind: 'stop-task'; taskId: string; reason: string; task?: TaskView; error?: string })
  | (Interval & {
      kind: 'report';
      hostId: string;
      taskId: string;
      reported: TaskStatus;
      seq?: number;
      status: number;
      /** The control plane's answer: whether it moved the task, and the task as it then stood. */
      applied?: boolean;
      task?: Pick<TaskView, 'taskId' | 'lastStatus' | 'desiredStatus'>;
      error?: string;
    })
  | { kind: 'kill'; at: number; hostId: string }
  | (Interval & { kind: 'task-sample'; tasks: TaskView[] })
  | (Interval & { kind: 'host-sample'; hosts: HostSample[] })
  | (Interval & { kind: 'runtime-sample'; running: RunningContainer[] })
  /** Taken once the run has settled: what a client sees, the hosts' items and the engine. */
  | (Interval & { kind: 'final'; tasks: TaskView[]; hosts: HostSample[]; running: RunningContainer[] });

export const RULES = {
  overcommit: "a host's reservations exceed the capacity it registered",
  sumsDrift: "a host's sums disagree with its reservations",
  runtimeOvercommit: 'the containers running on a host need more than it registered',
  unknownHost: 'a container runs on a host the store never showed',
  startedTwice: "a task's container was started more than once, or on more than one host",
  backward: "a task's lastStatus moved backward",
  desiredBackward: "a task's desiredStatus went from STOPPED back to RUNNING",
  twoTerminal: 'a task reached more than one terminal state',
  terminalIncomplete: 'a STOPPED task lacks its stopCode, stoppedReason or stoppedAt',
  timestampOrder: "a task's timestamps are out of order",
  timestampChanged: 'a task timestamp changed once set',
  noTerminal: 'a task never reached a terminal state',
  lost: 'a task RunTask created is unknown at the end',
  stopInconsistent: 'a task ended in a state its acknowledged StopTask does not allow',
  reservationLeak: 'a finished task still holds a reservation at the end',
  orphanContainer: 'a finished task still has a running container at the end',
} as const;
export type Rule = keyof typeof RULES;

export interface Violation {
  rule: Rule;
  detail: string;
  taskId?: string;
  hostId?: string;
  at?: number;
}

/** One reading of a task's status, from whichever source, with when it could have happened. */
interface Observation extends Interval {
  rank: number;
  desiredStopped: boolean;
  source: string;
}

const sum = (rs: Record<string, { cpu: number; memory: number }>, k: 'cpu' | 'memory') =>
  Object.values(rs).reduce((s, r) => s + r[k], 0);

const describeHost = (h: HostSample) =>
  `${h.reservedCpu}/${h.cpu} CPU, ${h.reservedMemory}/${h.memory} MiB, ${h.taskCount} task(s)`;

function checkHosts(events: HistoryEvent[], out: Violation[]): void {
  for (const e of events) {
    if (e.kind !== 'host-sample' && e.kind !== 'final') continue;
    for (const h of e.hosts) {
      if (h.reservedCpu > h.cpu || h.reservedMemory > h.memory) {
        out.push({ rule: 'overcommit', hostId: h.hostId, at: e.invokedAt, detail: describeHost(h) });
      }
      const n = Object.keys(h.reservations).length;
      if (sum(h.reservations, 'cpu') !== h.reservedCpu || sum(h.reservations, 'memory') !== h.reservedMemory || n !== h.taskCount) {
        out.push({
          rule: 'sumsDrift', hostId: h.hostId, at: e.invokedAt,
          detail: `sums ${describeHost(h)}; reservations ${sum(h.reservations, 'cpu')} CPU, ${sum(h.reservations, 'memory')} MiB, ${n} task(s)`,
        });
      }
    }
  }
}

/** Judges what really runs: each running container's task needs the room RunTask asked for. */
function checkRuntime(events: HistoryEvent[], out: Violation[]): void {
  const size = new Map<string, { cpu: number; memory: number }>();
  const capacity = new Map<string, { cpu: number; memory: number }>();
  for (const e of events) {
    if (e.kind === 'run-task') for (const t of e.tasks) size.set(t.taskId, t);
    if (e.kind === 'host-sample' || e.kind === 'final') for (const h of e.hosts) capacity.set(h.hostId, h);
  }
  for (const e of events) {
    if (e.kind !== 'runtime-sample' && e.kind !== 'final') continue;
    const byHost = new Map<string, Set<string>>();
    for (const c of e.running) byHost.set(c.hostId, (byHost.get(c.hostId) ?? new Set()).add(c.taskId));
    for (const [hostId, tasks] of byHost) {
      const cap = capacity.get(hostId);
      if (!cap) {
        out.push({ rule: 'unknownHost', hostId, at: e.invokedAt, detail: `tasks ${[...tasks].join(', ')}` });
        continue;
      }
      const need = [...tasks].map((t) => size.get(t) ?? { cpu: 0, memory: 0 });
      const cpu = need.reduce((s, n) => s + n.cpu, 0);
      const memory = need.reduce((s, n) => s + n.memory, 0);
      if (cpu > cap.cpu || memory > cap.memory) {
        out.push({ rule: 'runtimeOvercommit', hostId, at: e.invokedAt, detail: `${tasks.size} task(s) need ${cpu}/${cap.cpu} CPU, ${memory}/${cap.memory} MiB` });
      }
    }
  }
}

/** Each of a task's containers runs as one engine container on one host, from start to end. */
function checkStartedOnce(events: HistoryEvent[], out: Violation[]): void {
  const seen = new Map<string, { hostId: string; containerId?: string }>();
  const flagged = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'runtime-sample' && e.kind !== 'final') continue;
    for (const c of e.running) {
      const key = `${c.taskId}/${c.container ?? ''}`;
      const first = seen.get(key);
      if (!first) seen.set(key, c);
      else if ((first.hostId !== c.hostId || first.containerId !== c.containerId) && !flagged.has(c.taskId)) {
        flagged.add(c.taskId);
        out.push({ rule: 'startedTwice', taskId: c.taskId, hostId: c.hostId, at: e.invokedAt, detail: `${key} ran as ${first.containerId} on ${first.hostId}, then as ${c.containerId} on ${c.hostId}` });
      }
    }
  }
}

/** Every reading of each task's status, from samples, calls, reports and the final view. */
function observationsByTask(events: HistoryEvent[]): Map<string, Observation[]> {
  const byTask = new Map<string, Observation[]>();
  const add = (t: Pick<TaskView, 'taskId' | 'lastStatus' | 'desiredStatus'>, i: Interval, source: string) => {
    const list = byTask.get(t.taskId) ?? [];
    list.push({ invokedAt: i.invokedAt, completedAt: i.completedAt, rank: statusRank(t.lastStatus), desiredStopped: t.desiredStatus === 'STOPPED', source });
    byTask.set(t.taskId, list);
  };
  for (const e of events) {
    if (e.kind === 'run-task' || e.kind === 'task-sample' || e.kind === 'final') for (const t of e.tasks) add(t, e, e.kind);
    if (e.kind === 'stop-task' && e.task) add(e.task, e, 'stop-task');
    if (e.kind === 'report' && e.task) add(e.task, e, `report of ${e.reported} seq ${e.seq}`);
  }
  return byTask;
}

/**
 * A reading that completed before another was invoked happened before it: the later one may
 * not show an earlier status. Readings that overlap in time may come in either order.
 */
function checkMonotonic(byTask: Map<string, Observation[]>, out: Violation[]): void {
  for (const [taskId, obs] of byTask) {
    const byInvoke = [...obs].sort((a, b) => a.invokedAt - b.invokedAt);
    const byComplete = [...obs].sort((a, b) => a.completedAt - b.completedAt);
    let seen = 0;
    let highest: Observation | undefined;
    let stoppedSeen: Observation | undefined;
    let backward = false;
    let desiredBackward = false;
    for (const later of byInvoke) {
      while (seen < byComplete.length && byComplete[seen].completedAt < later.invokedAt) {
        const earlier = byComplete[seen++];
        if (!highest || earlier.rank > highest.rank) highest = earlier;
        if (earlier.desiredStopped) stoppedSeen ??= earlier;
      }
      if (!backward && highest && later.rank < highest.rank) {
        backward = true;
        out.push({ rule: 'backward', taskId, at: later.invokedAt, detail: `${highest.source} saw rank ${highest.rank}, then ${later.source} saw rank ${later.rank}` });
      }
      if (!desiredBackward && stoppedSeen && !later.desiredStopped) {
        desiredBackward = true;
        out.push({ rule: 'desiredBackward', taskId, at: later.invokedAt, detail: `${stoppedSeen.source} saw STOPPED, then ${later.source} saw RUNNING` });
      }
    }
  }
}

/** Every full view of each task: samples, StopTask answers and the final view. */
function viewsByTask(events: HistoryEvent[]): Map<string, { view: TaskView; at: Interval; source: string }[]> {
  const byTask = new Map<string, { view: TaskView; at: Interval; source: string }[]>();
  const add = (view: TaskView, at: Interval, source: string) =>
    byTask.set(view.taskId, [...(byTask.get(view.taskId) ?? []), { view, at, source }]);
  for (const e of events) {
    if (e.kind === 'run-task' || e.kind === 'task-sample' || e.kind === 'final') for (const t of e.tasks) add(t, e, e.kind);
    if (e.kind === 'stop-task' && e.task) add(e.task, e, 'stop-task');
  }
  return byTask;
}

function checkViews(events: HistoryEvent[], out: Violation[]): void {
  for (const [taskId, views] of viewsByTask(events)) {
    let terminal: { view: TaskView; source: string } | undefined;
    const firstValue = new Map<TimestampName, { value: number; source: string }>();
    const flagged = new Set<Rule>();
    const flag = (v: Violation) => {
      if (flagged.has(v.rule)) return;
      flagged.add(v.rule);
      out.push(v);
    };
    for (const { view, at, source } of views) {
      const present = TIMESTAMP_ORDER.filter((k) => view[k] !== undefined);
      for (let i = 1; i < present.length; i++) {
        if (view[present[i]]! < view[present[i - 1]]!) {
          flag({ rule: 'timestampOrder', taskId, at: at.invokedAt, detail: `${source}: ${present[i - 1]} ${view[present[i - 1]]} > ${present[i]} ${view[present[i]]}` });
        }
      }
      for (const k of present) {
        const first = firstValue.get(k);
        if (!first) firstValue.set(k, { value: view[k]!, source });
        else if (first.value !== view[k]) {
          flag({ rule: 'timestampChanged', taskId, at: at.invokedAt, detail: `${k} was ${first.value} (${first.source}), then ${view[k]} (${source})` });
        }
      }
      if (view.lastStatus !== 'STOPPED') continue;
      if (!view.stopCode || !view.stoppedReason || view.stoppedAt === undefined) {
        flag({ rule: 'terminalIncomplete', taskId, at: at.invokedAt, detail: `${source}: stopCode ${view.stopCode}, stoppedReason ${view.stoppedReason}, stoppedAt ${view.stoppedAt}` });
      }
      if (!terminal) terminal = { view, source };
      else if (terminal.view.stopCode !== view.stopCode || terminal.view.stoppedReason !== view.stoppedReason || terminal.view.stoppedAt !== view.stoppedAt) {
        flag({
          rule: 'twoTerminal', taskId, at: at.invokedAt,
          detail: `${terminal.source}: ${terminal.view.stopCode} "${terminal.view.stoppedReason}" at ${terminal.view.stoppedAt}; ` +
            `${source}: ${view.stopCode} "${view.stoppedReason}" at ${view.stoppedAt}`,
        });
      }
    }
  }
}

/**
 * A task moves into STOPPED once: no second report may be applied there, and no report at all
 * once a reading that completed before it showed the task STOPPED.
 */
function checkReports(events: HistoryEvent[], byTask: Map<string, Observation[]>, out: Violation[]): void {
  const stoppedBy = new Map<string, Observation>();
  for (const [taskId, obs] of byTask) {
    for (const o of obs) {
      const first = stoppedBy.get(taskId);
      if (o.rank === statusRank('STOPPED') && (!first || o.completedAt < first.completedAt)) stoppedBy.set(taskId, o);
    }
  }
  const appliedStops = new Map<string, Interval[]>();
  for (const e of events) {
    if (e.kind !== 'report' || !e.applied) continue;
    if (e.reported === 'STOPPED') appliedStops.set(e.taskId, [...(appliedStops.get(e.taskId) ?? []), e]);
    const stopped = stoppedBy.get(e.taskId);
    if (stopped && stopped.completedAt < e.invokedAt) {
      out.push({ rule: 'twoTerminal', taskId: e.taskId, at: e.invokedAt, detail: `${stopped.source} saw STOPPED, then a report of ${e.reported} was applied` });
    }
  }
  for (const [taskId, stops] of appliedStops) {
    if (stops.length > 1) out.push({ rule: 'twoTerminal', taskId, at: stops[1].invokedAt, detail: `${stops.length} STOPPED reports were applied` });
  }
}

function checkEnd(events: HistoryEvent[], out: Violation[]): void {
  const final = events.filter((e) => e.kind === 'final').at(-1);
  if (!final || final.kind !== 'final') {
    out.push({ rule: 'noTerminal', detail: 'the history has no final view' });
    return;
  }
  const end = new Map(final.tasks.map((t) => [t.taskId, t]));
  for (const e of events) {
    if (e.kind !== 'run-task') continue;
    for (const t of e.tasks) {
      const last = end.get(t.taskId);
      if (!last) out.push({ rule: 'lost', taskId: t.taskId, detail: 'created by RunTask, absent from the final view' });
      else if (last.lastStatus !== 'STOPPED') out.push({ rule: 'noTerminal', taskId: t.taskId, detail: `ended ${last.lastStatus}, desired ${last.desiredStatus}` });
    }
  }
  for (const e of events) {
    if (e.kind !== 'stop-task' || !e.task) continue;
    const last = end.get(e.taskId);
    const problem =
      e.task.desiredStatus !== 'STOPPED' ? `StopTask answered desiredStatus ${e.task.desiredStatus}`
        : !last ? undefined // reported as lost above
          : last.lastStatus !== 'STOPPED' || last.desiredStatus !== 'STOPPED' ? `ended ${last.lastStatus}, desired ${last.desiredStatus}`
            : e.task.stopCode !== undefined && (last.stopCode !== e.task.stopCode || last.stoppedReason !== e.task.stoppedReason)
              ? `StopTask answered ${e.task.stopCode} "${e.task.stoppedReason}", the task ended ${last.stopCode} "${last.stoppedReason}"`
              : undefined;
    if (problem) out.push({ rule: 'stopInconsistent', taskId: e.taskId, at: e.invokedAt, detail: problem });
  }
  for (const h of final.hosts) {
    for (const taskId of Object.keys(h.reservations)) {
      if (end.get(taskId)?.lastStatus === 'STOPPED') out.push({ rule: 'reservationLeak', taskId, hostId: h.hostId, detail: describeHost(h) });
    }
  }
  for (const c of final.running) {
    if (end.get(c.taskId)?.lastStatus === 'STOPPED') out.push({ rule: 'orphanContainer', taskId: c.taskId, hostId: c.hostId, detail: 'still running' });
  }
}

/** Every violation the history shows; none means the run kept every invariant it could see. */
export function checkHistory(events: HistoryEvent[]): Violation[] {
  const out: Violation[] = [];
  checkHosts(events, out);
  checkRuntime(events, out);
  checkStartedOnce(events, out);
  const observations = observationsByTask(events);
  checkMonotonic(observations, out);
  checkViews(events, out);
  checkReports(events, observations, out);
  checkEnd(events, out);
  return out;
}

/** How much a history holds, for the test's log. */
export function summarize(events: HistoryEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  return counts;
}
