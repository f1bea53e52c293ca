import type { Berth } from '../context';
import { taskArn } from '../domain/arns';
import type { Assignment, KnownAssignments } from '../agent-wire/responses';
import type { ContainerDefinition } from '../domain/task-definition';
import type { HostRecord, TaskDefinitionRecord, TaskRecord } from '../store';
import { noteTask } from './seen-tasks';

export type { Assignment, KnownAssignments } from '../agent-wire/responses';

/** ECS's override rules: command replaces, environment adds or replaces by name, sizes replace. */
export function applyOverrides(def: ContainerDefinition, task: TaskRecord): ContainerDefinition {
  const o = task.overrides.containerOverrides.find((x) => x.name === def.name);
  if (!o) return def;
  const env = new Map((def.environment ?? []).map((e) => [e.name, e.value]));
  for (const e of o.environment ?? []) env.set(e.name, e.value);
  return {
    ...def,
    command: o.command ?? def.command,
    environment: [...env.entries()].map(([name, value]) => ({ name, value })),
    cpu: o.cpu ?? def.cpu,
    memory: o.memory ?? def.memory,
    memoryReservation: o.memoryReservation ?? def.memoryReservation,
  };
}

/** The tasks a host holds now: reserved on it, bound to it and not yet STOPPED; with its item. */
export async function heldTasks(b: Berth, hostId: string): Promise<{ host?: HostRecord; tasks: TaskRecord[] }> {
  const host = await b.store.hosts.get(hostId);
  if (!host) return { tasks: [] };
  // One BatchGetItem per 100 tasks, not a GetItem each: an agent in a burst of launches reads
  // its whole work at every wake, so this read grows with the tasks it holds.
  const tasks = await b.store.tasks.getMany(Object.entries(host.reservations).map(([taskId, r]) => ({ cluster: r.cluster, taskId })));
  // The agent's reports on these come next: they merge onto what was read here (seen-tasks.ts).
  for (const t of tasks) if (t.hostId === hostId) noteTask(b, t);
  // A reservation whose task is bound elsewhere (a crash mid-placement) is not this host's work.
  return { host, tasks: tasks.filter((t) => t.hostId === hostId && t.lastStatus !== 'STOPPED') };
}

/**
 * Tells a host's agent its work changed: moves the host's version, which its long poll compares
 * (a poll answered meanwhile has seen the old one), then wakes that poll.
 */
export async function tellHost(b: Berth, hostId: string): Promise<void> {
  await b.store.hosts.touch(hostId);
  b.notifier.notify(hostId);
}

/** The tasks bound to a host and not yet STOPPED, as its agent should see them. */
export async function assignmentsFor(b: Berth, hostId: string): Promise<Assignment[]> {
  return (await workOf(b, hostId)).tasks;
}

/**
 * How many task definition revisions a process keeps: what an assignment carries of one
 * (containers, network mode, volumes, roles) never changes once registered, so each is read once.
 */
const DEFINITIONS_KEPT = 256;
const definitionCaches = new WeakMap<object, Map<string, Promise<TaskDefinitionRecord | undefined>>>();

function definitionOf(b: Berth, family: string, revision: number): Promise<TaskDefinitionRecord | undefined> {
  let cache = definitionCaches.get(b.store.taskDefinitions);
  if (!cache) definitionCaches.set(b.store.taskDefinitions, (cache = new Map()));
  const key = `${family}:${revision}`;
  let def = cache.get(key);
  if (!def) {
    def = b.store.taskDefinitions.get(family, revision);
    cache.set(key, def);
    if (cache.size > DEFINITIONS_KEPT) cache.delete(cache.keys().next().value!);
    // Only a definition found is kept: a failed or empty read is asked again next time.
    const kept = cache;
    def.then((d) => d || kept.delete(key), () => kept.delete(key));
  }
  return def;
}

/**
 * A Node timer may fire a millisecond or so before the clock reads its due time: a wait that
 * ends this close to the window's end is the window's end, not a wake worth a read of the
 * host's work (CI saw the early timer turn a quiet window into an answer with a late change).
 */
const TIMER_SLACK_MS = 5;

/** The host's work, and the version of the host item it was read from (undefined: no such host). */
async function workOf(b: Berth, hostId: string): Promise<{ tasks: Assignment[]; version?: number }> {
  const { host, tasks: mine } = await heldTasks(b, hostId);
  if (!host) return { tasks: [] };
  // This is every agent's hot path: each definition is read once, all at the same time.
  const withDefs = await Promise.all(mine.map(async (t) => ({ t, def: await definitionOf(b, t.family, t.revision) })));
  const out: Assignment[] = withDefs.flatMap(({ t, def }) => (def ? [{
    cluster: t.cluster,
    taskId: t.taskId,
    taskArn: taskArn(b.partition, t.cluster, t.taskId),
    family: t.family,
    revision: t.revision,
    taskRoleArn: def.taskRoleArn,
    executionRoleArn: def.executionRoleArn,
    availabilityZone: host.availabilityZone,
    desiredStatus: t.desiredStatus,
    lastStatus: t.lastStatus,
    createdAt: t.createdAt,
    cpu: t.cpu,
    memory: t.memory,
    networkMode: def.networkMode,
    containers: def.containerDefinitions.map((c) => applyOverrides(c, t)),
    volumes: def.volumes,
    ephemeralStorageGiB: def.ephemeralStorage?.sizeInGiB,
    ...(t.serviceConnect ? { serviceConnect: t.serviceConnect } : {}),
  }] : []));
  return { tasks: out.sort((x, y) => x.createdAt - y.createdAt || x.taskId.localeCompare(y.taskId)), version: host.version };
}


const differs = (current: Assignment[], known: KnownAssignments) =>
  current.length !== Object.keys(known).length || current.some((a) => known[a.taskId] !== a.desiredStatus);

/** A poll's answer: the host's work and its version, or only the version when nothing moved. */
export interface PollAnswer {
  /** Absent when the host's version is still the one the agent sent: its work is unchanged. */
  tasks?: Assignment[];
  /** The host's version the answer stands for; undefined for a host that does not exist. */
  version?: number;
}

/**
 * A long-poll: answers at once when the host's work differs from what the agent knows, else
 * when it changes (the notifier wakes it) or when `waitMs` has passed.
 *
 * The change check is the host's version, which every change an agent must see moves (a
 * reservation made or released, a status change, `touch`) and a heartbeat does not. An agent
 * that sends the version of its last answer costs one small read per poll while nothing
 * changes, and one more per wake: no task is read unless the version moved. Without a
 * version (an agent's first poll) the host's work is read once and compared with `known`.
 */
export async function pollAssignments(
  b: Berth, hostId: string, known: KnownAssignments, waitMs: number, knownVersion?: number,
): Promise<PollAnswer> {
  const deadline = b.now() + waitMs;
  let seen = knownVersion;
  let current: Assignment[] | undefined;
  // After a wake the work is read at once, its version with the host's reservations in one
  // read: a wake nearly always means the work moved, and the version alone is a read more on
  // the launch's path.
  let wokenUp = false;
  // Ends the wait still pending when the poll answers, so it holds nothing after the answer.
  const answered = new AbortController();
  try {
    for (;;) {
      // Listen before reading, so a change between the read and the wait is not missed.
      const woken = b.notifier.wait(hostId, deadline - b.now(), answered.signal);
      // The version is read before the host's tasks (with its reservations, or alone), so a
      // change during the full read moves it past `seen`.
      const work = wokenUp ? await workOf(b, hostId) : undefined;
      const version = work ? work.version : await b.store.hosts.versionOf(hostId);
      if (version === undefined) return { tasks: [] };
      if (version !== seen) {
        seen = version;
        current = work ? work.tasks : await assignmentsFor(b, hostId);
        // A moved version is news to an agent that sent one, even when its tasks read the same.
        if (knownVersion !== undefined || differs(current, known)) return { tasks: current, version };
      }
      if (b.now() >= deadline) return { tasks: current, version };
      await woken;
      wokenUp = true;
      // The window's end is not news: answer without another read; nor is the notifier's close,
      // which would otherwise turn the rest of the wait into back-to-back reads.
      if (b.now() >= deadline - TIMER_SLACK_MS || b.notifier.closed) return { tasks: current, version: seen };
    }
  } finally {
    answered.abort();
  }
}
