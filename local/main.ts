import { homedir } from 'node:os';
import { join } from 'node:path';
import { startLocal } from './runtime';

/**
 * `npm start`: Berth on one machine. State lives under BERTH_DATA_DIR (default ~/.berth), the
 * endpoint listens on BERTH_PORT (default 4566), and a warm pool of BERTH_LOCAL_HOSTS hosts
 * (default 2, of BERTH_HOST_TYPE, default c6i.large) runs real containers through podman; the
 * capacity manager adds hosts up to BERTH_MAX_HOSTS (default 10) when tasks are waiting. Published
 * host ports are bound to BERTH_HOST_PORT_BIND_IP (default 127.0.0.1), dynamic ones taken from
 * BERTH_HOST_PORT_RANGE (default 49153-65535).
 */
async function main() {
  // We run Node 20 on purpose (see README); the SDK's notice about Node 22 only adds noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const env = process.env;
  const num = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const local = await startLocal({
    dataDir: env.BERTH_DATA_DIR ?? join(homedir(), '.berth'),
    port: num('BERTH_PORT'),
    hosts: num('BERTH_LOCAL_HOSTS'),
    hostType: env.BERTH_HOST_TYPE,
    maxHosts: num('BERTH_MAX_HOSTS'),
    idleTimeoutSeconds: num('BERTH_IDLE_TIMEOUT_SECONDS'),
    market: env.BERTH_MARKET === 'spot' ? 'spot' : undefined,
    bootDelayMs: num('BERTH_BOOT_DELAY_MS'),
    metricsIntervalMs: num('BERTH_METRICS_INTERVAL_MS'),
    hostPortBindIP: env.BERTH_HOST_PORT_BIND_IP,
    hostPortRange: env.BERTH_HOST_PORT_RANGE,
    log: (line) => console.log(`berth: ${line}`),
    logRequests: Boolean(env.BERTH_LOG_REQUESTS),
    timeoutSeconds: stateTimeouts(env.BERTH_STATE_TIMEOUT_SECONDS),
    credentials: env.BERTH_ACCESS_KEY_ID && env.BERTH_SECRET_ACCESS_KEY
      ? { accessKeyId: env.BERTH_ACCESS_KEY_ID, secretAccessKey: env.BERTH_SECRET_ACCESS_KEY }
      : undefined,
  });

  const aws = `aws --endpoint-url ${local.url} --region us-east-1`;
  console.log(`
berth: ready. The ECS API is at ${local.url}
  credentials (requests are SigV4-checked):
  export AWS_ACCESS_KEY_ID=${local.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${local.credentials.secretAccessKey}

  ${aws} ecs register-task-definition --family hello --requires-compatibilities FARGATE \\
      --network-mode awsvpc --cpu 256 --memory 512 \\
      --container-definitions '[{"name":"hello","image":"localhost/busybox:latest","command":["sh","-c","echo hello from Berth; sleep 5"]}]'
  ${aws} ecs run-task --task-definition hello
  ${aws} ecs describe-tasks --tasks TASK_ARN

  or: npm run demo

Ctrl-C stops Berth.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`berth: ${signal}, stopping`);
    await local.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** `AwaitRunning=5,AwaitStopped=3`: shorter waits than the ASL's, for tests of the timeout paths. */
function stateTimeouts(text: string | undefined): Record<string, number> | undefined {
  if (!text) return undefined;
  return Object.fromEntries(text.split(',').map((pair) => {
    const [state, seconds] = pair.split('=');
    if (!state || !(Number(seconds) > 0)) throw new Error(`BERTH_STATE_TIMEOUT_SECONDS: not State=seconds: ${pair}`);
    return [state.trim(), Number(seconds)];
  }));
}

main().catch((e) => {
  console.error(`berth: failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
