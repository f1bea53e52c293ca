import { ECSClient } from '@aws-sdk/client-ecs';
import { type LocalBerth, localBerth } from '../../local/berth';
import { createTables, startDynalite } from '../../local/dynalite';
import { serve } from '../../local/server';
import type { BerthConfig } from '../../shared/context';
import { createApiHandler } from '../../shared/ecs-api/handler';

export interface Harness {
  berth: LocalBerth;
  dynamoEndpoint: string;
  url: string;
  ecs: ECSClient;
  workflowErrors: unknown[];
  close(): Promise<void>;
}

/** dynalite on a free port, Berth's tables, and the ECS API served on another free port. */
export interface HarnessOptions {
  config?: Partial<BerthConfig>;
  /** TimeoutSeconds per Task state, instead of the ASL's minutes. */
  timeoutSeconds?: Record<string, number>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  const workflowErrors: unknown[] = [];
  const berth = localBerth({
    dynamoEndpoint: dynamo.endpoint,
    config: { placementRetrySeconds: 1, ...options.config },
    workflows: { onError: (_w, _n, e) => workflowErrors.push(e), timeoutSeconds: options.timeoutSeconds },
  });
  const server = await serve({ 'POST /': createApiHandler(() => berth, { log: process.env.BERTH_TEST_LOG ? (l) => console.log(JSON.stringify(l)) : () => {} }) });
  const ecs = new ECSClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
  return {
    berth,
    dynamoEndpoint: dynamo.endpoint,
    url: server.url,
    ecs,
    workflowErrors,
    async close() {
      ecs.destroy();
      berth.workflows.close();
      await server.close();
      await dynamo.close();
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs` with what it last saw. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
