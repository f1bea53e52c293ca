import { type Partition, clusterArn, containerArn, containerInstanceArn, taskArn, taskDefinitionArn } from '../domain/arns';
import type { Tag } from '../domain/fields';
import { containerHealthStatus, taskHealthStatus } from '../domain/health';
import { TASK_TIMESTAMPS } from '../domain/task';
import { dropUndefined } from '../domain/task-definition';
import type { ClusterRecord, TaskDefinitionRecord, TaskRecord } from '../store';

/** JSON 1.1 carries timestamps as epoch seconds. */
export const epochSeconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export interface ClusterCounts {
  runningTasksCount: number;
  pendingTasksCount: number;
}

export function toEcsCluster(p: Partition, c: ClusterRecord, counts: ClusterCounts, withTags: boolean) {
  return dropUndefined({
    clusterArn: clusterArn(p, c.name),
    clusterName: c.name,
    status: c.status,
    registeredContainerInstancesCount: 0,
    runningTasksCount: counts.runningTasksCount,
    pendingTasksCount: counts.pendingTasksCount,
    activeServicesCount: 0,
    statistics: [],
    tags: withTags ? c.tags : undefined,
    settings: [{ name: 'containerInsights', value: 'disabled' }],
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    defaultCapacityProviderStrategy: [],
  });
}

export function toEcsTaskDefinition(p: Partition, d: TaskDefinitionRecord) {
  const fargate = d.networkMode === 'awsvpc' && d.cpu !== undefined && d.memory !== undefined;
  return dropUndefined({
    taskDefinitionArn: taskDefinitionArn(p, d.family, d.revision),
    containerDefinitions: d.containerDefinitions,
    family: d.family,
    taskRoleArn: d.taskRoleArn,
    executionRoleArn: d.executionRoleArn,
    networkMode: d.networkMode,
    revision: d.revision,
    volumes: [],
    status: d.status,
    requiresAttributes: [],
    placementConstraints: [],
    compatibilities: fargate ? ['EC2', 'FARGATE'] : ['EC2'],
    requiresCompatibilities: d.requiresCompatibilities,
    cpu: d.cpu,
    memory: d.memory,
    registeredAt: epochSeconds(d.registeredAt),
    deregisteredAt: epochSeconds(d.deregisteredAt),
  });
}

export function toEcsTask(p: Partition, t: TaskRecord) {
  const arn = taskArn(p, t.cluster, t.taskId);
  const timestamps = Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, epochSeconds(t[k])]));
  return dropUndefined({
    taskArn: arn,
    clusterArn: clusterArn(p, t.cluster),
    taskDefinitionArn: t.taskDefinitionArn,
    containers: t.containers.map((c) => dropUndefined({
      containerArn: containerArn(p, t.cluster, t.taskId, c.name),
      taskArn: arn,
      name: c.name,
      image: c.image,
      runtimeId: c.runtimeId,
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
      healthStatus: containerHealthStatus(c),
      networkBindings: [],
      networkInterfaces: [],
      cpu: c.cpu === undefined ? undefined : String(c.cpu),
      memory: c.memory === undefined ? undefined : String(c.memory),
      memoryReservation: c.memoryReservation === undefined ? undefined : String(c.memoryReservation),
    })),
    overrides: dropUndefined({
      containerOverrides: t.overrides.containerOverrides,
      cpu: t.overrides.cpu,
      memory: t.overrides.memory,
      inferenceAcceleratorOverrides: [],
    }),
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    healthStatus: taskHealthStatus(t.containers),
    cpu: String(t.cpu),
    memory: String(t.memory),
    ...timestamps,
    startedBy: t.startedBy,
    group: t.group,
    launchType: t.launchType,
    platformVersion: t.launchType === 'FARGATE' ? '1.4.0' : undefined,
    platformFamily: t.launchType === 'FARGATE' ? 'Linux' : undefined,
    connectivity: t.hostId ? 'CONNECTED' : undefined,
    containerInstanceArn: t.hostId ? containerInstanceArn(p, t.cluster, t.hostId) : undefined,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    version: t.version,
    tags: t.tags,
    attachments: [],
    attributes: [],
  });
}

export const toEcsTags = (tags: Tag[]) => tags.map((t) => ({ key: t.key, value: t.value }));

export interface Failure {
  arn?: string;
  reason: string;
  detail?: string;
}
