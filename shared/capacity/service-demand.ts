import type { Berth } from '../context';
import { addProviders, demandOf, splitTasks } from '../domain/capacity-strategy';
import { parseTaskDefinitionRef } from '../domain/arns';
import type { Service } from '../domain/service';
import { parseCpu, parseMemory } from '../domain/sizes';
import { cpuArchitectureOfDefinition, reservationOf } from '../domain/task-definition';
import { serviceGroup } from '../services/apply';
import type { PendingDemand } from './types';

/** Demand ids of tasks a service wants but has not started yet: no task has them. */
const SERVICE_DEMAND_PREFIX = 'service-demand:';

export const isServiceDemand = (taskId: string): boolean => taskId.startsWith(SERVICE_DEMAND_PREFIX);

/**
 * How many tasks a REPLICA service still lacks: its desired count less the tasks it has that are
 * wanted RUNNING (placed or not: an unplaced one is recorded demand of its own already).
 */
export function missingTasks(service: Pick<Service, 'status' | 'schedulingStrategy' | 'desiredCount'>, liveTasks: number): number {
  if (service.status !== 'ACTIVE' || service.schedulingStrategy !== 'REPLICA') return 0;
  return Math.max(0, service.desiredCount - liveTasks);
}

/**
 * Capacity counts a service's desired tasks before they exist: scaling a service from 0 to 50
 * (or a deployment held back by backoff or maximumPercent) asks for the hosts those tasks will
 * need, sized as the PRIMARY deployment's task definition reserves.
 */
export async function serviceDemand(b: Berth, now: number): Promise<PendingDemand[]> {
  const demand: PendingDemand[] = [];
  for (const s of await b.store.services.listLive()) {
    if (s.status !== 'ACTIVE' || s.schedulingStrategy !== 'REPLICA' || s.desiredCount === 0) continue;
    const tasks = await b.store.tasks.listByGroup(s.cluster, serviceGroup(s.serviceName));
    const live = tasks.filter((t) => t.desiredStatus === 'RUNNING');
    const missing = missingTasks(s, live.length);
    if (missing === 0) continue;
    const primary = s.deployments.find((d) => d.status === 'PRIMARY');
    if (!primary) continue;
    const ref = parseTaskDefinitionRef(primary.taskDefinitionArn);
    const def = await b.store.taskDefinitions.get(ref.family, ref.revision!);
    if (!def) continue;
    const size = reservationOf(def.containerDefinitions, def.cpu === undefined ? undefined : parseCpu(def.cpu), def.memory === undefined ? undefined : parseMemory(def.memory));
    // The missing tasks go to the providers the service's strategy will start them on.
    const counts: Record<string, number> = {};
    addProviders(counts, live);
    const providers = s.capacityProviderStrategy?.length ? splitTasks(s.capacityProviderStrategy, missing, counts) : [];
    for (let i = 0; i < missing; i++) {
      demand.push({
        taskId: `${SERVICE_DEMAND_PREFIX}${s.cluster}/${s.serviceName}/${i}`, cluster: s.cluster, cpu: size.cpu, memory: size.memory, since: now,
        ...(cpuArchitectureOfDefinition(def) === 'arm64' ? { architecture: 'arm64' as const } : {}),
        ...(providers[i] ? demandOf(providers[i]) : {}),
      });
    }
  }
  return demand;
}

/** The live tasks of every DAEMON service: they follow the hosts, so they are no reason to keep one. */
export async function daemonServiceTaskIds(b: Berth): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const s of await b.store.services.listLive()) {
    if (s.schedulingStrategy !== 'DAEMON') continue;
    for (const t of await b.store.tasks.listByGroup(s.cluster, serviceGroup(s.serviceName))) {
      if (t.lastStatus !== 'STOPPED') ids.add(t.taskId);
    }
  }
  return ids;
}
