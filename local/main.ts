import { ConfigurationError } from '../shared/config/variables';
import { type LocalConfig, localConfigFromEnvironment } from './config';
import { startLocal } from './runtime';

/**
 * `npm start`: Berth on one machine. State lives under BERTH_DATA_DIR (default ~/.berth), the
 * endpoint listens on BERTH_PORT (default 4566), and a warm pool of BERTH_LOCAL_HOSTS hosts
 * (default 2, of BERTH_HOST_TYPE, default c6i.large) runs real containers through podman; the
 * capacity manager adds hosts up to BERTH_MAX_HOSTS (default 10) when tasks are waiting.
 * Published host ports are bound to BERTH_HOST_PORT_BIND_IP (default 127.0.0.1), dynamic ones
 * taken from BERTH_HOST_PORT_RANGE (default 49153-65535). local/config.ts lists and checks every variable before anything starts.
 */
async function main() {
  // We run Node 20 on purpose (see README); the SDK's notice about Node 22 only adds noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let config: LocalConfig;
  try {
    config = localConfigFromEnvironment(process.env);
  } catch (e) {
    if (!(e instanceof ConfigurationError)) throw e;
    console.error(`berth: bad configuration, nothing started:\n${e.problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(2);
  }
  const local = await startLocal({ ...config, log: (line) => console.log(`berth: ${line}`) });

  const aws = `aws --endpoint-url ${local.url} --region ${local.berth.partition.region}`;
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
    console.log('berth: stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(`berth: failed to start: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
