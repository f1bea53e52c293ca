import { join } from 'node:path';
import type { ApiHandlerOptions, BerthFor } from '../../../shared/aws-protocol/handler';
import { createQueryApiHandler } from '../../../shared/aws-protocol/query';
import type { Berth } from '../../../shared/context';
import { documentClientFor, ensureTables } from '../../dynalite';
import { LocalLoadBalancer } from './balancer';
import { ELBV2_VERSION, ELBV2_XMLNS, elbv2Operations } from './operations';
import { ELBV2_TABLE, Elbv2Store } from './store';
import { LocalServiceConnect } from './service-connect';
import { regionalOperations, regionalTable } from '../regional';
import { regionDataDir } from '../../regions';

export interface LocalElbv2Options extends ApiHandlerOptions {
  dataDir: string;
  dynamoEndpoint: string;
  /** Where the local mode says what happens (HAProxy exiting). */
  say: (line: string) => void;
  /** Health checks run this much faster than their target groups say; for tests (default 1). */
  healthCheckTimeScale?: number;
  /** Which region's ELBv2 answers a call (the local mode's regions); the home one's (`berth`) when not given. */
  berthFor?: BerthFor;
}

/**
 * The local ELBv2, per region: its table in dynalite, one HAProxy (its files in the region's data
 * directory, `elbv2/`), and the query-protocol handler (SigV4 service `elasticloadbalancing`) for
 * the local endpoint's `POST /`. A region's balancer is its Berth's LoadBalancing port and the
 * engine of its Service Connect, so its services' tasks join only its own target groups;
 * `balancer` is the home region's, `balancerIn` a region's (started at its first use), and
 * `requestCounts()` on either gives its target groups' request counts.
 */
export async function startLocalElbv2(berth: Berth, o: LocalElbv2Options) {
  const db = documentClientFor(o.dynamoEndpoint);
  const home = berth.partition.region;
  const balancers = new Map<string, LocalLoadBalancer>();
  const { operations, inRegion } = await regionalOperations(berth, async (b, tablePrefix) => {
    const region = b.partition.region;
    const table = regionalTable(ELBV2_TABLE, tablePrefix);
    await ensureTables(o.dynamoEndpoint, [table]);
    const dir = join(regionDataDir(o.dataDir, region, home), 'elbv2');
    const balancer = new LocalLoadBalancer(new Elbv2Store(db, table.name), dir, b.partition, () => b.now(), o.say, o.healthCheckTimeScale);
    await balancer.start();
    balancers.set(region, balancer);
    b.loadBalancing = balancer;
    b.serviceConnect = new LocalServiceConnect(balancer);
    return elbv2Operations(balancer);
  });
  const handler = createQueryApiHandler(o.berthFor ?? (() => berth), {
    version: ELBV2_VERSION,
    xmlns: ELBV2_XMLNS,
    operations,
    services: ['elasticloadbalancing'],
    principal: ['user', 'operator'],
  }, o);
  const balancerIn = async (b: Berth) => {
    await inRegion(b);
    return balancers.get(b.partition.region)!;
  };
  return { handler, balancer: balancers.get(home)!, balancerIn, close: () => Promise.all([...balancers.values()].map((b) => b.close())) };
}
