/**
 * Application Auto Scaling's resources as Berth keeps them, for ECS services only: a scalable
 * target (a service's desired count between MinCapacity and MaxCapacity), its scaling policies,
 * its scheduled actions and the scaling activities that record every decision.
 */

/** The one namespace and dimension Berth scales: an ECS service's desired count. */
export const ECS_NAMESPACE = 'ecs';
export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';

/** A target's key: `service/CLUSTER/SERVICE` in namespace ecs, dimension ecs:service:DesiredCount. */
export interface TargetKey {
  resourceId: string;
}

export interface SuspendedState {
  DynamicScalingInSuspended?: boolean;
  DynamicScalingOutSuspended?: boolean;
  ScheduledScalingSuspended?: boolean;
}

export interface ScalableTargetRecord extends TargetKey {
  cluster: string;
  serviceName: string;
  minCapacity: number;
  maxCapacity: number;
  roleArn: string;
  suspendedState: SuspendedState;
  /** Epoch milliseconds. */
  createdAt: number;
}

export const PREDEFINED_METRICS = ['ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization', 'ALBRequestCountPerTarget'] as const;
export type PredefinedMetric = (typeof PREDEFINED_METRICS)[number];

export interface TargetTrackingConfiguration {
  TargetValue: number;
  PredefinedMetricSpecification: { PredefinedMetricType: PredefinedMetric; ResourceLabel?: string };
  ScaleOutCooldown?: number;
  ScaleInCooldown?: number;
  DisableScaleIn?: boolean;
}

/** One datapoint of a policy's metric: its time (epoch ms) and value. */
export interface Datapoint {
  t: number;
  v: number;
}

/** What the controller remembers of a policy between passes. */
export interface PolicyState {
  datapoints: Datapoint[];
  lastScaleOutAt?: number;
  /** The capacity a scale-out started from and the one it set: the next one inside its cooldown builds on it. */
  lastScaleOutFrom?: number;
  lastScaleOutTo?: number;
  lastScaleInAt?: number;
}

export interface ScalingPolicyRecord extends TargetKey {
  policyName: string;
  policyArn: string;
  policyType: 'TargetTrackingScaling';
  targetTracking: TargetTrackingConfiguration;
  /** The alarms AWS would create for the policy: they name the cause of each activity. */
  alarms: { AlarmName: string; AlarmARN: string }[];
  createdAt: number;
  state: PolicyState;
}

export interface ScheduledActionRecord extends TargetKey {
  scheduledActionName: string;
  scheduledActionArn: string;
  schedule: string;
  timezone?: string;
  startTime?: number;
  endTime?: number;
  minCapacity?: number;
  maxCapacity?: number;
  createdAt: number;
  /** When it last fired: each fire time fires once. */
  lastFiredAt?: number;
}

export const ACTIVITY_STATUS = ['Pending', 'InProgress', 'Successful', 'Overridden', 'Unfulfilled', 'Failed'] as const;
export type ActivityStatus = (typeof ACTIVITY_STATUS)[number];

export interface ScalingActivityRecord extends TargetKey {
  activityId: string;
  description: string;
  cause: string;
  startTime: number;
  endTime?: number;
  statusCode: ActivityStatus;
  statusMessage?: string;
}
