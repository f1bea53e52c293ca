import { type Target, type TargetHealth, targetKey } from '../cloud/load-balancing';
import type { DrainingTask, ServiceLoadBalancer } from '../domain/service';
import type { NetworkBinding } from '../domain/ports';
import { stopReasons } from './events';

/**
 * A service's load balancers, decided purely: which tasks join their target groups, which
 * leave, and when a task the reconciler stops may really stop. As ECS does it: a task joins once
 * RUNNING; a task to stop is first deregistered and drains for the target group's
 * deregistration delay (the target group says `draining`, then forgets it), and only then is it
 * stopped; a task that ended some other way leaves at once.
 */

/** What the decision needs of one task. */
export interface BalancedTask {
  taskId: string;
  /** lastStatus and desiredStatus RUNNING. */
  running: boolean;
  /** Stopped, or on its way down by some other hand than the scheduler's drain. */
  ended: boolean;
  /** Its target in each of the service's target groups (by index), once it has an address. */
  targets: (Target | undefined)[];
}

export interface LoadBalancingInput {
  loadBalancers: readonly ServiceLoadBalancer[];
  tasks: readonly BalancedTask[];
  /** Each target group's targets as it reports them (by index); undefined for one that is gone. */
  health: readonly (readonly TargetHealth[] | undefined)[];
  /** What the reconciler wants stopped in this pass. */
  stops: readonly { taskId: string; reason: string }[];
  /** Tasks already draining, from the service record. */
  draining: readonly DrainingTask[];
}

export interface TargetChange {
  targetGroupArn: string;
  target: Target;
}

export interface LoadBalancingPlan {
  register: TargetChange[];
  deregister: TargetChange[];
  /** Tasks to stop now: nothing of theirs is left in a target group. */
  stops: { taskId: string; reason: string }[];
  /** Tasks still draining, for the service record. */
  draining: DrainingTask[];
}

const find = (health: readonly TargetHealth[] | undefined, t: Target | undefined) =>
  t === undefined ? undefined : health?.find((h) => targetKey(h.target) === targetKey(t));

export function planLoadBalancing(input: LoadBalancingInput): LoadBalancingPlan {
  const { loadBalancers, health } = input;
  const byId = new Map(input.tasks.map((t) => [t.taskId, t]));
  const register: TargetChange[] = [];
  const deregister: TargetChange[] = [];
  const stops: LoadBalancingPlan['stops'] = [];
  const draining: DrainingTask[] = [];

  // A stopped task's address (or host port) may be a running task's now: its target is that task's.
  const held = loadBalancers.map((_, i) => new Set(input.tasks.flatMap((t) => {
    const target = t.targets[i];
    return t.running && !t.ended && target !== undefined ? [targetKey(target)] : [];
  })));

  /** Deregisters what of the task is still in service; whether anything of it is left in a group. */
  const leave = (task: BalancedTask): boolean => {
    let left = false;
    loadBalancers.forEach((lb, i) => {
      const h = find(health[i], task.targets[i]);
      if (!h || (task.ended && held[i].has(targetKey(h.target)))) return;
      left = true;
      if (h.state !== 'draining') deregister.push({ targetGroupArn: lb.targetGroupArn, target: h.target });
    });
    return left;
  };

  const holding = new Set<string>();
  for (const d of input.draining) {
    const task = byId.get(d.taskId);
    // Stopped meanwhile by another hand (or gone): nothing left to hold.
    if (!task || holding.has(d.taskId)) continue;
    holding.add(d.taskId);
    if (task.ended) leave(task);
    else if (leave(task)) draining.push(d);
    else stops.push(d);
  }
  for (const s of input.stops) {
    const task = byId.get(s.taskId);
    if (holding.has(s.taskId)) continue;
    holding.add(s.taskId);
    if (task && !task.ended && leave(task)) draining.push({ taskId: s.taskId, reason: s.reason });
    else stops.push({ taskId: s.taskId, reason: s.reason });
  }

  for (const task of input.tasks) {
    if (holding.has(task.taskId)) continue;
    if (task.ended) {
      leave(task);
      continue;
    }
    if (!task.running) continue;
    loadBalancers.forEach((lb, i) => {
      const t = task.targets[i];
      if (t !== undefined && health[i] !== undefined && !find(health[i], t)) register.push({ targetGroupArn: lb.targetGroupArn, target: t });
    });
  }
  return { register, deregister, stops, draining };
}

/**
 * What the target groups say of a task, as a health status the reconciler counts: HEALTHY only
 * when every group calls it healthy, UNHEALTHY when one calls it unhealthy, else UNKNOWN.
 */
export function loadBalancerHealth(
  loadBalancers: readonly ServiceLoadBalancer[], targets: readonly (Target | undefined)[], health: readonly (readonly TargetHealth[] | undefined)[],
): { status: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'; unhealthyIn?: { targetGroupArn: string; port: number; reason: string } } {
  const states = loadBalancers.map((lb, i) => ({ lb, h: find(health[i], targets[i]) }));
  const bad = states.find((s) => s.h?.state === 'unhealthy');
  if (bad) {
    return { status: 'UNHEALTHY', unhealthyIn: { targetGroupArn: bad.lb.targetGroupArn, port: bad.h!.target.port, reason: bad.h!.description ?? bad.h!.reason ?? 'Health checks failed' } };
  }
  return { status: states.length > 0 && states.every((s) => s.h?.state === 'healthy') ? 'HEALTHY' : 'UNKNOWN' };
}

/**
 * Where a target group reaches a task's containerName:containerPort: the host port the agent
 * published for it (on its bind address, or on the host itself, by its id, for an `instance`
 * target group), else the task's own address and the containerPort.
 */
export function targetOf(
  task: { hostId?: string; network?: { privateIPv4Address?: string }; containers: { name: string; networkBindings?: NetworkBinding[] }[] },
  lb: ServiceLoadBalancer,
): Target | undefined {
  const container = task.containers.find((c) => c.name === lb.containerName);
  const binding = container?.networkBindings?.find((n) => n.containerPort === lb.containerPort && n.hostPort !== undefined);
  if (binding) {
    const onHost = binding.bindIP === undefined || binding.bindIP === '0.0.0.0';
    if (onHost) return task.hostId === undefined ? undefined : { id: task.hostId, port: binding.hostPort! };
    return { id: binding.bindIP!, port: binding.hostPort! };
  }
  const ip = task.network?.privateIPv4Address;
  return ip === undefined ? undefined : { id: ip, port: lb.containerPort };
}

export const isElbHealthStop = (reason: string) => reason === stopReasons.failedHealthChecks();
