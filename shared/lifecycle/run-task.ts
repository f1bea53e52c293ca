import { createHash, randomBytes } from 'node:crypto';
import type { Berth } from '../context';
import type { ServiceConnectRoute } from '../agent-wire/responses';
import { DEFAULT_CLUSTER, parseTaskDefinitionRef, taskDefinitionArn } from '../domain/arns';
import { ClientException, ClusterNotFoundException, ConflictException, InvalidParameterException } from '../domain/errors';
import {
  type CapacityProviderStrategyItem, type ProviderCounts, requireAssociated, splitTasks,
} from '../domain/capacity-strategy';
import type { Tag } from '../domain/fields';
import { parseCpu, parseMemory } from '../domain/sizes';
import type { PlacementConstraint } from '../domain/service';
import type { PlacementStrategyType, Task, TaskOverrides } from '../domain/task';
import type { PlacementStrategy } from '../scheduler/placement';
import { checkContainersFit, checkLaunchType, cpuArchitectureOfDefinition, reservationOf } from '../domain/task-definition';
import { ECS_RESERVED_PORTS, fixedHostPorts } from '../domain/ports';
import { CLIENT_TOKEN_TTL_MS, type ClusterRecord, type TaskDefinitionRecord, type TaskRecord } from '../store';
import { associatedProviders } from '../store/cluster-store';
import { placementOf, taskDemand } from './placer';
import { placerFor } from './steps';
import { launchExecutionName } from './task-ref';
import { tellHost } from './assignments';

export interface RunTaskRequest {
  cluster: string;
  taskDefinition: string;
  count: number;
  overrides: TaskOverrides;
  startedBy?: string;
  group?: string;
  tags: Tag[];
  launchType?: 'FARGATE' | 'EC2';
  /** The request's strategy; without it and without launchType the cluster's default applies. */
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  /** For a service: how many of its tasks each provider runs now, so new ones keep the split. */
  providerCounts?: ProviderCounts;
  placementStrategy: PlacementStrategyType;
  /** ECS's placementStrategy and placementConstraints lists, when the request had them. */
  placementStrategies?: PlacementStrategy[];
  placementConstraints?: PlacementConstraint[];
  clientToken?: string;
  /** Place on this host or nowhere: the service scheduler's DAEMON tasks. */
  targetHostId?: string;
  /** A service's tasks in a Service Connect namespace: the endpoints they reach by name. */
  serviceConnect?: ServiceConnectRoute[];
}

export const newTaskId = () => randomBytes(16).toString('hex');

/**
 * The cluster must exist and be ACTIVE; `default` springs into being on first use, as in ECS.
 * `read`: the cluster's read, when the caller started it earlier.
 */
export async function activeCluster(b: Berth, name: string, createDefault = false, read: Promise<ClusterRecord | undefined> = b.store.clusters.get(name)) {
  let cluster = await read;
  if (!cluster && createDefault && name === DEFAULT_CLUSTER) {
    cluster = await b.store.clusters.create(name, [], b.now());
  }
  if (!cluster || cluster.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  return cluster;
}

/** Resolves `family`, `family:revision` or an ARN to a runnable (ACTIVE) revision. */
export async function runnableDefinition(b: Berth, ref: string): Promise<TaskDefinitionRecord> {
  const { family, revision } = parseTaskDefinitionRef(ref);
  const def = revision === undefined
    ? await b.store.taskDefinitions.latestActive(family)
    : await b.store.taskDefinitions.get(family, revision);
  if (!def) throw new ClientException('TaskDefinition not found.');
  if (def.status !== 'ACTIVE') throw new ClientException('TaskDefinition is inactive');
  return def;
}

/** The reservation this run needs, after overrides, checked to fit the task's size. */
function sizeOf(def: TaskDefinitionRecord, overrides: TaskOverrides): { cpu: number; memory: number } {
  const byName = new Map(overrides.containerOverrides.map((o) => [o.name, o]));
  for (const o of overrides.containerOverrides) {
    if (!def.containerDefinitions.some((c) => c.name === o.name)) {
      throw new InvalidParameterException(`Override for container named ${o.name} is not a container in the TaskDefinition.`);
    }
  }
  const containers = def.containerDefinitions.map((c) => {
    const o = byName.get(c.name);
    return { ...c, cpu: o?.cpu ?? c.cpu, memory: o?.memory ?? c.memory, memoryReservation: o?.memoryReservation ?? c.memoryReservation };
  });
  const cpuText = overrides.cpu ?? def.cpu;
  const memoryText = overrides.memory ?? def.memory;
  const cpu = cpuText === undefined ? undefined : parseCpu(cpuText, 'overrides.cpu');
  const memory = memoryText === undefined ? undefined : parseMemory(memoryText, 'overrides.memory');
  checkContainersFit(containers, cpu, memory);
  const size = reservationOf(containers, cpu, memory);
  if (size.memory <= 0) throw new ClientException('The task must reserve some memory.');
  return size;
}

/** Everything that makes two RunTask calls "the same parameters", as the token compares them. */
function requestHash(req: RunTaskRequest): string {
  const { clientToken: _, ...params } = req;
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

/** A task record follows from the request, its id and its creation time alone, so re-running a
 *  RunTask after a crash (or a concurrent duplicate) writes the very same records. */
function buildTask(
  b: Berth, req: RunTaskRequest, def: TaskDefinitionRecord, taskId: string, createdAt: number, size: { cpu: number; memory: number },
  capacityProviderName: string | undefined,
): Task {
  const byName = new Map(req.overrides.containerOverrides.map((o) => [o.name, o]));
  return {
    cluster: req.cluster,
    taskId,
    taskDefinitionArn: taskDefinitionArn(b.partition, def.family, def.revision),
    family: def.family,
    revision: def.revision,
    containers: def.containerDefinitions.map((c) => {
      const o = byName.get(c.name);
      return {
        name: c.name, image: c.image, essential: c.essential,
        cpu: o?.cpu ?? c.cpu, memory: o?.memory ?? c.memory, memoryReservation: o?.memoryReservation ?? c.memoryReservation,
        lastStatus: 'PENDING' as const,
        ...(c.healthCheck ? { hasHealthCheck: true } : {}),
      };
    }),
    overrides: req.overrides,
    cpu: size.cpu,
    memory: size.memory,
    lastStatus: 'PROVISIONING',
    desiredStatus: 'RUNNING',
    version: 1,
    createdAt,
    startedBy: req.startedBy,
    group: req.group ?? `family:${def.family}`,
    launchType: req.launchType ?? 'FARGATE',
    ...(capacityProviderName ? { capacityProviderName } : {}),
    placementStrategy: req.placementStrategy,
    ...(req.placementStrategies ? { placementStrategies: req.placementStrategies } : {}),
    ...(req.placementConstraints ? { placementConstraints: req.placementConstraints } : {}),
    ...(req.targetHostId !== undefined ? { targetHostId: req.targetHostId } : {}),
    ...(req.serviceConnect?.length ? { serviceConnect: req.serviceConnect } : {}),
    tags: req.tags,
    hostPorts: hostPortsOf(def),
    ...(cpuArchitectureOfDefinition(def) === 'arm64' ? { cpuArchitecture: 'arm64' as const } : {}),
  };
}

/** The fixed host ports a run of the definition needs, or undefined when it needs none. */
function hostPortsOf(def: TaskDefinitionRecord): string[] | undefined {
  const ports = fixedHostPorts(def.networkMode, def.containerDefinitions);
  return ports.length > 0 ? ports : undefined;
}

/**
 * A task that needs a host port no host ever offers (ECS's reserved ones, the endpoint's own):
 * ECS answers RunTask with a RESOURCE:PORTS failure and starts nothing, and so does Berth.
 */
export class HostPortsUnavailable extends Error {
  constructor(readonly ports: string[]) {
    super(`host port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} ${ports.length > 1 ? 'are' : 'is'} reserved on every host`);
    this.name = 'HostPortsUnavailable';
  }
}

function refuseReservedPorts(b: Berth, def: TaskDefinitionRecord): void {
  const reserved = new Set(b.config.reservedHostPorts ?? ECS_RESERVED_PORTS);
  const refused = (hostPortsOf(def) ?? []).filter((key) => reserved.has(Number(key.split('/')[0])));
  if (refused.length > 0) throw new HostPortsUnavailable(refused);
}

/**
 * The strategy a run follows: its own, else (when it names no launch type either) its cluster's
 * default, else none, and its tasks run where the operator's market puts them.
 */
function strategyOf(req: RunTaskRequest, cluster: ClusterRecord): readonly CapacityProviderStrategyItem[] | undefined {
  if (req.launchType !== undefined) return undefined;
  if (req.capacityProviderStrategy?.length) {
    requireAssociated(req.capacityProviderStrategy, associatedProviders(cluster));
    return req.capacityProviderStrategy;
  }
  return cluster.defaultCapacityProviderStrategy?.length ? cluster.defaultCapacityProviderStrategy : undefined;
}

/**
 * RunTask: creates `count` tasks as PROVISIONING and starts one launch workflow for each.
 * With a clientToken it is idempotent for 24 hours per cluster: every call with that token and
 * the same parameters gets the same tasks; other parameters get ConflictException.
 */
export async function runTask(b: Berth, req: RunTaskRequest): Promise<TaskRecord[]> {
  // The cluster is read beside the definition, a round trip less on every launch's path; it is
  // looked at (and `default` made) only once the request has proved valid.
  const clusterRead = b.store.clusters.get(req.cluster);
  clusterRead.catch(() => {});
  const def = await runnableDefinition(b, req.taskDefinition);
  checkLaunchType(def, req.launchType);
  const size = sizeOf(def, req.overrides);
  refuseReservedPorts(b, def);
  // Only a request that is otherwise valid may bring the `default` cluster into being.
  const cluster = await activeCluster(b, req.cluster, true, clusterRead);
  const strategy = strategyOf(req, cluster);
  const providers = strategy ? splitTasks(strategy, req.count, req.providerCounts) : [];

  const now = b.now();
  let taskIds = Array.from({ length: req.count }, newTaskId);
  let createdAt = now;
  if (req.clientToken !== undefined) {
    const hash = requestHash(req);
    const claim = await b.store.clientTokens.claim({
      key: `${req.cluster}#${req.clientToken}`, requestHash: hash, taskIds, createdAt: now, expiresAt: now + CLIENT_TOKEN_TTL_MS,
    }, now);
    if (claim.requestHash !== hash) {
      throw new ConflictException('The specified client token has already been used in a request with different parameters.');
    }
    ({ taskIds, createdAt } = claim);
  }

  const tasks = taskIds.map((id, i) => buildTask(b, req, def, id, createdAt, size, providers[i]));
  const created = await Promise.all(tasks.map((t) => b.store.tasks.create(t)));
  // Placing here only spares each launch its own placement. Whatever befalls it (a store error),
  // the tasks are written, so the call has succeeded: each gets its workflow, which places it if
  // this did not (else a task would sit PROVISIONING, owned by nothing).
  const bound = await placeTogether(b, tasks.filter((_, i) => created[i])).catch(() => new Map<string, TaskRecord>());
  await Promise.all(tasks.map((t) => startLaunchWorkflow(b, t, bound.get(t.taskId)?.hostId)));
  // A task bound here is answered as its binding wrote it, at the status this call gave it: its
  // binding made it PENDING, but RunTask answers PROVISIONING, as Fargate's does. Any other task
  // (one a repeat of an earlier call finds, one left to its workflow) as it is now.
  return Promise.all(tasks.map(async (t) => {
    const mine = bound.get(t.taskId);
    return mine ? { ...mine, lastStatus: t.lastStatus } : (await b.store.tasks.get(t))!;
  }));
}

/**
 * The tasks of one call (a RunTask's count, a service's new tasks) are placed as one batch
 * before their workflows start: one plan, one conditional write per host, instead of as many
 * placements racing each other for the same room. Each host that got tasks is told once, when
 * their bindings have landed, instead of once per task by its workflow's Start. A task bound
 * here is found placed by its workflow; one that fits nowhere yet, or whose binding lost to a
 * StopTask, is left to its own workflow's placement, which waits for room and asks for capacity
 * as usual. A crash between the reservation and the binding leaves room that recovery frees, as
 * for a single placement.
 *
 * Returns each bound task as its binding wrote it (its hostId: the host whose agent was told), by task id.
 */
async function placeTogether(b: Berth, tasks: Task[]): Promise<Map<string, TaskRecord>> {
  // Tasks of different providers follow different placement rules (their markets): one batch each.
  const byProvider = new Map<string | undefined, Task[]>();
  for (const t of tasks) byProvider.set(t.capacityProviderName, [...(byProvider.get(t.capacityProviderName) ?? []), t]);
  const bound = (await Promise.all([...byProvider.values()].map((batch) => placeBatch(b, batch)))).flat();
  const hosts = new Set(bound.map((t) => t.hostId!));
  await Promise.all([...hosts].map((hostId) => tellHost(b, hostId)));
  return new Map(bound.map((t) => [t.taskId, t]));
}

/** Places and binds the batch; returns the tasks whose binding landed, as it wrote them. */
async function placeBatch(b: Berth, tasks: Task[]): Promise<TaskRecord[]> {
  if (tasks.length === 0 || tasks[0].targetHostId !== undefined) return [];
  const { placed } = await placerFor(b).placeBatch(tasks.map(taskDemand), tasks[0].cluster, placementOf(tasks[0]));
  const bound = await Promise.all(placed.map(async (plan) => {
    const task = await b.store.tasks.bindHost({ cluster: tasks[0].cluster, taskId: plan.taskId }, plan.hostId, b.now());
    if (task) return [task];
    await b.store.hosts.release(plan.hostId, plan.taskId, plan, b.now());
    return [];
  }));
  return bound.flat();
}

/**
 * The launch workflow's input is fixed by the task itself, so a restart can start it again;
 * `told`: the host whose agent was already told of the task, by the RunTask that bound it there
 * (a restart, which cannot know, passes none, and the workflow tells the host again).
 */
export async function startLaunchWorkflow(b: Berth, task: Pick<Task, 'cluster' | 'taskId' | 'createdAt'>, told?: string): Promise<void> {
  const ref = { cluster: task.cluster, taskId: task.taskId };
  await b.workflows.start('launch', launchExecutionName(ref), {
    task: ref,
    placementDeadline: task.createdAt + b.config.placementTimeoutSeconds * 1000,
    told: told ?? null,
  });
}
