import { Agent } from './agent';
import { agentAwsConfig } from './aws';
import { AgentClient } from './client';
import { type AgentConfig, agentConfigFromEnvironment } from './config';
import { ImdsClient } from './identity/imds';
import { startAgentMetrics } from './metrics/agent-metrics';
import { DockerStatsSource } from './metrics/docker-stats-source';
import { LABELS } from './runtime/container-runtime';
import { DockerRuntime } from './runtime/docker-runtime';
import { DEFAULT_PAUSE } from './task-namespaces';
import { TaskEndpoints } from './task-endpoint/server';
import { taskRoleCredentialsSource } from './task-endpoint/task-role-credentials';
import { ExecutionRoles } from './identity/execution-roles';
import { lazySts, stsAssumeRole } from './identity/sts-assume-role';
import { join } from 'node:path';
import { HostEfsMounts } from './efs/host-efs-mounts';
import { SqsHostWake } from './host-wake';
import { ServiceConnectProxy } from './service-connect-proxy';
import { LocalEfsMounts } from './efs/local-efs-mounts';
import { isMainThread, parentPort } from 'node:worker_threads';
import { AGENT_STOP } from './local-thread';

/**
 * The agent as a process of its own, configured by its environment (agent/config.ts lists and
 * checks every variable): BERTH_ENDPOINT (the control plane), BERTH_HOST_ID, the host's capacity,
 * its Docker socket, its policy, how it proves itself at its first registration
 * (BERTH_BOOTSTRAP_TOKEN, or BERTH_IMDS_ENDPOINT on EC2), and its metrics. The local mode runs
 * the same bundle in a worker thread (local/fleet.ts), with an environment of its own, asked to
 * stop by a message (AGENT_STOP) instead of a signal; there process.exit ends the thread alone.
 */
/** How long a stopping agent may spend removing its ready namespaces. */
const STOP_GRACE_MS = 5_000;

function main() {
  let config: AgentConfig;
  try {
    config = agentConfigFromEnvironment(process.env);
  } catch (e) {
    console.error(`berth-agent: bad configuration:\n${e instanceof Error ? e.message : e}`);
    process.exit(2);
  }
  const { hostId } = config;
  const log = (m: string) => console.log(`[${hostId}] ${m}`);
  // It signs for its control plane's region (AWS_REGION), which refuses any other.
  const client = new AgentClient(config.endpoint, hostId, config.aws.region, {
    bootstrapToken: config.bootstrapToken,
    credentialsFile: config.credentialsFile,
    // On EC2 (the user data sets BERTH_IMDS_ENDPOINT), the signed instance identity document.
    instanceIdentity: config.imdsEndpoint ? () => new ImdsClient(config.imdsEndpoint).instanceIdentity() : undefined,
    address: config.hostAddress,
  });
  // On EC2 the host runs its own Service Connect proxy; locally the local load balancer's HAProxy is it.
  const proxy = config.serviceConnectProxyDir === undefined ? undefined
    : new ServiceConnectProxy({ endpoints: () => client.serviceConnectEndpoints(), dir: config.serviceConnectProxyDir, log });
  const aws = agentAwsConfig(client, config.aws);
  const runtime = new DockerRuntime({
    socketPath: config.dockerSocket, log, metadataAddress: config.metadataAddress,
    labels: config.localInstance ? { [LABELS.instance]: config.localInstance } : undefined,
  });
  const stats = new DockerStatsSource({ socketPath: config.dockerSocket });
  const agent = new Agent({
    client,
    aws,
    runtime,
    cpu: config.cpu,
    memory: config.memory,
    logDir: config.logDir,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    // On AWS the control plane names the host's wake queue, and the agent waits there, not in a held poll.
    wake: new SqsHostWake(aws),
    log,
    allowedCapabilities: config.allowedCapabilities,
    pause: { image: config.pauseImage, command: DEFAULT_PAUSE.command },
    namespacePoolSize: config.namespacePoolSize,
    namespaceBurstPoolSize: config.namespaceBurstPoolSize,
    imagePullBehavior: config.imagePullBehavior,
    hostPorts: config.hostPorts,
    taskPidsLimit: config.taskPidsLimit,
    taskLimits: config.taskLimits,
    // Locally a directory of the local mode stands in for each file system; on EC2 the mount helper mounts EFS.
    efs: config.localInstance ? new LocalEfsMounts(join(config.localInstance, 'efs')) : new HostEfsMounts(),
    // On AWS, each task's execution role; locally the host key serves, limited to the host's own tasks.
    executionRoles: config.aws.endpoint ? undefined : new ExecutionRoles({
      assumeRole: stsAssumeRole(lazySts(config.aws.region)), hostId, now: Date.now,
    }),
    endpoint: {
      endpoints: new TaskEndpoints({ awsEndpoint: config.aws.endpoint, log }),
      region: config.aws.region,
      credentials: taskRoleCredentialsSource(client, config.aws),
      stats: (runtimeId) => stats.raw(runtimeId),
    },
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Containers keep running: a restarted agent adopts them. Its ready namespaces go, if quickly.
    const exit = () => process.exit(0);
    setTimeout(exit, STOP_GRACE_MS).unref();
    Promise.all([agent.stop(), proxy?.stop()]).catch((e) => log(`stopping: ${e}`)).finally(exit);
  };
  if (isMainThread) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    // Not a reason to keep the thread alive: a stopped agent exits by itself.
    parentPort?.on('message', (m) => m === AGENT_STOP && stop()).unref();
  }
  // Started by the local mode as a process: go when it goes, even when it was killed without a
  // word. (A thread goes with its process.)
  if (config.exitWithParent && isMainThread) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop();
    }, 500).unref();
  }
  agent.start().then(() => {
    proxy?.start();
    startAgentMetrics({
      config: config.metrics, client, aws, runtime, log,
      stats,
      tasks: () => agent.tasks(),
    });
  }).catch((e) => {
    console.error(`[${hostId}] failed to start: ${e}`);
    process.exit(1);
  });
}

main();
