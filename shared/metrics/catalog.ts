import type { MetricUnit } from './metric-datum';

/** The CloudWatch namespace of every Berth metric. */
export const METRICS_NAMESPACE = 'Berth';
/** The log group EMF records go to; CloudWatch extracts the metrics from it. */
export const DEFAULT_METRICS_LOG_GROUP = '/berth/metrics';
/** How often the agent samples its tasks and the control plane counts its own. */
export const DEFAULT_METRICS_INTERVAL_MS = 10_000;

/** Dimension names, in CloudWatch's (and Container Insights') spelling. */
export const DIMENSIONS = {
  cluster: 'ClusterName',
  task: 'TaskId',
  host: 'HostId',
  lastStatus: 'LastStatus',
} as const;

export interface MetricDefinition {
  /** The CloudWatch metric name. */
  name: string;
  unit: MetricUnit;
  /** A gauge keeps its latest value; a summary accumulates every value (count and sum). */
  kind: 'gauge' | 'summary';
  /** The Prometheus family name, in Prometheus' base units. */
  prometheus: string;
  /** Multiplies the CloudWatch value into the Prometheus unit (MiB → bytes, ms → seconds). */
  prometheusScale?: number;
  help: string;
}

const MiB = 1024 * 1024;

/** Every metric Berth publishes. CloudWatch names are unique across the catalog. */
export const METRICS = {
  taskCpuUtilization: {
    name: 'CPUUtilization', unit: 'Percent', kind: 'gauge', prometheus: 'berth_task_cpu_utilization_percent',
    help: "A task's CPU use as a percentage of its reserved CPU units (1024 units = 1 vCPU).",
  },
  taskMemoryUtilized: {
    name: 'MemoryUtilized', unit: 'Megabytes', kind: 'gauge', prometheus: 'berth_task_memory_used_bytes', prometheusScale: MiB,
    help: "A task's memory in use (page cache not counted).",
  },
  taskMemoryUtilization: {
    name: 'MemoryUtilization', unit: 'Percent', kind: 'gauge', prometheus: 'berth_task_memory_utilization_percent',
    help: "A task's memory in use as a percentage of its reserved memory.",
  },
  hostCpuReserved: {
    name: 'CpuReserved', unit: 'None', kind: 'gauge', prometheus: 'berth_host_cpu_reserved_units',
    help: "CPU units reserved by tasks on a host.",
  },
  hostCpuRegistered: {
    name: 'CpuRegistered', unit: 'None', kind: 'gauge', prometheus: 'berth_host_cpu_registered_units',
    help: 'CPU units a host registered.',
  },
  hostMemoryReserved: {
    name: 'MemoryReserved', unit: 'Megabytes', kind: 'gauge', prometheus: 'berth_host_memory_reserved_bytes', prometheusScale: MiB,
    help: 'Memory reserved by tasks on a host.',
  },
  hostMemoryRegistered: {
    name: 'MemoryRegistered', unit: 'Megabytes', kind: 'gauge', prometheus: 'berth_host_memory_registered_bytes', prometheusScale: MiB,
    help: 'Memory a host registered.',
  },
  hostCpuReservation: {
    name: 'CPUReservation', unit: 'Percent', kind: 'gauge', prometheus: 'berth_host_cpu_reservation_percent',
    help: "A host's reserved CPU units as a percentage of its registered ones.",
  },
  hostMemoryReservation: {
    name: 'MemoryReservation', unit: 'Percent', kind: 'gauge', prometheus: 'berth_host_memory_reservation_percent',
    help: "A host's reserved memory as a percentage of its registered memory.",
  },
  taskCount: {
    name: 'TaskCount', unit: 'Count', kind: 'gauge', prometheus: 'berth_tasks',
    help: 'Tasks in a cluster, by lastStatus.',
  },
  pendingPlacements: {
    name: 'PendingPlacements', unit: 'Count', kind: 'gauge', prometheus: 'berth_pending_placements',
    help: 'Tasks waiting for room on a host.',
  },
  launchLatency: {
    name: 'RunTaskToRunningLatency', unit: 'Milliseconds', kind: 'summary', prometheus: 'berth_run_task_to_running_seconds', prometheusScale: 0.001,
    help: "From RunTask (createdAt) to RUNNING (startedAt), per launched task.",
  },
  launchesPerMinute: {
    name: 'LaunchesPerMinute', unit: 'Count', kind: 'gauge', prometheus: 'berth_launches_per_minute',
    help: 'Tasks that reached RUNNING in the last 60 seconds.',
  },
  // EventBridge Scheduler's own metric names, per schedule group.
  scheduleTargetErrors: {
    name: 'TargetErrorCount', unit: 'Count', kind: 'summary', prometheus: 'berth_schedule_target_errors',
    help: "A schedule's RunTask that failed (each attempt, retries included).",
  },
  scheduleInvocationsDropped: {
    name: 'InvocationDroppedCount', unit: 'Count', kind: 'summary', prometheus: 'berth_schedule_invocations_dropped',
    help: "A schedule's due time given up on once its RetryPolicy was spent.",
  },
  scheduleDeadLettersSent: {
    name: 'InvocationsSentToDeadLetterCount', unit: 'Count', kind: 'summary', prometheus: 'berth_schedule_dead_letters_sent',
    help: "A dropped due time sent to its schedule's dead-letter queue.",
  },
  scheduleDeadLettersFailed: {
    name: 'InvocationsFailedToBeSentToDeadLetterCount', unit: 'Count', kind: 'summary', prometheus: 'berth_schedule_dead_letters_failed',
    help: "A dropped due time that its schedule's dead-letter queue did not take (missing, or refused).",
  },
} as const satisfies Record<string, MetricDefinition>;

export const METRIC_BY_NAME: ReadonlyMap<string, MetricDefinition> = new Map(
  Object.values(METRICS).map((m): [string, MetricDefinition] => [m.name, m]),
);

/** What an agent may report about its tasks; everything else is the control plane's to say. */
export const AGENT_METRICS: readonly MetricDefinition[] = [
  METRICS.taskCpuUtilization, METRICS.taskMemoryUtilized, METRICS.taskMemoryUtilization,
];
