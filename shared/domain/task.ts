import type { ServiceConnectRoute } from '../agent-wire/responses';
import type { Tag } from './fields';
import type { NetworkBinding } from './ports';
import type { TaskNetwork } from './task-network';
import type { HealthStatus } from './health';

/** ECS's task lifecycle, in order. A task only ever moves forward through it. */
export const TASK_STATUSES = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const statusRank = (s: TaskStatus): number => TASK_STATUSES.indexOf(s);

/** ECS counts these as pending: wanted RUNNING, not there yet. */
export const isPendingStatus = (s: TaskStatus): boolean => statusRank(s) < statusRank('RUNNING');
export const isTaskStatus = (s: unknown): s is TaskStatus =>
  typeof s === 'string' && (TASK_STATUSES as readonly string[]).includes(s);

export const DESIRED_STATUSES = ['RUNNING', 'STOPPED'] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

export const STOP_CODES = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
] as const;
export type StopCode = (typeof STOP_CODES)[number];

export const CONTAINER_STATUSES = ['PENDING', 'RUNNING', 'STOPPED'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

export const PLACEMENT_STRATEGIES = ['binpack', 'spread'] as const;
export type PlacementStrategyType = (typeof PLACEMENT_STRATEGIES)[number];

export interface ContainerState {
  name: string;
  image: string;
  essential: boolean;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  lastStatus: ContainerStatus;
  exitCode?: number;
  reason?: string;
  runtimeId?: string;
  /** The digest of the image that ran (`sha256:...`), as the agent found it after the pull. */
  imageDigest?: string;
  /** The host ports the agent published for it. */
  networkBindings?: NetworkBinding[];
  /** Set from the definition at RunTask: the container has a healthCheck. */
  hasHealthCheck?: boolean;
  /** As the agent last reported it; absent until the check has an answer. */
  healthStatus?: HealthStatus;
}

export interface ContainerOverride {
  name: string;
  command?: string[];
  environment?: { name: string; value: string }[];
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
}

export interface TaskOverrides {
  containerOverrides: ContainerOverride[];
  cpu?: string;
  memory?: string;
}

/** ECS's task timestamps, as epoch milliseconds. */
export const TASK_TIMESTAMPS = [
  'createdAt',
  'pullStartedAt',
  'pullStoppedAt',
  'startedAt',
  'stoppingAt',
  'stoppedAt',
  'executionStoppedAt',
] as const;
export type TaskTimestamp = (typeof TASK_TIMESTAMPS)[number];

/** A task as the store keeps it. Secrets are never here: only the definition's valueFrom. */
export interface Task {
  cluster: string;
  taskId: string;
  taskDefinitionArn: string;
  family: string;
  revision: number;
  containers: ContainerState[];
  overrides: TaskOverrides;
  /** The reservation: cpu units and MiB. */
  cpu: number;
  memory: number;
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
  /** Bumped by every change; the optimistic-concurrency guard and ECS's `version`. */
  version: number;
  createdAt: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  executionStoppedAt?: number;
  startedBy?: string;
  group?: string;
  launchType: 'FARGATE' | 'EC2';
  /** The provider a capacity provider strategy gave it; absent for a task run by launchType. */
  capacityProviderName?: string;
  placementStrategy: PlacementStrategyType;
  /** ECS's placementStrategy list (binpack, spread, random with their fields), when RunTask had one. */
  placementStrategies?: { type: PlacementStrategyType | 'random'; field?: string }[];
  /** ECS's placementConstraints (distinctInstance, memberOf), when RunTask had them. */
  placementConstraints?: { type: 'distinctInstance' | 'memberOf'; expression?: string }[];
  stopCode?: StopCode;
  stoppedReason?: string;
  hostId?: string;
  /** When it was bound to its host: from then it holds room there (what the meter bills on Berth). */
  placedAt?: number;
  /** The only host the task may be placed on (a DAEMON service's task for its host). */
  targetHostId?: string;
  tags: Tag[];
  /** The fixed host ports it needs (hostPortKey keys): a placement resource. */
  hostPorts?: string[];
  /** arm64 when its definition's runtimePlatform says ARM64: only Graviton hosts take it (absent: x86_64). */
  cpuArchitecture?: 'arm64';
  /** Its own address, once its agent has reported it. */
  network?: TaskNetwork;
  /** The Service Connect endpoints of its service's namespace when it was started (its agent routes them). */
  serviceConnect?: ServiceConnectRoute[];
}

/** The terminal state a failure leaves a task in. */
export interface StopOutcome {
  stopCode: StopCode;
  stoppedReason: string;
}
