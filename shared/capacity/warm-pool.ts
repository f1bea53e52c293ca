import { capacityOf } from './catalog';
import type { InstanceType } from './types';

/**
 * The warm pool sized from the observed arrival rate rather than a fixed count: enough empty
 * hosts of the warm pool's type to hold the work that arrives while a new host boots, so that
 * work does not wait a boot. Little's law: arrivals per second × boot seconds tasks arrive in
 * a boot, each the mean arriving task's share of a host (the larger of its cpu and memory
 * shares). Never below the operator's floor, never above `maxHosts`. Pure.
 */
export function warmPoolTarget(o: {
  /** Sizes of the tasks that arrived in the window. */
  arrivals: readonly { cpu: number; memory: number }[];
  windowSeconds: number;
  bootSeconds: number;
  type: InstanceType;
  floor: number;
  maxHosts: number;
}): number {
  const floor = Math.max(0, Math.min(o.floor, o.maxHosts));
  if (o.arrivals.length === 0 || !(o.windowSeconds > 0)) return floor;
  const host = capacityOf(o.type);
  let hostShares = 0;
  for (const t of o.arrivals) hostShares += Math.max(host.cpu > 0 ? t.cpu / host.cpu : 0, host.memory > 0 ? t.memory / host.memory : 0);
  const perSecond = hostShares / o.windowSeconds;
  // A tiny epsilon keeps an exact whole number of hosts from rounding up to one more.
  const needed = Math.ceil(perSecond * o.bootSeconds - 1e-9);
  return Math.min(o.maxHosts, Math.max(floor, needed));
}
