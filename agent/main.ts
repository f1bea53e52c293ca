import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Agent } from './agent';
import { agentAwsConfig } from './aws';
import { readAllowedCapabilities } from './capability-policy';
import { AgentClient } from './client';
import { ImdsClient } from './identity/imds';
import { agentMetricsConfig, startAgentMetrics } from './metrics/agent-metrics';
import { DockerStatsSource } from './metrics/docker-stats-source';
import { DockerRuntime, defaultDockerSocket } from './runtime/docker-runtime';
import { DEFAULT_PAUSE, DEFAULT_POOL_SIZE } from './task-namespaces';
import { parsePortRange } from '../shared/domain/ports';

/**
 * The agent as a process of its own, configured by its environment:
 * BERTH_ENDPOINT (the control plane), BERTH_HOST_ID, BERTH_HOST_CPU and BERTH_HOST_MEMORY
 * (default: this machine's), BERTH_DOCKER_SOCKET, BERTH_DATA_DIR (container logs),
 * BERTH_ALLOWED_CAPABILITIES (comma-separated; default SYS_PTRACE), BERTH_PAUSE_IMAGE (default
 * localhost/busybox:latest), BERTH_NAMESPACE_POOL_SIZE (network namespaces kept ready; default 2);
 * published host ports: BERTH_HOST_PORT_BIND_IP (the address they are bound to; default 0.0.0.0)
 * and BERTH_HOST_PORT_RANGE (where dynamic ones come from; default 49153-65535, ECS's);
 * how the host proves itself at its first registration: BERTH_BOOTSTRAP_TOKEN, or
 * BERTH_IMDS_ENDPOINT (EC2's instance metadata service, for the signed instance identity
 * document); and for metrics BERTH_METRICS_INTERVAL_MS, BERTH_METRICS_LOG_GROUP and
 * BERTH_METRICS_REPORT (agent/metrics/agent-metrics.ts).
 */
/** How long a stopping agent may spend removing its ready namespaces. */
const STOP_GRACE_MS = 5_000;

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
  const runtime = new DockerRuntime({ socketPath: defaultDockerSocket(), log });
  const agent = new Agent({
    client,
    aws,
    runtime,
    cpu,
    memory,
    logDir: env.BERTH_DATA_DIR ? join(env.BERTH_DATA_DIR, 'logs') : undefined,
    heartbeatIntervalMs: env.BERTH_HEARTBEAT_INTERVAL_MS ? Number(env.BERTH_HEARTBEAT_INTERVAL_MS) : undefined,
    log,
    allowedCapabilities: readAllowedCapabilities(env.BERTH_ALLOWED_CAPABILITIES),
    pause: { image: env.BERTH_PAUSE_IMAGE ?? DEFAULT_PAUSE.image, command: DEFAULT_PAUSE.command },
    namespacePoolSize: env.BERTH_NAMESPACE_POOL_SIZE ? Number(env.BERTH_NAMESPACE_POOL_SIZE) : DEFAULT_POOL_SIZE,
    hostPorts: { bindIP: env.BERTH_HOST_PORT_BIND_IP || undefined, range: parsePortRange(env.BERTH_HOST_PORT_RANGE) },
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Containers keep running: a restarted agent adopts them. Its ready namespaces go, if quickly.
    const exit = () => process.exit(0);
    setTimeout(exit, STOP_GRACE_MS).unref();
    agent.stop().catch((e) => log(`stopping: ${e}`)).finally(exit);
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
