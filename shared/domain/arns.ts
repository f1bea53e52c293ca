import { ClientException, InvalidParameterException } from './errors';

/** Where ARNs are minted: the account and region Berth runs in. */
export interface Partition {
  readonly region: string;
  readonly accountId: string;
}

const ARN_PREFIX = /^arn:aws[a-z-]*:ecs:([^:]+):(\d{12}):(.+)$/;

/** The members of ECS requests that refer to resources by name or ARN. */
const REFERENCE_MEMBERS = [
  'cluster', 'clusters', 'taskDefinition', 'taskDefinitions', 'task', 'tasks', 'service', 'services',
  'resourceArn', 'containerInstance', 'containerInstances', 'capacityProvider', 'capacityProviders',
] as const;

/**
 * ECS is regional: a reference by the ARN of another region's resource is refused, as ECS
 * refuses it, before anything reads the name inside it (which may name a resource here too).
 */
export function checkArnRegions(p: Partition, body: Readonly<Record<string, unknown>>): void {
  for (const member of REFERENCE_MEMBERS) {
    for (const ref of [body[member]].flat()) {
      const arn = typeof ref === 'string' ? ARN_PREFIX.exec(ref) : null;
      if (arn && arn[1] !== p.region) throw new InvalidParameterException('Invalid Region in ARN');
    }
  }
}

export const clusterArn = (p: Partition, name: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:cluster/${name}`;

export const taskDefinitionArn = (p: Partition, family: string, revision: number): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:task-definition/${family}:${revision}`;

export const taskArn = (p: Partition, cluster: string, taskId: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:task/${cluster}/${taskId}`;

/** ECS's long ARN format for services, which carries the cluster's name. */
export const serviceArn = (p: Partition, cluster: string, name: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:service/${cluster}/${name}`;

const SERVICE_NAME = /^[a-zA-Z0-9_-]{1,255}$/;

export function checkServiceName(name: string): string {
  if (!SERVICE_NAME.test(name)) {
    throw new InvalidParameterException(
      'Service name can only contain letters, numbers, hyphens and underscores, up to 255 characters.',
    );
  }
  return name;
}

/**
 * A service reference is its name or its ARN (long form `service/CLUSTER/NAME`, or the old
 * `service/NAME`). Undefined when the ARN names another cluster: no such service in this one.
 */
export function serviceNameOf(ref: string, cluster: string): string | undefined {
  const arn = ARN_PREFIX.exec(ref);
  if (!arn) return checkServiceName(ref);
  const m = /^service\/(?:([^/]+)\/)?([^/]+)$/.exec(arn[3]);
  if (!m) throw new InvalidParameterException(`Invalid service ARN: ${ref}`);
  if (m[1] !== undefined && m[1] !== cluster) return undefined;
  return checkServiceName(m[2]);
}

export const containerArn = (p: Partition, cluster: string, taskId: string, name: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:container/${cluster}/${taskId}/${name}`;

/** A host, as ECS names it. The fleet is shared, so the cluster is the one asked about. */
export const containerInstanceArn = (p: Partition, cluster: string, hostId: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:container-instance/${cluster}/${hostId}`;

export const capacityProviderArn = (p: Partition, name: string): string =>
  `arn:aws:ecs:${p.region}:${p.accountId}:capacity-provider/${name}`;

/** A capacity provider reference is its name or its ARN (`capacity-provider/NAME`). */
export function capacityProviderNameOf(ref: string): string {
  const arn = ARN_PREFIX.exec(ref);
  const m = arn && /^capacity-provider\/(.+)$/.exec(arn[3]);
  return m ? m[1] : ref;
}

export const DEFAULT_CLUSTER = 'default';

const NAME = /^[a-zA-Z0-9_-]{1,255}$/;

/** A cluster reference is a name or a cluster ARN; none means `default`, as in ECS. */
export function clusterName(ref: string | undefined): string {
  if (ref === undefined || ref === '') return DEFAULT_CLUSTER;
  const arn = ARN_PREFIX.exec(ref);
  if (arn) {
    const m = /^cluster\/(.+)$/.exec(arn[3]);
    if (!m || !NAME.test(m[1])) throw new InvalidParameterException(`Invalid cluster ARN: ${ref}`);
    return m[1];
  }
  if (!NAME.test(ref)) {
    throw new InvalidParameterException(
      'Cluster name can only contain letters, numbers, hyphens and underscores, up to 255 characters.',
    );
  }
  return ref;
}

export interface TaskDefinitionRef {
  family: string;
  revision?: number;
}

export const FAMILY = /^[a-zA-Z0-9_-]{1,255}$/;

/** `family`, `family:revision` or a task-definition ARN. Without a revision: the latest ACTIVE. */
export function parseTaskDefinitionRef(ref: string): TaskDefinitionRef {
  let body = ref;
  const arn = ARN_PREFIX.exec(ref);
  if (arn) {
    const m = /^task-definition\/(.+)$/.exec(arn[3]);
    if (!m) throw new ClientException(`Invalid task definition ARN: ${ref}`);
    body = m[1];
  }
  const m = /^([^:]+)(?::(\d+))?$/.exec(body);
  if (!m || !FAMILY.test(m[1])) {
    throw new ClientException(`Invalid revision number. Number: ${body.split(':')[1] ?? ''}`.trim());
  }
  if (m[2] === undefined) return { family: m[1] };
  const revision = Number(m[2]);
  if (!Number.isSafeInteger(revision) || revision < 1) {
    throw new ClientException(`Invalid revision number. Number: ${m[2]}`);
  }
  return { family: m[1], revision };
}

/** A task reference is its id or its ARN; the ARN's cluster must match the request's. */
export function taskIdOf(ref: string, cluster: string): string {
  const arn = ARN_PREFIX.exec(ref);
  if (!arn) {
    if (!/^[a-f0-9]{32}$/.test(ref)) throw new InvalidParameterException(`Invalid id: ${ref}`);
    return ref;
  }
  const m = /^task\/([^/]+)\/([a-f0-9]{32})$/.exec(arn[3]);
  if (!m) throw new InvalidParameterException(`Invalid task ARN: ${ref}`);
  if (m[1] !== cluster) {
    throw new InvalidParameterException('The task ARN does not belong to the cluster given.');
  }
  return m[2];
}

export type ResourceRef =
  | { kind: 'cluster'; cluster: string }
  | { kind: 'task-definition'; family: string; revision: number }
  | { kind: 'task'; cluster: string; taskId: string }
  | { kind: 'service'; cluster: string; serviceName: string }
  | { kind: 'capacity-provider'; name: string };

/** TagResource and friends take only full ARNs. */
export function parseResourceArn(arn: string): ResourceRef {
  const m = ARN_PREFIX.exec(arn);
  if (!m) throw new InvalidParameterException(`Invalid ARN: ${arn}`);
  const res = m[3];
  let r: RegExpExecArray | null;
  if ((r = /^cluster\/([a-zA-Z0-9_-]+)$/.exec(res))) return { kind: 'cluster', cluster: r[1] };
  if ((r = /^task-definition\/([a-zA-Z0-9_-]+):([1-9]\d*)$/.exec(res))) {
    return { kind: 'task-definition', family: r[1], revision: Number(r[2]) };
  }
  if ((r = /^task\/([a-zA-Z0-9_-]+)\/([a-f0-9]{32})$/.exec(res))) {
    return { kind: 'task', cluster: r[1], taskId: r[2] };
  }
  if ((r = /^service\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)$/.exec(res))) {
    return { kind: 'service', cluster: r[1], serviceName: r[2] };
  }
  if ((r = /^capacity-provider\/([a-zA-Z0-9_-]+)$/.exec(res))) return { kind: 'capacity-provider', name: r[1] };
  throw new InvalidParameterException(`Unsupported resource type in ARN: ${arn}`);
}
