import type { ObservedHost, ObservedTask, Service, ServicePlan } from '../../shared/domain/service';
import { statusRank } from '../../shared/domain/task';
import { recordStarts } from '../../shared/services/events';
import { reconcile } from '../../shared/services/reconcile';
import { seededRandom } from '../bench/support/random';

/**
 * A small world for the service reconciler: it applies each plan as the applier would (starts
 * become PROVISIONING tasks, stops become desiredStatus STOPPED), then moves time and every
 * task one random step along its lifecycle. Revisions listed in `badRevisions` never start;
 * with `failureRate` > 0 running tasks also die at random. Everything is seeded.
 */

export interface SimOptions {
  seed: number;
  service: Service;
  hosts?: ObservedHost[];
  /** Task definition ARNs whose tasks fail to start (an image that cannot be pulled). */
  badRevisions?: string[];
  /** Task definition ARNs whose health check never passes. */
  unhealthyRevisions?: string[];
  hasHealthCheck?: boolean;
  /** Chance per step that a running task exits on its own. */
  failureRate?: number;
  /** Chance per step that a task moves one lifecycle status forward. */
  progressRate?: number;
}

export interface SimTask extends ObservedTask {
  taskDefinitionArn: string;
}

const FORWARD = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'] as const;

export class ServiceSim {
  service: Service;
  tasks: SimTask[] = [];
  hosts: ObservedHost[];
  now = 1_700_000_000_000;
  readonly random: () => number;
  private ids = 0;
  readonly plans: { before: SimTask[]; plan: ServicePlan; service: Service }[] = [];

  constructor(readonly options: SimOptions) {
    this.service = options.service;
    this.hosts = options.hosts ?? [{ hostId: 'host-a', status: 'ACTIVE' }, { hostId: 'host-b', status: 'ACTIVE' }];
    this.random = seededRandom(options.seed);
  }

  newId = (): string => String(++this.ids).padStart(19, '0');

  /** One reconcile pass, applied; returns the plan. */
  pass(): ServicePlan {
    const before = this.tasks.map((t) => ({ ...t }));
    const plan = reconcile({ service: this.service, tasks: before, hosts: this.hosts, now: this.now, newId: this.newId });
    this.plans.push({ before, plan, service: this.service });
    for (const s of plan.stops) {
      const t = this.tasks.find((x) => x.taskId === s.taskId)!;
      t.desiredStatus = 'STOPPED';
    }
    const started: string[] = [];
    for (const s of plan.starts) {
      const d = plan.service.deployments.find((x) => x.id === s.deploymentId)!;
      const activeHosts = this.hosts.filter((h) => h.status === 'ACTIVE');
      for (let i = 0; i < s.count; i++) {
        const taskId = `t${String(++this.ids).padStart(5, '0')}`;
        started.push(taskId);
        const hostId = s.hostId ?? activeHosts[Math.floor(this.random() * activeHosts.length)]?.hostId;
        this.tasks.push({
          taskId, deploymentId: s.deploymentId, taskDefinitionArn: d.taskDefinitionArn,
          lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', healthStatus: 'UNKNOWN',
          hasHealthCheck: this.options.hasHealthCheck ?? false, hostId,
        });
      }
    }
    this.service = { ...recordStarts(plan.service, started, this.now, this.newId), version: plan.service.version + 1 };
    return plan;
  }

  /** Time moves on: every task may take one step. */
  tick(ms = 1_000 + Math.floor(this.random() * 4_000)): void {
    this.now += ms;
    const progress = this.options.progressRate ?? 0.7;
    for (const t of this.tasks) {
      if (t.lastStatus === 'STOPPED') continue;
      const host = this.hosts.find((h) => h.hostId === t.hostId);
      if (host && (host.status === 'LOST' || host.status === 'TERMINATED')) {
        this.stop(t, 'TaskFailedToStart', 'Host lost');
        continue;
      }
      if (t.desiredStatus === 'STOPPED') {
        if (this.random() < progress) this.stop(t, 'ServiceSchedulerInitiated', 'Scaling activity');
        continue;
      }
      if (this.random() >= progress) continue;
      const at = FORWARD.indexOf(t.lastStatus as (typeof FORWARD)[number]);
      if (at >= 0 && at < FORWARD.length - 1) {
        if (FORWARD[at + 1] === 'RUNNING' && this.options.badRevisions?.includes(t.taskDefinitionArn)) {
          this.stop(t, 'TaskFailedToStart', 'CannotPullContainerError: pull image manifest has been retried 5 time(s)');
          continue;
        }
        t.lastStatus = FORWARD[at + 1];
        if (t.lastStatus === 'RUNNING') t.startedAt = this.now;
      } else if (t.lastStatus === 'RUNNING') {
        if (t.hasHealthCheck && t.healthStatus === 'UNKNOWN') {
          t.healthStatus = this.options.unhealthyRevisions?.includes(t.taskDefinitionArn) ? 'UNHEALTHY' : 'HEALTHY';
        } else if (this.random() < (this.options.failureRate ?? 0)) {
          this.stop(t, 'EssentialContainerExited', 'Essential container in task exited');
        }
      }
    }
  }

  /** Pass and tick until `done` holds (true) or `steps` run out (false). */
  runUntil(done: (sim: ServiceSim) => boolean, steps = 400): boolean {
    for (let i = 0; i < steps; i++) {
      this.pass();
      if (done(this)) return true;
      // Sleep past a backoff the way the wiring's wake-up would.
      const wake = this.plans[this.plans.length - 1].plan.wakeAt;
      this.tick(wake !== undefined && this.random() < 0.5 ? Math.max(1, wake - this.now) : undefined);
    }
    return false;
  }

  private stop(t: SimTask, stopCode: SimTask['stopCode'], reason: string): void {
    t.lastStatus = 'STOPPED';
    t.desiredStatus = 'STOPPED';
    t.stopCode = stopCode;
    t.stoppedReason = reason;
    t.stoppedAt = this.now;
  }

  primary() {
    return this.service.deployments.find((d) => d.status === 'PRIMARY')!;
  }
}

/** Counts towards maximumPercent: not STOPPED, on a host that is not gone. */
export function isLive(t: ObservedTask, hosts: readonly ObservedHost[]): boolean {
  const host = hosts.find((h) => h.hostId === t.hostId);
  return t.lastStatus !== 'STOPPED' && !(host && (host.status === 'LOST' || host.status === 'TERMINATED'));
}

/** Serving: RUNNING, still wanted, and HEALTHY where there is a health check. */
export function isServing(t: ObservedTask): boolean {
  return t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING' && (!t.hasHealthCheck || t.healthStatus === 'HEALTHY');
}

export const isPending = (t: ObservedTask): boolean => statusRank(t.lastStatus) < statusRank('RUNNING');
