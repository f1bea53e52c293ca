import { createHash } from 'node:crypto';
import type { Partition } from './arns';

/** A task's own address, as its agent reports it: its network namespace's IPv4 and MAC. */
export interface TaskNetwork {
  privateIPv4Address: string;
  macAddress: string;
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

const hex = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');

/**
 * ECS shows an awsvpc task's address as an ElasticNetworkInterface attachment. Locally there is
 * no ENI, subnet or attachment to name, so their ids follow from the task and its host: stable
 * across calls and restarts, and of the shapes AWS gives them.
 */
export const attachmentId = (taskId: string): string => {
  const h = hex('attachment', taskId);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
export const networkInterfaceId = (taskId: string): string => `eni-${hex('eni', taskId).slice(0, 17)}`;
/** One subnet per host: its tasks' networks all sit behind it. */
export const subnetId = (hostId: string): string => `subnet-${hex('subnet', hostId).slice(0, 17)}`;

/** EC2's private DNS name for an address: ec2.internal in us-east-1, REGION.compute.internal elsewhere. */
export const privateDnsName = (p: Partition, ipv4: string): string =>
  `ip-${ipv4.replaceAll('.', '-')}.${p.region === 'us-east-1' ? 'ec2.internal' : `${p.region}.compute.internal`}`;

/** The ENI attachment DescribeTasks shows: ATTACHED while the task lives, DELETED once it stopped. */
export function eniAttachment(p: Partition, task: { taskId: string; hostId?: string; lastStatus: string; network?: TaskNetwork }) {
  const n = task.network;
  if (!n) return undefined;
  const details: Record<string, string> = {
    subnetId: subnetId(task.hostId ?? ''),
    networkInterfaceId: networkInterfaceId(task.taskId),
    macAddress: n.macAddress,
    privateDnsName: privateDnsName(p, n.privateIPv4Address),
    privateIPv4Address: n.privateIPv4Address,
  };
  return {
    id: attachmentId(task.taskId),
    type: 'ElasticNetworkInterface',
    status: task.lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
    details: Object.entries(details).map(([name, value]) => ({ name, value })),
  };
}
