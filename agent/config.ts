import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_METRICS_INTERVAL_MS, DEFAULT_METRICS_LOG_GROUP } from '../shared/metrics/catalog';
import {
  type Environment, Variable, absolutePath, awsRegion, checked, flag, list, logGroupName, oneOf, readEnvironment, text, url, wholeNumber,
} from '../shared/config/variables';
import { readAllowedCapabilities } from './capability-policy';
import { PULL_BEHAVIORS, type PullBehavior } from './images/image-puller';
import type { AgentMetricsConfig } from './metrics/agent-metrics';
import { defaultDockerSocket } from './runtime/docker-runtime';
import { DEFAULT_BURST_POOL_SIZE, DEFAULT_PAUSE, DEFAULT_POOL_SIZE, type HostPortOptions } from './task-namespaces';
import { parsePortRange } from '../shared/domain/ports';
import { DEFAULT_TASK_PIDS_LIMIT, MAX_TASK_PIDS_LIMIT, MIN_TASK_PIDS_LIMIT } from './task-limits';

/** What an operator sets of the agent's policy; the local mode checks them at its own start. */
export const AGENT_POLICY_VARIABLES = {
  BERTH_ALLOWED_CAPABILITIES: list(
    'comma-separated Linux capability names (e.g. SYS_PTRACE,NET_ADMIN), ALL for any, or empty for none',
    /^[A-Za-z_]+$/,
  ).keepEmpty(),
  BERTH_PAUSE_IMAGE: text('an image reference, e.g. localhost/busybox:latest', /^[A-Za-z0-9][\w.\-/:@]*$/).default(DEFAULT_PAUSE.image),
  BERTH_NAMESPACE_POOL_SIZE: wholeNumber(0, 64).default(DEFAULT_POOL_SIZE),
  /** What the pool grows to, at most, after a burst of launches (task-namespaces.ts). */
  BERTH_NAMESPACE_BURST_POOL_SIZE: wholeNumber(0, 64).default(DEFAULT_BURST_POOL_SIZE),
  /** Most processes a task may have at once, its containers together: a fork bomb stops there. */
  BERTH_TASK_PIDS_LIMIT: wholeNumber(MIN_TASK_PIDS_LIMIT, MAX_TASK_PIDS_LIMIT).default(DEFAULT_TASK_PIDS_LIMIT),
  /** Off only to measure what the hard limits cost (bench:launch): tasks then run unbounded. */
  BERTH_TASK_LIMITS: flag().default(true),
  /** The ECS agent's ECS_IMAGE_PULL_BEHAVIOR (see images/image-puller.ts). */
  BERTH_IMAGE_PULL_BEHAVIOR: oneOf(PULL_BEHAVIORS).default('default'),
  BERTH_METRICS_LOG_GROUP: new Variable<string>(
    'a CloudWatch Logs group name, or empty for no EMF records',
    (s) => (s === '' ? '' : logGroupName().parse(s)),
  ).keepEmpty(),
};

/** Every variable the agent reads. The local mode passes these, and only these, on to its agents. */
export const AGENT_VARIABLES = {
  ...AGENT_POLICY_VARIABLES,
  BERTH_ENDPOINT: url().required(),
  BERTH_HOST_ID: text('a host id: 1 to 128 letters, digits, dots, dashes or underscores', /^[A-Za-z0-9_.-]{1,128}$/).required(),
  BERTH_HOST_CPU: wholeNumber(1, 1_048_576),
  BERTH_HOST_MEMORY: wholeNumber(1, 16_777_216),
  BERTH_DOCKER_SOCKET: absolutePath(),
  BERTH_DATA_DIR: absolutePath(),
  BERTH_BOOTSTRAP_TOKEN: text('a bootstrap token: 1 to 256 base64url characters', /^[A-Za-z0-9_-]{1,256}$/),
  BERTH_IMDS_ENDPOINT: url(),
  BERTH_HEARTBEAT_INTERVAL_MS: wholeNumber(100, 600_000),
  BERTH_EXIT_WITH_PARENT: flag().default(false),
  BERTH_AWS_ENDPOINT: url(),
  AWS_REGION: awsRegion(),
  AWS_DEFAULT_REGION: awsRegion(),
  BERTH_METRICS_INTERVAL_MS: wholeNumber(100, 3_600_000).default(DEFAULT_METRICS_INTERVAL_MS),
  BERTH_METRICS_REPORT: flag().default(false),
  BERTH_HOST_PORT_BIND_IP: text('an IPv4 address, e.g. 127.0.0.1', /^\d{1,3}(\.\d{1,3}){3}$/),
  /** The metadata service task networks may not reach (EC2's by default; tests point it at a fake of their own). */
  BERTH_METADATA_ADDRESS: text('an IPv4 address, e.g. 169.254.169.254', /^\d{1,3}(\.\d{1,3}){3}$/),
  BERTH_HOST_PORT_RANGE: checked('a port range FROM-TO within 1-65535, e.g. 49153-65535', (s) => parsePortRange(s)!),
  /** A local mode's data directory: everything its hosts make is labelled with it (LABELS.instance). */
  BERTH_LOCAL_INSTANCE: absolutePath(),
  /** Where other hosts reach this one's published ports: its private IPv4 on EC2 (the user data reads it from IMDS). */
  BERTH_HOST_ADDRESS: text('an IPv4 address, e.g. 10.0.1.23', /^\d{1,3}(\.\d{1,3}){3}$/),
  /** Run this host's own Service Connect proxy (HAProxy), as on EC2; locally the local load balancer's HAProxy is the proxy. */
  BERTH_SERVICE_CONNECT_PROXY: flag().default(false),
};

export interface AgentConfig {
  endpoint: string;
  hostId: string;
  /** CPU units (1024 a vCPU) and MiB this host registers: this machine's unless set. */
  cpu: number;
  memory: number;
  dockerSocket: string;
  /** Where the host keeps its key; container logs go under it when BERTH_DATA_DIR is set. */
  credentialsFile: string;
  logDir?: string;
  allowedCapabilities: string[];
  pauseImage: string;
  namespacePoolSize: number;
  namespaceBurstPoolSize: number;
  taskPidsLimit: number;
  taskLimits: boolean;
  imagePullBehavior: PullBehavior;
  hostPorts: HostPortOptions;
  metadataAddress?: string;
  localInstance?: string;
  hostAddress?: string;
  /** Where this host's own Service Connect proxy keeps its files; none without BERTH_SERVICE_CONNECT_PROXY. */
  serviceConnectProxyDir?: string;
  bootstrapToken?: string;
  imdsEndpoint?: string;
  heartbeatIntervalMs?: number;
  exitWithParent: boolean;
  aws: { region: string; endpoint?: string };
  metrics: AgentMetricsConfig;
}

/** The agent's configuration, checked: a bad variable throws a ConfigurationError that names it. */
export function agentConfigFromEnvironment(env: Environment): AgentConfig {
  const v = readEnvironment(AGENT_VARIABLES, env);
  const dataDir = v.BERTH_DATA_DIR;
  return {
    endpoint: v.BERTH_ENDPOINT,
    hostId: v.BERTH_HOST_ID,
    cpu: v.BERTH_HOST_CPU ?? cpus().length * 1024,
    memory: v.BERTH_HOST_MEMORY ?? Math.floor(totalmem() / 1024 / 1024),
    dockerSocket: v.BERTH_DOCKER_SOCKET ?? defaultDockerSocket(),
    credentialsFile: join(dataDir ?? '/var/lib/berth', 'hosts', `${v.BERTH_HOST_ID}.json`),
    logDir: dataDir === undefined ? undefined : join(dataDir, 'logs'),
    allowedCapabilities: readAllowedCapabilities(v.BERTH_ALLOWED_CAPABILITIES?.join(',')),
    pauseImage: v.BERTH_PAUSE_IMAGE,
    namespacePoolSize: v.BERTH_NAMESPACE_POOL_SIZE,
    namespaceBurstPoolSize: v.BERTH_NAMESPACE_BURST_POOL_SIZE,
    taskPidsLimit: v.BERTH_TASK_PIDS_LIMIT,
    taskLimits: v.BERTH_TASK_LIMITS,
    imagePullBehavior: v.BERTH_IMAGE_PULL_BEHAVIOR,
    hostPorts: { bindIP: v.BERTH_HOST_PORT_BIND_IP, range: v.BERTH_HOST_PORT_RANGE },
    metadataAddress: v.BERTH_METADATA_ADDRESS,
    localInstance: v.BERTH_LOCAL_INSTANCE,
    hostAddress: v.BERTH_HOST_ADDRESS,
    serviceConnectProxyDir: v.BERTH_SERVICE_CONNECT_PROXY ? join(dataDir ?? '/var/lib/berth', 'service-connect') : undefined,
    bootstrapToken: v.BERTH_BOOTSTRAP_TOKEN,
    imdsEndpoint: v.BERTH_IMDS_ENDPOINT,
    heartbeatIntervalMs: v.BERTH_HEARTBEAT_INTERVAL_MS,
    exitWithParent: v.BERTH_EXIT_WITH_PARENT,
    aws: { region: v.AWS_REGION ?? v.AWS_DEFAULT_REGION ?? 'us-east-1', endpoint: v.BERTH_AWS_ENDPOINT },
    metrics: {
      intervalMs: v.BERTH_METRICS_INTERVAL_MS,
      logGroupName: v.BERTH_METRICS_LOG_GROUP === undefined ? DEFAULT_METRICS_LOG_GROUP : v.BERTH_METRICS_LOG_GROUP || undefined,
      reportToControlPlane: v.BERTH_METRICS_REPORT,
    },
  };
}
