import type { Berth } from '../context';
import { clusterName, serviceNameOf, taskArn, taskIdOf } from '../domain/arns';
import { readCapacityProviderStrategy, refuseLaunchTypeWithStrategy } from '../domain/capacity-strategy';
import { ClusterNotFoundException, InvalidParameterException, ServiceNotFoundException } from '../domain/errors';
import { serviceGroup } from '../services/apply';
import type { TaskRecord } from '../store';
import {
  type Json, isObject, nameValueList, oneOf, optInt, optObject, optObjectList, optString, optStringList, readTags, reqString,
} from '../domain/fields';
import type { TaskOverrides } from '../domain/task';
import { dropUndefined } from '../domain/task-definition';
import { HostPortsUnavailable, type RunTaskRequest, activeCluster, runTask } from '../lifecycle/run-task';
import { stopTask } from '../lifecycle/stop-task';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';
import { readPlacement } from './placement';
import { type Failure, toEcsTask } from './shapes';

function readOverrides(body: Json): TaskOverrides {
  const o = optObject(body, 'overrides') ?? {};
  const containerOverrides = optObjectList(o, 'containerOverrides', (c, path) => dropUndefined({
    name: reqString(c, 'name', `${path}.name`),
    command: optStringList(c, 'command', `${path}.command`),
    environment: nameValueList(c, 'environment', `${path}.environment`),
    cpu: optInt(c, 'cpu', `${path}.cpu`, { min: 0 }),
    memory: optInt(c, 'memory', `${path}.memory`, { min: 6 }),
    memoryReservation: optInt(c, 'memoryReservation', `${path}.memoryReservation`, { min: 6 }),
  }), 'overrides.containerOverrides', 10) ?? [];
  return dropUndefined({
    containerOverrides,
    cpu: optString(o, 'cpu', 'overrides.cpu'),
    memory: optString(o, 'memory', 'overrides.memory'),
  });
}

export const RunTask: Operation = async (b, body) => {
  const count = optInt(body, 'count') ?? 1;
  if (count < 1 || count > 10) throw new InvalidParameterException('count must be between 1 and 10.');
  const launchType = optString(body, 'launchType');
  if (launchType !== undefined && launchType !== 'FARGATE' && launchType !== 'EC2') {
    throw new InvalidParameterException(`Invalid launchType: ${launchType}. Berth runs FARGATE (and EC2) tasks.`);
  }
  const capacityProviderStrategy = readCapacityProviderStrategy(body, 'capacityProviderStrategy', 'request');
  refuseLaunchTypeWithStrategy(launchType, capacityProviderStrategy);
  const network = body.networkConfiguration;
  if (network !== undefined && !isObject(network)) throw new InvalidParameterException('networkConfiguration must be an object.');
  const placement = readPlacement(body);
  const request: RunTaskRequest = {
    cluster: clusterName(optString(body, 'cluster')),
    taskDefinition: reqString(body, 'taskDefinition'),
    count,
    overrides: readOverrides(body),
    startedBy: optString(body, 'startedBy', 'startedBy', 128),
    group: optString(body, 'group', 'group', 255),
    tags: readTags(body) ?? [],
    launchType: launchType as 'FARGATE' | 'EC2' | undefined,
    ...(capacityProviderStrategy?.length ? { capacityProviderStrategy } : {}),
    // Berth's first field, kept for the tasks it already holds; the lists below say it all.
    placementStrategy: placement.strategies[0]?.type === 'spread' ? 'spread' : 'binpack',
    placementStrategies: placement.strategies.length > 0 ? placement.strategies : undefined,
    placementConstraints: placement.constraints.length > 0 ? placement.constraints : undefined,
    clientToken: optString(body, 'clientToken', 'clientToken', 64),
  };
  let tasks;
  try {
    tasks = await runTask(b, request);
  } catch (e) {
    if (!(e instanceof HostPortsUnavailable)) throw e;
    const failures: Failure[] = [{ reason: 'RESOURCE:PORTS', detail: e.message }];
    return { tasks: [], failures };
  }
  return { tasks: tasks.map((t) => toEcsTask(b.partition, t)), failures: [] };
};

export const StopTask: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  const taskId = taskIdOf(reqString(body, 'task'), cluster);
  const task = await stopTask(b, cluster, taskId, optString(body, 'reason', 'reason', 255));
  return { task: toEcsTask(b.partition, task) };
};

export const DescribeTasks: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  const refs = optStringList(body, 'tasks', 'tasks', 100);
  if (!refs || refs.length === 0) throw new InvalidParameterException('Tasks cannot be empty.');
  const ids = refs.map((ref) => taskIdOf(ref, cluster));
  // One BatchGetItem for up to 100 tasks, answered in the order asked; read beside the cluster's
  // check, whose failure still answers alone: a poll of DescribeTasks waits for one read, not two.
  // The check takes a status read within the last second: a client polling every few ms costs
  // one store read per poll, not two.
  const [status, found] = await Promise.all([
    b.store.clusters.recentStatus(cluster, b.now()), b.store.tasks.getMany(ids.map((taskId) => ({ cluster, taskId }))),
  ]);
  if (status !== 'ACTIVE') throw new ClusterNotFoundException(cluster);
  const byId = new Map(found.map((t) => [t.taskId, t]));
  const tasks = [];
  const failures: Failure[] = [];
  for (const taskId of ids) {
    const t = byId.get(taskId);
    if (t) tasks.push(toEcsTask(b.partition, t));
    else failures.push({ arn: taskArn(b.partition, cluster, taskId), reason: 'MISSING' });
  }
  return { tasks, failures };
};

export const ListTasks: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  await activeCluster(b, cluster);
  const family = optString(body, 'family');
  const startedBy = optString(body, 'startedBy');
  const desiredStatus = oneOf(optString(body, 'desiredStatus') ?? 'RUNNING', ['RUNNING', 'PENDING', 'STOPPED'] as const, 'desiredStatus');
  const launchType = optString(body, 'launchType');
  const serviceRef = optString(body, 'serviceName');
  let all: TaskRecord[];
  if (serviceRef === undefined) {
    all = await b.store.tasks.list(cluster);
  } else {
    const serviceName = serviceNameOf(serviceRef, cluster);
    const service = serviceName === undefined ? undefined : await b.store.services.get({ cluster, serviceName });
    if (!service) throw new ServiceNotFoundException(serviceRef);
    all = await b.store.tasks.listByGroup(cluster, serviceGroup(service.serviceName));
  }
  const matching = all
    .filter((t) => (family === undefined || t.family === family)
      && (startedBy === undefined || t.startedBy === startedBy)
      && (launchType === undefined || t.launchType === launchType)
      // ECS's PENDING filter means desired RUNNING and not yet running.
      && (desiredStatus === 'PENDING' ? t.desiredStatus === 'RUNNING' && t.lastStatus !== 'RUNNING' : t.desiredStatus === desiredStatus))
    .sort((x, y) => x.taskId.localeCompare(y.taskId));
  const { items, nextToken } = page(matching, body, (t) => t.taskId);
  return { taskArns: items.map((t) => taskArn(b.partition, cluster, t.taskId)), nextToken };
};

