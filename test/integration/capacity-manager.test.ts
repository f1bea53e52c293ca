import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerRuntime } from '../../agent/runtime/container-runtime';
import { LocalFleet } from '../../local/fleet';
import { LocalFleetProvider } from '../../local/local-fleet-provider';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { LAUNCH_POINTS } from '../../shared/capacity/launches';
import { type CapacityOptions, CapacityManager, MIN_TRIGGERED_CYCLE_GAP_MS, runCapacityCycle } from '../../shared/capacity/manager';
import type { FleetProvider, LaunchRequest } from '../../shared/cloud/fleet-provider';
import { isLiveHost } from '../../shared/scheduler/placement';
import { launchClientToken } from '../../shared/store';
import type { Berth } from '../../shared/context';
import { registerHost } from '../../shared/lifecycle/reports';
import { type Harness, eventually, startHarness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const NO_MACHINES: FleetProvider = { launch: async () => [], terminate: async () => {}, listHosts: async () => [] };
const OPTIONS: CapacityOptions = {
  provider: NO_MACHINES,
  catalog: DEFAULT_CATALOG,
  policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 10, idleTimeoutSeconds: 600, market: 'on-demand' },
  heartbeatTimeoutSeconds: 30,
  bootTimeoutSeconds: 600,
};
const idOf = (arn: string) => arn.split('/').pop()!;
/** A container engine with nothing in it: these hosts' agents are stand-ins that make no containers. */
const NO_ENGINE = {
  list: async () => [], listNetworks: async () => [], listVolumes: async () => [],
  remove: async () => {}, removeNetwork: async () => {}, removeVolume: async () => {},
} as unknown as ContainerRuntime;

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
        listHosts: async () => [],
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
        ...OPTIONS, provider: { launch: async () => [], terminate: async (ids) => void terminated.push(...ids), listHosts: async () => [] },
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

    it('replaces hosts holding only service tasks when one cheaper host would hold them all: it cordons the set', async () => {
      // Prepare: three spot m6i.large hosts, each holding a service task that fits on none of the
      // others, all three on one r6i.large (spot, so the busy on-demand host above plays no part).
      const ids = ['svc-1', 'svc-2', 'svc-3'];
      for (const hostId of ids) {
        await h.berth.store.hosts.launching({ hostId, instanceType: 'm6i.large', market: 'spot', cpu: 2048, memory: 7782 }, h.berth.now());
        await registerHost(h.berth, { hostId, cpu: 2048, memory: 7782 });
        const reserved = await h.berth.store.hosts.reserve({
          hostId, taskId: `${hostId}-web`, cpu: 256, memory: 5000, maxReservedCpu: 2048 - 256, maxReservedMemory: 7782 - 5000, group: 'service:web',
        }, 'replace', h.berth.now());
        expect(reserved).toBeDefined();
      }
      const options = (replaceAtMostShare?: number): CapacityOptions => ({
        ...OPTIONS, consolidation: { minHostAgeSeconds: 0, maxDrainingHosts: 3, ...(replaceAtMostShare !== undefined ? { replaceAtMostShare } : {}) },
      });

      // Act: a cycle without replacement, then one with it.
      const without = await runCapacityCycle(h.berth, options());
      const replacing = await runCapacityCycle(h.berth, options(0.75));

      // Assess: no task fits on another host, so only the replacement cordons, all three at once.
      expect(without.cordoned).toEqual([]);
      expect([...replacing.cordoned].sort()).toEqual(ids);
      for (const hostId of ids) expect((await h.berth.store.hosts.get(hostId))!.status).toBe('DRAINING');
    });
  });
});

describe('Launches and the orphan sweep, through the local fleet provider', () => {
  let h: Harness;
  let clock: ManualClock;
  let b: Berth;
  let dir: string;
  /** Every fleet made, for the clean-up: each "restart" makes a new one, as the local mode does. */
  const fleets: { fleet: LocalFleet; provider: LocalFleetProvider }[] = [];
  /** Every agent started, across restarts. */
  let started: string[];

  /** A fleet whose agents are stand-in threads (the agent's own behaviour is not what is tested here). */
  function localFleet(): LocalFleetProvider {
    const fleet = new LocalFleet({ agentScript: join(dir, 'agent.js'), endpoint: h.url, dockerSocket: join(dir, 'none.sock'), dataDir: dir });
    const start = fleet.start.bind(fleet);
    fleet.start = (host, env) => {
      started.push(host.hostId);
      return start(host, env);
    };
    const provider = new LocalFleetProvider(fleet, DEFAULT_CATALOG, NO_ENGINE, 0, clock.now);
    fleets.push({ fleet, provider });
    return provider;
  }
  const options = (provider: FleetProvider, over: Partial<CapacityOptions> = {}): CapacityOptions => ({
    ...OPTIONS, provider, policy: { ...OPTIONS.policy, warmPoolHosts: 1 }, ...over,
  });
  const liveHosts = async () => (await h.berth.store.hosts.list()).filter((x) => isLiveHost(x.status)).map((x) => x.hostId).sort();
  const running = async (p: FleetProvider) => (await p.listHosts()).map((x) => x.hostId).sort();
  const timingOut = (p: FleetProvider): FleetProvider & { calls: LaunchRequest[] } => {
    const calls: LaunchRequest[] = [];
    return {
      calls,
      launch: async (r) => {
        calls.push(r);
        await p.launch(r);
        throw Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
      },
      terminate: (ids) => p.terminate(ids),
      listHosts: () => p.listHosts(),
    };
  };

  beforeAll(async () => {
    h = await startHarness();
    dir = mkdtempSync(join(tmpdir(), 'berth-launches-'));
    // A thread that waits until the fleet asks it to stop, as an agent does.
    writeFileSync(join(dir, 'agent.js'), 'setInterval(() => {}, 1 << 30);\nrequire("node:worker_threads").parentPort.on("message", () => process.exit(0));\n');
  });
  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    b = { ...h.berth, now: clock.now };
    started = [];
    // Each case starts from an empty fleet.
    for (const x of await h.berth.store.hosts.list()) await h.berth.store.hosts.transition(x.hostId, 'TERMINATED', ['LAUNCHING', 'ACTIVE', 'DRAINING']);
    for (const { provider } of fleets) await provider.terminate(await running(provider));
    for (const l of await h.berth.store.launches.list()) await h.berth.store.launches.finish(l.launchId);
  });
  afterAll(async () => {
    for (const { fleet, provider } of fleets) {
      await provider.close();
      await fleet.stopAll();
    }
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a crash between a launch\'s record and its call: the restarted manager launches it once, under the recorded token', async () => {
    // Prepare: the first cycle dies at the crash point, as the local mode does when armed there.
    const before = localFleet();
    const crash = new Error('crashed at launch:recorded');
    await expect(runCapacityCycle(b, options(before, {
      checkpoint: async (point) => { if (point === LAUNCH_POINTS.recorded) throw crash; },
    }))).rejects.toBe(crash);
    const [recorded] = await h.berth.store.launches.list();

    // Act: the restart, with a new provider (the old process and its agents are gone), and two cycles.
    const after = localFleet();
    const first = await runCapacityCycle(b, options(after));
    const second = await runCapacityCycle(b, options(after));

    // Assess: the recorded launch, once; nothing else launched; nothing untracked.
    expect(recorded).toMatchObject({ instanceType: 'c6i.large', count: 1 });
    expect(first.launched).toHaveLength(1);
    expect(second.launched).toEqual([]);
    expect((await after.listHosts()).map((x) => x.clientToken)).toEqual([launchClientToken(recorded)]);
    expect(await running(after)).toEqual(first.launched);
    expect(await running(before)).toEqual([]);
    expect(await liveHosts()).toEqual(first.launched);
    expect(started).toEqual(first.launched);
    expect(await h.berth.store.launches.list()).toEqual([]);
  });

  it('a timeout after the call: the next cycles ask again with the same token and record the hosts it started, none twice', async () => {
    // Prepare: the provider starts the host, but its answer never arrives, twice. No grace: only
    // the launch's record keeps its host from the orphan sweep.
    const provider = localFleet();
    const lost = timingOut(provider);

    // Act
    const first = await runCapacityCycle(b, options(lost, { orphanGraceSeconds: 0 }));
    await clock.advance(60_000);
    const second = await runCapacityCycle(b, options(lost, { orphanGraceSeconds: 0 }));
    await clock.advance(60_000);
    const third = await runCapacityCycle(b, options(provider, { orphanGraceSeconds: 0 }));
    const fourth = await runCapacityCycle(b, options(provider, { orphanGraceSeconds: 0 }));

    // Assess: one token asked twice in doubt, then answered; one host started, recorded once,
    // never swept, and no other launch while the first was in doubt.
    expect(first.launched).toEqual([]);
    expect(second.launched).toEqual([]);
    expect(second.plan.launches).toEqual([]);
    expect(lost.calls.map((c) => c.clientToken)).toEqual([lost.calls[0].clientToken, lost.calls[0].clientToken]);
    expect(first.orphans).toEqual([]);
    expect(second.orphans).toEqual([]);
    expect(third.launched).toHaveLength(1);
    expect(started).toEqual(third.launched);
    expect(await liveHosts()).toEqual(third.launched);
    expect(await running(provider)).toEqual(third.launched);
    expect(fourth).toMatchObject({ launched: [], orphans: [], terminated: [] });
    expect(await h.berth.store.launches.list()).toEqual([]);
  });

  it('terminates a host the provider runs and no record tracks, once its grace is over; never a tracked one', async () => {
    // Prepare: the warm pool's host, tracked; a host started outside any recorded launch (its
    // record lost); and one whose host record was written off but whose machine still runs.
    const provider = localFleet();
    const pool = await runCapacityCycle(b, options(provider));
    const [stray] = await provider.launch({ instanceType: 'c6i.large', market: 'on-demand', count: 1, clientToken: 'lost-record' });
    const [leftRunning] = await provider.launch({ instanceType: 'c6i.large', market: 'on-demand', count: 1, clientToken: 'written-off' });
    await h.berth.store.hosts.launching({ hostId: leftRunning.hostId, instanceType: 'c6i.large', market: 'on-demand', cpu: 2048, memory: 3584 }, clock.now());
    await h.berth.store.hosts.transition(leftRunning.hostId, 'TERMINATED', ['LAUNCHING']);
    const grace = 300;

    // Act: a cycle within the grace, then one past it.
    const within = await runCapacityCycle(b, options(provider, { orphanGraceSeconds: grace }));
    await clock.advance(grace * 1000);
    const past = await runCapacityCycle(b, options(provider, { orphanGraceSeconds: grace }));

    // Assess
    expect(within.orphans).toEqual([]);
    expect(past.orphans).toEqual([stray.hostId, leftRunning.hostId].sort());
    expect(past.terminated).toEqual(expect.arrayContaining(past.orphans));
    expect(await running(provider)).toEqual(pool.launched);
    expect(await liveHosts()).toEqual(pool.launched);
    // Terminating is idempotent: the same hosts again, and one the provider never knew.
    await expect(provider.terminate([stray.hostId, 'local-never'])).resolves.toBeUndefined();
  });
});
