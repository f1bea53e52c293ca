import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { type CapacityOptions, CapacityManager, MIN_TRIGGERED_CYCLE_GAP_MS, runCapacityCycle } from '../../shared/capacity/manager';
import type { FleetProvider } from '../../shared/cloud/fleet-provider';
import type { Berth } from '../../shared/context';
import { registerHost } from '../../shared/lifecycle/reports';
import { type Harness, eventually, startHarness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const NO_MACHINES: FleetProvider = { launch: async () => [], terminate: async () => {} };
const OPTIONS: CapacityOptions = {
  provider: NO_MACHINES,
  catalog: DEFAULT_CATALOG,
  policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 10, idleTimeoutSeconds: 600, market: 'on-demand' },
  heartbeatTimeoutSeconds: 30,
  bootTimeoutSeconds: 600,
};
const idOf = (arn: string) => arn.split('/').pop()!;

/** Until `count` waits sleep on the clock: whatever woke before has run to its next wait. */
const asleep = (clock: ManualClock, count: number) =>
  eventually(async () => clock.sleeping >= count, 10_000, `${count} sleep(s) on the clock`);

describe('CapacityManager', () => {
  let h: Harness;
  let clock: ManualClock;
  /** The harness's Berth on the manual clock. */
  let b: Berth;
  beforeAll(async () => {
    h = await startHarness();
  });
  beforeEach(() => {
    clock = new ManualClock(Date.now());
    b = { ...h.berth, now: clock.now };
  });
  afterAll(() => h.close());

  describe('trigger', () => {
    it('paces cycles asked for while one runs, however often tasks ask', async () => {
      // Prepare: count cycles by their read of the recorded demand, which every cycle makes once.
      const demand = h.berth.store.demand;
      const list = demand.list.bind(demand);
      const cycleStarts: number[] = [];
      demand.list = async (...args) => {
        cycleStarts.push(clock.now());
        return list(...args);
      };
      const manager = new CapacityManager(b, OPTIONS, () => {}, clock.sleep);

      try {
        // Act: 40 asks 50 ms apart, as waiting tasks retrying placement make them; each cycle runs
        // with the clock held, so its start is the moment it was let go.
        const askedFrom = clock.now();
        for (let i = 0; i < 40; i++) {
          manager.trigger();
          await Promise.race([manager.idle(), clock.untilSleeping()]);
          await clock.advance(50);
        }
        // Then let the paced cycles still asked for run, until none is left.
        while ((await Promise.race([manager.idle().then(() => 'idle'), clock.untilSleeping().then(() => 'sleeping')])) === 'sleeping') {
          await clock.advance(MIN_TRIGGERED_CYCLE_GAP_MS);
        }
        const spanMs = clock.now() - askedFrom;

        // Assess: one cycle at once, then at most one per gap, each a full gap after the last.
        expect(cycleStarts[0]).toBe(askedFrom);
        expect(cycleStarts.length).toBeGreaterThanOrEqual(2);
        expect(cycleStarts.length).toBeLessThanOrEqual(Math.floor(spanMs / MIN_TRIGGERED_CYCLE_GAP_MS) + 1);
        for (let i = 1; i < cycleStarts.length; i++) {
          expect(cycleStarts[i] - cycleStarts[i - 1]).toBeGreaterThanOrEqual(MIN_TRIGGERED_CYCLE_GAP_MS);
        }
      } finally {
        await manager.stop();
        demand.list = list;
      }
    });
  });

  describe('heartbeat watch', () => {
    it('writes off a silent host the moment its timeout ends, not at the next cycle', async () => {
      // Prepare: a cycle a minute, a host heard from now, silent from then on.
      await registerHost(b, { hostId: 'quiet-1', cpu: 1024, memory: 2048 });
      const manager = new CapacityManager(b, OPTIONS, () => {}, clock.sleep);
      manager.start(60_000);
      const status = async () => (await h.berth.store.hosts.get('quiet-1'))!.status;

      try {
        // Act: the first cycle and the first look at heartbeats, then up to the timeout and 1 ms past it.
        await clock.advance(0);
        await asleep(clock, 2);
        await clock.advance(OPTIONS.heartbeatTimeoutSeconds * 1000);
        await asleep(clock, 2);
        const atTimeout = await status();
        await clock.advance(1);
        await eventually(async () => (await status()) === 'LOST', 10_000, 'quiet-1 LOST');

        // Assess: alive up to its timeout, lost just past it, with no cycle run since the first.
        expect(atTimeout).toBe('ACTIVE');
        expect(manager.completedCycles).toBe(1);
      } finally {
        await manager.stop();
      }
    });
  });

  describe('write-off', () => {
    it('stops the tasks of every silent host before terminating any machine, and ends their stop workflows', async () => {
      // Prepare: two hosts with a task each, one of them asked to stop (its host never confirms).
      for (const hostId of ['mute-a', 'mute-b']) await registerHost(h.berth, { hostId, cpu: 256, memory: 512 });
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'mute', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'app', image: 'busybox' }],
      }));
      const ids = (await h.ecs.send(new RunTaskCommand({ taskDefinition: 'mute', count: 2 }))).tasks!.map((t) => idOf(t.taskArn!));
      const tasks = () => Promise.all(ids.map((taskId) => h.berth.store.tasks.get({ cluster: 'default', taskId })));
      await eventually(async () => (await tasks()).every((t) => t?.lastStatus === 'PENDING'), 10_000, 'both tasks PENDING');
      await h.ecs.send(new StopTaskCommand({ task: ids[0] }));
      await eventually(async () => (await tasks())[0]?.stopToken !== undefined, 10_000, 'the stop waiting for its host');
      const statusesAtTerminate: string[][] = [];
      const provider: FleetProvider = {
        launch: async () => [],
        terminate: async () => void statusesAtTerminate.push((await tasks()).map((t) => t!.lastStatus)),
      };

      // Act: both hosts silent past a timeout of 0.
      const cycle = await runCapacityCycle(h.berth, { ...OPTIONS, provider, heartbeatTimeoutSeconds: 0 });

      // Assess
      expect(cycle.lost).toEqual(expect.arrayContaining(['mute-a', 'mute-b']));
      expect(statusesAtTerminate[0]).toEqual(['STOPPED', 'STOPPED']);
      // The one asked to stop keeps the user's stop; the other ends for its host.
      const [asked, other] = await tasks();
      expect(asked).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated' });
      expect(other).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TerminationNotice', stoppedReason: expect.stringMatching(/^Host mute-[ab] was lost/) });
      await eventually(async () => h.berth.workflows.activeExecutions === 0, 10_000, 'no workflow waiting');
      expect(h.workflowErrors).toEqual([]);
    });
  });

  describe('consolidation', () => {
    it('cordons a host whose task fits on another, leaves its one-off task to finish, and terminates it once empty', async () => {
      // Prepare: a small host with a half-size task, then a big host with a task the small one cannot take.
      const cluster = 'consolidate';
      await registerHost(h.berth, { hostId: 'small-1', cpu: 1024, memory: 2048 });
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'half', cpu: '512', memory: '1024', containerDefinitions: [{ name: 'app', image: 'busybox' }],
      }));
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'whole', cpu: '1024', memory: '2048', containerDefinitions: [{ name: 'app', image: 'busybox' }],
      }));
      await h.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
      const run = async (family: string) => idOf((await h.ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }))).tasks![0].taskArn!);
      const placed = (taskId: string) => eventually(async () => (await h.berth.store.tasks.get({ cluster, taskId }))?.hostId !== undefined, 10_000, `${taskId} placed`);
      const half = await run('half');
      await placed(half);
      await registerHost(h.berth, { hostId: 'big-1', cpu: 4096, memory: 8192 });
      const whole = await run('whole');
      await placed(whole);
      expect((await h.berth.store.tasks.get({ cluster, taskId: whole }))!.hostId).toBe('big-1');
      const terminated: string[] = [];
      const options: CapacityOptions = {
        ...OPTIONS, provider: { launch: async () => [], terminate: async (ids) => void terminated.push(...ids) },
        consolidation: { minHostAgeSeconds: 0, maxDrainingHosts: 1 },
      };

      // Act: a cycle, then another while the cordoned host still holds its task.
      const first = await runCapacityCycle(h.berth, options);
      const second = await runCapacityCycle(h.berth, options);

      // Assess: the small host is cordoned, once; its one-off task is not stopped; nothing is terminated.
      expect(first.cordoned).toEqual(['small-1']);
      expect(second.cordoned).toEqual([]);
      expect((await h.berth.store.hosts.get('small-1'))!.status).toBe('DRAINING');
      expect((await h.berth.store.hosts.get('big-1'))!.status).toBe('ACTIVE');
      expect((await h.berth.store.tasks.get({ cluster, taskId: half }))!.desiredStatus).toBe('RUNNING');
      expect(terminated).toEqual([]);

      // Act: the one-off task ends (its room released as the stop does); a cycle.
      const r = (await h.berth.store.hosts.get('small-1'))!.reservations[half];
      await h.berth.store.hosts.release('small-1', half, r, h.berth.now());
      const third = await runCapacityCycle(h.berth, options);

      // Assess: the emptied host is terminated; the big one, busy, is not.
      expect(third.terminated).toContain('small-1');
      expect(terminated).toContain('small-1');
      expect((await h.berth.store.hosts.get('big-1'))!.status).toBe('ACTIVE');
    });
  });
});
