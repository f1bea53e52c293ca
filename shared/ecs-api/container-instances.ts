import type { Berth } from '../context';
import { clusterName, containerInstanceArn } from '../domain/arns';
import { InvalidParameterException } from '../domain/errors';
import { oneOf, optString, optStringList, reqString } from '../domain/fields';
import { isPendingStatus } from '../domain/task';
import { activeCluster } from '../lifecycle/run-task';
import { hostAttributes } from '../scheduler/host-attributes';
import { DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../capacity/manager';
import type { HostRecord } from '../store';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';
import { type Failure, epochSeconds } from './shapes';

/*
 * Hosts, in ECS's words: container instances. The fleet is shared by every cluster, so each
 * cluster lists every host; Fargate-style users never need any of this.
 */

/** ECS's statuses for Berth's host states; hosts that are gone are not listed. */
const ECS_STATUS: Record<string, string | undefined> = {
  LAUNCHING: 'REGISTERING', ACTIVE: 'ACTIVE', DRAINING: 'DRAINING', LOST: undefined, TERMINATED: undefined,
};

function hostIdOf(ref: string): string {
  const m = /^arn:aws[a-z-]*:ecs:[^:]+:\d{12}:container-instance\/(?:[^/]+\/)?([^/]+)$/.exec(ref);
  const id = m ? m[1] : ref;
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id)) throw new InvalidParameterException(`Invalid container instance: ${ref}`);
  return id;
}

const resources = (cpu: number, memory: number) => [
  { name: 'CPU', type: 'INTEGER', integerValue: cpu, doubleValue: 0, longValue: 0 },
  { name: 'MEMORY', type: 'INTEGER', integerValue: memory, doubleValue: 0, longValue: 0 },
];

async function toContainerInstance(b: Berth, cluster: string, h: HostRecord) {
  const tasks = await Promise.all(
    Object.entries(h.reservations).map(([taskId, r]) => b.store.tasks.get({ cluster: r.cluster, taskId })),
  );
  const mine = tasks.filter((t) => t && t.hostId === h.hostId);
  return {
    containerInstanceArn: containerInstanceArn(b.partition, cluster, h.hostId),
    ec2InstanceId: h.hostId,
    version: h.version,
    versionInfo: { agentVersion: 'berth-agent' },
    registeredResources: resources(h.cpu, h.memory),
    remainingResources: resources(h.cpu - h.reservedCpu, h.memory - h.reservedMemory),
    status: ECS_STATUS[h.status] ?? 'DEREGISTERING',
    agentConnected: h.status !== 'LAUNCHING' && b.now() - h.lastHeartbeatAt <= DEFAULT_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    runningTasksCount: mine.filter((t) => t!.lastStatus === 'RUNNING').length,
    pendingTasksCount: mine.filter((t) => isPendingStatus(t!.lastStatus)).length,
    // The very attributes memberOf expressions and spread by attribute judge.
    attributes: Object.entries(hostAttributes(h)).map(([name, value]) => ({ name, value })),
    registeredAt: epochSeconds(h.registeredAt),
    tags: [],
  };
}

export const ListContainerInstances: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  await activeCluster(b, cluster);
  const status = optString(body, 'status');
  if (status !== undefined) oneOf(status, ['ACTIVE', 'DRAINING', 'REGISTERING', 'DEREGISTERING', 'REGISTRATION_FAILED'] as const, 'status');
  const hosts = (await b.store.hosts.list())
    .filter((h) => {
      const s = ECS_STATUS[h.status];
      return s !== undefined && (status === undefined ? s === 'ACTIVE' || s === 'DRAINING' : s === status);
    })
    .sort((x, y) => x.hostId.localeCompare(y.hostId));
  const { items, nextToken } = page(hosts, body, (h) => h.hostId);
  return { containerInstanceArns: items.map((h) => containerInstanceArn(b.partition, cluster, h.hostId)), nextToken };
};

export const DescribeContainerInstances: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  await activeCluster(b, cluster);
  const refs = optStringList(body, 'containerInstances', 'containerInstances', 100);
  if (!refs || refs.length === 0) throw new InvalidParameterException('containerInstances cannot be empty.');
  const containerInstances = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const h = await b.store.hosts.get(hostIdOf(ref));
    if (h && ECS_STATUS[h.status] !== undefined) containerInstances.push(await toContainerInstance(b, cluster, h));
    else failures.push({ arn: containerInstanceArn(b.partition, cluster, hostIdOf(ref)), reason: 'MISSING' });
  }
  return { containerInstances, failures };
};

export const UpdateContainerInstancesState: Operation = async (b, body) => {
  const cluster = clusterName(optString(body, 'cluster'));
  await activeCluster(b, cluster);
  const status = oneOf(reqString(body, 'status'), ['ACTIVE', 'DRAINING'] as const, 'status');
  const refs = optStringList(body, 'containerInstances', 'containerInstances', 10);
  if (!refs || refs.length === 0) throw new InvalidParameterException('containerInstances cannot be empty.');
  const containerInstances = [];
  const failures: Failure[] = [];
  for (const ref of refs) {
    const hostId = hostIdOf(ref);
    // Only between ACTIVE and DRAINING, as in ECS: a host still launching or gone cannot move.
    const moved = await b.store.hosts.transition(hostId, status, status === 'DRAINING' ? ['ACTIVE', 'DRAINING'] : ['DRAINING', 'ACTIVE']);
    const h = await b.store.hosts.get(hostId);
    if (moved && h) containerInstances.push(await toContainerInstance(b, cluster, h));
    else failures.push({ arn: containerInstanceArn(b.partition, cluster, hostId), reason: h ? 'INVALID_STATE' : 'MISSING' });
  }
  return { containerInstances, failures };
};
