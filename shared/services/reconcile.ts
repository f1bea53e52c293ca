import { type CapacityProviderStrategy, addProviders, providerToStop } from '../domain/capacity-strategy';
import type { Deployment, ObservedHost, ObservedTask, Reconcile, Service, ServicePlan } from '../domain/service';
import { statusRank } from '../domain/task';
import { circuitBreakerThreshold, maximumTasks, minimumHealthyTasks, newDeployment } from './deployments';
import { STEADY_STATE_REPEAT_MS, messages, placementDetail, rolloutReasons, stopReasons, withEvents } from './events';

/**
 * The service scheduler's pure core, after Nomad's reconciler: the service as stored and what is
 * observed of its tasks (and, for DAEMON, of the hosts) in, one plan out. It never reads a clock
 * or a store; running it twice on the same input gives the same plan.
 *
 * A pass, in order: settle tasks that ended since the last pass (count failures, note placement
 * failures); stop tasks that fail their health checks after the grace period; trip the circuit
 * breaker (and roll back); then size the PRIMARY deployment within maximumPercent and drain the
 * others while minimumHealthyPercent holds; finally mark completion and steady state.
 */

/** A task that exits this soon after it started counts towards the backoff. */
export const QUICK_EXIT_MS = 60_000;
/** Backoff between replacement attempts: none for the first failure, then 5 s doubling to 5 min. */
export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 5 * 60_000;
/** No failure for this long after the last backoff ended: the next failure starts a new streak. */
export const BACKOFF_RESET_MS = 5 * 60_000;

export const backoffDelayMs = (streak: number): number =>
  streak <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(streak - 2, 20));

/** Stops the service scheduler or the user asked for, or the platform's own: not the task's fault. */
const EXPECTED_STOPS = new Set(['ServiceSchedulerInitiated', 'UserInitiated', 'SpotInterruption', 'TerminationNotice']);

const GONE_HOSTS = new Set<ObservedHost['status']>(['LOST', 'TERMINATED']);

/** RUNNING and, where the definition has a health check, HEALTHY. */
const isHealthy = (t: ObservedTask): boolean =>
  t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && (!t.hasHealthCheck || t.healthStatus === 'HEALTHY');

export const reconcile: Reconcile = ({ service, tasks, hosts, now, newId }) => {
  const hostStatus = new Map(hosts.map((h) => [h.hostId, h.status]));
  /** On a host that is gone: not running anywhere, whatever its record says yet. */
  const gone = (t: ObservedTask): boolean => t.hostId !== undefined && GONE_HOSTS.has(hostStatus.get(t.hostId)!);
  /** Counts towards maximumPercent: RUNNING, PENDING or on its way down, on a host that exists. */
  const live = (t: ObservedTask): boolean => t.lastStatus !== 'STOPPED' && !gone(t);

  const settledBefore = new Set(service.settledTaskIds ?? []);
  const settled = new Set<string>();
  const stops = new Map<string, string>();
  const starts: ServicePlan['starts'] = [];
  const said: string[] = [];
  const wakeAts: number[] = [];
  let deployments: Deployment[] = service.deployments.map((d) => ({ ...d }));
  const byId = (id: string) => deployments.find((d) => d.id === id);
  const name = service.serviceName;

  // 1. Settle what ended since the last pass: each task is counted once, then remembered.
  let failures = 0;
  let unplaced: string | undefined;
  for (const t of tasks) {
    if (t.lastStatus !== 'STOPPED' && !gone(t)) continue;
    settled.add(t.taskId);
    if (settledBefore.has(t.taskId) || gone(t)) continue;
    if (EXPECTED_STOPS.has(t.stopCode ?? '')) continue;
    // The circuit breaker counts tasks that never reached RUNNING, or never passed their checks.
    const neverHealthy = t.startedAt === undefined || (t.hasHealthCheck && t.healthStatus !== 'HEALTHY');
    const quickExit = t.startedAt !== undefined && t.stoppedAt !== undefined && t.stoppedAt - t.startedAt < QUICK_EXIT_MS;
    if (neverHealthy) {
      const d = byId(t.deploymentId);
      if (d) d.failedTasks += 1;
    }
    if (neverHealthy || quickExit) failures += 1;
    if (t.stopCode === 'TaskFailedToStart' && /RESOURCE:/.test(t.stoppedReason ?? '')) unplaced = t.stoppedReason;
  }
  if (unplaced !== undefined) said.push(messages.unableToPlace(name, placementDetail(unplaced)));

  // 2. Container health checks: UNHEALTHY past the grace period → stop and replace.
  const graceMs = (service.healthCheckGracePeriodSeconds ?? 0) * 1000;
  for (const t of tasks) {
    if (!live(t) || t.desiredStatus !== 'RUNNING' || !t.hasHealthCheck || t.healthStatus !== 'UNHEALTHY') continue;
    const graceEnds = (t.startedAt ?? now) + graceMs;
    if (now < graceEnds) {
      wakeAts.push(graceEnds);
      continue;
    }
    stops.set(t.taskId, stopReasons.failedHealthChecks());
    settled.add(t.taskId);
    if (settledBefore.has(t.taskId)) continue; // decided in an earlier pass whose stop is not seen yet
    said.push(messages.failedHealthChecks(name, t.taskId));
    const d = byId(t.deploymentId);
    if (d) d.failedTasks += 1;
    failures += 1;
  }

  // 3. Backoff: failures in a row push the next start further out.
  let { backoffUntil, failureStreak } = service;
  if (failures > 0) {
    const fresh = backoffUntil === undefined || now - backoffUntil > BACKOFF_RESET_MS;
    const before = fresh ? 0 : (failureStreak ?? 0);
    failureStreak = Math.min(before + failures, 64);
    backoffUntil = now + backoffDelayMs(failureStreak);
    if (backoffDelayMs(before) === 0 && backoffDelayMs(failureStreak) > 0) said.push(messages.unableToStartConsistently(name));
  }

  // A healthy task resets its deployment's failure count (ECS's resetOnHealthyTask, on by default).
  for (const d of deployments) {
    if (tasks.some((t) => t.deploymentId === d.id && isHealthy(t) && !gone(t) && !stops.has(t.taskId))) d.failedTasks = 0;
  }

  // 4. Circuit breaker, and the rollback to the last COMPLETED deployment.
  let primary = deployments.find((d) => d.status === 'PRIMARY') ?? deployments[0];
  const breaker = service.deploymentConfiguration.deploymentCircuitBreaker;
  if (
    primary && service.status === 'ACTIVE' && breaker.enable && primary.rolloutState === 'IN_PROGRESS' &&
    primary.failedTasks >= circuitBreakerThreshold(primary.desiredCount)
  ) {
    primary.rolloutState = 'FAILED';
    primary.rolloutStateReason = rolloutReasons.failed();
    said.push(messages.deploymentFailed(name, primary.id));
    const target = breaker.rollback
      ? deployments.filter((d) => d !== primary && d.rolloutState === 'COMPLETED').sort((a, b) => b.createdAt - a.createdAt)[0]
      : undefined;
    if (target) {
      const rollback = newDeployment(target.taskDefinitionArn, service.desiredCount, now, newId, rolloutReasons.rollingBack(target.id));
      primary.status = 'ACTIVE';
      // As ECS does: the deployment rolled back to is no longer COMPLETED, so it is not a
      // rollback target again until this rollback completes.
      target.rolloutState = 'IN_PROGRESS';
      deployments = [rollback, ...deployments];
      primary = rollback;
      // The revision rolled back to is known to start: no reason to wait out the bad one's backoff.
      backoffUntil = undefined;
      failureStreak = undefined;
    }
  }

  let status = service.status;
  let desiredCount = service.desiredCount;
  if (primary) {
    const stopFor = (t: ObservedTask) => stops.set(t.taskId, stopReasons.scaling(primary!.id));
    const active = (t: ObservedTask) => live(t) && t.desiredStatus === 'RUNNING' && !stops.has(t.taskId);
    const canStart = status === 'ACTIVE' && primary.rolloutState !== 'FAILED';
    const backingOff = backoffUntil !== undefined && now < backoffUntil;
    const wantStart = () => {
      if (backingOff) wakeAts.push(backoffUntil!);
      return canStart && !backingOff;
    };
    const crowding = hostCrowding(tasks.filter(live));
    const stopOrder = (a: ObservedTask, b: ObservedTask) =>
      stopRank(a) - stopRank(b) || (crowding.get(b.hostId ?? '') ?? 0) - (crowding.get(a.hostId ?? '') ?? 0) ||
      (b.startedAt ?? 0) - (a.startedAt ?? 0) || a.taskId.localeCompare(b.taskId);
    const healthyCount = () => tasks.filter((t) => active(t) && isHealthy(t)).length;
    const config = service.deploymentConfiguration;

    if (status !== 'ACTIVE') {
      // DeleteService: everything stops; the service is INACTIVE once nothing is left.
      desiredCount = 0;
      for (const t of tasks) if (active(t)) stopFor(t);
      if (status === 'DRAINING' && !tasks.some(live)) status = 'INACTIVE';
    } else if (service.schedulingStrategy === 'DAEMON') {
      const activeHosts = hosts.filter((h) => h.status === 'ACTIVE').map((h) => h.hostId).sort();
      const activeSet = new Set(activeHosts);
      desiredCount = activeHosts.length;
      const perHost = Math.max(1, Math.floor(config.maximumPercent / 100));
      // A DAEMON task belongs on an ACTIVE host; on a draining or unknown one it stops.
      for (const t of tasks) if (active(t) && !activeSet.has(t.hostId ?? '')) stopFor(t);
      let healthyBudget = healthyCount() - minimumHealthyTasks(desiredCount, config);
      for (const hostId of activeHosts) {
        const onHost = tasks.filter((t) => t.hostId === hostId);
        const mine = onHost.filter((t) => active(t) && t.deploymentId === primary!.id).sort(stopOrder);
        for (const t of mine.slice(0, Math.max(0, mine.length - 1))) stopFor(t);
        for (const t of onHost.filter((t) => active(t) && t.deploymentId !== primary!.id).sort(stopOrder)) {
          if (!isHealthy(t)) stopFor(t);
          else if (healthyBudget > 0) {
            stopFor(t);
            healthyBudget -= 1;
          }
        }
        const liveOnHost = onHost.filter(live).length;
        if (mine.length === 0 && liveOnHost < perHost && wantStart()) starts.push({ deploymentId: primary.id, count: 1, hostId });
      }
    } else {
      // A DRAINING host (consolidation, a spot warning) is leaving: as ECS drains a container
      // instance, its tasks are replaced elsewhere first, within maximumPercent, and stopped only
      // while minimumHealthyPercent holds, like an older deployment's.
      const cordoned = (t: ObservedTask) => t.hostId !== undefined && hostStatus.get(t.hostId) === 'DRAINING';
      const mine = tasks.filter((t) => active(t) && t.deploymentId === primary!.id && !cordoned(t)).sort(stopOrder);
      // Scale in: the least useful of this deployment's tasks go first, keeping its provider split.
      for (const t of scaleIn(mine, Math.max(0, mine.length - desiredCount), service.capacityProviderStrategy)) stopFor(t);
      const kept = Math.min(mine.length, desiredCount);
      const room = maximumTasks(desiredCount, config) - tasks.filter(live).length;
      const need = Math.min(desiredCount - kept, room);
      if (need > 0 && wantStart()) {
        // The new tasks complete the split of those that stay: not of those a draining host's replacements replace.
        const providerCounts: Record<string, number> = {};
        addProviders(providerCounts, mine.filter((t) => !stops.has(t.taskId)));
        starts.push({ deploymentId: primary.id, count: need, ...(service.capacityProviderStrategy?.length ? { providerCounts } : {}) });
      }
      // Drain the older deployments and the DRAINING hosts: tasks that are not healthy at once,
      // healthy ones only while minimumHealthyPercent stays met. A FAILED deployment without
      // rollback keeps what serves (but not on a host that is leaving).
      const leaving = (t: ObservedTask) => cordoned(t) || (t.deploymentId !== primary!.id && primary!.rolloutState !== 'FAILED');
      let healthyBudget = healthyCount() - minimumHealthyTasks(desiredCount, config);
      for (const t of tasks.filter((t) => active(t) && leaving(t)).sort(stopOrder)) {
        if (!isHealthy(t)) stopFor(t);
        else if (healthyBudget > 0) {
          stopFor(t);
          healthyBudget -= 1;
        }
      }
    }

    // 5. Counts, as ECS shows them: older deployments want what they still have.
    primary.desiredCount = desiredCount;
    for (const d of deployments) {
      const own = tasks.filter((t) => t.deploymentId === d.id && !gone(t));
      d.runningCount = own.filter((t) => t.lastStatus === 'RUNNING').length;
      d.pendingCount = own.filter((t) => t.desiredStatus === 'RUNNING' && statusRank(t.lastStatus) < statusRank('RUNNING')).length;
      if (d !== primary) d.desiredCount = own.filter(active).length;
    }

    // 6. Done when exactly the wanted tasks of the PRIMARY deployment run healthy and nothing else
    // is left; the older deployments then leave the list.
    const settledFleet =
      status === 'ACTIVE' && starts.length === 0 && stops.size === 0 &&
      tasks.filter(live).every((t) => t.deploymentId === primary!.id && isHealthy(t)) &&
      tasks.filter(live).length === desiredCount;
    if (settledFleet && primary.rolloutState === 'IN_PROGRESS') {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = rolloutReasons.completed(primary.id);
      said.push(messages.deploymentCompleted(name, primary.id));
    }
    if (primary.rolloutState === 'COMPLETED') deployments = [primary];
    else deployments = deployments.filter((d) => d === primary || d.rolloutState !== 'IN_PROGRESS' || tasks.some((t) => t.deploymentId === d.id && live(t)));

    const stopped = [...stops.keys()];
    if (stopped.length > 0) said.push(messages.stopped(name, stopped));
    if (settledFleet && primary.rolloutState === 'COMPLETED') {
      const newest = said.length > 0 ? undefined : service.events[0];
      const steady = messages.steadyState(name);
      if (!(newest?.message === steady && now - newest.createdAt < STEADY_STATE_REPEAT_MS)) said.push(steady);
    }
  }

  for (const d of deployments) {
    const before = service.deployments.find((o) => o.id === d.id);
    if (before && JSON.stringify(before) !== JSON.stringify(d)) d.updatedAt = now;
  }
  const observed = new Set(tasks.map((t) => t.taskId));
  const next: Service = {
    ...service,
    status,
    desiredCount,
    runningCount: tasks.filter((t) => !gone(t) && t.lastStatus === 'RUNNING').length,
    pendingCount: tasks.filter((t) => !gone(t) && t.desiredStatus === 'RUNNING' && statusRank(t.lastStatus) < statusRank('RUNNING')).length,
    deployments,
    events: withEvents(service.events, said, now, newId),
    backoffUntil,
    failureStreak,
    settledTaskIds: [...new Set([...settled, ...[...settledBefore].filter((id) => observed.has(id))])].sort(),
  };
  const wakeAt = wakeAts.filter((w) => w > now).sort((a, b) => a - b)[0];
  return {
    starts,
    stops: [...stops].map(([taskId, reason]) => ({ taskId, reason })),
    service: next,
    ...(wakeAt !== undefined ? { wakeAt } : {}),
  };
};

/**
 * The `excess` tasks a scale-in stops, from tasks in stop order. Under a capacity provider
 * strategy each comes from the provider furthest above its share (the split's own rule), the
 * least useful of that provider's first.
 */
function scaleIn(ordered: ObservedTask[], excess: number, strategy: CapacityProviderStrategy | undefined): ObservedTask[] {
  if (!strategy?.length) return ordered.slice(0, excess);
  const left = [...ordered];
  const counts: Record<string, number> = {};
  for (const t of left) counts[t.capacityProviderName ?? ''] = (counts[t.capacityProviderName ?? ''] ?? 0) + 1;
  const chosen: ObservedTask[] = [];
  for (let k = 0; k < excess && left.length > 0; k += 1) {
    const provider = providerToStop(strategy, counts);
    const i = Math.max(0, left.findIndex((t) => (t.capacityProviderName ?? '') === provider));
    const [t] = left.splice(i, 1);
    counts[t.capacityProviderName ?? ''] -= 1;
    chosen.push(t);
  }
  return chosen;
}

/** Which tasks to stop first: not yet running, then running but not healthy, then healthy. */
function stopRank(t: ObservedTask): number {
  if (statusRank(t.lastStatus) < statusRank('RUNNING')) return 0;
  return isHealthy(t) ? 2 : 1;
}

/** Live tasks per host, so scale-in and draining take from the most crowded host first. */
function hostCrowding(liveTasks: readonly ObservedTask[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of liveTasks) if (t.hostId) m.set(t.hostId, (m.get(t.hostId) ?? 0) + 1);
  return m;
}
