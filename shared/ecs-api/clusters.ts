import type { Berth } from '../context';
import { DEFAULT_CLUSTER, clusterArn, clusterName } from '../domain/arns';
import {
  ClusterContainsServicesException, ClusterContainsTasksException, ClusterNotFoundException, InvalidParameterException,
} from '../domain/errors';
import {
  type CapacityProviderName, isCapacityProviderName, readCapacityProviderStrategy, requireAssociated,
} from '../domain/capacity-strategy';
import { type Json, optStringList, optString, readTags, reqString } from '../domain/fields';
import { dropUndefined } from '../domain/task-definition';
import { associatedProviders } from '../store/cluster-store';
import { isPendingStatus } from '../domain/task';
import type { ClusterRecord } from '../store';
import type { Operation } from './operation';
import { page } from './paging';
import { type Failure, toEcsCluster } from './shapes';

async function counts(b: Berth, name: string) {
  const [tasks, services] = await Promise.all([b.store.tasks.list(name), b.store.services.list(name)]);
  return {
    runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) => isPendingStatus(t.lastStatus)).length,
    activeServicesCount: services.filter((s) => s.status === 'ACTIVE').length,
  };
}

const describe = async (b: Berth, c: ClusterRecord, withTags = false) =>
  toEcsCluster(b.partition, c, await counts(b, c.name), withTags);

/**
 * A cluster's providers and default strategy, as CreateCluster and PutClusterCapacityProviders
 * take them: known providers, and a default that names only providers of the list.
 */
function readClusterProviders(body: Json, required: boolean) {
  const listed = optStringList(body, 'capacityProviders', 'capacityProviders', 6);
  if (required && listed === undefined) throw new InvalidParameterException('capacityProviders is required.');
  for (const p of listed ?? []) {
    if (!isCapacityProviderName(p)) throw new InvalidParameterException(`The specified capacity provider '${p}' does not exist.`);
  }
  const capacityProviders = listed === undefined ? undefined : [...new Set(listed)] as CapacityProviderName[];
  const strategy = readCapacityProviderStrategy(body, 'defaultCapacityProviderStrategy', 'default');
  if (required && strategy === undefined) throw new InvalidParameterException('defaultCapacityProviderStrategy is required.');
  if (strategy) requireAssociated(strategy, capacityProviders ?? associatedProviders({}));
  return { capacityProviders, defaultCapacityProviderStrategy: strategy };
}

export const CreateCluster: Operation = async (b, body) => {
  const name = clusterName(optString(body, 'clusterName') ?? DEFAULT_CLUSTER);
  const providers = dropUndefined(readClusterProviders(body, false));
  const cluster = await b.store.clusters.create(name, readTags(body) ?? [], b.now(), providers);
  return { cluster: await describe(b, cluster, true) };
};

/** Replaces the cluster's providers and default strategy, both at once, as ECS does. */
export const PutClusterCapacityProviders: Operation = async (b, body) => {
  const name = clusterName(reqString(body, 'cluster'));
  const { capacityProviders, defaultCapacityProviderStrategy } = readClusterProviders(body, true);
  const c = await b.store.clusters.get(name);
  if (!c || c.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  const updated = await b.store.clusters.setCapacityProviders(name, capacityProviders ?? [], defaultCapacityProviderStrategy ?? []);
  if (!updated) throw new ClusterNotFoundException(name);
  return { cluster: await describe(b, updated) };
};

export const DescribeClusters: Operation = async (b, body) => {
  const refs = optStringList(body, 'clusters', 'clusters', 100) ?? [DEFAULT_CLUSTER];
  const withTags = optStringList(body, 'include')?.includes('TAGS') ?? false;
  const clusters = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const name = clusterName(ref);
    const c = await b.store.clusters.get(name);
    if (c) clusters.push(await describe(b, c, withTags));
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
  if ((await b.store.services.list(name)).some((s) => s.status !== 'INACTIVE')) throw new ClusterContainsServicesException(name);
  const live = (await b.store.tasks.list(name)).some((t) => t.lastStatus !== 'STOPPED');
  if (live) throw new ClusterContainsTasksException(name);
  const deleted = await b.store.clusters.deactivate(name);
  return { cluster: await describe(b, deleted ?? c) };
};
