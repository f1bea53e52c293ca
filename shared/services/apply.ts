import { addProviders } from '../domain/capacity-strategy';
import { createHash } from 'node:crypto';
import type { ServiceConnectRoute } from '../agent-wire/responses';
import type { Berth } from '../context';
import type { Tag } from '../domain/fields';
import { hasHealthCheck, taskHealthStatus } from '../domain/health';
import type { ObservedTask, Service, ServicePlan } from '../domain/service';
import type { PlacementStrategyType } from '../domain/task';
import { runTask } from '../lifecycle/run-task';
import { stopTask } from '../lifecycle/stop-task';
import type { ServiceKey, ServiceRecord, TaskRecord } from '../store';
import type { TargetHealth } from '../cloud/load-balancing';
import type { ServiceLoadBalancer } from '../domain/service';
import { messages, recordStarts, stopReasons, withEvents } from './events';
import { isElbHealthStop, loadBalancerHealth, planLoadBalancing, targetOf } from './load-balancing';
import { reconcile } from './reconcile';

/**
 * The service scheduler's applier: reads a service and its tasks, asks the pure reconciler for a
 * plan, carries it out through RunTask and StopTask (the paths one-off tasks take), and writes
 * the service back with one conditional write on the version it read.
 *
 * Crash-safe without transactions: every id a pass makes (new tasks through RunTask's
 * clientToken, deployment and event ids) is derived from the service's version, so a pass that
 * dies before its write and runs again makes the very same tasks. A pass that loses the write to
 * another writer reads again and re-plans; the tasks it started are then in what it observes.
 */

/** ECS's `group` for a service's tasks; ListTasks --service-name finds them by it. */
export const serviceGroup = (serviceName: string): string => `service:${serviceName}`;

/** RunTask starts at most 10 tasks per call. */
const RUN_TASK_MAX_COUNT = 10;

/** A lost write is re-planned at once; past this many in a row something else is wrong. */
const MAX_ATTEMPTS = 8;

export interface ServicePassResult {
  service?: ServiceRecord;
  plan?: ServicePlan;
  started: string[];
  stopped: string[];
  /** When to run a pass again though nothing happens (backoff, grace period). */
  wakeAt?: number;
}

const digest = (...parts: (string | number)[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** Ids a pass at one version of the service makes: the same on every re-run of that pass. */
function idsFor(service: Service): () => string {
  let n = 0;
  return () => {
    const h = digest(service.cluster, service.serviceName, service.version, n++);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  };
}

/** ECS places a service's tasks by its first spread or binpack strategy; spread by default. */
export function servicePlacementStrategy(service: Service): PlacementStrategyType {
  const first = service.placementStrategy.find((s) => s.type === 'spread' || s.type === 'binpack');
  return first?.type === 'binpack' ? 'binpack' : 'spread';
}

async function taskTags(b: Berth, service: Service, taskDefinitionArn: string): Promise<Tag[]> {
  const tags: Tag[] = [];
  if (service.enableECSManagedTags) {
    tags.push({ key: 'aws:ecs:clusterName', value: service.cluster }, { key: 'aws:ecs:serviceName', value: service.serviceName });
  }
  if (service.propagateTags === 'SERVICE') tags.push(...service.tags);
  if (service.propagateTags === 'TASK_DEFINITION') {
    const [family, revision] = taskDefinitionArn.split('/').pop()!.split(':');
    tags.push(...((await b.store.taskDefinitions.get(family, Number(revision)))?.tags ?? []));
  }
  return tags;
}

/** What the service's target groups say of its tasks, for one pass. */
interface BalancerView {
  loadBalancers: ServiceLoadBalancer[];
  health: (TargetHealth[] | undefined)[];
  draining: Set<string>;
}

/** A container health check and the target groups' checks, together: healthy only if both are. */
function combinedHealth(t: TaskRecord, lb: BalancerView | undefined): Pick<ObservedTask, 'healthStatus' | 'hasHealthCheck'> {
  const own = taskHealthStatus(t.containers);
  if (!lb) return { healthStatus: own, hasHealthCheck: hasHealthCheck(t.containers) };
  const elb = loadBalancerHealth(lb.loadBalancers, lb.loadBalancers.map((l) => targetOf(t, l)), lb.health).status;
  const ownOk = !hasHealthCheck(t.containers) || own === 'HEALTHY';
  const healthStatus = own === 'UNHEALTHY' || elb === 'UNHEALTHY' ? 'UNHEALTHY' : ownOk && elb === 'HEALTHY' ? 'HEALTHY' : 'UNKNOWN';
  return { healthStatus, hasHealthCheck: true };
}

/**
 * What the reconciler needs of a task record: its health is what its agent last reported (and
 * its target groups say). A task draining before its stop is, to the reconciler, already on its
 * way down (ECS's DEACTIVATING): not counted healthy, not stopped twice.
 */
function observe(t: TaskRecord, lb?: BalancerView): ObservedTask {
  const draining = lb?.draining.has(t.taskId) && t.desiredStatus === 'RUNNING';
  return {
    taskId: t.taskId,
    deploymentId: t.startedBy ?? '',
    lastStatus: t.lastStatus,
    desiredStatus: draining ? 'STOPPED' : t.desiredStatus,
    ...combinedHealth(t, lb),
    hostId: t.hostId ?? t.targetHostId,
    ...(t.capacityProviderName ? { capacityProviderName: t.capacityProviderName } : {}),
    startedAt: t.startedAt,
    stopCode: t.stopCode,
    stoppedReason: t.stoppedReason,
    stoppedAt: t.stoppedAt,
  };
}

/** Carries out one plan's starts; the service gets the "has started" event, or ECS's launch error. */
async function applyStarts(
  b: Berth, service: Service, plan: ServicePlan, observed: string, newId: () => string,
): Promise<{ service: Service; started: string[] }> {
  let next = plan.service;
  const started: string[] = [];
  const strategy = service.capacityProviderStrategy?.length ? service.capacityProviderStrategy : undefined;
  const routes = plan.starts.length > 0 ? await serviceConnectRoutes(b, service) : [];
  for (const [i, start] of plan.starts.entries()) {
    const deployment = next.deployments.find((d) => d.id === start.deploymentId)!;
    const tags = await taskTags(b, next, deployment.taskDefinitionArn);
    // A deployment keeps its strategy's split: new tasks go where the tasks that stay fall short.
    const providerCounts = strategy ? { ...start.providerCounts } as Record<string, number> : undefined;
    for (let chunk = 0, left = start.count; left > 0; chunk++, left -= RUN_TASK_MAX_COUNT) {
      try {
        const tasks = await runTask(b, {
          cluster: service.cluster,
          taskDefinition: deployment.taskDefinitionArn,
          count: Math.min(left, RUN_TASK_MAX_COUNT),
          overrides: { containerOverrides: [] },
          startedBy: deployment.id,
          group: serviceGroup(service.serviceName),
          tags,
          ...(strategy ? { capacityProviderStrategy: strategy, providerCounts: { ...providerCounts } } : { launchType: service.launchType }),
          placementStrategy: servicePlacementStrategy(service),
          // The version read and the tasks seen name the decision: a pass re-run on the same view
          // (after a crash before its write) gets the same tasks back; one that sees some of them
          // already made plans only the rest, under other tokens.
          clientToken: digest('service-pass', service.cluster, service.serviceName, service.version, observed, i, chunk),
          ...(start.hostId !== undefined ? { targetHostId: start.hostId } : {}),
          ...(routes.length > 0 ? { serviceConnect: routes } : {}),
        });
        started.push(...tasks.map((t) => t.taskId));
        if (providerCounts) addProviders(providerCounts, tasks);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        next = { ...next, events: withEvents(next.events, [`(service ${service.serviceName}) failed to launch a task with (error ${message}).`], b.now(), newId) };
      }
    }
  }
  return { service: recordStarts(next, started, b.now(), newId), started };
}

/** What a new task of the service reaches by name: every endpoint of its namespace now. */
async function serviceConnectRoutes(b: Berth, service: Service): Promise<ServiceConnectRoute[]> {
  if (!service.serviceConnect || !b.serviceConnect) return [];
  const endpoints = await b.serviceConnect.endpoints(service.serviceConnect.namespaceArn);
  return endpoints.map((e) => ({ dnsName: e.dnsName, port: e.port, proxyPort: e.proxyPort }));
}

/** The service's target groups as they stand, when it has any. */
async function balancerView(b: Berth, service: Service): Promise<BalancerView | undefined> {
  // A Service Connect endpoint's target group holds the service's tasks as a load balancer's does.
  const loadBalancers = [...service.loadBalancers ?? [], ...(service.serviceConnect?.endpoints ?? []).map(({ discoveryName: _, ...lb }) => lb)];
  if (loadBalancers.length === 0 || !b.loadBalancing) return undefined;
  const health = await Promise.all(loadBalancers.map((l) => b.loadBalancing!.health(l.targetGroupArn)));
  return { loadBalancers, health, draining: new Set((service.drainingTasks ?? []).map((d) => d.taskId)) };
}

/** How often a pass looks again while tasks drain or wait to be found healthy: the target groups decide. */
const DRAIN_POLL_MS = 1000;

/**
 * Carries out the load balancers' part of a plan: registers RUNNING tasks, deregisters those to
 * stop (which stop only once drained) and those that ended; returns the plan with the stops that
 * may happen now and the draining tasks in the service.
 */
async function applyLoadBalancing(b: Berth, service: Service, plan: ServicePlan, records: readonly TaskRecord[], lb: BalancerView): Promise<ServicePlan> {
  const byId = new Map(records.map((t) => [t.taskId, t]));
  const targets = (t: TaskRecord) => lb.loadBalancers.map((l) => targetOf(t, l));
  let events = plan.service.events;
  // A health-check stop the target group caused says so, as ECS words it.
  const stops = plan.stops.map((s) => {
    const t = byId.get(s.taskId);
    const elb = t && isElbHealthStop(s.reason) ? loadBalancerHealth(lb.loadBalancers, targets(t), lb.health).unhealthyIn : undefined;
    if (!elb) return s;
    const said = messages.failedHealthChecks(service.serviceName, s.taskId);
    events = events.map((e) => (e.message === said
      ? { ...e, message: messages.unhealthyInTargetGroup(service.serviceName, s.taskId, elb.port, elb.targetGroupArn, elb.reason) } : e));
    return { taskId: s.taskId, reason: stopReasons.failedElbHealthChecks(elb.targetGroupArn) };
  });
  const decided = planLoadBalancing({
    loadBalancers: lb.loadBalancers,
    tasks: records.map((t) => ({
      taskId: t.taskId,
      running: t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING',
      ended: t.lastStatus === 'STOPPED' || t.desiredStatus === 'STOPPED',
      targets: targets(t),
    })),
    health: lb.health,
    stops,
    draining: service.drainingTasks ?? [],
  });
  for (const change of decided.deregister) await b.loadBalancing!.deregister(change.targetGroupArn, [change.target]);
  for (const change of decided.register) await b.loadBalancing!.register(change.targetGroupArn, [change.target]);
  // Target groups wake no one: look again soon while a task drains or waits for its first verdict.
  const waiting = decided.register.length > 0 || records.some((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' &&
    loadBalancerHealth(lb.loadBalancers, targets(t), lb.health).status === 'UNKNOWN');
  const wakeAt = decided.draining.length > 0 || waiting ? Math.min(plan.wakeAt ?? Infinity, b.now() + DRAIN_POLL_MS) : plan.wakeAt;
  return {
    ...plan,
    stops: decided.stops,
    // Always set: the pass writes the service over the one it read, which may hold older ones.
    service: { ...plan.service, events, drainingTasks: decided.draining },
    ...(wakeAt !== undefined ? { wakeAt } : {}),
  };
}

/** One reconcile pass for one service. */
export async function reconcileService(b: Berth, key: ServiceKey): Promise<ServicePassResult> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const service = await b.store.services.get(key);
    if (!service || service.status === 'INACTIVE') return { service, started: [], stopped: [] };
    const records = await b.store.tasks.listByGroup(key.cluster, serviceGroup(key.serviceName));
    const hosts = (await b.store.hosts.list()).map((h) => ({ hostId: h.hostId, status: h.status }));
    const newId = idsFor(service);
    const lb = await balancerView(b, service);
    const reconciled = reconcile({ service, tasks: records.map((t) => observe(t, lb)), hosts, now: b.now(), newId });
    const plan = lb ? await applyLoadBalancing(b, service, reconciled, records, lb) : reconciled;

    const stopped: string[] = [];
    for (const stop of plan.stops) {
      await stopTask(b, key.cluster, stop.taskId, stop.reason, 'ServiceSchedulerInitiated');
      stopped.push(stop.taskId);
    }
    const observed = digest(...records.map((t) => t.taskId).sort());
    const { service: next, started } = await applyStarts(b, service, plan, observed, newId);
    const unchanged = started.length === 0 && stopped.length === 0 && JSON.stringify(next) === JSON.stringify(service);
    if (unchanged) return { service, plan, started, stopped, wakeAt: plan.wakeAt };
    const written = await b.store.services.update({ ...service, ...next }, service.version);
    if (written) return { service: written, plan, started, stopped, wakeAt: plan.wakeAt };
    // Another writer (UpdateService, or a concurrent pass) got there first: decide again.
  }
  throw new Error(`Service ${key.cluster}/${key.serviceName}: the reconcile pass kept losing its write`);
}

/** A pass for every service that still has work (ACTIVE or DRAINING); the earliest wake-up. */
export async function reconcileAllServices(b: Berth): Promise<{ passes: number; wakeAt?: number }> {
  const services = await b.store.services.listLive();
  let wakeAt: number | undefined;
  for (const s of services) {
    const r = await reconcileService(b, s);
    if (r.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, r.wakeAt);
  }
  return { passes: services.length, wakeAt };
}
