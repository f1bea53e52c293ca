import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Agent } from './agent';
import { agentAwsConfig } from './aws';
import { AgentClient } from './client';
import { ImdsClient } from './identity/imds';
import { agentMetricsConfig, startAgentMetrics } from './metrics/agent-metrics';
import { DockerStatsSource } from './metrics/docker-stats-source';
import { DockerRuntime, defaultDockerSocket } from './runtime/docker-runtime';

/**
 * The agent as a process of its own, configured by its environment:
 * BERTH_ENDPOINT (the control plane), BERTH_HOST_ID, BERTH_HOST_CPU and BERTH_HOST_MEMORY
 * (default: this machine's), BERTH_DOCKER_SOCKET, BERTH_DATA_DIR (container logs); how the
 * host proves itself at its first registration: BERTH_BOOTSTRAP_TOKEN, or BERTH_IMDS_ENDPOINT
 * (EC2's instance metadata service, for the signed instance identity document); and for metrics
 * BERTH_METRICS_INTERVAL_MS, BERTH_METRICS_LOG_GROUP and BERTH_METRICS_REPORT (agent/metrics/agent-metrics.ts).
 */
function main() {
  const env = process.env;
  const endpoint = env.BERTH_ENDPOINT;
  const hostId = env.BERTH_HOST_ID;
  if (!endpoint || !hostId) {
    console.error('berth-agent: BERTH_ENDPOINT and BERTH_HOST_ID must be set');
    process.exit(2);
  }
  const cpu = Number(env.BERTH_HOST_CPU ?? cpus().length * 1024);
  const memory = Number(env.BERTH_HOST_MEMORY ?? Math.floor(totalmem() / 1024 / 1024));
  const log = (m: string) => console.log(`[${hostId}] ${m}`);
  const client = new AgentClient(endpoint, hostId, {
    bootstrapToken: env.BERTH_BOOTSTRAP_TOKEN,
    credentialsFile: join(env.BERTH_DATA_DIR ?? '/var/lib/berth', 'hosts', `${hostId}.json`),
    // On EC2 (the user data sets BERTH_IMDS_ENDPOINT), the signed instance identity document.
    instanceIdentity: env.BERTH_IMDS_ENDPOINT ? () => new ImdsClient(env.BERTH_IMDS_ENDPOINT).instanceIdentity() : undefined,
  });
  const aws = agentAwsConfig(client, env);
  const runtime = new DockerRuntime({ socketPath: defaultDockerSocket() });
  const agent = new Agent({
    client,
    aws,
    runtime,
    cpu,
    memory,
    logDir: env.BERTH_DATA_DIR ? join(env.BERTH_DATA_DIR, 'logs') : undefined,
    heartbeatIntervalMs: env.BERTH_HEARTBEAT_INTERVAL_MS ? Number(env.BERTH_HEARTBEAT_INTERVAL_MS) : undefined,
    log,
  });
  const stop = () => {
    // Containers keep running: a restarted agent adopts them.
    agent.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by the local mode: go when it goes, even when it was killed without a word.
  if (env.BERTH_EXIT_WITH_PARENT) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop();
    }, 500).unref();
  }
  agent.start().then(() => {
    startAgentMetrics({
      config: agentMetricsConfig(env), client, aws, runtime, log,
      stats: new DockerStatsSource({ socketPath: defaultDockerSocket() }),
      tasks: () => agent.tasks(),
    });
  }).catch((e) => {
    console.error(`[${hostId}] failed to start: ${e}`);
    process.exit(1);
  });
}

main();
