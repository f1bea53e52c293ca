import { type Partition, checkArnRegions } from '../domain/arns';
import { readCapacityProviderStrategy } from '../domain/capacity-strategy';
import { EcsError } from '../domain/errors';
import { type Json, isObject } from '../domain/fields';
import { dropUndefined } from '../domain/task-definition';
import { readPlacement } from '../ecs-api/placement';
import type { ScheduleRecord, ScheduleTarget } from '../store';
import { ValidationException } from './errors';

const ROLE_ARN = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const SQS_ARN = /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/;
const CLUSTER_ARN = /^arn:aws(-[a-z]+)?:ecs:[a-z0-9-]+:\d{12}:cluster\/([a-zA-Z0-9_-]{1,255})$/;

/** AWS's defaults when a target names no RetryPolicy: a day, and 185 retries. */
export const DEFAULT_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } as const;

const bad = (message: string): never => {
  throw new ValidationException(message);
};

function str(o: Json, key: string, path: string, opts: { required?: boolean; min?: number; max?: number; pattern?: RegExp; values?: readonly string[] } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return opts.required ? bad(`${path} is required.`) : undefined;
  if (typeof v !== 'string') return bad(`${path} must be a string.`);
  if (v.length < (opts.min ?? 0) || v.length > (opts.max ?? 65_536)) bad(`${path} must be ${opts.min ?? 0} to ${opts.max} characters long.`);
  if (opts.pattern && !opts.pattern.test(v)) bad(`${path} is not valid: ${v}.`);
  if (opts.values && !opts.values.includes(v)) bad(`${path} must be one of ${opts.values.join(', ')}.`);
  return v;
}

function int(o: Json, key: string, path: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) return bad(`${path} must be an integer from ${min} to ${max}.`);
  return v;
}

function obj(o: Json, key: string, path: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return isObject(v) ? v : bad(`${path} must be an object.`);
}

function list(o: Json, key: string, path: string, max: number): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return bad(`${path} must be a list.`);
  if (v.length > max) bad(`${path} can have at most ${max} items.`);
  return v;
}

/** ECS's own checks (placement, capacity providers) speak ECS's errors; Scheduler's caller gets a ValidationException. */
function asValidation<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof EcsError) throw new ValidationException(e.message);
    throw e;
  }
}

/** The cluster a target runs its tasks in: its Arn must be an ECS cluster's. */
export function clusterOfTarget(target: Pick<ScheduleTarget, 'Arn'>): string {
  const m = CLUSTER_ARN.exec(target.Arn);
  return m ? m[2] : bad(`Target.Arn must be an ECS cluster ARN (Berth schedules run ECS tasks): ${target.Arn}.`);
}

/**
 * Checks a Target as CreateSchedule and UpdateSchedule take it, and returns it as given (only
 * members Scheduler knows), so GetSchedule shows what was sent.
 */
export function readTarget(body: Json, p: Partition): ScheduleTarget {
  const t = obj(body, 'Target', 'Target') ?? bad('Target is required.');
  const arn = str(t, 'Arn', 'Target.Arn', { required: true, min: 1, max: 1600 })!;
  const roleArn = str(t, 'RoleArn', 'Target.RoleArn', { required: true, min: 1, max: 1600, pattern: ROLE_ARN })!;
  clusterOfTarget({ Arn: arn });
  for (const other of ['EventBridgeParameters', 'KinesisParameters', 'SageMakerPipelineParameters', 'SqsParameters']) {
    if (t[other] !== undefined) bad(`Target.${other} is not supported: Berth schedules run ECS tasks.`);
  }
  const input = str(t, 'Input', 'Target.Input', { min: 1 });
  if (input !== undefined) overridesOfInput(input);
  const retry = obj(t, 'RetryPolicy', 'Target.RetryPolicy');
  const retryPolicy = retry && dropUndefined({
    MaximumEventAgeInSeconds: int(retry, 'MaximumEventAgeInSeconds', 'Target.RetryPolicy.MaximumEventAgeInSeconds', 60, 86_400),
    MaximumRetryAttempts: int(retry, 'MaximumRetryAttempts', 'Target.RetryPolicy.MaximumRetryAttempts', 0, 185),
  });
  const dlq = obj(t, 'DeadLetterConfig', 'Target.DeadLetterConfig');
  const deadLetterConfig = dlq && dropUndefined({ Arn: str(dlq, 'Arn', 'Target.DeadLetterConfig.Arn', { min: 1, max: 1600, pattern: SQS_ARN }) });
  const ecs = obj(t, 'EcsParameters', 'Target.EcsParameters') ?? bad('Target.EcsParameters is required: Berth schedules run ECS tasks.');
  // A schedule runs its tasks in its own region, whose ECS alone it reaches.
  asValidation(() => checkArnRegions(p, { cluster: arn, taskDefinition: ecs.TaskDefinitionArn }));
  return dropUndefined({
    Arn: arn, RoleArn: roleArn, Input: input, RetryPolicy: retryPolicy, DeadLetterConfig: deadLetterConfig, EcsParameters: readEcsParameters(ecs),
  }) as ScheduleTarget;
}

function readEcsParameters(e: Json): Json {
  const p = 'Target.EcsParameters';
  const network = obj(e, 'NetworkConfiguration', `${p}.NetworkConfiguration`);
  const awsvpc = network && obj(network, 'awsvpcConfiguration', `${p}.NetworkConfiguration.awsvpcConfiguration`);
  if (awsvpc) {
    const subnets = list(awsvpc, 'Subnets', `${p}.NetworkConfiguration.awsvpcConfiguration.Subnets`, 16) ?? bad(`${p}.NetworkConfiguration.awsvpcConfiguration.Subnets is required.`);
    if (subnets.length < 1 || subnets.some((s) => typeof s !== 'string')) bad(`${p}.NetworkConfiguration.awsvpcConfiguration.Subnets must list 1 to 16 subnet ids.`);
    const groups = list(awsvpc, 'SecurityGroups', `${p}.NetworkConfiguration.awsvpcConfiguration.SecurityGroups`, 5);
    if (groups?.some((s) => typeof s !== 'string')) bad(`${p}.NetworkConfiguration.awsvpcConfiguration.SecurityGroups must list strings.`);
    str(awsvpc, 'AssignPublicIp', `${p}.NetworkConfiguration.awsvpcConfiguration.AssignPublicIp`, { values: ['ENABLED', 'DISABLED'] });
  }
  const tags = list(e, 'Tags', `${p}.Tags`, 50);
  tags?.forEach((m, i) => {
    if (!isObject(m) || Object.values(m).some((v) => typeof v !== 'string')) bad(`${p}.Tags[${i}] must be a map of strings.`);
  });
  const ecsParameters = dropUndefined({
    TaskDefinitionArn: str(e, 'TaskDefinitionArn', `${p}.TaskDefinitionArn`, { required: true, min: 1, max: 1600 }),
    TaskCount: int(e, 'TaskCount', `${p}.TaskCount`, 1, 10),
    // Berth runs FARGATE and EC2 tasks; EXTERNAL (ECS Anywhere) has no meaning here.
    LaunchType: str(e, 'LaunchType', `${p}.LaunchType`, { values: ['EC2', 'FARGATE'] }),
    Group: str(e, 'Group', `${p}.Group`, { min: 1, max: 255 }),
    PlatformVersion: str(e, 'PlatformVersion', `${p}.PlatformVersion`, { min: 1, max: 64 }),
    PropagateTags: str(e, 'PropagateTags', `${p}.PropagateTags`, { values: ['TASK_DEFINITION'] }),
    ReferenceId: str(e, 'ReferenceId', `${p}.ReferenceId`, { max: 1024 }),
    EnableECSManagedTags: e.EnableECSManagedTags,
    EnableExecuteCommand: e.EnableExecuteCommand,
    NetworkConfiguration: network,
    Tags: tags,
    PlacementStrategy: list(e, 'PlacementStrategy', `${p}.PlacementStrategy`, 5),
    PlacementConstraints: list(e, 'PlacementConstraints', `${p}.PlacementConstraints`, 10),
    CapacityProviderStrategy: list(e, 'CapacityProviderStrategy', `${p}.CapacityProviderStrategy`, 6),
  });
  for (const flag of ['EnableECSManagedTags', 'EnableExecuteCommand'] as const) {
    if (e[flag] !== undefined && typeof e[flag] !== 'boolean') bad(`${p}.${flag} must be true or false.`);
  }
  // What RunTask will be asked, checked now by the same readers RunTask uses.
  const body = runTaskBodyOf(ecsParameters, 'default', undefined);
  asValidation(() => {
    readPlacement(body);
    readCapacityProviderStrategy(body, 'capacityProviderStrategy', 'request');
  });
  return ecsParameters;
}

/** A target's Input, when it is JSON with RunTask's overrides (containerOverrides, cpu, memory...). */
function overridesOfInput(input: string): Json | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const known = ['containerOverrides', 'cpu', 'memory', 'taskRoleArn', 'executionRoleArn', 'ephemeralStorage'];
  return Object.keys(parsed).some((k) => known.includes(k)) ? parsed : undefined;
}

/** ECS's RunTask request (JSON 1.1, camelCase) for one firing of the schedule. */
export function runTaskBodyOf(ecs: Json, cluster: string, schedule: Pick<ScheduleRecord, 'groupName' | 'name' | 'target'> | undefined, clientToken?: string): Json {
  const network = ecs.NetworkConfiguration as Json | undefined;
  const awsvpc = network?.awsvpcConfiguration as Json | undefined;
  const tags = (ecs.Tags as Record<string, string>[] | undefined)?.flatMap((m) => Object.entries(m).map(([key, value]) => ({ key, value })));
  const input = schedule?.target.Input as string | undefined;
  return dropUndefined({
    cluster,
    taskDefinition: ecs.TaskDefinitionArn,
    count: ecs.TaskCount ?? 1,
    launchType: ecs.LaunchType,
    group: ecs.Group,
    platformVersion: ecs.PlatformVersion,
    propagateTags: ecs.PropagateTags,
    referenceId: ecs.ReferenceId,
    enableECSManagedTags: ecs.EnableECSManagedTags,
    enableExecuteCommand: ecs.EnableExecuteCommand,
    networkConfiguration: awsvpc && { awsvpcConfiguration: dropUndefined({ subnets: awsvpc.Subnets, securityGroups: awsvpc.SecurityGroups, assignPublicIp: awsvpc.AssignPublicIp }) },
    tags,
    placementStrategy: ecs.PlacementStrategy,
    placementConstraints: ecs.PlacementConstraints,
    capacityProviderStrategy: ecs.CapacityProviderStrategy,
    overrides: input === undefined ? undefined : overridesOfInput(input),
    startedBy: schedule && startedByOf(schedule),
    clientToken,
  });
}

/** What a schedule's tasks show as startedBy (ListTasks --started-by finds them). */
export const startedByOf = (s: Pick<ScheduleRecord, 'groupName' | 'name'>) => `scheduler/${s.groupName}/${s.name}`.slice(0, 128);
