import { randomUUID } from 'node:crypto';
import type { Berth } from '../context';
import type { FleetProvider } from '../cloud/fleet-provider';
import { hashBootstrapToken } from '../lifecycle/reports';
import { markTaskStopped } from '../lifecycle/stop';
import { isLiveHost } from '../scheduler/placement';
import type { HostRecord } from '../store';
import { capacityOf, findType } from './catalog';
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

/**
 * Writes off a host that stopped heartbeating: LOST, its tasks STOPPED with the reason, their
 * room released, and the machine terminated. The conditional transition means a heartbeat
 * that lands meanwhile saves the host, and two cycles never write it off twice.
 */
async function writeOffLost(b: Berth, o: CapacityOptions, host: HostRecord): Promise<boolean> {
  const lost = await b.store.hosts.transition(host.hostId, 'LOST', ['ACTIVE', 'DRAINING'], { heartbeatAt: host.lastHeartbeatAt });
  if (!lost) return false;
  const silentFor = Math.round((b.now() - host.lastHeartbeatAt) / 1000);
  // Read again: a placement may have landed between the scan and the write-off, and none can now.
  const current = (await b.store.hosts.get(host.hostId)) ?? host;
  for (const [taskId, r] of Object.entries(current.reservations)) {
    const ref = { cluster: r.cluster, taskId };
    const task = await b.store.tasks.get(ref);
    // Freed first, so a task seen STOPPED never still holds room on the lost host.
    await b.store.hosts.release(host.hostId, taskId, r, b.now());
    if (task?.hostId === host.hostId) {
      await markTaskStopped(b, ref, {
        stopCode: 'TerminationNotice',
        stoppedReason: `Host ${host.hostId} was lost: no heartbeat for ${silentFor} s`,
      }, 'Host lost');
    }
  }
  await o.provider.terminate([host.hostId]);
  return true;
}

/**
 * One capacity cycle: write off lost hosts, read the recorded demand, plan (pure), then act on
 * the plan: fail what no type can hold, launch, drain, terminate. Placement never waits for
 * this: it records demand and retries, and finds the new hosts once they register.
 */
export async function runCapacityCycle(b: Berth, o: CapacityOptions): Promise<CycleSummary> {
  const now = b.now();
  const summary: CycleSummary = { lost: [], launched: [], terminated: [], failed: [], plan: { launches: [], drains: [], terminations: [], unschedulable: [] } };

  // 1. Hosts gone silent, and launches that never came up.
  for (const h of await b.store.hosts.list()) {
    const heardAt = Math.max(h.lastHeartbeatAt, o.watchingSince ?? 0);
    if ((h.status === 'ACTIVE' || h.status === 'DRAINING') && now - heardAt > o.heartbeatTimeoutSeconds * 1000) {
      if (await writeOffLost(b, o, h)) summary.lost.push(h.hostId);
    } else if (h.status === 'LAUNCHING' && now - Math.max(h.launchedAt ?? now, o.watchingSince ?? 0) > o.bootTimeoutSeconds * 1000) {
      if (await b.store.hosts.transition(h.hostId, 'TERMINATED', ['LAUNCHING'])) {
        await o.provider.terminate([h.hostId]);
        summary.terminated.push(h.hostId);
      }
    }
  }

  // 2. Demand that is still pending: a task placed or stopped since is no longer waiting.
  const pending = [];
  for (const d of await b.store.demand.list()) {
    const t = await b.store.tasks.get({ cluster: d.cluster, taskId: d.taskId });
    if (t && !t.hostId && t.desiredStatus === 'RUNNING' && t.lastStatus === 'PROVISIONING') pending.push(d);
    else await b.store.demand.remove(d.taskId);
  }
  // Tasks services want but have not started yet count too.
  pending.push(...(await serviceDemand(b, now)));

  // 3. Plan on a fresh view of the fleet.
  const hosts = (await b.store.hosts.list()).filter((h) => isLiveHost(h.status));
  const planNow = b.now();
  const daemonTaskIds = await daemonServiceTaskIds(b);
  const plan = planCapacity({ pending, hosts: hosts.map((h) => toFleetHost(h, daemonTaskIds)), catalog: o.catalog, policy: o.policy, now: planNow });
  summary.plan = plan;

  // 4. Tasks no type can hold fail now rather than at their placement deadline.
  for (const u of plan.unschedulable) {
    // A service's task not yet started fails when it is started and placed, as any other.
    if (isServiceDemand(u.taskId)) continue;
    await markTaskStopped(b, u, { stopCode: 'TaskFailedToStart', stoppedReason: `Task failed to start: ${u.reason}` });
    await b.store.demand.remove(u.taskId);
    summary.failed.push(u.taskId);
  }

  // 5. Launch. The LAUNCHING record is what lets the new host's agent register.
  for (const l of plan.launches) {
    const type = findType(o.catalog, l.instanceType);
    if (!type) continue;
    const launched = await o.provider.launch({ ...l, clientToken: randomUUID() }).catch((e) => {
      console.error(`capacity: launch of ${l.count} × ${l.instanceType} (${l.market}) failed: ${e}`);
      return [];
    });
    for (const h of launched) {
      // One launch time per plan: the planner tells a plan's own launches apart by it.
      await b.store.hosts.launching({
        hostId: h.hostId, instanceType: h.instanceType, market: h.market, ...capacityOf(type),
        bootstrapTokenHash: h.bootstrapToken === undefined ? undefined : hashBootstrapToken(h.bootstrapToken),
        instanceId: h.instanceId,
      }, planNow);
      summary.launched.push(h.hostId);
    }
  }

  // 6. Drain and terminate. A host that took a task since the plan is not terminated.
  for (const hostId of plan.drains) await b.store.hosts.transition(hostId, 'DRAINING', ['ACTIVE']);
  for (const hostId of plan.terminations) {
    if (await b.store.hosts.transition(hostId, 'TERMINATED', ['ACTIVE', 'DRAINING'], { empty: true })) {
      await o.provider.terminate([hostId]);
      summary.terminated.push(hostId);
    }
  }
  return summary;
}

/**
 * Runs capacity cycles one at a time: on a timer, and at once (debounced) when placement
 * finds no room. On AWS a schedule and an async invoke play these two roles.
 */
export class CapacityManager {
  private running?: Promise<void>;
  private again = false;
  private lastCycleAt = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly b: Berth,
    private readonly o: CapacityOptions,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Starts the timer; the first cycle waits `delayMs` so restarted agents can check in first. */
  start(intervalMs: number, delayMs = 0): void {
    const tick = () => {
      if (this.stopped) return;
      this.trigger();
      this.timer = setTimeout(tick, intervalMs);
    };
    this.timer = setTimeout(tick, delayMs);
  }

  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        const gapMs = this.lastCycleAt + MIN_TRIGGERED_CYCLE_GAP_MS - Date.now();
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        if (this.stopped) break;
        this.lastCycleAt = Date.now();
        this.again = false;
        try {
          const s = await runCapacityCycle(this.b, this.o);
          if (s.lost.length) this.log(`hosts lost: ${s.lost.join(', ')}`);
          if (s.launched.length) this.log(`launched ${s.launched.join(', ')}`);
          if (process.env.BERTH_DEBUG_CAPACITY) this.log(`cycle: plan ${JSON.stringify(s.plan)}`);
          if (s.terminated.length) this.log(`terminated ${s.terminated.join(', ')}`);
          if (s.failed.length) this.log(`failed ${s.failed.length} task(s) no instance type can hold`);
        } catch (e) {
          if (!this.stopped) this.log(`capacity cycle failed: ${e}`);
        }
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
  }

  /** Resolves when no cycle is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.idle();
  }
}
