import { settleTaskCallback } from '../batch/task-callbacks';
import { marketOf } from '../domain/capacity-strategy';
import { recordTaskUsage } from '../billing/meter';
import { demandOf } from '../domain/capacity-strategy';
import type { Berth } from '../context';
import { ConcurrentUpdateError, ServerException } from '../domain/errors';
import type { StopCode, TaskStatus } from '../domain/task';
import { statusRank } from '../domain/task';
import { isLiveHost, unplacedReason } from '../scheduler/placement';
import { type PlacementStore, Placer, placementOf, taskDemand } from './placer';
import { tellHost } from './assignments';
import { markTaskStopped, releaseTask } from './stop';
import { WAKE_ON_RELEASE, WOKEN, wakeTasksWaitingForRoom } from './capacity-wake';
import type { TaskRef } from './task-ref';

/**
 * The Task states of the lifecycle workflows. Each is idempotent: run again after a crash,
 * it finds its work done and changes nothing twice. The keys are the Lambda function names
 * in serverless.yml and the `Fn::GetAtt` names in the ASL.
 */
export interface LifecycleSteps {
  /**
   * Places the task. With `taskToken` (the launch's WaitForCapacity state) it only leaves the
   * token where added or released room wakes it (capacity-wake.ts): the state waits on it, for
   * at most the backoff the last placement answered, then places again.
   */
  place(input: { task: TaskRef; placementDeadline: number; taskToken?: string; told?: string | null }): Promise<PlaceResult>;
  /**
   * `placement`: Place's answer; its `notified` says the host's agent was already told, its
   * `pending` that the task is PENDING already (its binding wrote it).
   */
  start(input: { task: TaskRef; placement?: { hostId?: string; notified?: boolean; pending?: boolean } }): Promise<void>;
  awaitRunning(input: { task: TaskRef; taskToken: string }): Promise<void>;
  requestStop(input: { task: TaskRef }): Promise<{ stopped: boolean }>;
  awaitStopped(input: { task: TaskRef; taskToken: string }): Promise<void>;
  markStopped(input: { task: TaskRef; stopCode: StopCode; error?: { Error?: string; Cause?: string } }): Promise<void>;
  release(input: { task: TaskRef }): Promise<{ released: number }>;
  recordUsage(input: { task: TaskRef }): Promise<{ recorded: boolean }>;
}

/**
 * Every step by name, checked against the interface both ways: a new step fails the typecheck
 * until it is listed here, and from here the crash suite learns that it needs a case.
 */
const STEP_NAMES: Record<keyof LifecycleSteps, true> = {
  place: true, start: true, awaitRunning: true, requestStop: true, awaitStopped: true, markStopped: true, release: true, recordUsage: true,
};
export const LIFECYCLE_STEP_NAMES = Object.keys(STEP_NAMES) as (keyof LifecycleSteps)[];

export type PlaceResult =
  /**
   * `notified`: this placement bound the task and told its host's agent (Start need not).
   * `pending`: the task is past PROVISIONING, as its binding writes it (Start need not write it).
   */
  | { outcome: 'PLACED'; hostId: string; notified?: true; pending?: true }
  | { outcome: 'WAIT'; retryAfterSeconds: number }
  | { outcome: 'STOPPED' }
  /** Only ever sent to a waiting launch (capacity-wake.ts): room was added or released. */
  | typeof WOKEN;

/** The longest a launch waits for room between placements; added or released room wakes it sooner. */
export const MAX_PLACEMENT_BACKOFF_SECONDS = 60;

/**
 * How long a launch that found no room waits before it places again: twice as long as it has
 * waited so far (from `placementRetrySeconds`, up to MAX_PLACEMENT_BACKOFF_SECONDS), and never
 * past its deadline, where it places once more and fails with the reason. Over a 300 s deadline
 * that is 9 waits instead of 300: at most 3 state transitions each (WaitForCapacity, Place,
 * Placed?), under 1 per 10 s of waiting.
 */
export function placementBackoffSeconds(waitedMs: number, leftMs: number, baseSeconds: number): number {
  const backoff = Math.min(MAX_PLACEMENT_BACKOFF_SECONDS, Math.max(baseSeconds, Math.ceil((2 * waitedMs) / 1000)));
  return Math.max(1, Math.min(backoff, Math.ceil(leftMs / 1000)));
}

class TaskNotFound extends Error {
  constructor(ref: TaskRef) {
    super(`Task ${ref.cluster}/${ref.taskId} does not exist`);
    this.name = 'TaskNotFound';
  }
}

const placers = new WeakMap<object, Placer>();

/** One placer per store, so a warm Lambda or the local runtime keeps its fleet snapshot. */
export function placerFor(b: Berth): Placer {
  let p = placers.get(b.store.hosts);
  if (!p) placers.set(b.store.hosts, (p = new Placer(notingPlacements(b), b.now)));
  return p;
}

/**
 * The hosts as the placer sees them, except that each reservation is first noted on its task:
 * a crash after the reservation and before the binding then leaves room its task's release
 * finds (stop.ts releaseTask) instead of room only a scan of every host would.
 */
function notingPlacements(b: Berth): PlacementStore {
  const hosts = b.store.hosts;
  return {
    views: () => hosts.fleetViews(),
    view: (hostId) => hosts.view(hostId),
    async reserveAll(hostId, plans, cluster, now) {
      await Promise.all(plans.map((p) => b.store.tasks.noteReservation({ cluster, taskId: p.taskId }, hostId)));
      return hosts.reserveAll(hostId, plans, cluster, now);
    },
  };
}

/** What the task needs of a host, for the failure reason. */
function needs(task: { cpu: number; memory: number; hostPorts?: string[] }): string {
  const ports = task.hostPorts?.length ? ` and host port${task.hostPorts.length > 1 ? 's' : ''} ${task.hostPorts.join(', ')}` : '';
  return `${task.cpu} CPU and ${task.memory} MiB${ports}`;
}

function stopReason(stopCode: StopCode, error?: { Error?: string; Cause?: string }): string {
  const timedOut = error?.Error === 'States.Timeout';
  if (stopCode === 'TaskFailedToStart') {
    return timedOut ? 'Task failed to start: timed out waiting for its host to run it' : `Task failed to start: ${error?.Cause || error?.Error || 'unknown error'}`;
  }
  return timedOut ? 'Task stopped: its host did not confirm the stop in time' : `Task stopped: ${error?.Cause || error?.Error || 'unknown error'}`;
}

/** Whether a bound task's status is past PROVISIONING, as Place tells Start. */
const pendingOf = (task: { lastStatus: TaskStatus }): { pending?: true } =>
  (statusRank(task.lastStatus) > statusRank('PROVISIONING') ? { pending: true } : {});

export function lifecycleSteps(b: Berth): LifecycleSteps {
  const getTask = async (ref: TaskRef) => {
    const t = await b.store.tasks.get(ref);
    if (!t) throw new TaskNotFound(ref);
    return t;
  };

  return {
    async place({ task: ref, placementDeadline, taskToken, told }) {
      if (taskToken !== undefined) {
        // A task with no demand left (placed, failed, pinned to a host) keeps only the timeout, and
        // so does one whose token could not be kept: it places again at its backoff's end.
        await b.store.demand.awaitRoom(ref.taskId, taskToken).catch(() => false);
        return { outcome: 'WAIT', retryAfterSeconds: 0 };
      }
      const task = await getTask(ref);
      if (task.desiredStatus === 'STOPPED' || task.lastStatus === 'STOPPED') return { outcome: 'STOPPED' };
      // Bound by its RunTask, which told the host's agent (`told`) unless it crashed first.
      if (task.hostId) return { outcome: 'PLACED', hostId: task.hostId, ...(told === task.hostId ? { notified: true as const } : {}), ...pendingOf(task) };
      const demand = taskDemand(task);
      const placement = placementOf(task);
      const plan = await placerFor(b).place(demand, task.cluster, placement, task.targetHostId).catch(async (e: unknown) => {
        if (!(e instanceof ConcurrentUpdateError)) throw e;
        // Every write lost: a host already holds this task. A repeat of its RunTask placed it in
        // a batch and is binding it now (or crashed before, and recovery frees the room): the
        // binding, or a placement a moment later, settles it. Never a failed start for it.
        return 'CONTENDED' as const;
      });
      if (plan === 'CONTENDED') {
        const now = await getTask(ref);
        if (now.desiredStatus === 'STOPPED' || now.lastStatus === 'STOPPED') return { outcome: 'STOPPED' };
        return now.hostId ? { outcome: 'PLACED', hostId: now.hostId, ...pendingOf(now) } : { outcome: 'WAIT', retryAfterSeconds: b.config.placementRetrySeconds };
      }
      if (!plan) {
        if (b.now() < placementDeadline) {
          // Placement and capacity talk through recorded demand; the trigger only says "now". A
          // task pinned to its host (a DAEMON service's) waits for room there: a new host would
          // not take it, and would only bring a daemon task of its own.
          if (task.targetHostId === undefined) {
            await b.store.demand.record({
              taskId: task.taskId, cluster: task.cluster, cpu: task.cpu, memory: task.memory, since: b.now(),
              ...(task.cpuArchitecture ? { architecture: task.cpuArchitecture } : {}),
              ...(task.capacityProviderName ? demandOf(task.capacityProviderName) : {}),
            });
            b.capacity.trigger();
          }
          const retryAfterSeconds = placementBackoffSeconds(b.now() - task.createdAt, placementDeadline - b.now(), b.config.placementRetrySeconds);
          return { outcome: 'WAIT', retryAfterSeconds };
        }
        await markTaskStopped(b, ref, {
          stopCode: 'TaskFailedToStart',
          stoppedReason: `Task failed to start: no host had room for ${needs(task)} (${unplacedReason(placerFor(b).snapshot, demand, placement)})`,
        });
        await b.store.demand.remove(task.taskId);
        return { outcome: 'STOPPED' };
      }
      const bound = await b.store.tasks.bindHost(ref, plan.hostId, b.now());
      if (bound) {
        // The agent is told as the binding lands, not one workflow step later: it reads the task
        // (PENDING, as the binding wrote it) and launches it while Start checks the host is still
        // live. (A poll answered between the reservation and the binding saw the task not yet its host's.)
        await tellHost(b, plan.hostId);
        return { outcome: 'PLACED', hostId: plan.hostId, notified: true, ...pendingOf(bound) };
      }
      // StopTask won the race, or another execution bound the task first: give our room back.
      await b.store.hosts.release(plan.hostId, ref.taskId, plan, b.now());
      const now = await getTask(ref);
      if (now.hostId && now.desiredStatus === 'RUNNING') return { outcome: 'PLACED', hostId: now.hostId, ...pendingOf(now) };
      return { outcome: 'STOPPED' };
    },

    async start({ task: ref, placement }) {
      // Place's answer names the host; an execution from before it did reads the task.
      const hostId = placement?.hostId ?? (await getTask(ref)).hostId;
      if (!hostId) throw new ServerException({ cause: `start before placement of ${ref.taskId}` });
      // A write-off that landed between this task's reservation and its binding saw the task
      // unbound: it freed the room and left the task to us. Any later write-off sees the binding.
      // PENDING is written meanwhile, unless the binding wrote it (a task bound before bindings
      // did is PROVISIONING still): a task on a lost host goes on from there to STOPPED. Its
      // status alone decides: the view leaves out the reservations, which grow with its tasks.
      const [host] = await Promise.all([
        b.store.hosts.view(hostId),
        placement?.pending ? undefined : b.store.tasks.advance(ref, { lastStatus: 'PENDING' }),
      ]);
      if (!host || !isLiveHost(host.status)) {
        await markTaskStopped(b, ref, { stopCode: 'TerminationNotice', stoppedReason: `Host ${hostId} was lost before the task started` }, 'Host lost');
        await releaseTask(b, ref);
        return;
      }
      // Told already by the placement that bound it; a placement repeated after a crash did not.
      if (placement?.notified) return;
      await tellHost(b, hostId);
    },

    async awaitRunning({ task: ref, taskToken }) {
      const waiting = await b.store.tasks.setToken(ref, 'launchToken', taskToken, 'RUNNING');
      // Already RUNNING (or past it): the report came before the wait, so end the wait here.
      if (!waiting) await b.workflows.succeed(taskToken, { lastStatus: (await getTask(ref)).lastStatus });
    },

    async requestStop({ task: ref }) {
      const task = await getTask(ref);
      if (task.lastStatus === 'STOPPED') return { stopped: true };
      if (task.hostId) await tellHost(b, task.hostId);
      return { stopped: false };
    },

    async awaitStopped({ task: ref, taskToken }) {
      const waiting = await b.store.tasks.setToken(ref, 'stopToken', taskToken, 'STOPPED');
      if (!waiting) await b.workflows.succeed(taskToken, { lastStatus: 'STOPPED' });
    },

    async markStopped({ task: ref, stopCode, error }) {
      const task = await b.store.tasks.get(ref);
      if (!task || statusRank(task.lastStatus) >= statusRank('STOPPED')) return;
      await markTaskStopped(b, ref, { stopCode, stoppedReason: stopReason(stopCode, error) });
    },

    async release({ task: ref }) {
      const released = await releaseTask(b, ref);
      // The room this task held may be what a waiting launch needs.
      if (released > 0) await wakeTasksWaitingForRoom(b, WAKE_ON_RELEASE);
      // A sweep: a crash between the task's stop and its answer leaves a state machine waiting.
      await settleTaskCallback(b, await b.store.tasks.get(ref));
      return { released };
    },

    async recordUsage({ task: ref }) {
      return { recorded: await recordTaskUsage(b, ref) };
    },
  };
}
