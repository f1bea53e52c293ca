import type { ProxiedEndpoint } from '../haproxy/config';
import type { DesiredStatus, TaskStatus } from '../domain/task';
import type { ContainerDefinition } from '../domain/task-definition';
import type { TaskVolume } from '../domain/volumes';

/** What an agent needs to run (or stop) one task: its containers with the overrides applied. */
export interface Assignment {
  cluster: string;
  taskId: string;
  taskArn: string;
  /** Its definition's family and revision: the task metadata endpoint and ECS's labels show them. */
  family: string;
  revision: number;
  /** The role its containers get credentials for (AWS_CONTAINER_CREDENTIALS_FULL_URI); none without one. */
  taskRoleArn?: string;
  /** The role the agent pulls its images, reads its secrets and ships its logs with (on AWS); the host's own without one. */
  executionRoleArn?: string;
  /** Its host's zone, when the host has one (EC2). */
  availabilityZone?: string;
  desiredStatus: DesiredStatus;
  lastStatus: TaskStatus;
  createdAt: number;
  cpu: number;
  memory: number;
  /** The definition's network mode: whether the agent publishes its ports on the host (ports.ts). */
  networkMode?: string;
  containers: ContainerDefinition[];
  /** The definition's volumes, which its containers' mountPoints name. */
  volumes?: TaskVolume[];
  /** The definition's ephemeralStorage, in GiB. */
  ephemeralStorageGiB?: number;
  /** The Service Connect endpoints of its service's namespace, as they were when it was started. */
  serviceConnect?: ServiceConnectRoute[];
}

/**
 * One Service Connect endpoint as a task reaches it: `dnsName:port` inside the task leads to
 * `proxyPort` of the host's proxy, which balances over the publishing service's healthy tasks.
 */
export interface ServiceConnectRoute {
  dnsName: string;
  port: number;
  proxyPort: number;
}

/** What the agent already knows: each task's desired status. */
export type KnownAssignments = Record<string, DesiredStatus>;

export interface HostCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An image warm hosts pull ahead of any task, with what its pull needs: the login, and the role that reads it. */
export interface PrePullImage {
  image: string;
  repositoryCredentials?: { credentialsParameter: string };
  executionRoleArn?: string;
}

export interface RegisterHostResponse {
  hostId: string;
  status: string;
  heartbeatIntervalSeconds: number;
  /** The host's own key: only in the answer to its first registration. */
  credentials?: HostCredentials;
  /** Images to pull before a task needs them (see shared/lifecycle/pre-pull.ts). */
  prePull?: PrePullImage[];
}

export interface HeartbeatResponse {
  prePull?: PrePullImage[];
}

export interface PollAssignmentsResponse {
  /** Absent when the host's version is still the one the agent sent: nothing changed. */
  tasks?: Assignment[];
  /** The host's version this answer stands for: the agent sends it with its next poll. */
  version?: number;
  /** On AWS, the host's SQS wake queue: the agent waits there between polls (agent/host-wake.ts) rather than in a held poll. */
  wakeQueueUrl?: string;
}

export interface ReportTaskStateResponse {
  applied: boolean;
  lastStatus: TaskStatus;
  desiredStatus: DesiredStatus;
}

/** A task role's credentials: locally a Berth key whose principal is the task, valid until `expiration` (epoch ms). */
/** Every Service Connect endpoint as a host's proxy serves it: its proxy port, and where the publishing service's tasks answer. */
export interface GetServiceConnectEndpointsResponse {
  endpoints: ProxiedEndpoint[];
}

export interface GetTaskCredentialsResponse {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
  roleArn: string;
}

export interface ReportMetricsResponse {
  accepted: number;
}
