import { randomUUID } from 'node:crypto';
import type { Berth } from '../context';
import { FleetLaunchError, type FleetProvider } from '../cloud/fleet-provider';
import { hashBootstrapToken } from '../lifecycle/reports';
import { type PendingLaunch, launchClientToken } from '../store';
import { capacityOf, findType } from './catalog';
import type { FleetHost, InstanceType, Launch } from './types';

/**
 * Where a launch can be cut short, for the crash tests: its record written and the provider not
 * yet asked; the provider answered and the hosts not yet recorded.
 */
export const LAUNCH_POINTS = { recorded: 'launch:recorded', returned: 'launch:returned' } as const;

/** Called at each of LAUNCH_POINTS; the local mode's crash hook dies there when armed. */
export type LaunchCheckpoint = (point: string) => Promise<void>;

export interface LaunchOptions {
  provider: FleetProvider;
  catalog: InstanceType[];
  /**
   * A launch whose outcome is still unknown this long after its plan is given up: by then any
   * host it started would have been written off unregistered, and the orphan sweep ends it.
   */
  bootTimeoutSeconds: number;
  checkpoint?: LaunchCheckpoint;
}

export interface LaunchOutcome {
  /** Hosts recorded LAUNCHING. */
  launched: string[];
  /** Launches still in doubt (the provider's answer never came): retried next cycle, counted as in flight meanwhile. */
  pending: PendingLaunch[];
}

/**
 * Launches the plan's hosts, each launch recorded before the provider is asked and under a client
 * token derived from that record. Whatever cuts a launch short (a timeout after the call, a
 * crash between the record and the call or after it), the record remains and the next cycle
 * asks again with the same token: the provider answers with the hosts it started the first time,
 * so none goes untracked and none is started twice.
 */
export async function launchPlanned(b: Berth, o: LaunchOptions, launches: readonly Launch[], plannedAt: number): Promise<LaunchOutcome> {
  const records: PendingLaunch[] = [];
  for (const l of launches) {
    if (!findType(o.catalog, l.instanceType)) continue;
    const record: PendingLaunch = { launchId: randomUUID(), ...l, plannedAt };
    await b.store.launches.begin(record);
    records.push(record);
  }
  return carryOutAll(b, o, records);
}

/** The launches an earlier cycle left in doubt, asked for again under their own tokens. */
export async function resumeLaunches(b: Berth, o: LaunchOptions): Promise<LaunchOutcome> {
  const now = b.now();
  const records: PendingLaunch[] = [];
  for (const r of await b.store.launches.list()) {
    if (now - r.plannedAt > o.bootTimeoutSeconds * 1000) {
      console.error(`capacity: gave up launch ${r.launchId} (${r.count} × ${r.instanceType}), in doubt since its plan; the orphan sweep ends what it started`);
      await b.store.launches.finish(r.launchId);
    } else records.push(r);
  }
  return carryOutAll(b, o, records);
}

async function carryOutAll(b: Berth, o: LaunchOptions, records: PendingLaunch[]): Promise<LaunchOutcome> {
  const out: LaunchOutcome = { launched: [], pending: [] };
  for (const r of records) {
    const hosts = await carryOut(b, o, r);
    if (hosts) out.launched.push(...hosts);
    else out.pending.push(r);
  }
  return out;
}

/** The host ids recorded, or undefined when the provider's answer is unknown and the record stays. */
async function carryOut(b: Berth, o: LaunchOptions, r: PendingLaunch): Promise<string[] | undefined> {
  const type = findType(o.catalog, r.instanceType);
  await o.checkpoint?.(LAUNCH_POINTS.recorded);
  let launched;
  try {
    launched = await o.provider.launch({ instanceType: r.instanceType, market: r.market, count: r.count, clientToken: launchClientToken(r) });
  } catch (e) {
    console.error(`capacity: launch of ${r.count} × ${r.instanceType} (${r.market}) failed: ${e}`);
    if (!(e instanceof FleetLaunchError)) return undefined;
    // The provider answered that nothing started: there is nothing to track.
    await b.store.launches.finish(r.launchId);
    return [];
  }
  await o.checkpoint?.(LAUNCH_POINTS.returned);
  for (const h of launched) {
    // One launch time per plan: the planner tells a plan's own launches apart by it. The write
    // is conditional on the host being new, so a retry's answer records nothing twice.
    await b.store.hosts.launching({
      hostId: h.hostId, instanceType: h.instanceType, market: h.market, ...(type ? capacityOf(type) : { cpu: 0, memory: 0 }),
      ...(r.capacityProvider !== undefined ? { capacityProvider: r.capacityProvider } : {}),
      bootstrapTokenHash: h.bootstrapToken === undefined ? undefined : hashBootstrapToken(h.bootstrapToken),
      instanceId: h.instanceId,
      availabilityZone: h.availabilityZone,
    }, r.plannedAt);
  }
  await b.store.launches.finish(r.launchId);
  return launched.map((h) => h.hostId);
}

/**
 * A launch in doubt as the planner sees it: its hosts LAUNCHING, with its type's capacity. So
 * the next plan counts them (towards maxHosts, and as room for the work they were launched for)
 * rather than launching again for the same work.
 */
export function inFlightHosts(pending: readonly PendingLaunch[], catalog: readonly InstanceType[]): FleetHost[] {
  return pending.flatMap((r) => {
    const type = findType(catalog, r.instanceType);
    if (!type) return [];
    return Array.from({ length: r.count }, (_, i): FleetHost => ({
      hostId: `${r.launchId}#${i + 1}`, instanceType: r.instanceType, market: r.market,
      ...(r.capacityProvider !== undefined ? { pool: r.capacityProvider } : {}),
      status: 'LAUNCHING', ...capacityOf(type), reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      launchedAt: r.plannedAt, idleSince: r.plannedAt,
    }));
  });
}
