import type { Berth } from '../context';
import { DEFAULT_CLUSTER, clusterArn, clusterName } from '../domain/arns';
import { mergeClusterSettings, readClusterConfiguration, readClusterSettings, readServiceConnectDefaults } from '../domain/cluster-settings';
import {
  ClientException, ClusterContainsServicesException, ClusterContainsTasksException, ClusterNotFoundException, InvalidParameterException,
  NamespaceNotFoundException, ResourceInUseException,
} from '../domain/errors';
import { isProviderName } from '../domain/capacity-provider';
import { isCapacityProviderName, readCapacityProviderStrategy, requireAssociated } from '../domain/capacity-strategy';
import { type Json, oneOf, optString, optStringList, readTags, reqString } from '../domain/fields';
import { associatedProviders } from '../store/cluster-store';
import { isPendingStatus } from '../domain/task';
import type { ClusterOptions, ClusterRecord } from '../store';
import { effectiveAccountSetting } from './account-settings';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';
import { CLUSTER_FIELDS, type ClusterCounts, type ClusterField, type Failure, toEcsCluster } from './shapes';

async function counts(b: Berth, name: string): Promise<ClusterCounts> {
  const [tasks, services] = await Promise.all([b.store.tasks.list(name), b.store.services.list(name)]);
  const running = tasks.filter((t) => t.lastStatus === 'RUNNING');
  const pending = tasks.filter((t) => isPendingStatus(t.lastStatus));
  const active = services.filter((s) => s.status === 'ACTIVE');
  const draining = services.filter((s) => s.status === 'DRAINING');
  const by = (xs: { launchType: string }[], launchType: string) => String(xs.filter((x) => x.launchType === launchType).length);
  return {
    runningTasksCount: running.length,
    pendingTasksCount: pending.length,
    activeServicesCount: active.length,
    statistics: [
      { name: 'runningEC2TasksCount', value: by(running, 'EC2') },
      { name: 'runningFargateTasksCount', value: by(running, 'FARGATE') },
      { name: 'pendingEC2TasksCount', value: by(pending, 'EC2') },
      { name: 'pendingFargateTasksCount', value: by(pending, 'FARGATE') },
      { name: 'activeEC2ServiceCount', value: by(active, 'EC2') },
      { name: 'activeFargateServiceCount', value: by(active, 'FARGATE') },
      { name: 'drainingEC2ServiceCount', value: by(draining, 'EC2') },
      { name: 'drainingFargateServiceCount', value: by(draining, 'FARGATE') },
    ],
  };
}

/** What CreateCluster, UpdateCluster and UpdateClusterSettings answer with: every field. */
const EVERY_FIELD: ReadonlySet<ClusterField> = new Set(CLUSTER_FIELDS);

const describe = async (b: Berth, c: ClusterRecord, include: ReadonlySet<ClusterField>) =>
  toEcsCluster(b.partition, c, await counts(b, c.name), include);

/**
 * A cluster's providers and default strategy, as CreateCluster and PutClusterCapacityProviders
 * take them: known providers (FARGATE, FARGATE_SPOT, or custom ones created for this cluster),
 * and a default that names only providers of the list.
 */
async function readClusterProviders(b: Berth, body: Json, cluster: string | undefined) {
  const required = cluster !== undefined;
  const listed = optStringList(body, 'capacityProviders', 'capacityProviders', 20);
  if (required && listed === undefined) throw new InvalidParameterException('capacityProviders is required.');
  for (const p of listed ?? []) {
    if (isCapacityProviderName(p)) continue;
    const custom = cluster === undefined || !isProviderName(p) ? undefined : await b.store.capacityProviders.get(p);
    if (custom?.cluster !== cluster) throw new InvalidParameterException(`The specified capacity provider '${p}' does not exist.`);
  }
  const capacityProviders = listed === undefined ? undefined : [...new Set(listed)];
  const strategy = readCapacityProviderStrategy(body, 'defaultCapacityProviderStrategy', 'default');
  if (required && strategy === undefined) throw new InvalidParameterException('defaultCapacityProviderStrategy is required.');
  if (strategy) requireAssociated(strategy, capacityProviders ?? associatedProviders({}));
  return { capacityProviders, defaultCapacityProviderStrategy: strategy };
}

/**
 * A cluster's default Service Connect namespace: an existing one by name or ARN, or, as ECS does
 * for a new name, an HTTP namespace created for it; '' removes the default (the namespace stays).
 */
async function clusterNamespace(b: Berth, ref: string | undefined): Promise<{ namespace: string } | undefined> {
  if (ref === undefined) return undefined;
  if (ref === '') return { namespace: '' };
  if (!b.serviceConnect) throw new InvalidParameterException('Service Connect is not available on this Berth endpoint, so serviceConnectDefaults cannot be set.');
  const found = await b.serviceConnect.namespace(ref);
  if (found) return { namespace: found.arn };
  if (ref.startsWith('arn:')) throw new NamespaceNotFoundException();
  return { namespace: (await b.serviceConnect.createNamespace(ref)).arn };
}

export const CreateCluster: Operation = async (b, body) => {
  const name = clusterName(optString(body, 'clusterName') ?? DEFAULT_CLUSTER);
  const tags = readTags(body) ?? [];
  const configuration = readClusterConfiguration(body);
  const defaultNamespace = readServiceConnectDefaults(body);
  const providers = await readClusterProviders(b, body, undefined);
  const serviceConnectDefaults = await clusterNamespace(b, defaultNamespace);
  // A cluster created without settings takes the account's containerInsights, as in ECS.
  const settings = readClusterSettings(body)
    ?? [{ name: 'containerInsights' as const, value: (await effectiveAccountSetting(b, 'containerInsights')).value }];
  const cluster = await b.store.clusters.create(name, tags, b.now(), { settings, configuration, ...providers, serviceConnectDefaults });
  return { cluster: await describe(b, cluster, EVERY_FIELD) };
};

async function updateCluster(b: Berth, ref: string, changes: ClusterOptions) {
  const name = clusterName(ref);
  const existing = await b.store.clusters.get(name);
  if (!existing || existing.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  const settings = changes.settings && mergeClusterSettings(existing.settings ?? [], changes.settings);
  const updated = await b.store.clusters.update(name, { ...changes, settings });
  if (!updated) throw new ClusterNotFoundException(name);
  return { cluster: await describe(b, updated, EVERY_FIELD) };
}

/** Every part is read before anything is written: a refused part changes nothing. */
export const UpdateCluster: Operation = async (b, body) => {
  const ref = reqString(body, 'cluster');
  const settings = readClusterSettings(body);
  const configuration = readClusterConfiguration(body);
  const defaultNamespace = readServiceConnectDefaults(body);
  const existing = await b.store.clusters.get(clusterName(ref));
  if (!existing || existing.status !== 'ACTIVE') throw new ClusterNotFoundException(clusterName(ref));
  const serviceConnectDefaults = await clusterNamespace(b, defaultNamespace);
  return updateCluster(b, ref, { settings, configuration, serviceConnectDefaults });
};

export const UpdateClusterSettings: Operation = async (b, body) => {
  const ref = reqString(body, 'cluster');
  const settings = readClusterSettings(body);
  if (!settings) throw new InvalidParameterException('settings can not be null.');
  return updateCluster(b, ref, { settings });
};

/**
 * Replaces the cluster's providers and default strategy, both at once, as ECS does. A provider
 * that a service's strategy still names cannot leave the cluster (ECS's ResourceInUseException).
 */
export const PutClusterCapacityProviders: Operation = async (b, body) => {
  const ref = reqString(body, 'cluster');
  const name = clusterName(ref);
  const { capacityProviders, defaultCapacityProviderStrategy } = await readClusterProviders(b, body, name);
  const existing = await b.store.clusters.get(name);
  if (!existing || existing.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  const removed = new Set(associatedProviders(existing).filter((p) => !(capacityProviders ?? []).includes(p)));
  const services = removed.size === 0 ? [] : await b.store.services.list(name);
  if (services.some((s) => s.status === 'ACTIVE' && (s.capacityProviderStrategy ?? []).some((i) => removed.has(i.capacityProvider)))) {
    throw new ResourceInUseException();
  }
  return updateCluster(b, ref, { capacityProviders: capacityProviders ?? [], defaultCapacityProviderStrategy: defaultCapacityProviderStrategy ?? [] });
};

export const DescribeClusters: Operation = async (b, body) => {
  const refs = optStringList(body, 'clusters', 'clusters', 100) ?? [DEFAULT_CLUSTER];
  const include = new Set((optStringList(body, 'include') ?? []).map((f, i) => oneOf(f, CLUSTER_FIELDS, `include[${i}]`)));
  const clusters = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const name = clusterName(ref);
    const c = await b.store.clusters.get(name);
    if (c) clusters.push(await describe(b, c, include));
    else failures.push({ arn: clusterArn(b.partition, name), reason: 'MISSING' });
  }
  return { clusters, failures };
};

export const ListClusters: Operation = async (b, body) => {
  const active = (await b.store.clusters.list()).filter((c) => c.status === 'ACTIVE');
  const arns = active.map((c) => clusterArn(b.partition, c.name)).sort();
  const { items, nextToken } = page(arns, body, (a) => a);
  return { clusterArns: items, nextToken };
};

export const DeleteCluster: Operation = async (b, body) => {
  const name = clusterName(reqString(body, 'cluster'));
  const c = await b.store.clusters.get(name);
  if (!c || c.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  if ((await b.store.capacityProviders.list()).some((p) => p.cluster === name)) {
    throw new ClientException('The Cluster cannot be deleted while Cluster Scoped Capacity Providers are attached to the cluster.');
  }
  if ((await b.store.services.list(name)).some((s) => s.status !== 'INACTIVE')) throw new ClusterContainsServicesException(name);
  const live = (await b.store.tasks.list(name)).some((t) => t.lastStatus !== 'STOPPED');
  if (live) throw new ClusterContainsTasksException(name);
  const deleted = await b.store.clusters.deactivate(name);
  return { cluster: await describe(b, deleted ?? c, EVERY_FIELD) };
};
