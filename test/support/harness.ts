import { ECSClient } from '@aws-sdk/client-ecs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';
import { type LocalBerth, localBerth } from '../../local/berth';
import { createTables, startDynalite } from '../../local/dynalite';
import { serve } from '../../local/server';
import type { BerthConfig } from '../../shared/context';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { createAgentApiHandler } from '../../shared/agent-api/handler';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { type ServedRegions, ownRegionOnly } from '../../shared/auth/regions';
import { LocalRegions, regionTablePrefix, regionTables } from '../../local/regions';

const HOME = 'us-east-1';

/** One request and its response as they crossed the wire, for conformance checks. */
export interface Exchange {
  operation: string;
  status: number;
  body: unknown;
}

/** The key every test client signs with; the harness registers it. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

export interface Harness {
  credentials: typeof TEST_CREDENTIALS;
  /** Every ECS API exchange so far, in order. */
  exchanges: Exchange[];
  berth: LocalBerth;
  dynamoEndpoint: string;
  url: string;
  ecs: ECSClient;
  workflowErrors: unknown[];
  /** The regions the API serves besides us-east-1 (`regions` option): each started at its first call. */
  regions: LocalRegions<{ berth: LocalBerth }>;
  close(): Promise<void>;
}

/** dynalite on a free port, Berth's tables, and the ECS API served on another free port. */
export interface HarnessOptions {
  config?: Partial<BerthConfig>;
  /** TimeoutSeconds per Task state, instead of the ASL's minutes. */
  timeoutSeconds?: Record<string, number>;
  /** The control plane's clock, for tests that move time instead of waiting. */
  now?: () => number;
  /** Which regions the API serves besides us-east-1 (each with its own tables), as the local mode's BERTH_REGIONS. */
  regions?: ServedRegions;
}

type JsonHandler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

/** The handler, with every exchange it answers pushed onto `exchanges`, for conformance checks. */
export function recording(handler: JsonHandler, exchanges: Exchange[]): JsonHandler {
  return async (event, context) => {
    const response = await handler(event, context);
    const target = event.headers['x-amz-target'] ?? '';
    exchanges.push({ operation: target.split('.').pop() ?? '', status: response.statusCode ?? 200, body: JSON.parse(response.body ?? 'null') });
    return response;
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dynamo = await startDynalite();
  await createTables(dynamo.endpoint);
  const workflowErrors: unknown[] = [];
  const berth = localBerth({
    dynamoEndpoint: dynamo.endpoint,
    config: { placementRetrySeconds: 1, openHostRegistration: true, ...options.config },
    workflows: { onError: (_w, _n, e) => workflowErrors.push(e), timeoutSeconds: options.timeoutSeconds },
    now: options.now,
  });
  await adoptAccessKey(berth, TEST_CREDENTIALS);
  const others: LocalBerth[] = [];
  const regions = new LocalRegions(HOME, berth, options.regions ?? [HOME], async (region) => {
    await createTables(dynamo.endpoint, regionTablePrefix(region, HOME));
    const b = localBerth({
      dynamoEndpoint: dynamo.endpoint,
      tables: regionTables(region, HOME),
      partition: { ...berth.partition, region },
      config: berth.config,
      workflows: { onError: (_w, _n, e) => workflowErrors.push(e), timeoutSeconds: options.timeoutSeconds },
      now: options.now,
    });
    others.push(b);
    return { berth: b };
  });
  const api = createApiHandler(regions.berthFor, { log: process.env.BERTH_TEST_LOG ? (l) => console.log(JSON.stringify(l)) : () => {} });
  const exchanges: Exchange[] = [];
  const server = await serve({
    'POST /': recording(api, exchanges),
    // As a deployed stack's: hosts sign for the control plane's region, and another is refused.
    'POST /agent': createAgentApiHandler(ownRegionOnly(() => berth), { log: () => {} }),
  });
  const ecs = new ECSClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
  return {
    credentials: TEST_CREDENTIALS,
    exchanges,
    berth,
    dynamoEndpoint: dynamo.endpoint,
    url: server.url,
    ecs,
    workflowErrors,
    regions,
    async close() {
      ecs.destroy();
      berth.workflows.close();
      for (const b of others) b.workflows.close();
      await server.close();
      await dynamo.close();
    },
  };
}

/** Every item of every Berth table, for "changed nothing" checks. */
export async function storeSnapshot(h: Harness): Promise<Record<string, unknown[]>> {
  const db = createDocumentClient({ endpoint: h.dynamoEndpoint });
  const names = tableNames();
  const out: Record<string, unknown[]> = {};
  for (const [key, table] of Object.entries(names)) {
    const r = await db.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    // A launch waiting for room renews its wake token (the demand's capacityToken) at every retry:
    // background churn, not a change of the request under test, so it is left out.
    const items = key === 'demand' ? (r.Items ?? []).map(({ capacityToken: _renewed, ...rest }) => rest) : (r.Items ?? []);
    out[key] = items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  db.destroy();
  return out;
}

/**
 * A snapshot taken once background work (launch workflows placing tasks) has settled: two
 * reads in a row agree. A request that must change nothing is judged against this.
 */
export async function settledSnapshot(h: Harness): Promise<Record<string, unknown[]>> {
  let last = await storeSnapshot(h);
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const next = await storeSnapshot(h);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  throw new Error('The store never settled');
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
