import type { ProviderHost } from '../cloud/fleet-provider';
import type { HostRecord, PendingLaunch } from '../store';
import { launchClientToken } from '../store';

/**
 * A host the provider runs and no host record tracks is left alone this long after its start:
 * EC2 lists an instance some seconds before the launch that started it is recorded, and its
 * own DescribeInstances is eventually consistent.
 */
export const DEFAULT_ORPHAN_GRACE_SECONDS = 300;

export interface OrphanView {
  /** What the provider runs, listed before `live` was read: a host recorded meanwhile is in `live`. */
  running: readonly ProviderHost[];
  /** The store's live hosts (LAUNCHING, ACTIVE, DRAINING). */
  live: readonly Pick<HostRecord, 'hostId' | 'instanceId'>[];
  /** Launches still in doubt: their hosts are recorded once the provider answers again. */
  pending: readonly Pick<PendingLaunch, 'launchId'>[];
  now: number;
  graceSeconds: number;
}

/**
 * The provider's hosts that nothing in the store accounts for: no live host record (a host
 * written off or terminated whose machine still runs counts too), no launch in doubt, and
 * older than the grace period. Their machines are the capacity manager's to terminate.
 */
export function findOrphans(v: OrphanView): string[] {
  const tracked = new Set(v.live.flatMap((h) => (h.instanceId === undefined ? [h.hostId] : [h.hostId, h.instanceId])));
  const inDoubt = new Set(v.pending.map(launchClientToken));
  return v.running
    .filter((h) => !tracked.has(h.hostId))
    .filter((h) => h.clientToken === undefined || !inDoubt.has(h.clientToken))
    .filter((h) => v.now - h.launchedAt >= v.graceSeconds * 1000)
    .map((h) => h.hostId)
    .sort();
}
