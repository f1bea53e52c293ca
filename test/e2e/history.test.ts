import { isLiveHost } from '../../shared/scheduler/placement';
import { summarize } from '../support/history';
import { eventually } from '../support/harness';
import { HistoryRecorder, settleRun } from '../support/history-recorder';
import { type LocalMode, startLocalMode } from '../support/local-mode';
import { type StormPlan, registerStormFamilies, runStorm, seedFromEnv, seededRandom } from '../support/storm';

/**
 * A history check in the spirit of Jepsen. RunTask and StopTask calls race while agents are
 * killed with SIGKILL; the capacity manager writes their hosts off and launches replacements.
 * Every call, every agent report (applied or ignored), every kill and periodic samples of the
 * store and the container engine are recorded, then checkHistory judges the whole history.
 */
const TASKS = Number(process.env.BERTH_HISTORY_TASKS ?? 60);
const KILLS = Number(process.env.BERTH_HISTORY_KILLS ?? 3);
const SEED = seedFromEnv('BERTH_HISTORY_SEED');
const TIMEOUT_MS = Number(process.env.BERTH_HISTORY_TIMEOUT_SECONDS ?? 300) * 1000;

/** Heartbeats fast, so a killed agent's host is written off within seconds. */
const FAST = { capacityIntervalMs: 300, heartbeatIntervalMs: 300, heartbeatTimeoutSeconds: 3, idleTimeoutSeconds: 600 };

const PLAN: StormPlan = {
  tasks: TASKS,
  sizes: [{ cpu: '256', memory: '512' }, { cpu: '512', memory: '1024' }],
  // Some long enough to be running when their host's agent dies.
  sleepSeconds: [1, 2, 4, 8],
  spreadMs: 10_000,
  stopShare: 0.3,
  stopWithinMs: 12_000,
  doubleStopShare: 0.2,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('History check', () => {
  let m: LocalMode | undefined;
  const recorder = new HistoryRecorder();
  afterAll(async () => {
    await recorder.stopSampling();
    await m?.close();
  }, 180_000);

  it(`keeps every invariant through ${TASKS} tasks, concurrent StopTask calls and ${KILLS} agent kills`, async () => {
    // Prepare: 3 hosts, and the fleet replaces a lost one up to 3 live hosts.
    m = await startLocalMode({ ...FAST, hosts: 3, maxHosts: 3, hostType: 'c6i.large', onReport: recorder.onReport, config: { placementTimeoutSeconds: 900 } });
    recorder.attach(m);
    const families = await registerStormFamilies(m, PLAN.sizes);
    const random = seededRandom(SEED);
    recorder.startSampling();
    const startedAt = Date.now();

    // Act: the storm, and meanwhile kill the agent of a busy host every few seconds.
    const killed: string[] = [];
    const killer = (async () => {
      // Bounded, so a storm that leaves no host busy fails the kills' assertion below rather than hanging.
      while (killed.length < KILLS && Date.now() - startedAt < 120_000) {
        await sleep(4000 + Math.floor(random() * 3000));
        const busy = (await recorder.hostRecords()).filter((h) => h.status === 'ACTIVE' && h.taskCount > 0 && !killed.includes(h.hostId));
        const victim = busy[Math.floor(random() * busy.length)];
        if (!victim) continue;
        killed.push(victim.hostId);
        await recorder.kill(victim.hostId);
      }
    })();
    const result = await runStorm(recorder, families, PLAN, random);
    await killer;
    const { ended, settledAt, events, violations, final, stopCodes } = await settleRun(recorder, m.dataDir, TIMEOUT_MS, 'history');

    // Assess
    const reports = events.filter((e) => e.kind === 'report');
    const hosts = await recorder.hostRecords();
    console.log([
      `history: seed ${SEED}, ${result.taskIds.length} tasks, ${result.stopCalls} StopTask calls, killed ${killed.join(', ')}`,
      `history: ${ended ? 'all STOPPED and released' : 'NOT ENDED'} ${settledAt - startedAt} ms after the first call; ${JSON.stringify(summarize(events))}; sampler errors ${recorder.samplerErrors.length}`,
      `history: runtime samples that saw our containers running ${events.filter((e) => e.kind === 'runtime-sample' && e.running.length > 0).length}; history in ${m.dataDir}/history.json`,
      `history: reports ${reports.length}, ignored ${reports.filter((r) => r.kind === 'report' && r.applied === false).length}, refused ${reports.filter((r) => r.kind === 'report' && r.status !== 200).length}`,
      `history: hosts ${hosts.map((h) => `${h.hostId} ${h.status}`).join(', ')}; stop codes ${JSON.stringify(stopCodes)}`,
      ...violations.slice(0, 20).map((v) => `history: VIOLATION ${v.rule} ${v.taskId ?? v.hostId ?? ''} ${v.detail}`),
      ...events.flatMap((e) => (e.kind === 'run-task' && e.error ? [`history: RunTask FAILED ${e.error}`] : [])),
      // A call answered 500 says only "Internal server error": the server's own log says why.
      ...m.logs.filter((line) => line.includes('"level":"error"')).slice(0, 10).map((line) => `history: SERVER ${line}`),
    ].join('\n'));
    expect(violations).toEqual([]);
    expect(ended).toBe(true);
    expect(result.failedRunCalls).toBe(0);
    expect(final.tasks).toHaveLength(TASKS);
    // The faults really happened: hosts were written off and replaced, and tasks died with them.
    expect(killed).toHaveLength(KILLS);
    for (const id of killed) expect(hosts.find((h) => h.hostId === id)!.status).toBe('LOST');
    // The last kill's replacement may still be on its way when the run ends: a cycle, a boot.
    const replaced = await eventually(async () => {
      const live = (await recorder.hostRecords()).filter((h) => isLiveHost(h.status)).length;
      return live === 3 ? live : undefined;
    }, 30_000, 'the fleet back to 3 live hosts').catch(() => undefined);
    expect(replaced).toBe(3);
    expect(stopCodes.TerminationNotice).toBeGreaterThan(0);
    expect(stopCodes.UserInitiated).toBeGreaterThan(0);
  }, TIMEOUT_MS + 300_000);
});
