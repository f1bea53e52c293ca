import type { Berth } from '../context';
import { revokeHostKeys } from '../auth/access-keys';
import { recordTaskUsage } from '../billing/meter';
import type { FleetProvider } from '../cloud/fleet-provider';
import { wakeServiceOf } from '../lifecycle/service-wake';
import { markTaskStopped } from '../lifecycle/stop';
import { cpuArchitectureOf } from '../scheduler/host-attributes';
import { isLiveHost } from '../scheduler/placement';
import type { HostRecord } from '../store';
import { poolOf } from '../domain/capacity-provider';
import { findType, hourlyPrice } from './catalog';
import { type AdaptiveCapacity, adaptToDemand } from './demand-history';
import { type ConsolidationHost, type ConsolidationPolicy, planConsolidation } from './consolidation';
import { type LaunchCheckpoint, inFlightHosts, launchPlanned, resumeLaunches } from './launches';
import { DEFAULT_ORPHAN_GRACE_SECONDS, findOrphans } from './orphans';
import { planCapacity } from './planner';
import { daemonServiceTaskIds, isServiceDemand, serviceDemand } from './service-demand';
import type { CapacityPlan, CapacityPolicy, FleetHost, InstanceType } from './types';

export interface CapacityOptions {
  provider: FleetProvider;
  catalog: InstanceType[];
  policy: CapacityPolicy;
  /** A host silent for this long is LOST (default 30 s). */
  heartbeatTimeoutSeconds: number;
  /** A launched host whose agent has not registered by then is written off (EC2 boots in ~40 s). */
  bootTimeoutSeconds: number;
  /**
   * When this manager began watching heartbeats. No host is written off before a full timeout
   * of watching: after a control-plane restart, silence during the downtime proves nothing.
   */
  watchingSince?: number;
  /** Cordon busy hosts whose tasks fit on the others (consolidation.ts); off when absent. */
  consolidation?: ConsolidationPolicy;
  /** Called between a launch's steps (launches.ts): the local mode's crash points. */
  checkpoint?: LaunchCheckpoint;
  /** How old an untracked host of the provider must be before the orphan sweep ends it (orphans.ts). */
  orphanGraceSeconds?: number;
  /**
   * The recent demand for fresh room, kept across cycles: idle hosts are kept for its rate and let
   * go by its gaps (demand-history.ts, idle-timeout.ts); the policy's fixed figures when absent.
   */
  adaptive?: AdaptiveCapacity;
}

export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30;
/**
 * Cycles asked for while one runs start at most this often. Every waiting task asks at each
 * placement retry, and each cycle reads every waiting task: back to back, a backlog of a few
 * hundred tasks kept the store busy with cycles and starved the placements themselves.
 */
export const MIN_TRIGGERED_CYCLE_GAP_MS = 1000;
export const DEFAULT_BOOT_TIMEOUT_SECONDS = 600;

export interface CycleSummary {
  lost: string[];
  launched: string[];
  terminated: string[];
  failed: string[];
  /** Hosts consolidation cordoned (ACTIVE → DRAINING) this cycle. */
  cordoned: string[];
  /** The provider's hosts no host record tracked, terminated this cycle (also in `terminated`). */
  orphans: string[];
  plan: CapacityPlan;
}


/**
 * A host as the planner sees it. DAEMON services' tasks do not count as work: a host that runs
 * only those is idle, so they neither keep it past its idle timeout nor fill the warm pool.
 */
function toFleetHost(h: HostRecord, daemonTaskIds: ReadonlySet<string> = new Set()): FleetHost {
  const daemonTasks = Object.keys(h.reservations).filter((id) => daemonTaskIds.has(id)).length;
  const taskCount = h.taskCount - daemonTasks;
  return {
    hostId: h.hostId,
    instanceType: h.instanceType ?? 'unknown',
    market: h.market ?? 'on-demand',
    ...(h.capacityProvider !== undefined ? { pool: h.capacityProvider } : {}),
    status: h.status,
    cpu: h.cpu,
    memory: h.memory,
    reservedCpu: h.reservedCpu,
    reservedMemory: h.reservedMemory,
    taskCount,
    launchedAt: h.launchedAt ?? h.registeredAt ?? 0,
    idleSince: taskCount === 0 ? (h.lastTaskAt ?? h.registeredAt ?? h.launchedAt ?? 0) : undefined,
  };
}

/** What a host had only while it lived: its keys, and its agent's wake queue (SQS on AWS). */
async function hostEnded(b: Berth, hostId: string): Promise<void> {
  await revokeHostKeys(b, hostId);
  // A queue left behind costs nothing while empty and is named after the host alone: worth a warning, not the cycle.
  await b.notifier.forget?.(hostId).catch((e: unknown) => console.error(JSON.stringify({ level: 'warn', message: 'host wake queue not removed', hostId, error: String(e) })));
}

/**
 * Writes off a host that stopped heartbeating: LOST, its tasks STOPPED with the reason and their
 * room released. The conditional transition means a heartbeat that lands meanwhile saves the
 * host, and two cycles never write it off twice. The caller terminates the machine.
 */
async function writeOffLost(b: Berth, host: HostRecord): Promise<boolean> {
  const lost = await b.store.hosts.transition(host.hostId, 'LOST', ['ACTIVE', 'DRAINING'], { heartbeatAt: host.lastHeartbeatAt, endedAt: b.now() });
  if (!lost) return false;
  await hostEnded(b, host.hostId);
  const silentFor = Math.round((b.now() - host.lastHeartbeatAt) / 1000);
  // Read again: a placement may have landed between the scan and the write-off, and none can now.
  const current = (await b.store.hosts.get(host.hostId)) ?? host;
  // All at once: each task's writes are its own, and one after another they added up to seconds.
  await Promise.all(Object.entries(current.reservations).map(async ([taskId, r]) => {
    const ref = { cluster: r.cluster, taskId };
    const task = await b.store.tasks.get(ref);
    // Freed first, so a task seen STOPPED never still holds room on the lost host.
    await b.store.hosts.release(host.hostId, taskId, r, b.now());
    if (task?.hostId === host.hostId) {
      await markTaskStopped(b, ref, {
        stopCode: 'TerminationNotice',
        stoppedReason: `Host ${host.hostId} was lost: no heartbeat for ${silentFor} s`,
      }, 'Host lost');
      // No stop workflow follows a write-off: the meter runs here (and, after a crash, from recovery).
      await recordTaskUsage(b, ref);
    }
  }));
  return true;
}

/** When a host has been silent too long, or a launch has not come up in time. */
function deadlineOf(h: HostRecord, o: CapacityOptions): number | undefined {
  const since = (at: number) => Math.max(at, o.watchingSince ?? 0);
  if (h.status === 'ACTIVE' || h.status === 'DRAINING') return since(h.lastHeartbeatAt) + o.heartbeatTimeoutSeconds * 1000;
  if (h.status === 'LAUNCHING' && h.launchedAt !== undefined) return since(h.launchedAt) + o.bootTimeoutSeconds * 1000;
  return undefined;
}

export interface WriteOffSummary {
  /** Hosts written off as LOST, their tasks STOPPED: the caller terminates their machines. */
  lost: string[];
  /** Launches that never came up, now TERMINATED: the caller terminates their machines too. */
  expired: string[];
  /** The next moment a host seen alive (or launching) passes its deadline, if any. */
  nextDeadlineAt?: number;
}

/**
 * Writes off every host past its deadline, all at once: a silent host's tasks end as soon as
 * its timeout does, whatever else is silent. Terminating the machines is left to the caller,
 * since it can take seconds and nothing here needs to wait for it.
 */
export async function writeOffSilentHosts(b: Berth, o: CapacityOptions, now = b.now()): Promise<WriteOffSummary> {
  const out: WriteOffSummary = { lost: [], expired: [] };
  const silent: HostRecord[] = [];
  for (const h of await b.store.hosts.list()) {
    const deadline = deadlineOf(h, o);
    if (deadline === undefined) continue;
    if (now <= deadline) out.nextDeadlineAt = Math.min(out.nextDeadlineAt ?? Infinity, deadline + 1);
    else if (h.status !== 'LAUNCHING') silent.push(h);
    else if (await b.store.hosts.transition(h.hostId, 'TERMINATED', ['LAUNCHING'], { endedAt: now })) {
      await hostEnded(b, h.hostId);
      out.expired.push(h.hostId);
    }
  }
  const writtenOff = await Promise.all(silent.map((h) => writeOffLost(b, h)));
  out.lost = silent.filter((_, i) => writtenOff[i]).map((h) => h.hostId);
  return out;
}

/**
 * One capacity cycle: write off lost hosts, read the recorded demand, plan (pure), then act on
 * the plan: fail what no type can hold, launch, drain, terminate. Placement never waits for
 * this: it records demand and retries, and finds the new hosts once they register.
 */
export async function runCapacityCycle(b: Berth, o: CapacityOptions): Promise<CycleSummary> {
  const now = b.now();
  const summary: CycleSummary = { lost: [], launched: [], terminated: [], failed: [], cordoned: [], orphans: [], plan: { launches: [], drains: [], terminations: [], unschedulable: [] } };

  // 1. Hosts gone silent, and launches that never came up.
  const silent = await writeOffSilentHosts(b, o, now);
  summary.lost = silent.lost;
  summary.terminated.push(...silent.expired);
  if (silent.lost.length + silent.expired.length) await o.provider.terminate([...silent.lost, ...silent.expired]);

  // 1b. Launches an earlier cycle left in doubt, asked again under their own client tokens: their
  //     hosts are recorded before the plan, and those still in doubt count as in flight in it.
  const resumed = await resumeLaunches(b, o);
  summary.launched.push(...resumed.launched);

  // 2. Demand that is still pending: a task placed or stopped since is no longer waiting.
  const pending = [];
  for (const d of await b.store.demand.list()) {
    const t = await b.store.tasks.get({ cluster: d.cluster, taskId: d.taskId });
    if (t && !t.hostId && t.desiredStatus === 'RUNNING' && t.lastStatus === 'PROVISIONING') pending.push(d);
    else await b.store.demand.remove(d.taskId);
  }
  // Tasks services want but have not started yet count too.
  pending.push(...(await serviceDemand(b, now)));

  // 3. Plan on a fresh view of the fleet. What the provider runs is listed first, so a host
  //    recorded in between is seen in the store (the orphan sweep, step 6).
  const running = await o.provider.listHosts();
  const hosts = (await b.store.hosts.list()).filter((h) => isLiveHost(h.status));
  const planNow = b.now();
  const daemonTaskIds = await daemonServiceTaskIds(b);
  const pools = Object.fromEntries((await b.store.capacityProviders.list()).map((p) => [p.name, poolOf(p.managedInstancesProvider, o.catalog)]));
  const fleet = [...hosts.map((h) => toFleetHost(h, daemonTaskIds)), ...inFlightHosts(resumed.pending, o.catalog)];
  const adapted = o.adaptive ? adaptToDemand(o.adaptive, { now: planNow, hosts: fleet, pending, policy: o.policy, catalog: o.catalog }) : undefined;
  const plan = planCapacity({
    pending, hosts: fleet, catalog: o.catalog, policy: adapted?.policy ?? o.policy, now: planNow, pools,
    ...(adapted ? { freshRoomDemand: adapted.freshRoomDemand } : {}),
  });
  summary.plan = plan;

  // 4. Tasks no type can hold fail now rather than at their placement deadline.
  for (const u of plan.unschedulable) {
    // A service's task not yet started fails when it is started and placed, as any other.
    if (isServiceDemand(u.taskId)) continue;
    await markTaskStopped(b, u, { stopCode: 'TaskFailedToStart', stoppedReason: `Task failed to start: ${u.reason}` });
    await b.store.demand.remove(u.taskId);
    summary.failed.push(u.taskId);
  }

  // 5. Launch, each launch recorded first: the LAUNCHING host records are what let the new hosts'
  //    agents register, and a launch cut short is resumed by the next cycle (launches.ts).
  const launched = await launchPlanned(b, o, plan.launches, planNow);
  summary.launched.push(...launched.launched);

  // 6. Drain and terminate. A host that took a task since the plan is not terminated.
  for (const hostId of plan.drains) await b.store.hosts.transition(hostId, 'DRAINING', ['ACTIVE']);
  const idle: string[] = [];
  for (const hostId of plan.terminations) {
    if (await b.store.hosts.transition(hostId, 'TERMINATED', ['ACTIVE', 'DRAINING'], { empty: true, endedAt: b.now() })) {
      await hostEnded(b, hostId);
      idle.push(hostId);
    }
  }
  // The provider's hosts nothing tracks: a launch's hosts whose records were lost, a machine whose
  // termination failed after its host was written off. Terminating is idempotent, so a host
  // ended twice (or already gone) is no matter.
  summary.orphans = findOrphans({
    running, live: hosts, pending: resumed.pending, now: planNow, graceSeconds: o.orphanGraceSeconds ?? DEFAULT_ORPHAN_GRACE_SECONDS,
  });
  idle.push(...summary.orphans);
  // In one call, as EC2 takes them: one by one, each local clean-up waited for the last.
  if (idle.length) await o.provider.terminate(idle);
  summary.terminated.push(...idle);

  // 7. Consolidation, only on a fleet that is not growing: with work waiting or hosts being
  //    launched, room that looks spare is about to be taken. It only cordons: the service
  //    scheduler replaces the cordoned hosts' service tasks (and stops them while
  //    minimumHealthyPercent holds), one-off tasks finish, and step 6 of a later cycle terminates
  //    the emptied host. The transition is conditional, so a host another writer moved on from
  //    ACTIVE is left alone.
  if (o.consolidation && pending.length === 0 && plan.launches.length === 0 && resumed.pending.length === 0 && !hosts.some((h) => h.status === 'LAUNCHING')) {
    const fleet = (await b.store.hosts.list()).filter((h) => h.status === 'ACTIVE' || h.status === 'DRAINING');
    // With the catalog and the policy, consolidation also prices replacements: a set of hosts
    // whose service tasks would sit on fewer, cheaper new hosts is cordoned, and their
    // replacements wait as demand, for which a later cycle launches those hosts.
    const c = planConsolidation({
      hosts: fleet.map((h) => toConsolidationHost(h, daemonTaskIds, o.catalog)), policy: o.consolidation, now: b.now(),
      capacity: { catalog: o.catalog, policy: adapted?.policy ?? o.policy },
    });
    for (const hostId of c.cordons) {
      if (await b.store.hosts.transition(hostId, 'DRAINING', ['ACTIVE'])) summary.cordoned.push(hostId);
    }
    if (summary.cordoned.length) wakeServicesOn(b, fleet.filter((h) => summary.cordoned.includes(h.hostId)));
  }
  return summary;
}

/** A host as consolidation sees it: its reservations, DAEMON services' tasks left out (they stay per host). */
function toConsolidationHost(h: HostRecord, daemonTaskIds: ReadonlySet<string>, catalog: readonly InstanceType[]): ConsolidationHost {
  const type = findType(catalog, h.instanceType ?? '');
  return {
    hostId: h.hostId, status: h.status, market: h.market ?? 'on-demand',
    ...(h.capacityProvider !== undefined ? { pool: h.capacityProvider } : {}),
    ...(h.instanceType !== undefined ? { instanceType: h.instanceType } : {}),
    cpu: h.cpu, memory: h.memory,
    launchedAt: h.registeredAt ?? h.launchedAt ?? 0,
    hourlyPrice: type ? hourlyPrice(type, h.market ?? 'on-demand') : 0,
    architecture: h.cpuArchitecture ?? cpuArchitectureOf(h.instanceType ?? ''),
    tasks: Object.entries(h.reservations)
      .filter(([taskId]) => !daemonTaskIds.has(taskId))
      .map(([taskId, r]) => ({ taskId, cpu: r.cpu, memory: r.memory, ...(r.ports?.length ? { ports: r.ports } : {}), ...(r.group !== undefined ? { group: r.group } : {}) })),
  };
}

/** Wakes the services with tasks on the cordoned hosts, so their replacements start now, not at the next pass. */
function wakeServicesOn(b: Berth, hosts: readonly HostRecord[]): void {
  for (const h of hosts) for (const r of Object.values(h.reservations)) wakeServiceOf(b, r);
}

/** How the manager waits: a timer unless the wiring gives another (tests move a manual clock). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Resolves after `ms`, or at once when `signal` aborts. */
export const timerSleep: Sleep = (ms, signal) => new Promise((resolve) => {
  if (signal.aborted) return resolve();
  const done = () => {
    clearTimeout(timer);
    signal.removeEventListener('abort', done);
    resolve();
  };
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', done);
});

/**
 * Runs capacity cycles one at a time: on a timer, and at once (paced) when placement finds no
 * room. On AWS a schedule and an async invoke play these two roles. Beside them it watches
 * heartbeats: it writes a silent host off the moment its timeout ends, not at the next cycle,
 * and never behind a cycle or another host's termination. Time comes from the Berth context
 * (`b.now`), waits from `sleep`.
 */
export class CapacityManager {
  private running?: Promise<void>;
  private again = false;
  private lastCycleAt = -Infinity;
  private readonly halt = new AbortController();
  private readonly terminating = new Set<Promise<void>>();
  /** Cycles run to their end so far, failed ones included: tests wait on it instead of sleeping. */
  completedCycles = 0;

  constructor(
    private readonly b: Berth,
    private readonly o: CapacityOptions,
    private readonly log: (line: string) => void = () => {},
    private readonly sleep: Sleep = timerSleep,
  ) {}

  private get stopped(): boolean {
    return this.halt.signal.aborted;
  }

  /**
   * Runs a cycle every `intervalMs` and watches heartbeats; both begin after `delayMs`, so
   * restarted agents can check in first. The watch looks again at least every interval, which
   * is how it learns of new hosts: keep the interval below the heartbeat timeout.
   */
  start(intervalMs: number, delayMs = 0): void {
    void this.every(delayMs, async () => {
      this.trigger();
      while (this.running) await this.running;
      return intervalMs;
    });
    void this.every(delayMs, async () => {
      const next = await this.watchHeartbeats();
      return Math.max(0, Math.min(intervalMs, (next ?? Infinity) - this.b.now()));
    });
  }

  /** Runs `step` after `firstMs`, then again after as long as each run returns, until stopped. */
  private async every(firstMs: number, step: () => Promise<number>): Promise<void> {
    let waitMs = firstMs;
    for (;;) {
      await this.sleep(waitMs, this.halt.signal);
      if (this.stopped) return;
      waitMs = await step();
    }
  }

  /** Writes off what is past its deadline and sets its machines terminating; returns the next deadline. */
  private async watchHeartbeats(): Promise<number | undefined> {
    try {
      const s = await writeOffSilentHosts(this.b, this.o);
      if (s.lost.length) this.log(`hosts lost: ${s.lost.join(', ')}`);
      const gone = [...s.lost, ...s.expired];
      if (gone.length) {
        if (s.expired.length) this.log(`terminated ${s.expired.join(', ')}`);
        const t = this.o.provider.terminate(gone)
          .catch((e) => this.log(`terminating ${gone.join(', ')} failed: ${e}`))
          .finally(() => this.terminating.delete(t));
        this.terminating.add(t);
      }
      return s.nextDeadlineAt;
    } catch (e) {
      if (!this.stopped) this.log(`heartbeat watch failed: ${e}`);
      return undefined;
    }
  }

  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        const gapMs = this.lastCycleAt + MIN_TRIGGERED_CYCLE_GAP_MS - this.b.now();
        if (gapMs > 0) await this.sleep(gapMs, this.halt.signal);
        if (this.stopped) break;
        this.lastCycleAt = this.b.now();
        this.again = false;
        try {
          const s = await runCapacityCycle(this.b, this.o);
          if (s.lost.length) this.log(`hosts lost: ${s.lost.join(', ')}`);
          if (s.launched.length) this.log(`launched ${s.launched.join(', ')}`);
          if (s.cordoned.length) this.log(`consolidating: cordoned ${s.cordoned.join(', ')}`);
          if (process.env.BERTH_DEBUG_CAPACITY) this.log(`cycle: plan ${JSON.stringify(s.plan)}`);
          if (s.terminated.length) this.log(`terminated ${s.terminated.join(', ')}`);
          if (s.failed.length) this.log(`failed ${s.failed.length} task(s) no instance type can hold`);
        } catch (e) {
          if (!this.stopped) this.log(`capacity cycle failed: ${e}`);
        }
        this.completedCycles++;
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  /** Resolves when no cycle is running and no machine is still terminating. */
  async idle(): Promise<void> {
    while (this.running || this.terminating.size) await Promise.all([this.running, ...this.terminating]);
  }

  async stop(): Promise<void> {
    this.halt.abort();
    await this.idle();
  }
}
