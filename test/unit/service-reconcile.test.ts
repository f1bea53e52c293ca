import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { DeploymentConfiguration, ObservedHost, ObservedTask, SchedulingStrategy, Service } from '../../shared/domain/service';
import {
  circuitBreakerThreshold,
  defaultDeploymentConfiguration,
  deploymentId,
  maximumTasks,
  minimumHealthyTasks,
  startDeployment,
} from '../../shared/services/deployments';
import { MAX_SERVICE_EVENTS, messages, placementDetail, recordStarts, rolloutReasons, withEvents } from '../../shared/services/events';
import { BACKOFF_MAX_MS, backoffDelayMs, reconcile } from '../../shared/services/reconcile';
import { ServiceSim, isLive, isServing } from '../support/service-sim';
import { splitTasks } from '../../shared/domain/capacity-strategy';

const REV1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
const REV2 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';
const REV3 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:3';
const T0 = 1_700_000_000_000;

let counter = 0;
const newId = () => String(++counter).padStart(19, '0');

function makeService(over: Partial<Service> & { config?: Partial<DeploymentConfiguration> } = {}): Service {
  const strategy: SchedulingStrategy = over.schedulingStrategy ?? 'REPLICA';
  const { config, ...rest } = over;
  const base: Service = {
    cluster: 'default', serviceName: 'web', status: 'ACTIVE', schedulingStrategy: strategy, desiredCount: 3,
    runningCount: 0, pendingCount: 0, launchType: 'FARGATE',
    deploymentConfiguration: { ...defaultDeploymentConfiguration(strategy), ...config },
    placementStrategy: [], placementConstraints: [], tags: [], propagateTags: 'NONE', enableECSManagedTags: false,
    deployments: [], events: [], createdAt: T0, version: 1,
    ...rest,
  };
  return base.deployments.length > 0 ? base : startDeployment(base, REV1, T0, newId);
}

function task(over: Partial<ObservedTask> & { taskId: string; deploymentId: string }): ObservedTask {
  return { lastStatus: 'RUNNING', desiredStatus: 'RUNNING', healthStatus: 'UNKNOWN', hasHealthCheck: false, hostId: 'host-a', startedAt: T0, ...over };
}

const pass = (service: Service, tasks: ObservedTask[], now = T0 + 10_000, hosts: ObservedHost[] = []) =>
  reconcile({ service, tasks, hosts, now, newId });

/** A service whose only deployment is COMPLETED, running `n` healthy tasks. */
function steadyService(n: number, over: Parameters<typeof makeService>[0] = {}) {
  const svc = makeService({ desiredCount: n, ...over });
  const dep = svc.deployments[0];
  const tasks = Array.from({ length: n }, (_, i) => task({ taskId: `old-${i}`, deploymentId: dep.id }));
  const plan = pass(svc, tasks);
  expect(plan.service.deployments[0].rolloutState).toBe('COMPLETED');
  return { service: plan.service, tasks, dep };
}

describe('Service scheduler', () => {
  describe('event wording', () => {
    it.each([
      [messages.started('web', ['a1', 'b2']), '(service web) has started 2 tasks: (task a1) (task b2).'],
      [messages.stopped('web', ['a1']), '(service web) has stopped 1 running tasks: (task a1).'],
      [messages.steadyState('web'), '(service web) has reached a steady state.'],
      [messages.deploymentCompleted('web', 'ecs-svc/1234567890123456789'), '(service web) (deployment ecs-svc/1234567890123456789) deployment completed.'],
      [messages.deploymentFailed('web', 'ecs-svc/1234567890123456789'), '(service web) (deployment ecs-svc/1234567890123456789) deployment failed: tasks failed to start.'],
      [messages.failedHealthChecks('web', 'a1'), '(service web) (task a1) failed container health checks.'],
      [
        messages.unableToPlace('web', placementDetail('RESOURCE:MEMORY')),
        '(service web) was unable to place a task because no container instance met all of its requirements. The closest matching container instance has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
      ],
      [
        messages.unableToPlace('web', placementDetail(undefined)),
        '(service web) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.',
      ],
      [messages.unableToStartConsistently('web'), '(service web) is unable to consistently start tasks successfully. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.'],
      [rolloutReasons.inProgress('ecs-svc/1'), 'ECS deployment ecs-svc/1 in progress.'],
      [rolloutReasons.completed('ecs-svc/1'), 'ECS deployment ecs-svc/1 completed.'],
      [rolloutReasons.failed(), 'ECS deployment circuit breaker: tasks failed to start.'],
      [rolloutReasons.rollingBack('ecs-svc/1'), 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.'],
    ])('%s', (actual, expected) => {
      expect(actual).toBe(expected);
    });

    it('keeps the newest 100 events, newest first', () => {
      const events = withEvents([], Array.from({ length: 130 }, (_, i) => `m${i}`), T0, newId);
      expect(events).toHaveLength(MAX_SERVICE_EVENTS);
      expect(events[0].message).toBe('m129');
      expect(events[99].message).toBe('m30');
    });

    it('records the tasks the applier started', () => {
      const svc = recordStarts(makeService(), ['x', 'y'], T0, newId);
      expect(svc.events[0].message).toBe('(service web) has started 2 tasks: (task x) (task y).');
    });
  });

  describe('deployments', () => {
    it('makes ECS-shaped deployment ids from newId', () => {
      expect(deploymentId(() => '1234567890123456789')).toBe('ecs-svc/1234567890123456789');
      expect(deploymentId(() => 'some-uuid')).toMatch(/^ecs-svc\/\d{19}$/);
      expect(deploymentId(() => 'some-uuid')).toBe(deploymentId(() => 'some-uuid'));
    });

    it.each([
      [1, 3], [5, 3], [6, 3], [7, 4], [25, 13], [400, 200], [401, 200], [10_000, 200],
    ])('circuit breaker threshold for desiredCount %i is %i', (desired, threshold) => {
      expect(circuitBreakerThreshold(desired)).toBe(threshold);
    });

    it('rounds maximumPercent down and minimumHealthyPercent up, as ECS does', () => {
      const config = { minimumHealthyPercent: 50, maximumPercent: 150, deploymentCircuitBreaker: { enable: false, rollback: false } };
      expect(maximumTasks(3, config)).toBe(4);
      expect(minimumHealthyTasks(3, config)).toBe(2);
    });

    it('a new deployment is PRIMARY and the earlier one ACTIVE', () => {
      const { service } = steadyService(2);
      const next = startDeployment(service, REV2, T0 + 1, newId);
      expect(next.deployments.map((d) => [d.status, d.taskDefinitionArn, d.rolloutState])).toEqual([
        ['PRIMARY', REV2, 'IN_PROGRESS'], ['ACTIVE', REV1, 'COMPLETED'],
      ]);
    });
  });

  describe('reconcile', () => {
    it('starts the tasks a new service wants, then completes and reaches a steady state once', () => {
      const svc = makeService({ desiredCount: 2 });
      const first = pass(svc, []);
      expect(first.starts).toEqual([{ deploymentId: svc.deployments[0].id, count: 2 }]);
      expect(first.stops).toEqual([]);
      const tasks = [task({ taskId: 'a', deploymentId: svc.deployments[0].id }), task({ taskId: 'b', deploymentId: svc.deployments[0].id })];
      const second = pass(first.service, tasks);
      expect(second.starts).toEqual([]);
      expect(second.service.deployments[0]).toMatchObject({ rolloutState: 'COMPLETED', runningCount: 2, desiredCount: 2 });
      expect(second.service.events.slice(0, 2).map((e) => e.message)).toEqual([
        '(service web) has reached a steady state.',
        `(service web) (deployment ${svc.deployments[0].id}) deployment completed.`,
      ]);
      const third = pass(second.service, tasks, T0 + 20_000);
      expect(third.service.events).toHaveLength(second.service.events.length);
      const later = pass(third.service, tasks, T0 + 7 * 3600_000);
      expect(later.service.events[0].message).toBe('(service web) has reached a steady state.');
      expect(later.service.events).toHaveLength(second.service.events.length + 1);
    });

    it('replaces a task that stopped, counting it once', () => {
      const { service, tasks, dep } = steadyService(3);
      const died = { ...tasks[0], lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const, stopCode: 'EssentialContainerExited' as const, stoppedAt: T0 + 5_000 };
      const observed = [died, tasks[1], tasks[2]];
      const plan = pass(service, observed, T0 + 600_000);
      expect(plan.starts).toEqual([{ deploymentId: dep.id, count: 1 }]);
      expect(plan.service.settledTaskIds).toContain(died.taskId);
      const again = pass(plan.service, observed, T0 + 600_001);
      expect(again.starts).toEqual([{ deploymentId: dep.id, count: 1 }]);
      expect(again.service.failureStreak).toBe(plan.service.failureStreak);
    });

    it('stops an UNHEALTHY task after the grace period, not within it', () => {
      const svc = makeService({ desiredCount: 1, healthCheckGracePeriodSeconds: 60 });
      const dep = svc.deployments[0];
      const sick = task({ taskId: 'sick', deploymentId: dep.id, hasHealthCheck: true, healthStatus: 'UNHEALTHY', startedAt: T0 });
      const early = pass(svc, [sick], T0 + 30_000);
      expect(early.stops).toEqual([]);
      expect(early.wakeAt).toBe(T0 + 60_000);
      const late = pass(svc, [sick], T0 + 60_000);
      expect(late.stops).toEqual([{ taskId: 'sick', reason: 'Task failed container health checks' }]);
      expect(late.service.events.map((e) => e.message)).toContain('(service web) (task sick) failed container health checks.');
      expect(late.service.deployments[0].failedTasks).toBe(1);
      // Its stop is not seen yet: planned again, not counted again.
      const again = pass(late.service, [sick], T0 + 61_000);
      expect(again.stops.map((s) => s.taskId)).toEqual(['sick']);
      expect(again.service.deployments[0].failedTasks).toBe(1);
    });

    it('replaces a task lost with its host', () => {
      const { service, tasks, dep } = steadyService(2);
      const hosts: ObservedHost[] = [{ hostId: 'host-a', status: 'LOST' }, { hostId: 'host-b', status: 'ACTIVE' }];
      const observed = [tasks[0], { ...tasks[1], hostId: 'host-b' }];
      const plan = pass(service, observed, T0 + 20_000, hosts);
      expect(plan.starts).toEqual([{ deploymentId: dep.id, count: 1 }]);
      expect(plan.stops).toEqual([]);
      expect(plan.service.deployments[0].failedTasks).toBe(0);
    });

    it('scales in keeping the capacity provider split', () => {
      // Prepare: 4 FARGATE and 5 FARGATE_SPOT under base 1 weight 1 / weight 2, scaled to 6.
      const strategy = [{ capacityProvider: 'FARGATE' as const, base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT' as const, base: 0, weight: 2 }];
      const { service, tasks } = steadyService(9, { capacityProviderStrategy: strategy });
      const providers = ['FARGATE', 'FARGATE', 'FARGATE', 'FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT'];
      const split = tasks.map((t, i) => ({ ...t, capacityProviderName: providers[i] }));

      // Act
      const plan = pass({ ...service, desiredCount: 6 }, split);

      // Assess: one FARGATE and two FARGATE_SPOT go, leaving the split of six (3 and 3).
      const stopped = new Set(plan.stops.map((s) => s.taskId));
      const left = split.filter((t) => !stopped.has(t.taskId)).map((t) => t.capacityProviderName);
      expect(plan.stops).toHaveLength(3);
      expect(left.filter((p) => p === 'FARGATE')).toHaveLength(3);
      expect(left.filter((p) => p === 'FARGATE_SPOT')).toHaveLength(3);
    });

    it('replaces the tasks of a draining spot host on spot: the split counts the tasks that stay, not those being replaced', () => {
      // Prepare: 3 FARGATE on an ACTIVE host, 3 FARGATE_SPOT on a host with a spot interruption warning (DRAINING).
      const strategy = [{ capacityProvider: 'FARGATE' as const, base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT' as const, base: 0, weight: 2 }];
      const { service, tasks } = steadyService(6, { capacityProviderStrategy: strategy });
      const split = tasks.map((t, i) => (i < 3
        ? { ...t, capacityProviderName: 'FARGATE', hostId: 'on-demand' }
        : { ...t, capacityProviderName: 'FARGATE_SPOT', hostId: 'spot' }));
      const hosts: ObservedHost[] = [{ hostId: 'on-demand', status: 'ACTIVE' }, { hostId: 'spot', status: 'DRAINING' }];

      // Act
      const plan = pass(service, split, T0 + 10_000, hosts);

      // Assess: three replacements, each where the split of the three that stay falls short: all spot.
      expect(plan.starts).toEqual([{ deploymentId: service.deployments[0].id, count: 3, providerCounts: { FARGATE: 3 } }]);
      expect(splitTasks(strategy, 3, plan.starts[0].providerCounts)).toEqual(['FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT']);
    });

    it('scales 3 → 0 → 5', () => {
      const { service, tasks, dep } = steadyService(3);
      const down = pass({ ...service, desiredCount: 0 }, tasks);
      expect(down.stops.map((s) => s.taskId).sort()).toEqual(['old-0', 'old-1', 'old-2']);
      expect(down.stops[0].reason).toBe(`Scaling activity initiated by (deployment ${dep.id})`);
      expect(down.service.events[0].message).toMatch(/^\(service web\) has stopped 3 running tasks: /);
      const gone = tasks.map((t) => ({ ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const, stopCode: 'ServiceSchedulerInitiated' as const }));
      const zero = pass(down.service, gone);
      expect(zero.starts).toEqual([]);
      const up = pass({ ...zero.service, desiredCount: 5 }, gone);
      expect(up.starts).toEqual([{ deploymentId: dep.id, count: 5 }]);
    });

    it('DeleteService: drains every task, then INACTIVE', () => {
      const { service, tasks } = steadyService(2);
      const draining = pass({ ...service, status: 'DRAINING', desiredCount: 0 }, tasks);
      expect(draining.stops).toHaveLength(2);
      expect(draining.service.status).toBe('DRAINING');
      const stopped = tasks.map((t) => ({ ...t, lastStatus: 'STOPPED' as const, desiredStatus: 'STOPPED' as const, stopCode: 'ServiceSchedulerInitiated' as const }));
      const done = pass(draining.service, stopped);
      expect(done.service.status).toBe('INACTIVE');
      expect(done.starts).toEqual([]);
    });

    it('notes a task that could not be placed', () => {
      const svc = makeService({ desiredCount: 1 });
      const failed = task({
        taskId: 'p', deploymentId: svc.deployments[0].id, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: undefined,
        stopCode: 'TaskFailedToStart', stoppedReason: 'RESOURCE:MEMORY',
      });
      const plan = pass(svc, [failed]);
      expect(plan.service.events[0].message).toContain('was unable to place a task because no container instance met all of its requirements.');
      expect(plan.service.deployments[0].failedTasks).toBe(1);
    });

    it.each([1, 5, 6, 400, 401])('trips the circuit breaker at exactly its threshold (desiredCount %i)', (desired) => {
      const { service } = steadyService(0, { config: { deploymentCircuitBreaker: { enable: true, rollback: false } } });
      const deploying = startDeployment({ ...service, desiredCount: desired }, REV2, T0 + 1, newId);
      const primary = deploying.deployments[0];
      const threshold = circuitBreakerThreshold(desired);
      const failed = (n: number) => Array.from({ length: n }, (_, i) => task({
        taskId: `f${i}`, deploymentId: primary.id, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: undefined,
        stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError',
      }));
      const below = pass(deploying, failed(threshold - 1));
      expect(below.service.deployments[0]).toMatchObject({ rolloutState: 'IN_PROGRESS', failedTasks: threshold - 1 });
      const at = pass(deploying, failed(threshold));
      expect(at.service.deployments[0]).toMatchObject({
        rolloutState: 'FAILED', failedTasks: threshold, rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
      });
      expect(at.starts).toEqual([]);
      expect(at.service.events.map((e) => e.message)).toContain(`(service web) (deployment ${primary.id}) deployment failed: tasks failed to start.`);
    });

    it('rolls back to the last COMPLETED deployment with a new deployment of its revision', () => {
      const { service, tasks, dep } = steadyService(3, { config: { deploymentCircuitBreaker: { enable: true, rollback: true } } });
      const deploying = startDeployment(service, REV2, T0 + 1, newId);
      const bad = deploying.deployments[0];
      const failed = Array.from({ length: 3 }, (_, i) => task({
        taskId: `f${i}`, deploymentId: bad.id, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: undefined, stopCode: 'TaskFailedToStart',
      }));
      const plan = pass(deploying, [...tasks, ...failed]);
      const [primary, ...rest] = plan.service.deployments;
      expect(primary).toMatchObject({
        status: 'PRIMARY', taskDefinitionArn: REV1, rolloutState: 'IN_PROGRESS',
        rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${dep.id}.`,
      });
      expect(primary.id).not.toBe(dep.id);
      expect(rest.find((d) => d.id === bad.id)).toMatchObject({ status: 'ACTIVE', rolloutState: 'FAILED' });
      expect(plan.starts).toEqual([{ deploymentId: primary.id, count: 3 }]);
    });

    it('backs off between failures when there is no circuit breaker', () => {
      expect(backoffDelayMs(1)).toBe(0);
      expect(backoffDelayMs(2)).toBe(5_000);
      expect(backoffDelayMs(3)).toBe(10_000);
      expect(backoffDelayMs(50)).toBe(BACKOFF_MAX_MS);
      const svc = makeService({ desiredCount: 1 });
      const dep = svc.deployments[0];
      const crash = (id: string, at: number) => task({
        taskId: id, deploymentId: dep.id, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', startedAt: at, stoppedAt: at + 1_000, stopCode: 'EssentialContainerExited',
      });
      const one = pass(svc, [crash('c1', T0)], T0 + 2_000);
      expect(one.starts).toEqual([{ deploymentId: dep.id, count: 1 }]);
      const two = pass(one.service, [crash('c1', T0), crash('c2', T0 + 3_000)], T0 + 5_000);
      expect(two.starts).toEqual([]);
      expect(two.wakeAt).toBe(T0 + 10_000);
      expect(two.service.events[0].message).toMatch(/is unable to consistently start tasks successfully/);
      const woken = pass(two.service, [crash('c1', T0), crash('c2', T0 + 3_000)], T0 + 10_000);
      expect(woken.starts).toEqual([{ deploymentId: dep.id, count: 1 }]);
    });

    it('DAEMON: one task on every ACTIVE host, none on the others', () => {
      const svc = makeService({ schedulingStrategy: 'DAEMON', desiredCount: 0 });
      const dep = svc.deployments[0];
      const hosts: ObservedHost[] = [
        { hostId: 'h1', status: 'ACTIVE' }, { hostId: 'h2', status: 'ACTIVE' }, { hostId: 'h3', status: 'DRAINING' }, { hostId: 'h4', status: 'LAUNCHING' },
      ];
      const onH3 = task({ taskId: 'd3', deploymentId: dep.id, hostId: 'h3' });
      const onH1 = task({ taskId: 'd1', deploymentId: dep.id, hostId: 'h1' });
      const plan = pass(svc, [onH1, onH3], T0 + 1_000, hosts);
      expect(plan.service.desiredCount).toBe(2);
      expect(plan.starts).toEqual([{ deploymentId: dep.id, count: 1, hostId: 'h2' }]);
      expect(plan.stops.map((s) => s.taskId)).toEqual(['d3']);
    });
  });

  describe('against a simulated world', () => {
    const configArb = fc.record({
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      desired: fc.integer({ min: 0, max: 12 }),
      minimumHealthyPercent: fc.integer({ min: 0, max: 100 }),
      maximumPercent: fc.integer({ min: 100, max: 200 }),
      hasHealthCheck: fc.boolean(),
      grace: fc.constantFrom(0, 10, 30),
    });

    /** Checks every plan the simulator made against the world it was made for. */
    function checkPlans(sim: ServiceSim) {
      for (const { before, plan, service } of sim.plans) {
        const byId = new Map(before.map((t) => [t.taskId, t]));
        for (const s of plan.stops) {
          expect(byId.get(s.taskId)?.lastStatus).not.toBe('STOPPED');
          expect(byId.get(s.taskId)?.desiredStatus).toBe('RUNNING');
        }
        const primary = plan.service.deployments.find((d) => d.status === 'PRIMARY')!;
        for (const s of plan.starts) expect(s.deploymentId).toBe(primary.id);
        const started = plan.starts.reduce((n, s) => n + s.count, 0);
        if (started > 0 && service.schedulingStrategy === 'REPLICA') {
          const live = before.filter((t) => isLive(t, sim.hosts)).length;
          expect(live + started).toBeLessThanOrEqual(maximumTasks(plan.service.desiredCount, service.deploymentConfiguration));
        }
      }
    }

    it('a rolling deployment keeps within maximumPercent and minimumHealthyPercent and ends with exactly desiredCount new tasks', () => {
      fc.assert(
        fc.property(configArb, (c) => {
          const config = { minimumHealthyPercent: c.minimumHealthyPercent, maximumPercent: c.maximumPercent, deploymentCircuitBreaker: { enable: false, rollback: false } };
          const sim = new ServiceSim({
            seed: c.seed, hasHealthCheck: c.hasHealthCheck,
            service: makeService({ desiredCount: c.desired, healthCheckGracePeriodSeconds: c.grace, deploymentConfiguration: config }),
          });
          const stuck = maximumTasks(c.desired, config) <= c.desired && minimumHealthyTasks(c.desired, config) >= c.desired && c.desired > 0;
          expect(sim.runUntil((s) => s.primary().rolloutState === 'COMPLETED')).toBe(true);
          sim.service = startDeployment(sim.service, REV2, sim.now, sim.newId);
          const minHealthy = minimumHealthyTasks(c.desired, config);
          const completed = sim.runUntil((s) => {
            // Between passes, tasks being stopped no longer serve: count only those still wanted.
            expect(s.tasks.filter(isServing).length).toBeGreaterThanOrEqual(minHealthy);
            return s.primary().rolloutState === 'COMPLETED';
          });
          checkPlans(sim);
          if (stuck) return;
          expect(completed).toBe(true);
          const live = sim.tasks.filter((t) => isLive(t, sim.hosts));
          expect(live).toHaveLength(c.desired);
          expect(live.every((t) => t.taskDefinitionArn === REV2 && isServing(t))).toBe(true);
          expect(sim.service.deployments).toHaveLength(1);
        }),
        { numRuns: 80 },
      );
    });

    it('under random task failures it never exceeds maximumPercent and never stops a STOPPED task', () => {
      fc.assert(
        fc.property(configArb, fc.double({ min: 0.01, max: 0.2, noNaN: true }), (c, failureRate) => {
          const config = { minimumHealthyPercent: c.minimumHealthyPercent, maximumPercent: c.maximumPercent, deploymentCircuitBreaker: { enable: false, rollback: false } };
          const sim = new ServiceSim({
            seed: c.seed, hasHealthCheck: c.hasHealthCheck, failureRate, unhealthyRevisions: c.seed % 3 === 0 ? [REV2] : [],
            service: makeService({ desiredCount: c.desired, healthCheckGracePeriodSeconds: c.grace, deploymentConfiguration: config }),
          });
          sim.runUntil(() => false, 60);
          sim.service = startDeployment({ ...sim.service, desiredCount: Math.max(0, c.desired - 2 + (c.seed % 5)) }, REV2, sim.now, sim.newId);
          sim.runUntil(() => false, 100);
          checkPlans(sim);
          const settled = new Set(sim.service.settledTaskIds);
          for (const t of sim.tasks) if (settled.has(t.taskId)) expect(t.lastStatus === 'STOPPED' || t.desiredStatus === 'STOPPED').toBe(true);
        }),
        { numRuns: 60 },
      );
    });

    it('a revision that cannot start trips the breaker and the service returns to the old revision', () => {
      fc.assert(
        fc.property(configArb, (c) => {
          const desired = Math.max(1, c.desired);
          const config = { minimumHealthyPercent: c.minimumHealthyPercent, maximumPercent: c.maximumPercent, deploymentCircuitBreaker: { enable: true, rollback: true } };
          const sim = new ServiceSim({
            seed: c.seed, hasHealthCheck: c.hasHealthCheck, badRevisions: [REV3],
            service: makeService({ desiredCount: desired, deploymentConfiguration: config }),
          });
          expect(sim.runUntil((s) => s.primary().rolloutState === 'COMPLETED')).toBe(true);
          sim.service = startDeployment(sim.service, REV3, sim.now, sim.newId);
          const failedId = sim.service.deployments[0].id;
          let sawFailed = false;
          const back = sim.runUntil((s) => {
            sawFailed ||= s.service.deployments.some((d) => d.id === failedId && d.rolloutState === 'FAILED');
            return sawFailed && s.primary().rolloutState === 'COMPLETED';
          }, 1_000);
          checkPlans(sim);
          const stuck = maximumTasks(desired, config) <= desired && minimumHealthyTasks(desired, config) >= desired;
          if (stuck) return;
          expect(back).toBe(true);
          expect(sim.primary().taskDefinitionArn).toBe(REV1);
          const live = sim.tasks.filter((t) => isLive(t, sim.hosts));
          expect(live).toHaveLength(desired);
          expect(live.every((t) => t.taskDefinitionArn === REV1)).toBe(true);
          expect(sim.service.events.map((e) => e.message)).toContain(`(service web) (deployment ${failedId}) deployment failed: tasks failed to start.`);
        }),
        { numRuns: 60 },
      );
    });

    it('a DRAINING host: its tasks are replaced elsewhere first, never below minimumHealthyPercent, and none is left on it', () => {
      fc.assert(
        fc.property(configArb, (c) => {
          const config = { minimumHealthyPercent: c.minimumHealthyPercent, maximumPercent: c.maximumPercent, deploymentCircuitBreaker: { enable: false, rollback: false } };
          const hosts: ObservedHost[] = ['host-a', 'host-b', 'host-c'].map((hostId) => ({ hostId, status: 'ACTIVE' }));
          const sim = new ServiceSim({
            seed: c.seed, hasHealthCheck: c.hasHealthCheck, hosts,
            service: makeService({ desiredCount: c.desired, healthCheckGracePeriodSeconds: c.grace, deploymentConfiguration: config }),
          });
          expect(sim.runUntil((s) => s.primary().rolloutState === 'COMPLETED')).toBe(true);
          const cordoned = sim.hosts[c.seed % 3].hostId;
          sim.hosts[c.seed % 3] = { hostId: cordoned, status: 'DRAINING' };
          const minHealthy = minimumHealthyTasks(c.desired, config);
          const onCordoned = (s: ServiceSim) => s.tasks.filter((t) => t.hostId === cordoned && isLive(t, s.hosts));
          const drained = sim.runUntil((s) => {
            expect(s.tasks.filter(isServing).length).toBeGreaterThanOrEqual(minHealthy);
            return onCordoned(s).length === 0 && s.tasks.filter((t) => isLive(t, s.hosts) && isServing(t)).length === c.desired;
          });
          checkPlans(sim);
          // Stops only ever name the service's own tasks, and only live ones (checkPlans); the
          // replacements go to the ACTIVE hosts.
          const stuck = maximumTasks(c.desired, config) <= c.desired && minimumHealthyTasks(c.desired, config) >= c.desired && c.desired > 0;
          if (stuck) return;
          expect(drained).toBe(true);
          expect(sim.tasks.filter((t) => isLive(t, sim.hosts)).every((t) => t.hostId !== cordoned)).toBe(true);
        }),
        { numRuns: 80 },
      );
    });

    it('DAEMON: one task on every ACTIVE host, also on hosts that join later, none on hosts that leave', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 0, max: 6 }), fc.boolean(), (seed, hostCount, hasHealthCheck) => {
          const hosts: ObservedHost[] = Array.from({ length: hostCount }, (_, i) => ({ hostId: `h${i}`, status: 'ACTIVE' }));
          const sim = new ServiceSim({ seed, hosts, hasHealthCheck, service: makeService({ schedulingStrategy: 'DAEMON', desiredCount: 0 }) });
          const onePerActiveHost = (s: ServiceSim) => {
            const live = s.tasks.filter((t) => isLive(t, s.hosts) && t.desiredStatus === 'RUNNING');
            const active = s.hosts.filter((h) => h.status === 'ACTIVE');
            return live.length === active.length && active.every((h) => live.filter((t) => t.hostId === h.hostId && isServing(t)).length === 1);
          };
          expect(sim.runUntil(onePerActiveHost)).toBe(true);
          sim.hosts.push({ hostId: 'late', status: 'ACTIVE' });
          if (sim.hosts.length > 1) sim.hosts[0] = { ...sim.hosts[0], status: seed % 2 ? 'DRAINING' : 'LOST' };
          expect(sim.runUntil(onePerActiveHost)).toBe(true);
          sim.service = startDeployment(sim.service, REV2, sim.now, sim.newId);
          expect(sim.runUntil((s) => onePerActiveHost(s) && s.primary().rolloutState === 'COMPLETED')).toBe(true);
          checkPlans(sim);
          for (const { before, plan } of sim.plans) {
            for (const h of sim.hosts) {
              const onHost = before.filter((t) => t.hostId === h.hostId && isLive(t, sim.hosts)).length;
              const starting = plan.starts.filter((s) => s.hostId === h.hostId).reduce((n, s) => n + s.count, 0);
              if (starting > 0) expect(onHost + starting).toBeLessThanOrEqual(1);
            }
          }
          expect(sim.tasks.filter((t) => isLive(t, sim.hosts)).every((t) => t.taskDefinitionArn === REV2)).toBe(true);
          expect(sim.service.desiredCount).toBe(sim.hosts.filter((h) => h.status === 'ACTIVE').length);
        }),
        { numRuns: 60 },
      );
    });
  });
});
