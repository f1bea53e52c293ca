import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAgentApiHandler } from '../shared/agent-api/handler';
import type { BerthConfig } from '../shared/context';
import { createApiHandler } from '../shared/ecs-api/handler';
import { recoverInFlight } from '../shared/lifecycle/recovery';
import type { LocalHostNotifier } from '../shared/cloud/local/local-host-notifier';
import { type LocalBerth, localBerth } from './berth';
import { type Dynalite, createTables, startDynalite } from './dynalite';
import { LocalFleet } from './fleet';
import { ensureBusyboxImage, ensurePodman, startPodmanService } from './podman';
import { serve } from './server';

export interface LocalOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** How many local hosts (agent processes) to start, and each one's capacity. */
  hosts: number;
  hostCpu: number;
  hostMemory: number;
  config?: Partial<BerthConfig>;
  /** TimeoutSeconds per workflow Task state, instead of the ASL's. */
  timeoutSeconds?: Record<string, number>;
  log: (line: string) => void;
  logRequests?: boolean;
}

export interface LocalBerthRuntime {
  url: string;
  berth: LocalBerth;
  fleet: LocalFleet;
  dockerSocket: string;
  podmanEnv: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/**
 * The whole of Berth on one machine: dynalite (on disk), the ECS and agent APIs on one
 * endpoint, the lifecycle workflows, podman's Docker-compatible API and a fleet of agents.
 */
export async function startLocal(o: LocalOptions): Promise<LocalBerthRuntime> {
  mkdirSync(join(o.dataDir, 'dynamodb'), { recursive: true });
  await ensurePodman(o.log);

  o.log(`starting DynamoDB (dynalite), data in ${join(o.dataDir, 'dynamodb')}`);
  const dynamo: Dynalite = await startDynalite({ path: join(o.dataDir, 'dynamodb') });
  await createTables(dynamo.endpoint);

  o.log('starting podman\'s Docker-compatible API service');
  const podman = await startPodmanService({ dataDir: o.dataDir, log: o.log });
  await ensureBusyboxImage({ env: podman.env, log: o.log });

  const berth = localBerth({
    dynamoEndpoint: dynamo.endpoint,
    config: o.config,
    workflows: {
      onError: (w, name, e) => o.log(`${w} workflow ${name} failed: ${String(e)}`),
      timeoutSeconds: o.timeoutSeconds,
    },
  });
  const requestLog = o.logRequests ? (l: object) => o.log(JSON.stringify(l)) : () => {};
  const server = await serve({
    'POST /': createApiHandler(() => berth, { log: requestLog }),
    'POST /agent': createAgentApiHandler(() => berth, { log: requestLog }),
  }, o.port);

  const recovered = await recoverInFlight(berth);
  if (recovered.launches + recovered.stops > 0) {
    o.log(`resumed ${recovered.launches} launch(es) and ${recovered.stops} stop(s) from the store`);
  }

  const fleet = new LocalFleet({
    endpoint: server.url,
    dockerSocket: podman.socketPath,
    dataDir: o.dataDir,
    env: { ...podman.env, BERTH_EXIT_WITH_PARENT: '1' },
    log: o.log,
  });
  o.log(`starting ${o.hosts} local host(s), ${o.hostCpu} CPU / ${o.hostMemory} MiB each`);
  for (let i = 1; i <= o.hosts; i++) fleet.start({ hostId: `local-${i}`, cpu: o.hostCpu, memory: o.hostMemory });

  return {
    url: server.url,
    berth,
    fleet,
    dockerSocket: podman.socketPath,
    podmanEnv: podman.env,
    async close() {
      await fleet.stopAll();
      berth.workflows.close();
      (berth.notifier as LocalHostNotifier).close();
      await server.close();
      await dynamo.close();
      await podman.stop();
    },
  };
}
