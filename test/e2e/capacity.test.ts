import {
  CreateCapacityProviderCommand, DeleteCapacityProviderCommand, DescribeCapacityProvidersCommand, RegisterTaskDefinitionCommand, RunTaskCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { isLiveHost } from '../../shared/scheduler/placement';
import { serviceGroup } from '../../shared/services/apply';
import { awsEcs } from '../support/aws-cli';
import { expectConforms } from '../support/ecs-model';
import { eventually } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';
import { type LocalMode, runContainers, startLocalMode, untilStatus } from '../support/local-mode';

/**
 * The fleet grows, shrinks and heals by itself: the local mode's capacity manager over real
 * agent processes, with timings shortened so each test takes seconds.
 */
const FAST = { capacityIntervalMs: 300, heartbeatIntervalMs: 300, heartbeatTimeoutSeconds: 2, idleTimeoutSeconds: 2 };
const live = async (m: LocalMode) =>
  (await m.local.berth.store.hosts.list()).filter((h) => isLiveHost(h.status));
const taskIdOf = (arn: string) => arn.split('/').pop()!;

/** The response body as it crosses the wire, for conformance checks (the CLI reformats it). */
async function rawEcs(m: LocalMode, operation: string, body: object): Promise<unknown> {
  const res = await signedFetch(m.local.url, {
    target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: m.local.credentials,
  });
  expect(res.status).toBe(200);
  return res.json();
}

describe('Capacity', () => {
  describe('scaling', () => {
    let m: LocalMode;
    beforeAll(async () => {
      // Seven agents starting at once on two cores can miss a 2 s heartbeat; a host written off
      // for it would stop the task it holds, which this case waits to see RUNNING.
      m = await startLocalMode({ ...FAST, heartbeatTimeoutSeconds: 15, hosts: 1, hostType: 'c6i.large', maxHosts: 8 });
    }, 120_000);
    afterAll(() => m?.close());

    it('launches hosts for 6 tasks that outgrow a warm pool of 1, then shrinks back to the pool when they stop', async () => {
      // Prepare: each task needs half a c6i.large's memory and all its cpu.
      expect((await live(m)).length).toBe(1);
      const arns = await runContainers(m.ecs, [{ name: 'w', stopTimeout: 1, command: ['sh', '-c', 'sleep 300'] }], { count: 6, size: { cpu: '1024', memory: '2048' } });

      // Act
      await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'RUNNING', 60_000)));
      const grown = (await live(m)).length;
      await Promise.all(arns.map((a) => m.ecs.send(new StopTaskCommand({ task: a }))));
      await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'STOPPED', 60_000)));

      // Assess
      expect(grown).toBeGreaterThan(1);
      expect(grown).toBeLessThanOrEqual(8);
      // Terminating five hosts (their agents, namespaces and networks) takes a while when the
      // other test lane keeps the machine busy.
      await eventually(async () => (await live(m)).length === 1, 90_000, 'the fleet back to its warm pool of 1');
      const [left] = await live(m);
      expect(left).toMatchObject({ status: 'ACTIVE', instanceType: 'c6i.large', taskCount: 0 });
    }, 240_000);

    it('fails at once a task larger than every instance type', async () => {
      // Any size a host holds is allowed outside Fargate's table; this one no type holds.
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'too-big', requiresCompatibilities: ['EC2'],
        containerDefinitions: [{ name: 'big', image: 'localhost/busybox:latest', cpu: 1024, memory: 600_000 }],
      }));
      const run = await m.ecs.send(new RunTaskCommand({ taskDefinition: 'too-big' }));
      const t = await untilStatus(m.ecs, run.tasks![0].taskArn!, 'STOPPED', 30_000);
      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(t.stoppedReason).toMatch(/no instance type/);
      expect((await live(m)).length).toBe(1);
    }, 60_000);

    // The shared local mode's fleet is two on-demand hosts and no room to launch: these two need
    // the capacity manager to launch spot hosts and a pool's hosts, so they run on this fleet.
    const LOOP = ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"];
    const register = (family: string) => m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', essential: true, stopTimeout: 2, command: LOOP }],
    }));
    const hostOf = async (taskId: string, cluster = 'default') => {
      const t = (await m.local.berth.store.tasks.get({ cluster, taskId }))!;
      return { task: t, host: (await m.local.berth.store.hosts.get(t.hostId!))! };
    };

    it('a 6-task service split FARGATE base=1 weight=1 / FARGATE_SPOT weight=2 runs each task in its market; a spot interruption replaces only the spot tasks', async () => {
      // Prepare
      await register('spot-split');
      const created = await awsEcs(m.local.url, [
        'create-service', '--service-name', 'spot-split', '--task-definition', 'spot-split', '--desired-count', '6',
        '--capacity-provider-strategy', 'capacityProvider=FARGATE,base=1,weight=1', 'capacityProvider=FARGATE_SPOT,weight=2',
      ]);
      expect(created.code).toBe(0);
      const running = () => eventually(async () => {
        const tasks = (await m.local.berth.store.tasks.listByGroup('default', serviceGroup('spot-split')))
          .filter((t) => t.desiredStatus === 'RUNNING');
        return tasks.length === 6 && tasks.every((t) => t.lastStatus === 'RUNNING') ? tasks : undefined;
      }, 90_000, 'six RUNNING tasks of the service');
      const marketsOf = async (tasks: { taskId: string }[]) => Promise.all(tasks.map(async (t) => {
        const { task, host } = await hostOf(t.taskId);
        return { taskId: t.taskId, provider: task.capacityProviderName!, hostId: host.hostId, market: host.market ?? 'on-demand' };
      }));

      // Act 1: one FARGATE task for the base; the other five split 1:2 (two and three).
      const first = await marketsOf(await running());

      // Assess 1
      const count = (xs: { provider: string }[], p: string) => xs.filter((x) => x.provider === p).length;
      expect([count(first, 'FARGATE'), count(first, 'FARGATE_SPOT')]).toEqual([3, 3]);
      for (const t of first) expect(t.market).toBe(t.provider === 'FARGATE_SPOT' ? 'spot' : 'on-demand');
      const described = await awsEcs(m.local.url, ['describe-tasks', '--tasks', ...first.map((t) => t.taskId)]);
      expect(described.json.tasks.map((t: { capacityProviderName: string }) => t.capacityProviderName).sort())
        .toEqual(['FARGATE', 'FARGATE', 'FARGATE', 'FARGATE_SPOT', 'FARGATE_SPOT', 'FARGATE_SPOT']);

      // Act 2: EC2's interruption warning for every spot host.
      const spotHosts = [...new Set(first.filter((t) => t.market === 'spot').map((t) => t.hostId))];
      for (const hostId of spotHosts) {
        const res = await signedFetch(`${m.local.url}/operator`, {
          target: 'BerthOperator.SendSpotInterruption', body: JSON.stringify({ hostId }), credentials: m.local.credentials,
        });
        expect(res.status).toBe(200);
      }
      const interrupted = new Set(first.filter((t) => t.market === 'spot').map((t) => t.taskId));
      const second = await marketsOf(await eventually(async () => {
        const tasks = await running();
        return tasks.some((t) => interrupted.has(t.taskId)) ? undefined : tasks;
      }, 90_000, 'the spot tasks replaced'));

      // Assess 2: the FARGATE tasks untouched, three new spot tasks on new spot hosts.
      const onDemand = first.filter((t) => t.provider === 'FARGATE').map((t) => t.taskId).sort();
      expect(second.filter((t) => t.provider === 'FARGATE').map((t) => t.taskId).sort()).toEqual(onDemand);
      const replacements = second.filter((t) => t.provider === 'FARGATE_SPOT');
      expect(replacements).toHaveLength(3);
      for (const t of replacements) {
        expect(t.market).toBe('spot');
        expect(spotHosts).not.toContain(t.hostId);
      }
      for (const taskId of interrupted) {
        expect((await m.local.berth.store.tasks.get({ cluster: 'default', taskId }))!.stopCode).toBe('SpotInterruption');
      }
      await awsEcs(m.local.url, ['delete-service', '--service', 'spot-split', '--force']);
      await eventually(async () => (await m.local.berth.store.tasks.listByGroup('default', serviceGroup('spot-split')))
        .every((t) => t.lastStatus === 'STOPPED'), 60_000, 'the service\'s tasks stopped');
    }, 240_000);

    it('runs the tasks of a custom capacity provider only on hosts launched for its pool (@aws-sdk/client-ecs)', async () => {
      // Prepare
      await register('pooled');
      await m.ecs.send(new CreateCapacityProviderCommand({
        name: 'm6i-pool', cluster: 'default',
        managedInstancesProvider: {
          infrastructureRoleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRole',
          instanceLaunchTemplate: {
            ec2InstanceProfileArn: 'arn:aws:iam::000000000000:instance-profile/ecsInstanceRole',
            networkConfiguration: { subnets: ['subnet-1'] },
            instanceRequirements: { vCpuCount: { min: 2, max: 2 }, memoryMiB: { min: 8192, max: 8192 }, allowedInstanceTypes: ['m6i.*'] },
          },
        },
      }));
      const shown = await m.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['m6i-pool'] }));
      expect(shown.capacityProviders![0].managedInstancesProvider!.instanceLaunchTemplate!.capacityOptionType).toBe('ON_DEMAND');

      // Act
      const run = await m.ecs.send(new RunTaskCommand({
        taskDefinition: 'pooled', count: 2, capacityProviderStrategy: [{ capacityProvider: 'm6i-pool', weight: 1 }],
      }));
      const arns = run.tasks!.map((t) => t.taskArn!);
      await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'RUNNING', 60_000)));

      // Assess: on a host of the pool's only type, launched for it; the warm c6i.large had room but is no pool host.
      for (const arn of arns) {
        const { task, host } = await hostOf(taskIdOf(arn));
        expect(task.capacityProviderName).toBe('m6i-pool');
        expect(host).toMatchObject({ capacityProvider: 'm6i-pool', instanceType: 'm6i.large', market: 'on-demand' });
      }
      await Promise.all(arns.map((a) => m.ecs.send(new StopTaskCommand({ task: a }))));
      await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'STOPPED', 30_000)));
      await m.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: 'm6i-pool' }));
    }, 120_000);
  });

  describe('healing', () => {
    let m: LocalMode;
    beforeAll(async () => {
      m = await startLocalMode({ ...FAST, hosts: 2, hostType: 'c6i.large', maxHosts: 6 });
    }, 120_000);
    afterAll(() => m?.close());

    it('writes off a host whose agent is killed: LOST, its tasks STOPPED with a reason, no reservation left', async () => {
      // Prepare
      const [arn] = await runContainers(m.ecs, [{ name: 'victim', command: ['sh', '-c', 'sleep 300'] }]);
      await untilStatus(m.ecs, arn, 'RUNNING');
      const hostId = (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!.hostId!;

      // Act
      await m.local.fleet.kill(hostId);
      const t = await untilStatus(m.ecs, arn, 'STOPPED', 20_000);

      // Assess: written off once silent for the timeout, not before (test/e2e/host-loss.test.ts
      // measures how soon after it).
      expect(t.stopCode).toBe('TerminationNotice');
      const silentFor = Number(t.stoppedReason!.match(new RegExp(`^Host ${hostId} was lost: no heartbeat for (\\d+) s$`))?.[1]);
      expect(silentFor).toBeGreaterThanOrEqual(FAST.heartbeatTimeoutSeconds);
      const host = await m.local.berth.store.hosts.get(hostId);
      expect(host!.status).toBe('LOST');
      expect(Object.keys(host!.reservations)).toEqual([]);
      // Demand (the warm pool) brings a replacement.
      await eventually(async () => (await live(m)).filter((h) => h.status === 'ACTIVE').length >= 2, 20_000, 'a replacement host');
    }, 60_000);

    it('ends a task with SpotInterruption on a spot interruption notice, then drains and terminates the host', async () => {
      // Prepare
      const [arn] = await runContainers(m.ecs, [{ name: 'spotty', stopTimeout: 2, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }]);
      await untilStatus(m.ecs, arn, 'RUNNING');
      const hostId = (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!.hostId!;

      // Act: the operator call that stands in for EventBridge's warning.
      const res = await signedFetch(`${m.local.url}/operator`, {
        target: 'BerthOperator.SendSpotInterruption', body: JSON.stringify({ hostId }), credentials: m.local.credentials,
      });
      const t = await untilStatus(m.ecs, arn, 'STOPPED', 20_000);

      // Assess
      expect(res.status).toBe(200);
      expect(t.stopCode).toBe('SpotInterruption');
      expect(t.containers![0].exitCode).toBe(0);
      await eventually(async () => (await m.local.berth.store.hosts.get(hostId))!.status === 'TERMINATED', 20_000, 'the host terminated');
      await eventually(async () => !m.local.fleet.agents.has(hostId), 10_000, 'its agent gone');
    }, 60_000);

    it('shows hosts as container instances, in ECS\'s words, through the AWS CLI', async () => {
      const [arn] = await runContainers(m.ecs, [{ name: 'seen', command: ['sh', '-c', 'sleep 300'] }]);
      await untilStatus(m.ecs, arn, 'RUNNING');
      const list = await awsEcs(m.local.url, ['list-container-instances']);
      expectConforms('ListContainerInstances', await rawEcs(m, 'ListContainerInstances', {}));
      expect(list.json.containerInstanceArns.length).toBeGreaterThanOrEqual(2);

      const described = await awsEcs(m.local.url, ['describe-container-instances', '--container-instances', ...list.json.containerInstanceArns]);
      expectConforms('DescribeContainerInstances', await rawEcs(m, 'DescribeContainerInstances', { containerInstances: list.json.containerInstanceArns }));
      const withTask = described.json.containerInstances.find((ci: any) => ci.runningTasksCount === 1);
      expect(withTask).toMatchObject({ status: 'ACTIVE', agentConnected: true, pendingTasksCount: 0 });
      const cpu = (rs: any[]) => rs.find((r) => r.name === 'CPU').integerValue;
      expect(cpu(withTask.registeredResources) - cpu(withTask.remainingResources)).toBe(256);
      const task = (await awsEcs(m.local.url, ['describe-tasks', '--tasks', arn])).json.tasks[0];
      expect(task.containerInstanceArn).toBe(withTask.containerInstanceArn);

      const drained = await awsEcs(m.local.url, ['update-container-instances-state', '--container-instances', withTask.containerInstanceArn, '--status', 'DRAINING']);
      expect(drained.json.containerInstances[0].status).toBe('DRAINING');
      expectConforms('UpdateContainerInstancesState', await rawEcs(m, 'UpdateContainerInstancesState', { containerInstances: [withTask.containerInstanceArn], status: 'DRAINING' }));
      // A draining host that still runs a task is never terminated: not by the next cycles, nor
      // once its idle timeout (had it been idle) has passed.
      const taskHost = (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!.hostId!;
      const cycles = m.local.capacity.completedCycles;
      const drainedAt = Date.now();
      await eventually(async () => m.local.capacity.completedCycles >= cycles + 3 && Date.now() - drainedAt > FAST.idleTimeoutSeconds * 1000 && 'done', 30_000, 'three capacity cycles past the idle timeout');
      expect((await awsEcs(m.local.url, ['describe-tasks', '--tasks', arn])).json.tasks[0].lastStatus).toBe('RUNNING');
      expect((await m.local.berth.store.hosts.get(taskHost))!.status).toBe('DRAINING');
      await m.ecs.send(new StopTaskCommand({ task: arn }));
    }, 60_000);
  });

  describe('churn', () => {
    let m: LocalMode;
    beforeAll(async () => {
      m = await startLocalMode({ ...FAST, hosts: 1, hostType: 'c6i.large', maxHosts: 6 });
    }, 120_000);
    afterAll(() => m?.close());

    it('never runs more hosts than demand plus the warm pool justify while hosts are killed and tasks keep arriving', async () => {
      const violations: string[] = [];
      let sampling = true;
      const arns: string[] = [];
      // Demand justifies a host until the idle timeout after it ends, plus slack for cycles that
      // run late on a loaded machine. A runaway scale-up still shows: it outlasts any window.
      const windowMs = (FAST.idleTimeoutSeconds + 10) * 1000;
      const wantedHistory: { at: number; wanted: number }[] = [];
      // A killed host is no capacity: it counts as live until the manager writes it off, and the
      // manager may rightly replace it before then. Runaway scale-up shows among the others.
      const killed = new Set<string>();
      const sampler = (async () => {
        while (sampling) {
          const hosts = (await live(m)).filter((h) => !killed.has(h.hostId));
          const tasks = await m.local.berth.store.tasks.list('default');
          const now = Date.now();
          wantedHistory.push({ at: now, wanted: tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus !== 'STOPPED').length });
          const recent = Math.max(...wantedHistory.filter((w) => now - w.at <= windowMs).map((w) => w.wanted));
          // Each task here needs a whole c6i.large; one more for the warm pool; never past maxHosts.
          const justified = Math.min(6, recent + 1);
          if (hosts.length > justified) violations.push(`${hosts.length} hosts where demand justified ${justified}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();

      for (let round = 0; round < 6; round++) {
        arns.push(...(await runContainers(m.ecs, [{ name: 'c', command: ['sh', '-c', 'sleep 2'] }], { size: { cpu: '1024', memory: '2048' } })));
        await new Promise((r) => setTimeout(r, 700));
        const victim = [...m.local.fleet.agents.keys()][0];
        if (victim && round % 2 === 0) {
          killed.add(victim);
          await m.local.fleet.kill(victim);
        }
      }
      await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'STOPPED', 60_000)));
      sampling = false;
      await sampler;

      expect(violations).toEqual([]);
    }, 120_000);
  });
});
