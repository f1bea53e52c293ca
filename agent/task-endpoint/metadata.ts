/**
 * The task metadata endpoint's answers (version 4, which version 3 clients read as well), in
 * ECS's JSON shapes: `${ECS_CONTAINER_METADATA_URI_V4}` describes the container that asks,
 * `/task` its task with every container, `/stats` and `/task/stats` the engine's stats. Pure:
 * the agent gathers a TaskView and these shape it.
 */

export interface ContainerView {
  name: string;
  /** The engine's id and name (DockerId, DockerName), once created. */
  runtimeId?: string;
  runtimeName: string;
  image: string;
  /** ECS's labels and the definition's dockerLabels; Berth's own are left out. */
  labels: Record<string, string>;
  status: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  cpu?: number;
  memory?: number;
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  logDriver?: string;
  logOptions?: Record<string, string>;
}

export interface TaskView {
  clusterArn: string;
  taskArn: string;
  family: string;
  revision: number;
  desiredStatus: string;
  lastStatus: string;
  /** The task's size: cpu units (1024 a vCPU) and MiB. */
  cpu: number;
  memory: number;
  pullStartedAt?: number;
  pullStoppedAt?: number;
  availabilityZone?: string;
  networkMode: string;
  /** The task's own address on its network, the subnet's prefix length and its gateway. */
  address?: { ipv4Address: string; macAddress: string; prefixLength?: number; gateway?: string };
  containers: ContainerView[];
}

const CPU_UNITS_PER_VCPU = 1024;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** ECS's known statuses of a container (its agent's words, not DescribeTasks'). */
function knownStatus(c: ContainerView): string {
  if (c.status === 'PENDING') return c.runtimeId ? 'CREATED' : 'NONE';
  return c.status;
}

/** Drops the members that are undefined, so the JSON carries only what is known. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The network (a subnet's first address with its prefix, as ECS shows IPv4SubnetCIDRBlock). */
function subnetOf(ip: string, prefixLength: number): string {
  const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - prefixLength);
  const base = n - (n % size);
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefixLength}`;
}

function networks(t: TaskView) {
  const a = t.address;
  if (!a) return undefined;
  return [defined({
    NetworkMode: t.networkMode,
    IPv4Addresses: [a.ipv4Address],
    AttachmentIndex: 0,
    MACAddress: a.macAddress,
    IPv4SubnetCIDRBlock: a.prefixLength === undefined ? undefined : subnetOf(a.ipv4Address, a.prefixLength),
    SubnetGatewayIpv4Address: a.gateway === undefined || a.prefixLength === undefined ? undefined : `${a.gateway}/${a.prefixLength}`,
  })];
}

/** One container, as `${ECS_CONTAINER_METADATA_URI_V4}` answers. */
export function containerMetadata(t: TaskView, c: ContainerView) {
  return defined({
    DockerId: c.runtimeId,
    Name: c.name,
    DockerName: c.runtimeName,
    Image: c.image,
    Labels: c.labels,
    DesiredStatus: t.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    KnownStatus: knownStatus(c),
    ExitCode: c.exitCode,
    Limits: defined({ CPU: c.cpu ?? 0, Memory: c.memory }),
    CreatedAt: iso(c.createdAt),
    StartedAt: iso(c.startedAt),
    FinishedAt: iso(c.finishedAt),
    Type: 'NORMAL',
    // arn:P:ecs:R:A:task/CLUSTER/ID → arn:P:ecs:R:A:container/CLUSTER/ID/NAME, as DescribeTasks shows it.
    ContainerARN: `${t.taskArn.replace(/:task\//, ':container/')}/${c.name}`,
    LogDriver: c.logDriver,
    LogOptions: c.logOptions,
    Networks: networks(t),
  });
}

/** The task with every container, as `${ECS_CONTAINER_METADATA_URI_V4}/task` answers. */
export function taskMetadata(t: TaskView) {
  return defined({
    Cluster: t.clusterArn,
    TaskARN: t.taskArn,
    Family: t.family,
    Revision: String(t.revision),
    DesiredStatus: t.desiredStatus,
    KnownStatus: t.lastStatus,
    Limits: { CPU: t.cpu / CPU_UNITS_PER_VCPU, Memory: t.memory },
    PullStartedAt: iso(t.pullStartedAt),
    PullStoppedAt: iso(t.pullStoppedAt),
    AvailabilityZone: t.availabilityZone,
    Containers: t.containers.map((c) => containerMetadata(t, c)),
  });
}

/** `/task/stats`: each created container's stats (the engine's answer, as Docker gives it) by its id. */
export function taskStats(stats: readonly { runtimeId: string; stats: object | undefined }[]): Record<string, object | null> {
  return Object.fromEntries(stats.map((s) => [s.runtimeId, s.stats ?? null]));
}
