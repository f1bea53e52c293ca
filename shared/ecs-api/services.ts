import {
  type CapacityProviderStrategyItem, readCapacityProviderStrategy, refuseLaunchTypeWithStrategy, requireAssociated,
} from '../domain/capacity-strategy';
import { associatedProviders } from '../store/cluster-store';
import { createHash, randomBytes } from 'node:crypto';
import type { Berth } from '../context';
import { clusterName, serviceArn, serviceNameOf, checkServiceName, taskDefinitionArn } from '../domain/arns';
import { InvalidParameterException, ServiceNotActiveException, ServiceNotFoundException } from '../domain/errors';
import {
  type Json, isObject, oneOf, optBool, optInt, optObject, optObjectList, optString, optStringList, readTags, reqString,
} from '../domain/fields';
import {
  type PlacementConstraint, SCHEDULING_STRATEGIES, type SchedulingStrategy, type Service, type ServiceLoadBalancer, type ServicePlacementStrategy,
} from '../domain/service';
import { type DeploymentConfigurationInput, deploymentConfiguration, withDesiredCount } from '../domain/service-spec';
import { serviceGroup } from '../services/apply';
import { newDeployment, startDeployment } from '../services/deployments';
import { isPendingStatus } from '../domain/task';
import { checkLaunchType } from '../domain/task-definition';
import { activeCluster, runnableDefinition } from '../lifecycle/run-task';
import type { ClusterRecord, ServiceKey, ServiceRecord, TaskDefinitionRecord } from '../store';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';
import { applyServiceConnect, resolveServiceConnect } from './service-connect';
import { readServiceConnectConfiguration } from '../domain/service-connect';
import { readPlacement } from './placement';
import { type Failure, type TaskCounts, toEcsService } from './shapes';

const LAUNCH_TYPES = ['FARGATE', 'EC2'] as const;
const PROPAGATE_TAGS = ['SERVICE', 'TASK_DEFINITION', 'NONE'] as const;

/** ECS's own words (these two end without a full stop, as ECS's do). */
const DAEMON_WITH_COUNT = 'The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again';
const DAEMON_WITH_STRATEGY = 'The daemon scheduling strategy does not support placement strategies. Remove the placement strategy and try again';

/** Deployment ids' digits: random, as ECS's look. */
const newId = () => randomBytes(8).readBigUInt64BE().toString().padStart(19, '1').slice(-19);

/** ECS's principal for calls signed with the account's keys. */
const createdBy = (b: Berth) => `arn:aws:iam::${b.partition.accountId}:root`;

function readLaunchType(body: Json): 'FARGATE' | 'EC2' | undefined {
  const v = optString(body, 'launchType');
  if (v === undefined) return undefined;
  if (!(LAUNCH_TYPES as readonly string[]).includes(v)) {
    throw new InvalidParameterException(`Invalid launchType: ${v}. Berth runs FARGATE (and EC2) services.`);
  }
  return v as 'FARGATE' | 'EC2';
}

/**
 * The strategy a service keeps: its own, else (with no launch type either) its cluster's default
 * as it stands now, as ECS copies it at creation; undefined for a launch-type service.
 */
function serviceStrategy(
  launchType: string | undefined, strategy: CapacityProviderStrategyItem[] | undefined, cluster: ClusterRecord,
): CapacityProviderStrategyItem[] | undefined {
  if (launchType !== undefined) return undefined;
  if (strategy?.length) {
    requireAssociated(strategy, associatedProviders(cluster));
    return strategy;
  }
  return cluster.defaultCapacityProviderStrategy?.length ? cluster.defaultCapacityProviderStrategy : undefined;
}

function readSchedulingStrategy(body: Json): SchedulingStrategy | undefined {
  const v = optString(body, 'schedulingStrategy');
  if (v === undefined) return undefined;
  if (!(SCHEDULING_STRATEGIES as readonly string[]).includes(v)) {
    throw new InvalidParameterException(`Invalid schedulingStrategy: ${v}. Valid values are REPLICA and DAEMON.`);
  }
  return v as SchedulingStrategy;
}

function readDesiredCount(body: Json): number | undefined {
  const v = body.desiredCount;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v < 0) {
    throw new InvalidParameterException('Invalid desiredCount. desiredCount must be greater than or equal to 0.');
  }
  return optInt(body, 'desiredCount');
}

function readDeploymentConfiguration(body: Json): DeploymentConfigurationInput | undefined {
  const c = optObject(body, 'deploymentConfiguration');
  if (!c) return undefined;
  const breaker = optObject(c, 'deploymentCircuitBreaker', 'deploymentConfiguration.deploymentCircuitBreaker');
  const flag = (key: 'enable' | 'rollback') => {
    const v = optBool(breaker!, key, `deploymentConfiguration.deploymentCircuitBreaker.${key}`);
    if (v === undefined) throw new InvalidParameterException(`deploymentCircuitBreaker.${key} must be specified.`);
    return v;
  };
  const percent = (key: 'minimumHealthyPercent' | 'maximumPercent') => {
    const v = c[key];
    // ECS answers a negative percentage with its own message, not a type error.
    if (typeof v === 'number' && Number.isSafeInteger(v) && v < 0) throw new InvalidParameterException(`${key} must be greater than or equal to 0.`);
    return optInt(c, key, `deploymentConfiguration.${key}`);
  };
  return {
    minimumHealthyPercent: percent('minimumHealthyPercent'),
    maximumPercent: percent('maximumPercent'),
    deploymentCircuitBreaker: breaker ? { enable: flag('enable'), rollback: flag('rollback') } : undefined,
  };
}

/** RunTask's reading and wording of the placement rules; undefined for a list the request left out (UpdateService keeps it). */
function readPlacementRules(body: Json): { strategies?: ServicePlacementStrategy[]; constraints?: PlacementConstraint[] } {
  const { strategies, constraints } = readPlacement(body);
  return {
    strategies: body.placementStrategy === undefined || body.placementStrategy === null ? undefined : strategies,
    constraints: body.placementConstraints === undefined || body.placementConstraints === null ? undefined : constraints,
  };
}

function readNetworkConfiguration(body: Json): object | undefined {
  const n = body.networkConfiguration;
  if (n === undefined || n === null) return undefined;
  if (!isObject(n)) throw new InvalidParameterException('networkConfiguration must be an object.');
  const vpc = n.awsvpcConfiguration;
  if (vpc !== undefined && !isObject(vpc)) throw new InvalidParameterException('networkConfiguration.awsvpcConfiguration must be an object.');
  if (vpc !== undefined) {
    const subnets = optStringList(vpc, 'subnets', 'networkConfiguration.awsvpcConfiguration.subnets', 16) ?? [];
    const securityGroups = optStringList(vpc, 'securityGroups', 'networkConfiguration.awsvpcConfiguration.securityGroups', 5);
    const assignPublicIp = optString(vpc, 'assignPublicIp', 'networkConfiguration.awsvpcConfiguration.assignPublicIp');
    if (assignPublicIp !== undefined) oneOf(assignPublicIp, ['ENABLED', 'DISABLED'] as const, 'networkConfiguration.awsvpcConfiguration.assignPublicIp');
    // Echoed as given, in the model's shape: nothing else is kept.
    return { awsvpcConfiguration: { subnets, ...(securityGroups ? { securityGroups } : {}), ...(assignPublicIp ? { assignPublicIp } : {}) } };
  }
  return {};
}

function readPropagateTags(body: Json): Service['propagateTags'] | undefined {
  const v = optString(body, 'propagateTags');
  return v === undefined ? undefined : oneOf(v, PROPAGATE_TAGS, 'propagateTags');
}

function readHealthCheckGracePeriod(body: Json): number | undefined {
  const v = body.healthCheckGracePeriodSeconds;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v < 0) {
    throw new InvalidParameterException('healthCheckGracePeriodSeconds must be greater than or equal to 0.');
  }
  return optInt(body, 'healthCheckGracePeriodSeconds');
}

function readLoadBalancers(body: Json): ServiceLoadBalancer[] | undefined {
  return optObjectList(body, 'loadBalancers', (l, path) => {
    if (optString(l, 'loadBalancerName', `${path}.loadBalancerName`) !== undefined) {
      throw new InvalidParameterException('Classic Load Balancers are not supported: use targetGroupArn.');
    }
    const targetGroupArn = optString(l, 'targetGroupArn', `${path}.targetGroupArn`);
    if (!targetGroupArn) throw new InvalidParameterException('targetGroupArn must be specified for a load balancer.');
    const containerName = optString(l, 'containerName', `${path}.containerName`);
    const containerPort = optInt(l, 'containerPort', `${path}.containerPort`);
    if (!containerName || containerPort === undefined) {
      throw new InvalidParameterException('containerName and containerPort must be specified for a load balancer.');
    }
    return { targetGroupArn, containerName, containerPort };
  }, 'loadBalancers', 5);
}

/**
 * ECS's checks of a service's load balancers against its task definition and the target groups
 * (through the LoadBalancing port: on AWS, DescribeTargetHealth answers TargetGroupNotFound).
 */
async function checkLoadBalancers(b: Berth, loadBalancers: readonly ServiceLoadBalancer[], def: TaskDefinitionRecord): Promise<void> {
  if (loadBalancers.length === 0) return;
  if (!b.loadBalancing) throw new InvalidParameterException('Load balancers are not available on this Berth endpoint.');
  for (const l of loadBalancers) {
    const container = def.containerDefinitions.find((c) => c.name === l.containerName);
    if (!container) {
      throw new InvalidParameterException(`The container ${l.containerName} does not exist in the task definition.`);
    }
    if (!(container.portMappings ?? []).some((p) => p.containerPort === l.containerPort)) {
      throw new InvalidParameterException(`The container ${l.containerName} did not have a container port ${l.containerPort} defined.`);
    }
    if ((await b.loadBalancing.health(l.targetGroupArn)) === undefined) {
      throw new InvalidParameterException(`The target group with targetGroupArn ${l.targetGroupArn} does not exist.`);
    }
  }
}

/** Which deployments the service's live tasks belong to, and how many run or wait. */
async function taskCounts(b: Berth, s: ServiceRecord): Promise<Map<string, TaskCounts>> {
  const counts = new Map<string, TaskCounts>();
  for (const t of await b.store.tasks.listByGroup(s.cluster, serviceGroup(s.serviceName))) {
    if (t.desiredStatus !== 'RUNNING' || t.startedBy === undefined) continue;
    const c = counts.get(t.startedBy) ?? { running: 0, pending: 0 };
    if (t.lastStatus === 'RUNNING') c.running++;
    else if (isPendingStatus(t.lastStatus)) c.pending++;
    counts.set(t.startedBy, c);
  }
  return counts;
}

const describe = async (b: Berth, s: ServiceRecord, withTags = true) => toEcsService(b.partition, s, await taskCounts(b, s), withTags);

/** The service a request names in its cluster, which must exist (in any status). */
async function existingService(b: Berth, body: Json, field = 'service'): Promise<ServiceRecord> {
  const cluster = clusterName(optString(body, 'cluster'));
  const ref = reqString(body, field);
  await activeCluster(b, cluster);
  const serviceName = serviceNameOf(ref, cluster);
  const s = serviceName === undefined ? undefined : await b.store.services.get({ cluster, serviceName });
  if (!s) throw new ServiceNotFoundException(ref);
  return s;
}

/** Everything that makes two CreateService calls the same call, as its clientToken compares them. */
function requestHash(body: Json): string {
  const { clientToken: _, ...params } = body;
  return createHash('sha256').update(JSON.stringify(params)).digest('hex');
}

export const CreateService: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  const serviceName = checkServiceName(reqString(body, 'serviceName'));
  const strategy = readSchedulingStrategy(body) ?? 'REPLICA';
  const desiredCount = readDesiredCount(body);
  const rules = readPlacementRules(body);
  const placementStrategy = rules.strategies ?? [];
  if (strategy === 'DAEMON' && desiredCount !== undefined) {
    throw new InvalidParameterException(DAEMON_WITH_COUNT);
  }
  if (strategy === 'DAEMON' && placementStrategy.length > 0) {
    throw new InvalidParameterException(DAEMON_WITH_STRATEGY);
  }
  const config = deploymentConfiguration(strategy, readDeploymentConfiguration(body));
  const placementConstraints = rules.constraints ?? [];
  const networkConfiguration = readNetworkConfiguration(body);
  const tags = readTags(body) ?? [];
  const propagateTags = readPropagateTags(body) ?? 'NONE';
  const enableECSManagedTags = optBool(body, 'enableECSManagedTags') ?? false;
  const healthCheckGracePeriodSeconds = readHealthCheckGracePeriod(body);
  const requestedLaunchType = readLaunchType(body);
  const launchType = requestedLaunchType ?? 'FARGATE';
  const requestedStrategy = readCapacityProviderStrategy(body, 'capacityProviderStrategy', 'request');
  refuseLaunchTypeWithStrategy(requestedLaunchType, requestedStrategy);
  const clientToken = optString(body, 'clientToken', 'clientToken', 36);
  if (body.taskDefinition === undefined || body.taskDefinition === null) {
    throw new InvalidParameterException('TaskDefinition must be specified.');
  }
  const def = await runnableDefinition(b, reqString(body, 'taskDefinition'));
  checkLaunchType(def, requestedLaunchType);
  const loadBalancers = readLoadBalancers(body) ?? [];
  await checkLoadBalancers(b, loadBalancers, def);
  const serviceConnectConfiguration = readServiceConnectConfiguration(body);
  // Only a request that is otherwise valid may bring the `default` cluster into being.
  const clusterRecord = await activeCluster(b, cluster, true);
  const capacityProviderStrategy = serviceStrategy(requestedLaunchType, requestedStrategy, clusterRecord);
  const owner = serviceArn(b.partition, cluster, serviceName);
  const resolvedConnect = serviceConnectConfiguration?.enabled
    ? await resolveServiceConnect(b, owner, serviceConnectConfiguration, clusterRecord.serviceConnectDefaults?.namespace, def)
    : undefined;
  // Published only for a new service: a name in use keeps its endpoints (the create below refuses or repeats it).
  const sameName = resolvedConnect && (await b.store.services.get({ cluster, serviceName }));
  const serviceConnect = resolvedConnect && (!sameName || sameName.status === 'INACTIVE')
    ? await applyServiceConnect(b, owner, resolvedConnect) : undefined;

  const now = b.now();
  const count = strategy === 'DAEMON' ? 0 : desiredCount ?? 0;
  const service: ServiceRecord = {
    cluster,
    serviceName,
    status: 'ACTIVE',
    schedulingStrategy: strategy,
    desiredCount: count,
    launchType,
    ...(capacityProviderStrategy ? { capacityProviderStrategy } : {}),
    deploymentConfiguration: config,
    ...(healthCheckGracePeriodSeconds === undefined ? {} : { healthCheckGracePeriodSeconds }),
    placementStrategy,
    placementConstraints,
    ...(networkConfiguration === undefined ? {} : { networkConfiguration }),
    ...(loadBalancers.length > 0 ? { loadBalancers } : {}),
    ...(serviceConnect ? { serviceConnect } : {}),
    tags,
    propagateTags,
    enableECSManagedTags,
    runningCount: 0,
    pendingCount: 0,
    deployments: [newDeployment(taskDefinitionArn(b.partition, def.family, def.revision), count, now, newId)],
    events: [],
    createdAt: now,
    createdBy: createdBy(b),
    version: 1,
    ...(clientToken === undefined ? {} : { clientToken }),
    requestHash: requestHash(body),
  };
  const { created, service: held } = await b.store.services.create(service);
  if (!created) {
    // The same call again (same token, same parameters) gets the service it made.
    const same = clientToken !== undefined && held.clientToken === clientToken && held.requestHash === service.requestHash;
    // A deleted service's name is free again only once it is INACTIVE, and ECS says so in its own words.
    if (!same && held.status === 'DRAINING') throw new InvalidParameterException('Unable to Start a service that is still Draining.');
    if (!same) throw new InvalidParameterException('Creation of service was not idempotent.');
    return { service: await describe(b, held) };
  }
  b.services.wake(cluster, serviceName);
  return { service: await describe(b, held) };
};

/**
 * Another UpdateService changed the service's Service Connect names between this one's read and
 * its write: what this one published may have removed the other's target groups, or the other's
 * publish this one's. The call starts over from the service as it is now.
 */
class ServiceConnectMoved extends Error {}
/** Tries of an UpdateService that keeps meeting others changing Service Connect (each publishes again). */
const UPDATE_TRIES = 5;

export const UpdateService: Operation = async (b, body, caller) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await updateService(b, body, caller);
    } catch (e) {
      if (!(e instanceof ServiceConnectMoved) || attempt >= UPDATE_TRIES) throw e;
    }
  }
};

const updateService: Operation = async (b, body) => {
  const current = await existingService(b, body);
  const key: ServiceKey = current;
  if (current.status !== 'ACTIVE') throw new ServiceNotActiveException(current.serviceName);
  const desiredCount = readDesiredCount(body);
  if (current.schedulingStrategy === 'DAEMON' && desiredCount !== undefined) {
    throw new InvalidParameterException(DAEMON_WITH_COUNT);
  }
  const configInput = readDeploymentConfiguration(body);
  const { strategies: placementStrategy, constraints: placementConstraints } = readPlacementRules(body);
  if (current.schedulingStrategy === 'DAEMON' && placementStrategy && placementStrategy.length > 0) {
    throw new InvalidParameterException(DAEMON_WITH_STRATEGY);
  }
  const networkConfiguration = readNetworkConfiguration(body);
  const propagateTags = readPropagateTags(body);
  const enableECSManagedTags = optBool(body, 'enableECSManagedTags');
  const healthCheckGracePeriodSeconds = readHealthCheckGracePeriod(body);
  const forceNewDeployment = optBool(body, 'forceNewDeployment') ?? false;
  const requestedStrategy = readCapacityProviderStrategy(body, 'capacityProviderStrategy', 'request');
  // An empty list returns the service to its cluster's default strategy.
  const capacityProviderStrategy = requestedStrategy === undefined
    ? undefined
    : serviceStrategy(undefined, requestedStrategy, await activeCluster(b, current.cluster)) ?? [];
  const defRef = optString(body, 'taskDefinition');
  const def = defRef === undefined ? undefined : await runnableDefinition(b, defRef);
  const defArn = def && taskDefinitionArn(b.partition, def.family, def.revision);
  const loadBalancers = readLoadBalancers(body);
  const connectConfiguration = readServiceConnectConfiguration(body);
  let checkedDef: TaskDefinitionRecord | undefined;
  if (loadBalancers !== undefined || def !== undefined || connectConfiguration !== undefined) {
    const [family, revision] = current.deployments.find((d) => d.status === 'PRIMARY')!.taskDefinitionArn.split('/').pop()!.split(':');
    checkedDef = def ?? (await b.store.taskDefinitions.get(family, Number(revision)));
    if (checkedDef) await checkLoadBalancers(b, loadBalancers ?? current.loadBalancers ?? [], checkedDef);
  }
  // A new configuration, or the one in place read against a new definition (its named ports may have moved).
  const owner = serviceArn(b.partition, current.cluster, current.serviceName);
  const connectWanted = connectConfiguration ?? (def ? current.serviceConnect?.configuration : undefined);
  const connectChanges = connectWanted !== undefined;
  const resolvedConnect = connectWanted?.enabled && checkedDef
    ? await resolveServiceConnect(b, owner, connectWanted, (await activeCluster(b, current.cluster)).serviceConnectDefaults?.namespace, checkedDef)
    : undefined;
  const serviceConnect = connectChanges ? await applyServiceConnect(b, owner, resolvedConnect) : current.serviceConnect;

  const updated = await b.store.services.mutate(key, (s) => {
    if (s.status !== 'ACTIVE') throw new ServiceNotActiveException(s.serviceName);
    // Published names and the service's record change together, or this call starts over.
    if (connectChanges && JSON.stringify(s.serviceConnect) !== JSON.stringify(current.serviceConnect)) throw new ServiceConnectMoved();
    const now = b.now();
    const config = deploymentConfiguration(s.schedulingStrategy, configInput, s.deploymentConfiguration);
    const count = desiredCount ?? s.desiredCount;
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    const targetArn = defArn ?? primary!.taskDefinitionArn;
    const lbChanged = loadBalancers !== undefined && JSON.stringify(loadBalancers) !== JSON.stringify(s.loadBalancers ?? []);
    const connectChanged = connectChanges && JSON.stringify(serviceConnect) !== JSON.stringify(s.serviceConnect);
    const redeploy = forceNewDeployment || targetArn !== primary?.taskDefinitionArn || lbChanged || connectChanged;
    const next: ServiceRecord = {
      ...s,
      ...(lbChanged ? { loadBalancers } : {}),
      ...(connectChanged ? { serviceConnect } : {}),
      desiredCount: count,
      deploymentConfiguration: config,
      ...(placementStrategy === undefined ? {} : { placementStrategy }),
      ...(placementConstraints === undefined ? {} : { placementConstraints }),
      ...(networkConfiguration === undefined ? {} : { networkConfiguration }),
      ...(propagateTags === undefined ? {} : { propagateTags }),
      ...(enableECSManagedTags === undefined ? {} : { enableECSManagedTags }),
      ...(healthCheckGracePeriodSeconds === undefined ? {} : { healthCheckGracePeriodSeconds }),
      ...(capacityProviderStrategy === undefined ? {} : { capacityProviderStrategy }),
    };
    if (redeploy) return startDeployment(next, targetArn, now, newId);
    // A user's change of count ends any back-off: it deserves a prompt try.
    return { ...next, backoffUntil: undefined, deployments: withDesiredCount(s, s.schedulingStrategy === 'DAEMON' ? primary!.desiredCount : count, now) };
  });
  if (!updated) throw new ServiceNotFoundException(current.serviceName);
  b.services.wake(updated.cluster, updated.serviceName);
  return { service: await describe(b, updated) };
};

export const DeleteService: Operation = async (b, body) => {
  const current = await existingService(b, body);
  const force = optBool(body, 'force') ?? false;
  if (current.status === 'INACTIVE') throw new ServiceNotActiveException(current.serviceName);
  const deleted = await b.store.services.mutate(current, (s) => {
    if (s.status === 'INACTIVE') throw new ServiceNotActiveException(s.serviceName);
    if (s.status === 'DRAINING') return s;
    if (s.schedulingStrategy === 'REPLICA' && s.desiredCount > 0 && !force) {
      throw new InvalidParameterException('The service cannot be stopped while it is scaled above 0.');
    }
    const now = b.now();
    return {
      ...s,
      status: 'DRAINING' as const,
      desiredCount: 0,
      deployments: s.deployments.map((d) => (d.desiredCount === 0 ? d : { ...d, desiredCount: 0, updatedAt: now })),
    };
  });
  if (!deleted) throw new ServiceNotFoundException(current.serviceName);
  // Its names leave the namespace with it; its tasks stop as the scheduler drains the service.
  if (deleted.serviceConnect) await applyServiceConnect(b, serviceArn(b.partition, deleted.cluster, deleted.serviceName), undefined);
  b.services.wake(deleted.cluster, deleted.serviceName);
  return { service: await describe(b, deleted) };
};

export const DescribeServices: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  const refs = optStringList(body, 'services', 'services', 10);
  if (!refs || refs.length === 0) throw new InvalidParameterException('Services cannot be empty.');
  const include = optStringList(body, 'include', 'include', 1) ?? [];
  include.forEach((f, i) => oneOf(f, ['TAGS'] as const, `include[${i}]`));
  await activeCluster(b, cluster);
  const services = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const name = serviceNameOf(ref, cluster);
    const s = name === undefined ? undefined : await b.store.services.get({ cluster, serviceName: name });
    if (s) services.push(await describe(b, s, include.includes('TAGS')));
    else failures.push({ arn: name === undefined ? ref : serviceArn(b.partition, cluster, name), reason: 'MISSING' });
  }
  return { services, failures };
};

export const ListServices: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  const launchType = readLaunchType(body);
  const strategy = readSchedulingStrategy(body);
  await activeCluster(b, cluster);
  const matching = (await b.store.services.list(cluster))
    .filter((s) => s.status !== 'INACTIVE'
      && (launchType === undefined || s.launchType === launchType)
      && (strategy === undefined || s.schedulingStrategy === strategy))
    .map((s) => serviceArn(b.partition, cluster, s.serviceName))
    .sort();
  const { items, nextToken } = page(matching, body, (a) => a);
  return { serviceArns: items, nextToken };
};
