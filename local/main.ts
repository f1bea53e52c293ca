import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { recoverInFlight } from '../shared/lifecycle/recovery';
import { createApiHandler } from '../shared/ecs-api/handler';
import { localBerth } from './berth';
import { createTables, startDynalite } from './dynalite';
import { serve } from './server';

/**
 * `npm start`: the control plane on one machine. dynalite keeps its state under BERTH_DATA_DIR,
 * the ECS API listens on BERTH_PORT, and the lifecycle workflows run in process.
 */
async function main() {
  const dataDir = process.env.BERTH_DATA_DIR ?? join(homedir(), '.berth');
  const port = Number(process.env.BERTH_PORT ?? 4566);
  mkdirSync(join(dataDir, 'dynamodb'), { recursive: true });

  console.log(`berth: starting DynamoDB (dynalite) with its data in ${join(dataDir, 'dynamodb')}`);
  const dynamo = await startDynalite({ path: join(dataDir, 'dynamodb') });
  await createTables(dynamo.endpoint);

  const berth = localBerth({
    dynamoEndpoint: dynamo.endpoint,
    workflows: { onError: (w, name, e) => console.error(`berth: ${w} workflow ${name} failed: ${String(e)}`) },
  });
  const quiet = process.env.BERTH_LOG_REQUESTS ? (l: object) => console.log(JSON.stringify(l)) : () => {};
  const server = await serve({ 'POST /': createApiHandler(() => berth, { log: quiet }) }, port);

  const recovered = await recoverInFlight(berth);
  if (recovered.launches + recovered.stops > 0) {
    console.log(`berth: resumed ${recovered.launches} launches and ${recovered.stops} stops from the store`);
  }

  const aws = `aws --endpoint-url ${server.url} --region us-east-1`;
  console.log(`
berth: the ECS API is up at ${server.url}
  credentials: any (export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)

  ${aws} ecs register-task-definition --family hello --requires-compatibilities FARGATE \\
      --network-mode awsvpc --cpu 256 --memory 512 \\
      --container-definitions '[{"name":"hello","image":"localhost/busybox:latest","command":["echo","hello"]}]'
  ${aws} ecs run-task --task-definition hello
  ${aws} ecs describe-tasks --tasks TASK_ARN

Ctrl-C stops Berth.`);

  const stop = async (signal: string) => {
    console.log(`berth: ${signal}, stopping`);
    berth.workflows.close();
    await server.close();
    await dynamo.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error('berth: failed to start:', e);
  process.exit(1);
});
