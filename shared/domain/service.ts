import type { ServiceConnectConfiguration } from './service-connect';
import type { CapacityProviderStrategyItem, ProviderCounts } from './capacity-strategy';
import type { Tag } from './fields';
import type { PlacementStrategyType, StopCode, TaskStatus } from './task';

/**
 * ECS services, as the store keeps them and as the service scheduler reasons about them. The
 * scheduler's core (shared/services/) is pure: it takes a Service and what it observes of its
 * tasks and hosts and returns a ServicePlan; the applier carries the plan out through the same
 * RunTask and StopTask paths that one-off tasks use.
 */

export const SERVICE_STATUSES = ['ACTIVE', 'DRAINING', 'INACTIVE'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

export const SCHEDULING_STRATEGIES = ['REPLICA', 'DAEMON'] as const;
export type SchedulingStrategy = (typeof SCHEDULING_STRATEGIES)[number];

export const DEPLOYMENT_STATUSES = ['PRIMARY', 'ACTIVE', 'INACTIVE'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const ROLLOUT_STATES = ['IN_PROGRESS', 'COMPLETED', 'FAILED'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export interface DeploymentCircuitBreaker {
  enable: boolean;
  rollback: boolean;
}

export interface DeploymentConfiguration {
  /** Percent of desiredCount; ECS's defaults: REPLICA 100/200, DAEMON 0/100. */
  minimumHealthyPercent: number;
  maximumPercent: number;
  deploymentCircuitBreaker: DeploymentCircuitBreaker;
}

export interface PlacementConstraint {
  type: 'distinctInstance' | 'memberOf';
  expression?: string;
}

export interface ServicePlacementStrategy {
  type: PlacementStrategyType | 'random';
  field?: string;
}

/** One deployment of a service: a task definition revision and the tasks it should run. */
export interface Deployment {
  /** `ecs-svc/` and 19 digits, as ECS makes them. Tasks carry it as `startedBy`. */
  id: string;
  status: DeploymentStatus;
  taskDefinitionArn: string;
  desiredCount: number;
  /** As the last reconcile pass saw them (absent before the first): lastStatus RUNNING, and
   *  wanted RUNNING but not yet. */
  runningCount?: number;
  pendingCount?: number;
  /**
   * Consecutive failures, as the circuit breaker counts them: tasks that stopped before reaching
   * RUNNING (or before a health check ever passed), and tasks stopped for failing health checks.
   * A healthy task of the deployment resets it to 0 (ECS's default, resetOnHealthyTask).
   */
  failedTasks: number;
  rolloutState: RolloutState;
  rolloutStateReason?: string;
  createdAt: number;
  updatedAt: number;
}

/** One of a service's `loadBalancers`: its tasks' containerName:containerPort join the target group. */
export interface ServiceLoadBalancer {
  targetGroupArn: string;
  containerName: string;
  containerPort: number;
}

/** A service's Service Connect: the configuration as given, and what it resolved to. */
export interface ServiceConnectState {
  configuration: ServiceConnectConfiguration;
  namespaceArn: string;
  /** Each endpoint's target group, and where its tasks answer. */
  endpoints: (ServiceLoadBalancer & { discoveryName: string })[];
}

/** A task the scheduler chose to stop, waiting for its targets to drain (ECS's DEACTIVATING). */
export interface DrainingTask {
  taskId: string;
  /** The stop's reason, for when it is stopped. */
  reason: string;
}

export interface ServiceEvent {
  id: string;
  createdAt: number;
  message: string;
}

export interface Service {
  cluster: string;
  serviceName: string;
  status: ServiceStatus;
  schedulingStrategy: SchedulingStrategy;
  desiredCount: number;
  /** Over all deployments, as the last reconcile pass saw them (absent before the first). */
  runningCount?: number;
  pendingCount?: number;
  launchType: 'FARGATE' | 'EC2';
  /** Its capacity provider strategy (its own, or its cluster's default when it was made); launchType is then not shown. */
  capacityProviderStrategy?: CapacityProviderStrategyItem[];
  deploymentConfiguration: DeploymentConfiguration;
  healthCheckGracePeriodSeconds?: number;
  placementStrategy: ServicePlacementStrategy[];
  placementConstraints: PlacementConstraint[];
  /** Accepted and echoed: every task gets its own address anyway. */
  networkConfiguration?: object;
  /** Target groups its tasks join once RUNNING, and leave (draining) before they are stopped. */
  loadBalancers?: ServiceLoadBalancer[];
  /** Tasks being deregistered from its target groups before they are stopped. */
  drainingTasks?: DrainingTask[];
  /** Its Service Connect namespace, and the endpoints it publishes there (their target groups hold its tasks). */
  serviceConnect?: ServiceConnectState;
  tags: Tag[];
  propagateTags: 'SERVICE' | 'TASK_DEFINITION' | 'NONE';
  enableECSManagedTags: boolean;
  /** PRIMARY first, then ACTIVE ones (still draining), newest first. */
  deployments: Deployment[];
  /** Newest first, at most 100. */
  events: ServiceEvent[];
  createdAt: number;
  createdBy?: string;
  /** Optimistic-concurrency guard: every write is conditioned on it. */
  version: number;
  /** While a failing service backs off: no new task before this time (epoch ms). */
  backoffUntil?: number;
  /** Failures in a row behind the backoff; a quiet spell after backoffUntil starts it afresh. */
  failureStreak?: number;
  /**
   * Tasks whose end the scheduler has already accounted for (failure counted, event written), so
   * a later pass does not count them again. Kept only while the task is still observed.
   */
  settledTaskIds?: string[];
}

/** What the reconciler sees of one of the service's tasks. */
export interface ObservedTask {
  taskId: string;
  /** The deployment that started it (the task's `startedBy`). */
  deploymentId: string;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  /** UNKNOWN until a health check has an answer; a definition without one stays UNKNOWN. */
  healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  /** Whether the task's definition has a container health check. */
  hasHealthCheck: boolean;
  /** Where it runs; a DAEMON task carries the host it is pinned to even before placement. */
  hostId?: string;
  /** The capacity provider its service's strategy gave it. */
  capacityProviderName?: string;
  startedAt?: number;
  stopCode?: StopCode;
  stoppedReason?: string;
  stoppedAt?: number;
}

/** What the reconciler sees of a host: DAEMON services run one task on each ACTIVE one. */
export interface ObservedHost {
  hostId: string;
  status: 'LAUNCHING' | 'ACTIVE' | 'DRAINING' | 'TERMINATED' | 'LOST';
}

/**
 * The reconciler's output: what to start, what to stop, and how the service record changes.
 * `service` keeps the version it was read at: the applier writes it conditioned on that version
 * (and bumps it). Task ids of starts are only known once RunTask answers, so the applier adds the
 * "has started" event itself (recordStarts in shared/services/events.ts) before that write.
 */
export interface ServicePlan {
  /**
   * New tasks, each for a deployment; `hostId` pins a DAEMON task to its host. Under a capacity
   * provider strategy, `providerCounts` are the deployment's tasks that stay (not those stopping
   * or being replaced off a draining host), per provider: the split the new tasks complete.
   */
  starts: { deploymentId: string; count: number; hostId?: string; providerCounts?: ProviderCounts }[];
  stops: { taskId: string; reason: string }[];
  /** The service as it is once the plan is applied (deployments, events, counts, backoff). */
  service: Service;
  /** When the reconciler wants to look again even if nothing happens (backoff, grace period). */
  wakeAt?: number;
}

/**
 * The reconciler's shape (implemented in shared/services/reconcile.ts): pure, given the whole
 * observed state and the clock's reading, it returns one plan. Ids for new deployments and events
 * come from `newId` so a test can make them predictable.
 */
export type Reconcile = (input: {
  service: Service;
  tasks: readonly ObservedTask[];
  hosts: readonly ObservedHost[];
  now: number;
  newId: () => string;
}) => ServicePlan;
