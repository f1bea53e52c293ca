import { z } from 'zod';
import { HEALTH_STATUSES } from '../domain/health';
import { CONTAINER_STATUSES, STOP_CODES, TASK_STATUSES, TASK_TIMESTAMPS } from '../domain/task';
import { PROTOCOLS } from '../domain/ports';
import { MAX_CONTAINERS } from '../domain/task-definition';
import { IPV4, MAC } from '../domain/task-network';
import { IMAGE_DIGEST, MAX_IMAGE_LENGTH } from '../domain/image';
import { AGENT_METRICS, DIMENSIONS } from '../metrics/catalog';
import { EMF_LIMITS } from '../metrics/emf';
import { METRIC_UNITS } from '../metrics/metric-datum';
import { EPOCH_MS, MAX_DOCUMENT_LENGTH, MAX_POLL_WAIT_SECONDS, MAX_REPORTED_METRICS, MAX_SIGNATURE_LENGTH } from './constants';

/**
 * Every agent API request, member by member. The control plane parses each body with these
 * before anything reads it; the agent builds its bodies from the inferred types. Objects are
 * strict: a member the control plane does not know is refused, not stored.
 *
 * To carry something new in a report, add it here (as an optional member, so an agent of the
 * previous release still passes) and read it in `shared/lifecycle/reports.ts`.
 */

const INT32 = 2_147_483_647;
const string = (max: number) => z.string().min(1).max(max);
const port = z.number().int().min(1).max(65_535);
const epochMs = z.number().int().min(EPOCH_MS.min).max(EPOCH_MS.max);

/** Host ids: an EC2 instance id, or a local host's name. */
export const hostId = z.string().regex(/^[\x21-\x7e]{1,128}$/, 'Expected 1 to 128 printable characters without spaces');
const clusterName = z.string().regex(/^[a-zA-Z0-9_-]{1,255}$/, 'Expected a cluster name');
const taskId = z.string().regex(/^[a-f0-9]{32}$/, 'Expected a task id');
/** Container names as task definitions allow them. */
const containerName = z.string().regex(/^[a-zA-Z0-9_-]{1,255}$/, 'Expected a container name');

/** Every call may name its host; the control plane checks it against the signing key's. */
const fromHost = { hostId: hostId.optional() };

export const registerHostRequest = z.strictObject({
  hostId,
  cpu: z.number().int().min(1).max(INT32).optional(),
  memory: z.number().int().min(1).max(INT32).optional(),
  /** The machine's own architecture, as its agent sees it: placement trusts it over the instance type's. */
  cpuArchitecture: z.enum(['x86_64', 'arm64']).optional(),
  bootstrapToken: string(256).optional(),
  instanceIdentity: z.strictObject({
    document: string(MAX_DOCUMENT_LENGTH),
    signature: string(MAX_SIGNATURE_LENGTH),
  }).optional(),
});

export const heartbeatRequest = z.strictObject({ ...fromHost });

export const pollAssignmentsRequest = z.strictObject({
  ...fromHost,
  /** What the agent already knows: each task's desired status. */
  known: z.record(taskId, z.enum(['RUNNING', 'STOPPED'])).optional(),
  waitSeconds: z.number().int().min(0).max(MAX_POLL_WAIT_SECONDS).optional(),
});

/**
 * One container as the agent reports it. The control plane keeps only what the runtime
 * observed (status, exit code, reason, runtime id, health); the definition's members are
 * checked here and then taken from the task's own record, never from the report.
 */
export const containerReport = z.strictObject({
  name: containerName,
  lastStatus: z.enum(CONTAINER_STATUSES),
  exitCode: z.number().int().min(-INT32 - 1).max(INT32).optional(),
  reason: z.string().max(1024).optional(),
  runtimeId: string(255).optional(),
  imageDigest: z.string().max(MAX_IMAGE_LENGTH).regex(IMAGE_DIGEST, 'Expected a digest such as sha256:<64 hex digits>').optional(),
  image: string(255).optional(),
  essential: z.boolean().optional(),
  cpu: z.number().int().min(0).max(INT32).optional(),
  memory: z.number().int().min(0).max(INT32).optional(),
  memoryReservation: z.number().int().min(0).max(INT32).optional(),
  /** The ports the agent published for it (bridge mode), as ECS's networkBindings. */
  networkBindings: z.array(z.strictObject({
    bindIP: z.string().regex(IPV4, 'Expected an IPv4 address'),
    containerPort: port,
    hostPort: port,
    protocol: z.enum(PROTOCOLS),
  })).max(100).optional(),
  /** The container's health check's answer; absent while it has none (or the container has no check). */
  healthStatus: z.enum(HEALTH_STATUSES).optional(),
});

export const reportTaskStateRequest = z.strictObject({
  ...fromHost,
  task: z.strictObject({ cluster: clusterName, taskId }),
  lastStatus: z.enum(TASK_STATUSES),
  containers: z.array(containerReport).max(MAX_CONTAINERS).optional(),
  timestamps: z.strictObject(Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, epochMs.optional()])) as Record<(typeof TASK_TIMESTAMPS)[number], z.ZodOptional<typeof epochMs>>).optional(),
  stop: z.strictObject({ stopCode: z.enum(STOP_CODES), stoppedReason: z.string().max(1024).optional() }).optional(),
  seq: epochMs.optional(),
  /** The task's own address: its network namespace's IPv4 and MAC, shown as its ENI attachment. */
  network: z.strictObject({
    privateIPv4Address: z.string().regex(IPV4, 'Expected an IPv4 address'),
    macAddress: z.string().toLowerCase().regex(MAC, 'Expected a MAC address'),
  }).optional(),
});

/** The task role's credentials for one of the host's tasks, for its containers (agent/task-endpoint/). */
export const getTaskCredentialsRequest = z.strictObject({
  ...fromHost,
  task: z.strictObject({ cluster: clusterName, taskId }),
});

const dimensionValue = z.string().min(1).max(EMF_LIMITS.dimensionValueLength);
const metricNames = AGENT_METRICS.map((m) => m.name) as [string, ...string[]];

/** One task sample: only task metrics, in their own units, named by cluster and task. */
export const metricSample = z.strictObject({
  name: z.enum(metricNames),
  unit: z.enum(METRIC_UNITS),
  values: z.array(z.number().min(0).finite()).min(1).max(EMF_LIMITS.valuesPerMetric),
  dimensions: z.strictObject({ [DIMENSIONS.cluster]: dimensionValue, [DIMENSIONS.task]: dimensionValue }),
  /** The host is the one that signed, whatever is written here. */
  properties: z.strictObject({ [DIMENSIONS.host]: dimensionValue.optional() }).optional(),
  timestamp: epochMs,
}).superRefine((m, ctx) => {
  const unit = AGENT_METRICS.find((d) => d.name === m.name)!.unit;
  if (m.unit !== unit) ctx.addIssue({ code: 'custom', path: ['unit'], message: `${m.name} is in ${unit}` });
});

export const reportMetricsRequest = z.strictObject({
  ...fromHost,
  metrics: z.array(metricSample).max(MAX_REPORTED_METRICS),
});

/** Every agent operation's request, by operation name. */
export const AGENT_REQUESTS = {
  RegisterHost: registerHostRequest,
  Heartbeat: heartbeatRequest,
  PollAssignments: pollAssignmentsRequest,
  ReportTaskState: reportTaskStateRequest,
  ReportMetrics: reportMetricsRequest,
  GetTaskCredentials: getTaskCredentialsRequest,
} as const;

export type AgentOperation = keyof typeof AGENT_REQUESTS;
export type AgentRequest<O extends AgentOperation> = z.output<(typeof AGENT_REQUESTS)[O]>;

export type RegisterHostRequest = AgentRequest<'RegisterHost'>;
export type PollAssignmentsRequest = AgentRequest<'PollAssignments'>;
export type ReportTaskStateRequest = AgentRequest<'ReportTaskState'>;
export type ContainerReport = z.output<typeof containerReport>;
export type ReportMetricsRequest = AgentRequest<'ReportMetrics'>;
export type MetricSample = z.output<typeof metricSample>;
