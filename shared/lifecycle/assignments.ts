import type { Berth } from '../context';
import { taskArn } from '../domain/arns';
import type { Assignment, KnownAssignments } from '../agent-wire/responses';
import type { ContainerDefinition } from '../domain/task-definition';
import type { HostRecord, TaskDefinitionRecord, TaskRecord } from '../store';

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
  const tasks = await Promise.all(
    Object.entries(host.reservations).map(([taskId, r]) => b.store.tasks.get({ cluster: r.cluster, taskId })),
  );
  // A reservation whose task is bound elsewhere (a crash mid-placement) is not this host's work.
  return { host, tasks: tasks.filter((t): t is TaskRecord => !!t && t.hostId === hostId && t.lastStatus !== 'STOPPED') };
}

/** The tasks bound to a host and not yet STOPPED, as its agent should see them. */
export async function assignmentsFor(b: Berth, hostId: string): Promise<Assignment[]> {
  const { host, tasks: mine } = await heldTasks(b, hostId);
  if (!host) return [];
  // This is every agent's hot path: read each definition once, all at the same time.
  const defs = new Map<string, Promise<TaskDefinitionRecord | undefined>>();
  const defOf = (t: TaskRecord) => {
    const key = `${t.family}:${t.revision}`;
    if (!defs.has(key)) defs.set(key, b.store.taskDefinitions.get(t.family, t.revision));
    return defs.get(key)!;
  };
  const withDefs = await Promise.all(mine.map(async (t) => ({ t, def: await defOf(t) })));
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
  return out.sort((x, y) => x.createdAt - y.createdAt || x.taskId.localeCompare(y.taskId));
}


const differs = (current: Assignment[], known: KnownAssignments) =>
  current.length !== Object.keys(known).length || current.some((a) => known[a.taskId] !== a.desiredStatus);

/**
 * A long-poll: answers at once when the host's work differs from what the agent knows, else
 * when it changes (the notifier wakes it) or when `waitMs` has passed. Between full reads of the
 * host's work (its item, every task on it, their definitions) it re-reads only the host's
 * version, which every change an agent must see moves: on AWS, where the notifier is a timer,
 * an unchanged host costs one small read per wake instead of one per task.
 */
export async function pollAssignments(b: Berth, hostId: string, known: KnownAssignments, waitMs: number): Promise<Assignment[]> {
  const deadline = b.now() + waitMs;
  let seen: number | undefined;
  let current: Assignment[] = [];
  for (;;) {
    // Listen before reading, so a change between the read and the wait is not missed.
    const woken = b.notifier.wait(hostId, deadline - b.now());
    // Read before the work, so a change during the full read moves it past `seen`.
    const version = await b.store.hosts.versionOf(hostId);
    if (version === undefined) return [];
    if (version !== seen) {
      seen = version;
      current = await assignmentsFor(b, hostId);
      if (differs(current, known)) return current;
    }
    if (b.now() >= deadline) return current;
    await woken;
  }
}
