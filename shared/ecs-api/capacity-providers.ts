import { DEFAULT_CATALOG } from '../capacity/catalog';
import type { Berth } from '../context';
import { capacityProviderArn, capacityProviderNameOf, clusterName } from '../domain/arns';
import {
  AUTO_SCALING_GROUP_REFUSED, type ManagedInstancesProvider, checkProviderName, isProviderName, poolOf, readManagedInstancesProvider,
} from '../domain/capacity-provider';
import { CAPACITY_PROVIDER_NAMES, isCapacityProviderName } from '../domain/capacity-strategy';
import { ClientException, ClusterNotFoundException, InvalidParameterException } from '../domain/errors';
import { type Json, oneOf, optString, optStringList, readTags, reqString } from '../domain/fields';
import type { Operation } from '../aws-protocol/operation';
import type { CapacityProviderRecord } from '../store';
import { associatedProviders } from '../store/cluster-store';
import { page } from './paging';
import { type Failure, toEcsTags } from './shapes';

const PROVIDER_FIELDS = ['TAGS'] as const;

/**
 * The instance types Berth's capacity manager launches from (the local mode and the capacity
 * function both run on the default catalog): a pool must be able to launch at least one.
 */
const CATALOG = DEFAULT_CATALOG;

type UpdateStatus = 'UPDATE_COMPLETE' | 'DELETE_COMPLETE';

function toEcsProvider(b: Berth, p: CapacityProviderRecord, withTags: boolean, status: 'ACTIVE' | 'INACTIVE' = 'ACTIVE', updateStatus?: UpdateStatus) {
  return {
    capacityProviderArn: capacityProviderArn(b.partition, p.name),
    name: p.name,
    cluster: p.cluster,
    status,
    managedInstancesProvider: p.managedInstancesProvider,
    ...(updateStatus ? { updateStatus } : {}),
    ...(withTags ? { tags: toEcsTags(p.tags) } : {}),
    type: 'MANAGED_INSTANCES',
  };
}

/** FARGATE and FARGATE_SPOT, as every account's DescribeCapacityProviders shows them. */
const toEcsFargateProvider = (b: Berth, name: string, withTags: boolean) => ({
  capacityProviderArn: capacityProviderArn(b.partition, name),
  name,
  status: 'ACTIVE',
  ...(withTags ? { tags: [] } : {}),
  type: name,
});

/** ECS reads the provider's kind first: Berth's pools are Managed Instances ones, never Auto Scaling groups. */
function refuseAutoScalingGroup(body: Json): void {
  if (body.autoScalingGroupProvider !== undefined && body.autoScalingGroupProvider !== null) {
    throw new InvalidParameterException(AUTO_SCALING_GROUP_REFUSED);
  }
  if (body.managedInstancesProvider === undefined || body.managedInstancesProvider === null) {
    throw new InvalidParameterException('managedInstancesProvider is required: Berth runs custom capacity providers as pools of its own fleet.');
  }
}

/** A pool that could launch no host would leave its tasks waiting for ever: refused up front. */
function requireLaunchable(provider: ManagedInstancesProvider): void {
  if (poolOf(provider, CATALOG).instanceTypes.length === 0) {
    throw new InvalidParameterException(
      `No instance type Berth launches matches managedInstancesProvider.instanceLaunchTemplate.instanceRequirements. Berth launches: ${
        CATALOG.map((t) => `${t.name} (${t.vcpu} vCPU, ${t.memoryGiB * 1024} MiB)`).join(', ')}.`,
    );
  }
}

async function activeCluster(b: Berth, ref: string) {
  const name = clusterName(ref);
  const c = await b.store.clusters.get(name);
  if (!c || c.status !== 'ACTIVE') throw new ClusterNotFoundException(name);
  return c;
}

/** A custom provider by name or ARN, in the cluster asked about when one is given. */
async function existingProvider(b: Berth, ref: string, clusterRef: string | undefined): Promise<CapacityProviderRecord> {
  const name = capacityProviderNameOf(ref);
  // A name no provider can have is looked up nowhere (nor can it be a key).
  const p = isProviderName(name) ? await b.store.capacityProviders.get(name) : undefined;
  if (!p || (clusterRef !== undefined && p.cluster !== clusterName(clusterRef))) {
    throw new ClientException('The specified capacity provider does not exist. Specify a valid name or ARN and try again.');
  }
  return p;
}

/**
 * A Managed Instances provider belongs to the cluster it is created for (its `cluster`) and is
 * associated with it at once: that cluster's strategies may name it.
 */
export const CreateCapacityProvider: Operation = async (b, body) => {
  const name = checkProviderName(reqString(body, 'name', 'name', 255));
  refuseAutoScalingGroup(body);
  const managedInstancesProvider = readManagedInstancesProvider(body);
  requireLaunchable(managedInstancesProvider);
  const tags = readTags(body) ?? [];
  const clusterRef = optString(body, 'cluster');
  if (clusterRef === undefined) {
    throw new InvalidParameterException('cluster is required: a capacity provider with managedInstancesProvider belongs to one cluster.');
  }
  const cluster = await activeCluster(b, clusterRef);
  const record = { name, cluster: cluster.name, createdAt: b.now(), tags, managedInstancesProvider };
  if (!(await b.store.capacityProviders.create(record))) {
    throw new ClientException(
      'The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.',
    );
  }
  const associated = await b.store.clusters.update(cluster.name, { capacityProviders: [...associatedProviders(cluster), name] });
  if (!associated) {
    // The cluster was deleted meanwhile: the provider would belong to nothing.
    await b.store.capacityProviders.delete(name);
    throw new ClusterNotFoundException(cluster.name);
  }
  return { capacityProvider: toEcsProvider(b, { ...record, version: 1 }, true) };
};

export const UpdateCapacityProvider: Operation = async (b, body) => {
  const ref = reqString(body, 'name');
  refuseAutoScalingGroup(body);
  const existing = await existingProvider(b, ref, optString(body, 'cluster'));
  const managedInstancesProvider = readManagedInstancesProvider(body, existing.managedInstancesProvider);
  requireLaunchable(managedInstancesProvider);
  const updated = await b.store.capacityProviders.update(existing, managedInstancesProvider);
  if (!updated) throw new ClientException('The capacity provider was changed or deleted by another request. Try again.');
  return { capacityProvider: toEcsProvider(b, updated, false, 'ACTIVE', 'UPDATE_COMPLETE') };
};

/**
 * The ACTIVE services of the provider's cluster whose strategy names it (a deleted one, DRAINING,
 * starts no more tasks), and the cluster's default strategy if it names it.
 */
async function usersOf(b: Berth, p: CapacityProviderRecord): Promise<string[]> {
  const services = await b.store.services.list(p.cluster);
  const users = services
    .filter((s) => s.status === 'ACTIVE' && (s.capacityProviderStrategy ?? []).some((i) => i.capacityProvider === p.name))
    .map((s) => s.serviceName);
  const cluster = await b.store.clusters.get(p.cluster);
  if ((cluster?.defaultCapacityProviderStrategy ?? []).some((i) => i.capacityProvider === p.name)) users.push(`the default capacity provider strategy of cluster ${p.cluster}`);
  return users;
}

/**
 * Refused while a service's strategy or the cluster's default strategy names the provider, as
 * ECS refuses it; otherwise the provider leaves its cluster at once. Tasks already running on
 * its hosts keep running; its hosts, idle, are terminated at their idle timeout.
 */
export const DeleteCapacityProvider: Operation = async (b, body) => {
  const ref = reqString(body, 'capacityProvider');
  const name = capacityProviderNameOf(ref);
  if (isCapacityProviderName(name)) {
    throw new ClientException(`The specified capacity provider ${name} is reserved and cannot be deleted.`);
  }
  const p = await existingProvider(b, ref, optString(body, 'cluster'));
  const users = await usersOf(b, p);
  if (users.length > 0) {
    throw new ClientException(
      `Cannot delete capacity provider. It is still in use by ${users.join(', ')}. `
      + 'Remove it from their capacity provider strategy and try again.',
    );
  }
  const cluster = await b.store.clusters.get(p.cluster);
  if (cluster?.status === 'ACTIVE') {
    await b.store.clusters.update(p.cluster, { capacityProviders: associatedProviders(cluster).filter((n) => n !== p.name) });
  }
  await b.store.capacityProviders.delete(p.name);
  return { capacityProvider: toEcsProvider(b, p, false, 'INACTIVE', 'DELETE_COMPLETE') };
};

/**
 * Every provider the account has: FARGATE and FARGATE_SPOT, then the custom ones by name; with
 * `cluster`, only those that cluster may use. At most 10 a page, as ECS pages them.
 */
export const DescribeCapacityProviders: Operation = async (b, body) => {
  const refs = optStringList(body, 'capacityProviders', 'capacityProviders', 100);
  const include = new Set((optStringList(body, 'include') ?? []).map((f, i) => oneOf(f, PROVIDER_FIELDS, `include[${i}]`)));
  const withTags = include.has('TAGS');
  const clusterRef = optString(body, 'cluster');
  const cluster = clusterRef === undefined ? undefined : await activeCluster(b, clusterRef);
  const custom = (await b.store.capacityProviders.list())
    .filter((p) => cluster === undefined || p.cluster === cluster.name)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const all = [
    ...CAPACITY_PROVIDER_NAMES.map((n) => ({ name: n, shape: toEcsFargateProvider(b, n, withTags) })),
    ...custom.map((p) => ({ name: p.name, shape: toEcsProvider(b, p, withTags) })),
  ];
  const failures: Failure[] = [];
  let wanted = all;
  if (refs) {
    const byName = new Map(all.map((p) => [p.name, p]));
    wanted = [];
    for (const ref of refs) {
      const found = byName.get(capacityProviderNameOf(ref));
      if (found) wanted.push(found);
      else failures.push({ arn: ref.startsWith('arn:') ? ref : capacityProviderArn(b.partition, ref), reason: 'MISSING' });
    }
  }
  const { items, nextToken } = page(wanted, body, (p) => p.name, 10);
  return { capacityProviders: items.map((p) => p.shape), failures, nextToken };
};
