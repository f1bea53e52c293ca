import { CloudWatchLogsEmfSink } from '../../shared/metrics/cloudwatch-logs-emf-sink';
import { type MetricsLoop, startMetricsLoop } from '../../shared/metrics/metrics-loop';
import { FanOutSink } from '../../shared/metrics/sink';
import type { AwsClientConfig } from '../aws';
import type { AgentClient } from '../client';
import { LazyClient } from '../lazy-client';
import type { ContainerRuntime } from '../runtime/container-runtime';
import type { ContainerStatsSource } from './container-stats';
import { ControlPlaneMetricsSink } from './control-plane-sink';
import { type SampledTask, TaskSampler } from './task-sampler';

/**
 * How the agent's metrics are set up, from its environment (agent/config.ts): BERTH_METRICS_INTERVAL_MS
 * (default 10 s), BERTH_METRICS_LOG_GROUP (default /berth/metrics; empty: no EMF),
 * BERTH_METRICS_REPORT=1 (set by the local mode).
 */
export interface AgentMetricsConfig {
  intervalMs: number;
  /** The EMF log group; undefined: no EMF. */
  logGroupName?: string;
  /** Also report samples to the control plane (the local mode serves them at `/metrics`). */
  reportToControlPlane: boolean;
}

export interface AgentMetricsOptions {
  config: AgentMetricsConfig;
  client: AgentClient;
  aws: AwsClientConfig;
  runtime: Pick<ContainerRuntime, 'list'>;
  stats: ContainerStatsSource;
  tasks: () => SampledTask[];
  log?: (message: string) => void;
}

/** Samples this host's tasks every interval and publishes them as EMF and, locally, to the control plane. */
export function startAgentMetrics(o: AgentMetricsOptions): { loop: MetricsLoop; close(): Promise<void> } {
  const logs = o.config.logGroupName
    ? new LazyClient(
      () => import('@aws-sdk/client-cloudwatch-logs'),
      (sdk) => new sdk.CloudWatchLogsClient({ region: o.aws.region, endpoint: o.aws.endpoint, credentials: o.aws.credentials, maxAttempts: 2 }),
    )
    : undefined;
  const sink = new FanOutSink(
    logs && new CloudWatchLogsEmfSink({ client: logs, logGroupName: o.config.logGroupName!, logStreamName: `agent/${o.client.hostId}` }),
    o.config.reportToControlPlane ? new ControlPlaneMetricsSink(o.client) : undefined,
  );
  const sampler = new TaskSampler({ hostId: o.client.hostId, runtime: o.runtime, stats: o.stats, tasks: o.tasks });
  const loop = startMetricsLoop({ intervalMs: o.config.intervalMs, collect: () => sampler.sample(), sink, log: o.log });
  return {
    loop,
    async close() {
      await loop.stop();
      logs?.destroy();
    },
  };
}
