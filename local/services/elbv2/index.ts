import { join } from 'node:path';
import type { ApiHandlerOptions } from '../../../shared/aws-protocol/handler';
import { createQueryApiHandler } from '../../../shared/aws-protocol/query';
import type { Berth } from '../../../shared/context';
import { createDocumentClient } from '../../../shared/store/client';
import { ensureTables } from '../../dynalite';
import { LocalLoadBalancer } from './balancer';
import { ELBV2_VERSION, ELBV2_XMLNS, elbv2Operations } from './operations';
import { ELBV2_TABLE, Elbv2Store } from './store';

export interface LocalElbv2Options extends ApiHandlerOptions {
  dataDir: string;
  dynamoEndpoint: string;
  /** Where the local mode says what happens (HAProxy exiting). */
  say: (line: string) => void;
  /** Health checks run this much faster than their target groups say; for tests (default 1). */
  healthCheckTimeScale?: number;
}

/**
 * The local ELBv2: its table in dynalite, one HAProxy (its files in DATA_DIR/elbv2), and its
 * query-protocol handler (SigV4 service `elasticloadbalancing`) for the local endpoint's `POST /`.
 * `balancer` is the services' LoadBalancing port, and `balancer.requestCounts()` the target
 * groups' request counts.
 */
export async function startLocalElbv2(berth: Berth, o: LocalElbv2Options) {
  await ensureTables(o.dynamoEndpoint, [ELBV2_TABLE]);
  const store = new Elbv2Store(createDocumentClient({ endpoint: o.dynamoEndpoint }));
  const balancer = new LocalLoadBalancer(store, join(o.dataDir, 'elbv2'), berth.partition, () => berth.now(), o.say, o.healthCheckTimeScale);
  await balancer.start();
  const handler = createQueryApiHandler(() => berth, {
    version: ELBV2_VERSION,
    xmlns: ELBV2_XMLNS,
    operations: elbv2Operations(balancer),
    services: ['elasticloadbalancing'],
    principal: ['user', 'operator'],
  }, o);
  return { handler, balancer, close: () => balancer.close() };
}
