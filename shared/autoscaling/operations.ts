import { randomUUID } from 'node:crypto';
import type { Operation } from '../aws-protocol/operation';
import {
  epochSeconds, optBool, optEnum, optInt, optNumber, optStr, optStrList, optStruct, optTimestamp, reqEnum, reqStr,
} from '../aws-protocol/request';
import type { Berth } from '../context';
import { InvalidParameterException } from '../domain/errors';
import type { Json } from '../domain/fields';
import { page } from '../ecs-api/paging';
import {
  ecsServiceLinkedRole, parseServiceResourceId, scalingPolicyArn, scheduledActionArn, targetTrackingAlarms,
} from './arns';
import { InvalidNextTokenException, ObjectNotFoundException, ValidationException } from './errors';
import { isTimeZone } from '../schedules/expression';
import { parseSchedule } from './schedule';
import { DEFAULT_COOLDOWN_SECONDS } from './target-tracking';
import {
  ECS_DESIRED_COUNT, ECS_NAMESPACE, PREDEFINED_METRICS, type ScalableTargetRecord, type ScalingActivityRecord,
  type ScalingPolicyRecord, type ScheduledActionRecord, type SuspendedState, type TargetTrackingConfiguration,
} from './types';

/**
 * Application Auto Scaling's API (JSON 1.1, `AnyScaleFrontendService.*`) for ECS services: the
 * targets, target-tracking policies and scheduled actions the controller (controller.ts) acts
 * on, and the activities it records. Every refusal happens before any write.
 */
export const TARGET_PREFIX = 'AnyScaleFrontendService.';

// The model's enums: a value outside them is a constraint violation; one inside them that Berth
// does not scale is refused in words of its own.
const NAMESPACES = ['ecs', 'elasticmapreduce', 'ec2', 'appstream', 'dynamodb', 'rds', 'sagemaker', 'custom-resource', 'comprehend', 'lambda', 'cassandra', 'kafka', 'elasticache', 'neptune'] as const;
const DIMENSIONS = ['ecs:service:DesiredCount', 'ec2:spot-fleet-request:TargetCapacity', 'elasticmapreduce:instancegroup:InstanceCount', 'appstream:fleet:DesiredCapacity', 'dynamodb:table:ReadCapacityUnits', 'dynamodb:table:WriteCapacityUnits', 'dynamodb:index:ReadCapacityUnits', 'dynamodb:index:WriteCapacityUnits', 'rds:cluster:ReadReplicaCount', 'sagemaker:variant:DesiredInstanceCount', 'custom-resource:ResourceType:Property', 'comprehend:document-classifier-endpoint:DesiredInferenceUnits', 'comprehend:entity-recognizer-endpoint:DesiredInferenceUnits', 'lambda:function:ProvisionedConcurrency', 'cassandra:table:ReadCapacityUnits', 'cassandra:table:WriteCapacityUnits', 'kafka:broker-storage:VolumeSize', 'elasticache:replication-group:NodeGroups', 'elasticache:replication-group:Replicas', 'neptune:cluster:ReadReplicaCount'] as const;
const METRIC_TYPES = ['DynamoDBReadCapacityUtilization', 'DynamoDBWriteCapacityUtilization', 'ALBRequestCountPerTarget', 'RDSReaderAverageCPUUtilization', 'RDSReaderAverageDatabaseConnections', 'EC2SpotFleetRequestAverageCPUUtilization', 'EC2SpotFleetRequestAverageNetworkIn', 'EC2SpotFleetRequestAverageNetworkOut', 'SageMakerVariantInvocationsPerInstance', 'ECSServiceAverageCPUUtilization', 'ECSServiceAverageMemoryUtilization', 'AppStreamAverageCapacityUtilization', 'ComprehendInferenceUtilization', 'LambdaProvisionedConcurrencyUtilization', 'CassandraReadCapacityUtilization', 'CassandraWriteCapacityUtilization', 'KafkaBrokerStorageUtilization', 'ElastiCachePrimaryEngineCPUUtilization', 'ElastiCacheReplicaEngineCPUUtilization', 'ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage', 'NeptuneReaderAverageCPUUtilization'] as const;

const MAX_RESOURCE_ID = 1600;

function readNamespace(body: Json): void {
  const ns = reqEnum(body, 'ServiceNamespace', NAMESPACES);
  if (ns !== ECS_NAMESPACE) throw new ValidationException(`Unsupported service namespace: ${ns}. Berth scales ECS services only (ServiceNamespace ecs).`);
}

function readDimension(body: Json, required: boolean): void {
  const d = required ? reqEnum(body, 'ScalableDimension', DIMENSIONS) : optEnum(body, 'ScalableDimension', DIMENSIONS);
  if (d !== undefined && d !== ECS_DESIRED_COUNT) throw new ValidationException(`Unsupported scalable dimension ${d} for service namespace ${ECS_NAMESPACE}.`);
}

function checkResourceId(resourceId: string): { cluster: string; serviceName: string } {
  const s = parseServiceResourceId(resourceId);
  if (!s) throw new ValidationException(`Unsupported resource ID: ${resourceId}. An ECS service's resource ID is service/CLUSTER/SERVICE.`);
  return s;
}

/** ServiceNamespace, ResourceId and ScalableDimension, all three required. */
function readKey(body: Json): { resourceId: string; cluster: string; serviceName: string } {
  readNamespace(body);
  const resourceId = reqStr(body, 'ResourceId', { min: 1, max: MAX_RESOURCE_ID });
  readDimension(body, true);
  return { resourceId, ...checkResourceId(resourceId) };
}

async function registeredTarget(b: Berth, resourceId: string): Promise<ScalableTargetRecord> {
  const t = await b.store.autoscaling.getTarget({ resourceId });
  if (!t) throw ObjectNotFoundException.target(resourceId);
  return t;
}

/** MaxResults (1–50) and NextToken, over ECS's paging. */
function paged<T>(items: readonly T[], body: Json, keyOf: (t: T) => string): { items: T[]; NextToken?: string } {
  const maxResults = optInt(body, 'MaxResults', { min: 1, max: 50 });
  const nextToken = optStr(body, 'NextToken');
  try {
    const r = page(items, { maxResults, nextToken }, keyOf, 50);
    return { items: r.items, ...(r.nextToken ? { NextToken: r.nextToken } : {}) };
  } catch (e) {
    if (e instanceof InvalidParameterException) throw new InvalidNextTokenException();
    throw e;
  }
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : epochSeconds(ms));

const toTarget = (t: ScalableTargetRecord) => ({
  ServiceNamespace: ECS_NAMESPACE,
  ResourceId: t.resourceId,
  ScalableDimension: ECS_DESIRED_COUNT,
  MinCapacity: t.minCapacity,
  MaxCapacity: t.maxCapacity,
  RoleARN: t.roleArn,
  CreationTime: epochSeconds(t.createdAt),
  SuspendedState: {
    DynamicScalingInSuspended: t.suspendedState.DynamicScalingInSuspended ?? false,
    DynamicScalingOutSuspended: t.suspendedState.DynamicScalingOutSuspended ?? false,
    ScheduledScalingSuspended: t.suspendedState.ScheduledScalingSuspended ?? false,
  },
});

const toPolicy = (p: ScalingPolicyRecord) => ({
  PolicyARN: p.policyArn,
  PolicyName: p.policyName,
  ServiceNamespace: ECS_NAMESPACE,
  ResourceId: p.resourceId,
  ScalableDimension: ECS_DESIRED_COUNT,
  PolicyType: p.policyType,
  TargetTrackingScalingPolicyConfiguration: p.targetTracking,
  Alarms: p.alarms,
  CreationTime: epochSeconds(p.createdAt),
});

const toScheduledAction = (a: ScheduledActionRecord) => ({
  ScheduledActionName: a.scheduledActionName,
  ScheduledActionARN: a.scheduledActionArn,
  ServiceNamespace: ECS_NAMESPACE,
  Schedule: a.schedule,
  ...(a.timezone ? { Timezone: a.timezone } : {}),
  ResourceId: a.resourceId,
  ScalableDimension: ECS_DESIRED_COUNT,
  ...(a.startTime !== undefined ? { StartTime: epochSeconds(a.startTime) } : {}),
  ...(a.endTime !== undefined ? { EndTime: epochSeconds(a.endTime) } : {}),
  ScalableTargetAction: {
    ...(a.minCapacity !== undefined ? { MinCapacity: a.minCapacity } : {}),
    ...(a.maxCapacity !== undefined ? { MaxCapacity: a.maxCapacity } : {}),
  },
  CreationTime: epochSeconds(a.createdAt),
});

const toActivity = (a: ScalingActivityRecord) => ({
  ActivityId: a.activityId,
  ServiceNamespace: ECS_NAMESPACE,
  ResourceId: a.resourceId,
  ScalableDimension: ECS_DESIRED_COUNT,
  Description: a.description,
  Cause: a.cause,
  StartTime: epochSeconds(a.startTime),
  ...(a.endTime !== undefined ? { EndTime: seconds(a.endTime) } : {}),
  StatusCode: a.statusCode,
  ...(a.statusMessage ? { StatusMessage: a.statusMessage } : {}),
});

function readSuspendedState(body: Json): SuspendedState | undefined {
  const s = optStruct(body, 'SuspendedState');
  if (!s) return undefined;
  const out: SuspendedState = {};
  for (const k of ['DynamicScalingInSuspended', 'DynamicScalingOutSuspended', 'ScheduledScalingSuspended'] as const) {
    const v = optBool(s, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function checkRange(min: number, max: number): void {
  if (min > max) throw new ValidationException('Minimum capacity cannot be greater than maximum capacity');
}

export const RegisterScalableTarget: Operation = async (b, body) => {
  const key = readKey(body);
  const min = optInt(body, 'MinCapacity', { min: 0 });
  const max = optInt(body, 'MaxCapacity', { min: 0 });
  optStr(body, 'RoleARN', { min: 1, max: MAX_RESOURCE_ID });
  const suspended = readSuspendedState(body);
  const existing = await b.store.autoscaling.getTarget(key);
  if (!existing && (min === undefined || max === undefined)) {
    throw new ValidationException('MinCapacity and MaxCapacity are required to register a new scalable target');
  }
  const minCapacity = min ?? existing!.minCapacity;
  const maxCapacity = max ?? existing!.maxCapacity;
  checkRange(minCapacity, maxCapacity);
  const service = await b.store.services.get(key);
  if (!service || service.status !== 'ACTIVE') throw new ValidationException(`ECS service doesn't exist: ${key.resourceId}`);
  await b.store.autoscaling.putTarget({
    resourceId: key.resourceId,
    cluster: key.cluster,
    serviceName: key.serviceName,
    minCapacity,
    maxCapacity,
    // Always the service-linked role, as AWS uses for ECS whatever RoleARN says.
    roleArn: ecsServiceLinkedRole(b.partition),
    suspendedState: { ...existing?.suspendedState, ...suspended },
    createdAt: existing?.createdAt ?? b.now(),
  });
  return {};
};

export const DeregisterScalableTarget: Operation = async (b, body) => {
  const key = readKey(body);
  await registeredTarget(b, key.resourceId);
  await b.store.autoscaling.deleteTarget(key);
  return {};
};

export const DescribeScalableTargets: Operation = async (b, body) => {
  readNamespace(body);
  const ids = optStrList(body, 'ResourceIds', { itemMax: MAX_RESOURCE_ID });
  readDimension(body, false);
  const all = (await b.store.autoscaling.listTargets()).filter((t) => !ids || ids.length === 0 || ids.includes(t.resourceId));
  const { items, NextToken } = paged(all, body, (t) => t.resourceId);
  return { ScalableTargets: items.map(toTarget), ...(NextToken ? { NextToken } : {}) };
};

function readTargetTracking(body: Json): TargetTrackingConfiguration {
  const c = optStruct(body, 'TargetTrackingScalingPolicyConfiguration');
  if (!c) throw new ValidationException('TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling');
  const targetValue = optNumber(c, 'TargetValue');
  if (targetValue === undefined) throw new ValidationException("1 validation error detected: Value null at 'targetTrackingScalingPolicyConfiguration.targetValue' failed to satisfy constraint: Member must not be null");
  if (!(targetValue > 0)) throw new ValidationException('The target value must be greater than 0');
  if (optStruct(c, 'CustomizedMetricSpecification')) {
    throw new ValidationException('Berth tracks predefined metrics only: use PredefinedMetricSpecification');
  }
  const spec = optStruct(c, 'PredefinedMetricSpecification');
  if (!spec) throw new ValidationException('Either PredefinedMetricSpecification or CustomizedMetricSpecification must be specified');
  const metric = reqEnum(spec, 'PredefinedMetricType', METRIC_TYPES);
  if (!(PREDEFINED_METRICS as readonly string[]).includes(metric)) {
    throw new ValidationException(`Predefined metric ${metric} is not supported for service namespace ${ECS_NAMESPACE}`);
  }
  const label = optStr(spec, 'ResourceLabel', { min: 1, max: 1023 });
  if (metric === 'ALBRequestCountPerTarget' && !label) throw new ValidationException('ResourceLabel is required for predefined metric ALBRequestCountPerTarget');
  if (metric !== 'ALBRequestCountPerTarget' && label) throw new ValidationException(`ResourceLabel is not supported for predefined metric ${metric}`);
  const scaleOut = optInt(c, 'ScaleOutCooldown', { min: 0 });
  const scaleIn = optInt(c, 'ScaleInCooldown', { min: 0 });
  const disableScaleIn = optBool(c, 'DisableScaleIn');
  return {
    TargetValue: targetValue,
    PredefinedMetricSpecification: { PredefinedMetricType: metric as TargetTrackingConfiguration['PredefinedMetricSpecification']['PredefinedMetricType'], ...(label ? { ResourceLabel: label } : {}) },
    ScaleOutCooldown: scaleOut ?? DEFAULT_COOLDOWN_SECONDS,
    ScaleInCooldown: scaleIn ?? DEFAULT_COOLDOWN_SECONDS,
    DisableScaleIn: disableScaleIn ?? false,
  };
}

export const PutScalingPolicy: Operation = async (b, body) => {
  const policyName = reqStr(body, 'PolicyName', { min: 1, max: 256 });
  const key = readKey(body);
  // AWS's default type is StepScaling, which acts on CloudWatch alarms the caller makes.
  const type = optEnum(body, 'PolicyType', ['StepScaling', 'TargetTrackingScaling'] as const) ?? 'StepScaling';
  if (type === 'StepScaling') throw new ValidationException('Berth supports scaling policies of type TargetTrackingScaling only');
  if (optStruct(body, 'StepScalingPolicyConfiguration')) {
    throw new ValidationException('StepScalingPolicyConfiguration is not allowed for a policy of type TargetTrackingScaling');
  }
  const targetTracking = readTargetTracking(body);
  await registeredTarget(b, key.resourceId);
  const existing = await b.store.autoscaling.getPolicy(key, policyName);
  const id = existing ? existing.policyArn.split(':')[6] : randomUUID();
  const policy: ScalingPolicyRecord = {
    resourceId: key.resourceId,
    policyName,
    policyArn: existing?.policyArn ?? scalingPolicyArn(b.partition, id, key.resourceId, policyName),
    policyType: type,
    targetTracking,
    alarms: existing?.alarms ?? targetTrackingAlarms(b.partition, key.resourceId, randomUUID()),
    createdAt: existing?.createdAt ?? b.now(),
    state: existing?.state ?? { datapoints: [] },
  };
  await b.store.autoscaling.putPolicy(policy);
  return { PolicyARN: policy.policyArn, Alarms: policy.alarms };
};

/** The optional ResourceId filter of the Describe operations (with its ScalableDimension). */
function readFilter(body: Json): string | undefined {
  readNamespace(body);
  const resourceId = optStr(body, 'ResourceId', { min: 1, max: MAX_RESOURCE_ID });
  readDimension(body, false);
  if (resourceId !== undefined) checkResourceId(resourceId);
  return resourceId;
}

export const DescribeScalingPolicies: Operation = async (b, body) => {
  const names = optStrList(body, 'PolicyNames', { itemMax: MAX_RESOURCE_ID });
  const resourceId = readFilter(body);
  const all = (await b.store.autoscaling.listPolicies(resourceId === undefined ? undefined : { resourceId }))
    .filter((p) => !names || names.length === 0 || names.includes(p.policyName));
  const { items, NextToken } = paged(all, body, (p) => p.policyArn);
  return { ScalingPolicies: items.map(toPolicy), ...(NextToken ? { NextToken } : {}) };
};

export const DeleteScalingPolicy: Operation = async (b, body) => {
  const policyName = reqStr(body, 'PolicyName', { min: 1, max: MAX_RESOURCE_ID });
  const key = readKey(body);
  if (!(await b.store.autoscaling.deletePolicy(key, policyName))) throw ObjectNotFoundException.policy(key.resourceId, policyName);
  return {};
};

export const DescribeScalingActivities: Operation = async (b, body) => {
  const resourceId = readFilter(body);
  optBool(body, 'IncludeNotScaledActivities');
  const all = await b.store.autoscaling.listActivities(resourceId === undefined ? undefined : { resourceId });
  const { items, NextToken } = paged(all, body, (a) => a.activityId);
  return { ScalingActivities: items.map(toActivity), ...(NextToken ? { NextToken } : {}) };
};

const SCHEDULED_ACTION_NAME = /^(?![ ])[^\u0000-\u001f\u007f-\u009f:/|]*[^ \u0000-\u001f\u007f-\u009f:/|]$/;

export const PutScheduledAction: Operation = async (b, body) => {
  const key = readKey(body);
  const name = reqStr(body, 'ScheduledActionName', { min: 1, max: 256 });
  if (!SCHEDULED_ACTION_NAME.test(name)) {
    throw new ValidationException(`1 validation error detected: Value '${name}' at 'scheduledActionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!((^[ ]+.*)|(.*([\\u0000-\\u001f]|[\\u007f-\\u009f]|[:/|])+.*)|(.*[ ]+$))).+`);
  }
  const scheduleIn = optStr(body, 'Schedule', { min: 1, max: MAX_RESOURCE_ID });
  const timezoneIn = optStr(body, 'Timezone', { min: 1, max: MAX_RESOURCE_ID });
  const startTime = optTimestamp(body, 'StartTime');
  const endTime = optTimestamp(body, 'EndTime');
  const action = optStruct(body, 'ScalableTargetAction') ?? {};
  const minCapacity = optInt(action, 'MinCapacity', { min: 0 });
  const maxCapacity = optInt(action, 'MaxCapacity', { min: 0 });
  if (minCapacity !== undefined && maxCapacity !== undefined) checkRange(minCapacity, maxCapacity);
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) throw new ValidationException('The start time cannot be after the end time');
  await registeredTarget(b, key.resourceId);
  const existing = (await b.store.autoscaling.listScheduledActions(key)).find((a) => a.scheduledActionName === name);
  const schedule = scheduleIn ?? existing?.schedule;
  if (schedule === undefined) throw new ValidationException('Schedule is required to create a scheduled action');
  const timezone = timezoneIn ?? existing?.timezone;
  if (timezone !== undefined && !isTimeZone(timezone)) throw new ValidationException(`Invalid timezone: ${timezone}`);
  parseSchedule(schedule, timezone);
  const id = existing ? existing.scheduledActionArn.split(':')[6] : randomUUID();
  await b.store.autoscaling.putScheduledAction({
    resourceId: key.resourceId,
    scheduledActionName: name,
    scheduledActionArn: existing?.scheduledActionArn ?? scheduledActionArn(b.partition, id, key.resourceId, name),
    schedule,
    ...(timezone ? { timezone } : {}),
    ...(startTime !== undefined ? { startTime } : {}),
    ...(endTime !== undefined ? { endTime } : {}),
    ...(minCapacity !== undefined ? { minCapacity } : {}),
    ...(maxCapacity !== undefined ? { maxCapacity } : {}),
    // A changed action starts afresh: its next fire time counts from now.
    createdAt: b.now(),
  });
  return {};
};

export const DescribeScheduledActions: Operation = async (b, body) => {
  const names = optStrList(body, 'ScheduledActionNames', { itemMax: MAX_RESOURCE_ID });
  const resourceId = readFilter(body);
  const all = (await b.store.autoscaling.listScheduledActions(resourceId === undefined ? undefined : { resourceId }))
    .filter((a) => !names || names.length === 0 || names.includes(a.scheduledActionName));
  const { items, NextToken } = paged(all, body, (a) => a.scheduledActionArn);
  return { ScheduledActions: items.map(toScheduledAction), ...(NextToken ? { NextToken } : {}) };
};

export const DeleteScheduledAction: Operation = async (b, body) => {
  const key = readKey(body);
  const name = reqStr(body, 'ScheduledActionName', { min: 1, max: MAX_RESOURCE_ID });
  if (!(await b.store.autoscaling.deleteScheduledAction(key, name))) throw ObjectNotFoundException.scheduledAction(key.resourceId, name);
  return {};
};

export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  RegisterScalableTarget,
  DeregisterScalableTarget,
  DescribeScalableTargets,
  PutScalingPolicy,
  DescribeScalingPolicies,
  DeleteScalingPolicy,
  DescribeScalingActivities,
  PutScheduledAction,
  DescribeScheduledActions,
  DeleteScheduledAction,
});
