import { type HistoryEvent, type HostSample, type Rule, type TaskView, checkHistory } from '../support/history';

/**
 * The history checker must catch each kind of violation, and must not cry wolf over readings
 * that overlap in time. Each case takes one clean history of one task, spoils it in one way and
 * expects exactly that rule to fire.
 */

const HOST = { hostId: 'h1', status: 'ACTIVE', cpu: 2048, memory: 3840 };
const empty = (): HostSample => ({ ...HOST, reservedCpu: 0, reservedMemory: 0, taskCount: 0, reservations: {} });
const holding = (...tasks: [string, number, number][]): HostSample => ({
  ...HOST,
  reservedCpu: tasks.reduce((s, t) => s + t[1], 0),
  reservedMemory: tasks.reduce((s, t) => s + t[2], 0),
  taskCount: tasks.length,
  reservations: Object.fromEntries(tasks.map(([id, cpu, memory]) => [id, { cpu, memory }])),
});

const created = { taskId: 't1', createdAt: 5 };
const running: TaskView = { ...created, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', hostId: 'h1', pullStartedAt: 25, pullStoppedAt: 26, startedAt: 29 };
const stopped: TaskView = {
  ...running, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'enough',
  stoppingAt: 52, executionStoppedAt: 61, stoppedAt: 61,
};

/** One task's clean life: created, placed, RUNNING, stopped by StopTask, released. */
function clean(): HistoryEvent[] {
  return [
    { kind: 'run-task', invokedAt: 0, completedAt: 10, tasks: [{ ...created, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', cpu: 256, memory: 512 }] },
    { kind: 'host-sample', invokedAt: 20, completedAt: 21, hosts: [holding(['t1', 256, 512])] },
    { kind: 'report', invokedAt: 30, completedAt: 32, hostId: 'h1', taskId: 't1', reported: 'RUNNING', seq: 1, status: 200, applied: true, task: { taskId: 't1', lastStatus: 'RUNNING', desiredStatus: 'RUNNING' } },
    { kind: 'task-sample', invokedAt: 40, completedAt: 41, tasks: [{ ...running }] },
    { kind: 'runtime-sample', invokedAt: 42, completedAt: 43, running: [{ hostId: 'h1', taskId: 't1' }] },
    { kind: 'stop-task', invokedAt: 50, completedAt: 55, taskId: 't1', reason: 'enough', task: { ...running, desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'enough', stoppingAt: 52 } },
    { kind: 'report', invokedAt: 60, completedAt: 62, hostId: 'h1', taskId: 't1', reported: 'STOPPED', seq: 2, status: 200, applied: true, task: { taskId: 't1', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' } },
    { kind: 'task-sample', invokedAt: 70, completedAt: 71, tasks: [{ ...stopped }] },
    { kind: 'host-sample', invokedAt: 80, completedAt: 81, hosts: [empty()] },
    { kind: 'final', invokedAt: 90, completedAt: 95, tasks: [{ ...stopped }], hosts: [empty()], running: [] },
  ];
}

/** Edits every full view of a task the history holds. */
function eachView(events: HistoryEvent[], taskId: string, edit: (v: TaskView) => void): HistoryEvent[] {
  for (const e of events) {
    if (e.kind === 'run-task' || e.kind === 'task-sample' || e.kind === 'final') e.tasks.filter((t) => t.taskId === taskId).forEach(edit);
    if (e.kind === 'stop-task' && e.task?.taskId === taskId) edit(e.task);
  }
  return events;
}

const finalOf = (events: HistoryEvent[]) => events.find((e) => e.kind === 'final') as Extract<HistoryEvent, { kind: 'final' }>;
const rules = (events: HistoryEvent[]): Rule[] => [...new Set(checkHistory(events).map((v) => v.rule))].sort();

/** A second task, 2048 CPU, that ran and stopped cleanly, except where a case spoils it. */
function withSecondTask(events: HistoryEvent[], final: Partial<TaskView> = {}): HistoryEvent[] {
  events.unshift({ kind: 'run-task', invokedAt: 1, completedAt: 9, tasks: [{ taskId: 't2', createdAt: 4, lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', cpu: 2048, memory: 512 }] });
  finalOf(events).tasks.push({
    taskId: 't2', createdAt: 4, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited', stoppedReason: 'exit', stoppedAt: 50, ...final,
  });
  return events;
}

describe('History checker', () => {
  describe('checkHistory', () => {
    it('finds nothing wrong in a clean history', () => {
      expect(checkHistory(clean())).toEqual([]);
    });

    it('lets readings that overlap in time disagree on the order (either may have happened first)', () => {
      // Prepare: a sample whose read overlapped the STOPPED report still saw RUNNING.
      const events = clean();
      events.push({ kind: 'task-sample', invokedAt: 61, completedAt: 63, tasks: [{ ...running, desiredStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'enough', stoppingAt: 52 }] });

      // Act, assess
      expect(checkHistory(events)).toEqual([]);
    });

    const cases: [Rule, string, () => HistoryEvent[]][] = [
      ['overcommit', 'reservations that exceed the host, however briefly', () => {
        const events = clean();
        events.splice(2, 0, { kind: 'host-sample', invokedAt: 22, completedAt: 23, hosts: [holding(['t1', 256, 512], ['tx', 2048, 512])] });
        return events;
      }],
      ['sumsDrift', "a host whose sums disagree with its reservation map", () => {
        const events = clean();
        (events[1] as Extract<HistoryEvent, { kind: 'host-sample' }>).hosts[0].reservedCpu = 0;
        return events;
      }],
      ['runtimeOvercommit', 'containers running on a host beyond what it registered', () => {
        const events = withSecondTask(clean());
        events.push({ kind: 'runtime-sample', invokedAt: 44, completedAt: 45, running: [{ hostId: 'h1', taskId: 't1' }, { hostId: 'h1', taskId: 't2' }] });
        return events;
      }],
      ['unknownHost', 'a container on a host the store never showed', () => {
        const events = clean();
        events.push({ kind: 'runtime-sample', invokedAt: 44, completedAt: 45, running: [{ hostId: 'h9', taskId: 'tz' }] });
        return events;
      }],
      ['startedTwice', 'a second container for the same task container, on another host', () => {
        const events = clean();
        (events[4] as Extract<HistoryEvent, { kind: 'runtime-sample' }>).running[0].containerId = 'c1';
        events.splice(5, 0, { kind: 'runtime-sample', invokedAt: 44, completedAt: 45, running: [{ hostId: 'h1', taskId: 't1', containerId: 'c2' }] });
        return events;
      }],
      ['backward', 'a status seen after a later one had been seen', () => {
        const events = clean();
        events.splice(8, 0, { kind: 'task-sample', invokedAt: 75, completedAt: 76, tasks: [{ ...running, desiredStatus: 'STOPPED' }] });
        return events;
      }],
      ['desiredBackward', 'desiredStatus RUNNING again after StopTask was acknowledged', () => {
        const events = clean();
        events.splice(6, 0, { kind: 'task-sample', invokedAt: 56, completedAt: 57, tasks: [{ ...running }] });
        return events;
      }],
      ['twoTerminal', 'a second, different terminal state', () => {
        const events = clean();
        events.splice(8, 0, { kind: 'task-sample', invokedAt: 75, completedAt: 76, tasks: [{ ...stopped, stopCode: 'TerminationNotice', stoppedReason: 'Host h1 was lost' }] });
        return events;
      }],
      ['twoTerminal', 'a STOPPED report applied to a task already STOPPED', () => {
        const events = clean();
        events.splice(8, 0, { kind: 'report', invokedAt: 72, completedAt: 73, hostId: 'h1', taskId: 't1', reported: 'STOPPED', seq: 3, status: 200, applied: true, task: { taskId: 't1', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' } });
        return events;
      }],
      ['terminalIncomplete', 'a STOPPED task without stoppedAt', () => eachView(clean(), 't1', (v) => {
        if (v.lastStatus === 'STOPPED') delete v.stoppedAt;
      })],
      ['timestampOrder', 'pullStoppedAt after startedAt', () => eachView(clean(), 't1', (v) => {
        if (v.pullStoppedAt !== undefined) v.pullStoppedAt = 30;
      })],
      ['timestampOrder', 'stoppingAt before startedAt', () => eachView(clean(), 't1', (v) => {
        if (v.stoppingAt !== undefined) v.stoppingAt = 27;
      })],
      ['timestampChanged', 'a timestamp that changed once set', () => {
        const events = clean();
        finalOf(events).tasks[0].startedAt = 28;
        return events;
      }],
      ['noTerminal', 'a task still PROVISIONING at the end', () => withSecondTask(clean(), { lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', stopCode: undefined, stoppedReason: undefined, stoppedAt: undefined })],
      ['lost', 'a task RunTask created that the final view lacks', () => {
        const events = withSecondTask(clean());
        finalOf(events).tasks.pop();
        return events;
      }],
      ['stopInconsistent', 'a task that ended otherwise than its acknowledged StopTask said', () => eachView(clean(), 't1', (v) => {
        if (v.lastStatus === 'STOPPED') v.stopCode = 'EssentialContainerExited';
      })],
      ['stopInconsistent', 'a StopTask answered with desiredStatus RUNNING', () => {
        const events = clean();
        const stop = events[5] as Extract<HistoryEvent, { kind: 'stop-task' }>;
        stop.task = { ...running, stopCode: undefined };
        return events;
      }],
      ['reservationLeak', 'a STOPPED task still holding room at the end', () => {
        const events = clean();
        finalOf(events).hosts = [holding(['t1', 256, 512])];
        return events;
      }],
      ['orphanContainer', 'a STOPPED task with a container still running at the end', () => {
        const events = clean();
        finalOf(events).running = [{ hostId: 'h1', taskId: 't1' }];
        return events;
      }],
    ];

    it.each(cases)('catches %s: %s', (rule, _what, spoil) => {
      // Prepare
      const events = spoil();

      // Act
      const found = rules(events);

      // Assess
      expect(found).toEqual([rule]);
    });
  });
});
