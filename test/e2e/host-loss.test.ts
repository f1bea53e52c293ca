import { DescribeTasksCommand } from '@aws-sdk/client-ecs';
import { LOCAL_DEFAULTS } from '../../local/runtime';
import { eventually } from '../support/harness';
import { type LocalMode, runContainers, startLocalMode, untilStatus } from '../support/local-mode';

/**
 * Host loss at the local mode's own timings (a heartbeat every 10 s, a host silent for 30 s is
 * lost): every agent killed with SIGKILL, each just after its heartbeat landed, the worst case.
 * Every task of the silent hosts must end STOPPED with the reason. How long that took after each
 * kill is printed, not asserted: timings belong in benchmarks, and this machine is shared.
 */
const taskIdOf = (arn: string) => arn.split('/').pop()!;

describe('Host loss at the default heartbeat timings', () => {
  let m: LocalMode;
  beforeAll(async () => {
    m = await startLocalMode({
      hosts: 2, hostType: 'c6i.large', maxHosts: 2,
      heartbeatIntervalMs: LOCAL_DEFAULTS.heartbeatIntervalMs,
      heartbeatTimeoutSeconds: LOCAL_DEFAULTS.heartbeatTimeoutSeconds,
      capacityIntervalMs: LOCAL_DEFAULTS.capacityIntervalMs,
    });
  }, 120_000);
  afterAll(() => m?.close());

  it('stops every task of every killed host with TerminationNotice and the reason, and frees their room', async () => {
    // Prepare: 8 tasks over the 2 hosts.
    const arns = await runContainers(m.ecs, [{ name: 'doomed', command: ['sh', '-c', 'sleep 600'] }], { count: 8 });
    await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'RUNNING', 60_000)));
    const hostOf = new Map<string, string>();
    for (const a of arns) hostOf.set(a, (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(a) }))!.hostId!);
    const hostIds = (await m.local.berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE').map((h) => h.hostId);

    // Act: kill every agent, each as soon as its next heartbeat has landed.
    const killedAt = new Map<string, number>();
    await Promise.all(hostIds.map(async (hostId) => {
      const before = (await m.local.berth.store.hosts.get(hostId))!.lastHeartbeatAt;
      await eventually(async () => (await m.local.berth.store.hosts.get(hostId))!.lastHeartbeatAt !== before, 30_000, `a heartbeat from ${hostId}`);
      killedAt.set(hostId, Date.now());
      await m.local.fleet.kill(hostId);
    }));
    const stopped = await eventually(async () => {
      const tasks = (await m.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks!;
      return tasks.every((t) => t.lastStatus === 'STOPPED') ? tasks : undefined;
    }, 120_000, 'every task STOPPED');

    // Assess
    for (const t of stopped) {
      const hostId = hostOf.get(t.taskArn!)!;
      expect(t).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TerminationNotice' });
      expect(t.stoppedReason).toMatch(new RegExp(`^Host ${hostId} was lost: no heartbeat for \\d+ s$`));
      expect(t.containers![0]).toMatchObject({ lastStatus: 'STOPPED' });
    }
    for (const hostId of hostIds) {
      const host = (await m.local.berth.store.hosts.get(hostId))!;
      expect(host.status).toBe('LOST');
      expect(host.reservations).toEqual({});
    }
    const afterKill = stopped.map((t) => t.stoppedAt!.getTime() - killedAt.get(hostOf.get(t.taskArn!)!)!);
    console.log(`host loss: ${stopped.length} tasks of ${hostIds.length} killed hosts STOPPED ${(Math.min(...afterKill) / 1000).toFixed(1)}–${(Math.max(...afterKill) / 1000).toFixed(1)} s after the kill `
      + `(heartbeat every ${LOCAL_DEFAULTS.heartbeatIntervalMs / 1000} s, timeout ${LOCAL_DEFAULTS.heartbeatTimeoutSeconds} s)`);
  }, 240_000);
});
