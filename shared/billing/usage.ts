import type { Market } from '../capacity/types';
import { cpuArchitectureOf } from '../scheduler/host-attributes';
import type { HostRecord, TaskRecord } from '../store';
import type { Architecture } from './prices';

const SERVICE_GROUP_PREFIX = 'service:';

/**
 * What the meter records of a task: its size, where it ran, when, and the dimensions a team
 * charges back by. Prices are not recorded: a report prices the record with the catalog it
 * names, so a corrected price list reprices the past.
 */
export interface TaskUsage {
  cluster: string;
  taskId: string;
  family: string;
  revision: number;
  /** The service that started it, if one did. */
  service?: string;
  startedBy?: string;
  /** Cost allocation tags: the task's tags by key. */
  tags: Record<string, string>;
  /** The reservation: cpu units and MiB. */
  cpu: number;
  memory: number;
  gpus?: number;
  ephemeralStorageGiB?: number;
  hostId?: string;
  instanceType?: string;
  market?: Market;
  architecture?: Architecture;
  /** When it was bound to its host: from then it held room there. */
  placedAt?: number;
  pullStartedAt?: number;
  startedAt?: number;
  /** Absent while it runs. */
  stoppedAt?: number;
  stopCode?: string;
  /** When the meter wrote the record. */
  recordedAt?: number;
}

/** A host's billed life: from launch (or registration) to termination, in its market at its type. */
export interface HostUsage {
  hostId: string;
  instanceType?: string;
  market: Market;
  cpu: number;
  memory: number;
  launchedAt: number;
  /** Absent while it runs. */
  endedAt?: number;
}

export const DIMENSIONS = ['cluster', 'service', 'family', 'startedBy', 'market', 'instanceType', 'task'] as const;
export type Dimension = (typeof DIMENSIONS)[number] | `tag:${string}`;

export const isDimension = (d: string): d is Dimension =>
  (DIMENSIONS as readonly string[]).includes(d) || (d.startsWith('tag:') && d.length > 4);

/** A task's value for a dimension; '-' where it has none (no service, no such tag). */
export function dimensionOf(u: TaskUsage, d: Dimension): string {
  if (d.startsWith('tag:')) return u.tags[d.slice(4)] ?? '-';
  switch (d) {
    case 'task': return u.taskId;
    case 'cluster': return u.cluster;
    case 'family': return u.family;
    case 'service': return u.service ?? '-';
    case 'startedBy': return u.startedBy ?? '-';
    case 'market': return u.market ?? '-';
    case 'instanceType': return u.instanceType ?? '-';
    default: return '-';
  }
}

/** The record of a task, from its stored item, its host's and its definition's storage. */
export function taskUsageOf(task: TaskRecord, host: Pick<HostRecord, 'instanceType' | 'market'> | undefined, ephemeralStorageGiB?: number): TaskUsage {
  const u: TaskUsage = {
    cluster: task.cluster,
    taskId: task.taskId,
    family: task.family,
    revision: task.revision,
    tags: Object.fromEntries((task.tags ?? []).map((t) => [t.key, t.value])),
    cpu: task.cpu,
    memory: task.memory,
  };
  if (task.group?.startsWith(SERVICE_GROUP_PREFIX)) u.service = task.group.slice(SERVICE_GROUP_PREFIX.length);
  if (task.startedBy !== undefined) u.startedBy = task.startedBy;
  if (ephemeralStorageGiB !== undefined) u.ephemeralStorageGiB = ephemeralStorageGiB;
  if (task.hostId !== undefined) {
    u.hostId = task.hostId;
    u.market = host?.market ?? 'on-demand';
    if (host?.instanceType !== undefined) {
      u.instanceType = host.instanceType;
      u.architecture = cpuArchitectureOf(host.instanceType);
    }
  }
  for (const k of ['placedAt', 'pullStartedAt', 'startedAt', 'stoppedAt'] as const) {
    const v = task[k];
    if (v !== undefined) u[k] = v;
  }
  if (task.stopCode !== undefined) u.stopCode = task.stopCode;
  return u;
}

/** A host's billed life, from its item. */
export function hostUsageOf(h: HostRecord): HostUsage {
  const u: HostUsage = {
    hostId: h.hostId,
    market: h.market ?? 'on-demand',
    cpu: h.cpu,
    memory: h.memory,
    launchedAt: h.launchedAt ?? h.registeredAt ?? h.lastHeartbeatAt,
  };
  if (h.instanceType !== undefined) u.instanceType = h.instanceType;
  if (h.endedAt !== undefined) u.endedAt = h.endedAt;
  return u;
}
