import type { BerthFor } from '../aws-protocol/handler';
import { AWS_REGION_PATTERN } from '../config/variables';
import type { Berth } from '../context';
import { InvalidSignatureException } from './errors';

/**
 * A call signed for a region this endpoint does not serve, answered as AWS answers a signature
 * scoped to another region than the endpoint's (HTTP 403).
 */
export class RegionNotServedException extends InvalidSignatureException {
  override readonly statusCode = 403;
  constructor(readonly region: string) {
    super(`Credential should be scoped to a valid region, not '${region}'. `);
  }
}

/** Which regions an endpoint answers: all that look like one (the local mode's default), or a list. */
export type ServedRegions = 'any' | readonly string[];

/** The region a call is served in: its signature's, when served; the home region for an unsigned call. */
export function servedRegion(scope: { region?: string } | undefined, home: string, served: ServedRegions): string {
  const region = scope?.region;
  if (region === undefined || region === home) return home;
  const ok = served === 'any' ? AWS_REGION_PATTERN.test(region) : served.includes(region);
  if (!ok) throw new RegionNotServedException(region);
  return region;
}

/** A deployed stack serves its own region only: the Berth its functions build, behind that check. */
export const ownRegionOnly = (berth: () => Berth): BerthFor => (scope) => {
  const b = berth();
  servedRegion(scope, b.partition.region, [b.partition.region]);
  return b;
};
