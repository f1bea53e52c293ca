import { createHash } from 'node:crypto';
import { type Partition, clusterArn, containerArn, containerInstanceArn, serviceArn, taskArn, taskDefinitionArn } from '../domain/arns';
import type { Tag } from '../domain/fields';
import { containerHealthStatus, taskHealthStatus } from '../domain/health';
import { TASK_TIMESTAMPS } from '../domain/task';
import { compatibilitiesOf, dropUndefined } from '../domain/task-definition';
import type { Deployment } from '../domain/service';
import { eniAttachment } from '../domain/task-network';
import { associatedProviders } from '../store/cluster-store';
import type { ClusterRecord, ServiceRecord, TaskDefinitionRecord, TaskRecord } from '../store';

/** JSON 1.1 carries timestamps as epoch seconds. */
export const epochSeconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

export interface ClusterCounts {
  runningTasksCount: number;
  pendingTasksCount: number;
  activeServicesCount: number;
  /** ECS's `statistics`, by launch type: runningFargateTasksCount and the rest. */
  statistics: { name: string; value: string }[];
}

/** DescribeClusters' `include`: what ECS adds to each cluster only when asked. */
export const CLUSTER_FIELDS = ['ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'STATISTICS', 'TAGS'] as const;
export type ClusterField = (typeof CLUSTER_FIELDS)[number];

const DEFAULT_CLUSTER_SETTINGS = [{ name: 'containerInsights', value: 'disabled' }];

export function toEcsCluster(p: Partition, c: ClusterRecord, counts: ClusterCounts, include: ReadonlySet<ClusterField>) {
  return dropUndefined({
    clusterArn: clusterArn(p, c.name),
    clusterName: c.name,
    configuration: include.has('CONFIGURATIONS') ? c.configuration : undefined,
    status: c.status,
    registeredContainerInstancesCount: 0,
    runningTasksCount: counts.runningTasksCount,
    pendingTasksCount: counts.pendingTasksCount,
    activeServicesCount: counts.activeServicesCount,
    statistics: include.has('STATISTICS') ? counts.statistics : [],
    tags: include.has('TAGS') ? toEcsTags(c.tags) : [],
    settings: include.has('SETTINGS') ? (c.settings ?? DEFAULT_CLUSTER_SETTINGS) : undefined,
    capacityProviders: associatedProviders(c),
    defaultCapacityProviderStrategy: c.defaultCapacityProviderStrategy ?? [],
    serviceConnectDefaults: c.serviceConnectDefaults?.namespace ? c.serviceConnectDefaults : undefined,
    // FARGATE and FARGATE_SPOT attach no resources (no Auto Scaling group) to a cluster.
    attachments: include.has('ATTACHMENTS') ? [] : undefined,
    attachmentsStatus: include.has('ATTACHMENTS') ? 'UPDATE_COMPLETE' : undefined,
  });
}

/**
 * A container definition as ECS shows it: with the members ECS fills in when the request left
 * them out (a cpu of 0, and empty port mappings, environment, mount points and volumesFrom), as
 * the CLI's recorded examples show (test/integration/ecs-responses.test.ts).
 */
const toEcsContainerDefinition = (c: TaskDefinitionRecord['containerDefinitions'][number]) => ({
  ...c,
  cpu: c.cpu ?? 0,
  portMappings: c.portMappings ?? [],
  environment: c.environment ?? [],
  mountPoints: c.mountPoints ?? [],
  volumesFrom: c.volumesFrom ?? [],
});

export function toEcsTaskDefinition(p: Partition, d: TaskDefinitionRecord) {
  return dropUndefined({
    taskDefinitionArn: taskDefinitionArn(p, d.family, d.revision),
    containerDefinitions: d.containerDefinitions.map(toEcsContainerDefinition),
    family: d.family,
    taskRoleArn: d.taskRoleArn,
    executionRoleArn: d.executionRoleArn,
    networkMode: d.networkMode,
    revision: d.revision,
    volumes: d.volumes ?? [],
    status: d.status,
    requiresAttributes: [],
    placementConstraints: [],
    compatibilities: compatibilitiesOf(d),
    requiresCompatibilities: d.requiresCompatibilities,
    cpu: d.cpu,
    memory: d.memory,
    ephemeralStorage: d.ephemeralStorage,
    runtimePlatform: d.runtimePlatform,
    registeredAt: epochSeconds(d.registeredAt),
    deregisteredAt: epochSeconds(d.deregisteredAt),
  });
}

/** As ECS shows them: one entry per container of the task, its own name at least, with what the request overrode. */
function containerOverridesOf(t: TaskRecord) {
  const given = new Map(t.overrides.containerOverrides.map((o) => [o.name, o]));
  return t.containers.map((c) => given.get(c.name) ?? { name: c.name });
}

export function toEcsTask(p: Partition, t: TaskRecord) {
  const arn = taskArn(p, t.cluster, t.taskId);
  const timestamps = Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, epochSeconds(t[k])]));
  const eni = eniAttachment(p, t);
  // Every container of the task shares its one address, as an awsvpc task's share its ENI.
  const networkInterfaces = eni && t.network ? [{ attachmentId: eni.id, privateIpv4Address: t.network.privateIPv4Address }] : [];
  return dropUndefined({
    taskArn: arn,
    clusterArn: clusterArn(p, t.cluster),
    taskDefinitionArn: t.taskDefinitionArn,
    containers: t.containers.map((c) => dropUndefined({
      containerArn: containerArn(p, t.cluster, t.taskId, c.name),
      taskArn: arn,
      name: c.name,
      image: c.image,
      imageDigest: c.imageDigest,
      runtimeId: c.runtimeId,
      lastStatus: c.lastStatus,
      exitCode: c.exitCode,
      reason: c.reason,
      healthStatus: containerHealthStatus(c),
      networkBindings: c.networkBindings ?? [],
      networkInterfaces,
      cpu: c.cpu === undefined ? undefined : String(c.cpu),
      memory: c.memory === undefined ? undefined : String(c.memory),
      memoryReservation: c.memoryReservation === undefined ? undefined : String(c.memoryReservation),
    })),
    overrides: dropUndefined({
      containerOverrides: containerOverridesOf(t),
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
    capacityProviderName: t.capacityProviderName,
    platformVersion: t.launchType === 'FARGATE' ? '1.4.0' : undefined,
    platformFamily: t.launchType === 'FARGATE' ? 'Linux' : undefined,
    connectivity: t.hostId ? 'CONNECTED' : undefined,
    containerInstanceArn: t.hostId ? containerInstanceArn(p, t.cluster, t.hostId) : undefined,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    version: t.version,
    tags: t.tags,
    attachments: eni ? [eni] : [],
    attributes: [],
  });
}

export const toEcsTags = (tags: Tag[]) => tags.map((t) => ({ key: t.key, value: t.value }));

export interface Failure {
  arn?: string;
  reason: string;
  detail?: string;
}

/** What a service's tasks are doing, per deployment (by `startedBy`). */
export interface TaskCounts {
  running: number;
  pending: number;
}

const fargateOnly = (launchType: string) => (launchType === 'FARGATE'
  ? { platformVersion: 'LATEST', platformFamily: 'Linux' }
  : {});

/** A service shows its launch type or its capacity provider strategy, never both, as in ECS. */
const launchOf = (s: ServiceRecord) => (s.capacityProviderStrategy?.length
  ? { capacityProviderStrategy: s.capacityProviderStrategy, ...fargateOnly('FARGATE') }
  : { launchType: s.launchType, ...fargateOnly(s.launchType) });

function toEcsDeployment(s: ServiceRecord, d: Deployment, counts: TaskCounts | undefined) {
  return dropUndefined({
    id: d.id,
    status: d.status,
    taskDefinition: d.taskDefinitionArn,
    desiredCount: d.desiredCount,
    pendingCount: counts?.pending ?? 0,
    runningCount: counts?.running ?? 0,
    failedTasks: d.failedTasks,
    createdAt: epochSeconds(d.createdAt),
    updatedAt: epochSeconds(d.updatedAt),
    ...launchOf(s),
    networkConfiguration: s.networkConfiguration,
    rolloutState: d.rolloutState,
    rolloutStateReason: d.rolloutStateReason,
    ...serviceConnectOf(s),
  });
}

/** A deployment's Service Connect, as ECS shows it: the configuration given, and a Cloud Map service per discovery name. */
function serviceConnectOf(s: ServiceRecord) {
  const sc = s.serviceConnect;
  if (!sc) return {};
  const names = [...new Set(sc.endpoints.map((e) => e.discoveryName))];
  return {
    serviceConnectConfiguration: sc.configuration,
    serviceConnectResources: names.map((discoveryName) => ({
      discoveryName,
      discoveryArn: `${sc.namespaceArn.split(':namespace/')[0]}:service/srv-${createHash('sha256').update(`${sc.namespaceArn} ${discoveryName}`).digest('hex').slice(0, 16)}`,
    })),
  };
}

/** A service as ECS shows it; counts come from its tasks, by deployment id. */
export function toEcsService(p: Partition, s: ServiceRecord, counts: ReadonlyMap<string, TaskCounts>, withTags: boolean) {
  const primary = s.deployments.find((d) => d.status === 'PRIMARY') ?? s.deployments[0];
  const total = (k: keyof TaskCounts) => [...counts.values()].reduce((n, c) => n + c[k], 0);
  return dropUndefined({
    serviceArn: serviceArn(p, s.cluster, s.serviceName),
    serviceName: s.serviceName,
    clusterArn: clusterArn(p, s.cluster),
    loadBalancers: s.loadBalancers ?? [],
    serviceRegistries: [],
    status: s.status,
    desiredCount: s.desiredCount,
    runningCount: total('running'),
    pendingCount: total('pending'),
    ...launchOf(s),
    taskDefinition: primary?.taskDefinitionArn,
    // ECS's service-linked role, which manages an awsvpc service's network interfaces.
    roleArn: s.networkConfiguration && 'awsvpcConfiguration' in s.networkConfiguration ? `arn:aws:iam::${p.accountId}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS` : undefined,
    deploymentConfiguration: {
      deploymentCircuitBreaker: s.deploymentConfiguration.deploymentCircuitBreaker,
      maximumPercent: s.deploymentConfiguration.maximumPercent,
      minimumHealthyPercent: s.deploymentConfiguration.minimumHealthyPercent,
    },
    deployments: s.deployments.map((d) => toEcsDeployment(s, d, counts.get(d.id))),
    events: s.events.map((e) => ({ id: e.id, createdAt: epochSeconds(e.createdAt), message: e.message })),
    createdAt: epochSeconds(s.createdAt),
    placementConstraints: s.placementConstraints,
    placementStrategy: s.placementStrategy,
    networkConfiguration: s.networkConfiguration,
    healthCheckGracePeriodSeconds: s.healthCheckGracePeriodSeconds,
    schedulingStrategy: s.schedulingStrategy,
    deploymentController: { type: 'ECS' },
    tags: withTags ? toEcsTags(s.tags) : undefined,
    createdBy: s.createdBy,
    enableECSManagedTags: s.enableECSManagedTags,
    propagateTags: s.propagateTags,
    enableExecuteCommand: false,
  });
}
