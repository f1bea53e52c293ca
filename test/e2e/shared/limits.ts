import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { DockerStatsSource } from '../../../agent/metrics/docker-stats-source';
import { TaskSampler } from '../../../agent/metrics/task-sampler';
import { DEFAULT_TASK_PIDS_LIMIT } from '../../../agent/task-limits';
import { METRICS } from '../../../shared/metrics/catalog';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, containerLog, runContainers, untilStatus } from '../../support/local-mode';

/**
 * Hard limits, as Fargate enforces them: a task's size bounds the task as a whole. Its memory is a
 * hard limit (exit 137 and ECS's OOM reason past it), its cpu a quota (Berth's own CPU metric
 * stays near the reservation however busy it is), and its processes a count, so a fork bomb
 * stays inside the task.
 */

const MiB = 1024 * 1024;
const taskIdOf = (arn: string) => arn.split('/').pop()!;
// busybox's dd reads a whole block into a buffer of that size: `bs` is the memory it holds.
const allocate = (mib: number) => ['dd', 'if=/dev/zero', 'of=/dev/null', `bs=${mib}M`, 'count=1'];
// A shell as PID 1 ignores SIGTERM unless it traps it; trapped, StopTask ends the task at once.
const STOP_ON_TERM = "trap 'exit 0' TERM";

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
  describe('Hard limits', () => {
    let m: LocalMode;
    let docker: Docker;
    beforeAll(() => {
      m = mode();
      docker = new Docker({ socketPath: m.local.dockerSocket });
    });

    const hostOf = async (arn: string) => (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!.hostId!;
    /** The engine's id of the task's container. */
    const engineId = async (arn: string, container: string) => (await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) }))!
      .containers.find((c) => c.name === container)!.runtimeId!;

    it('stops a 512 MiB task whose container names no memory when it allocates 700 MB: exit 137, ECS\'s OOM reason; 300 MB fits', async () => {
      // Prepare: a whole cpu (an EC2 definition may pair it with 512 MiB), so that filling memory,
      // which costs cpu, takes a second, not the four a quarter cpu makes it.
      const size = { size: { cpu: '1024', memory: '512' }, networkMode: 'bridge' as const };

      // Act
      const [hog, fits] = await Promise.all([
        runContainers(m.ecs, [{ name: 'hog', command: allocate(700) }], size),
        runContainers(m.ecs, [{ name: 'fits', command: allocate(300) }], size),
      ]).then((arns) => arns.map((a) => a[0]));
      const [h, f] = await Promise.all([untilStatus(m.ecs, hog, 'STOPPED', 60_000), untilStatus(m.ecs, fits, 'STOPPED', 60_000)]);

      // Assess
      expect(h).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
      expect(h.containers![0]).toMatchObject({ exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' });
      expect(f.stopCode).toBe('EssentialContainerExited');
      expect(f.containers![0].exitCode).toBe(0);
      expect(f.containers![0].reason).toBeUndefined();
    });

    it('keeps a 256-unit task with two busy loops near its reservation in Berth\'s CPU metric, and the engine holds its limits', async () => {
      // Prepare
      const [arn] = await runContainers(m.ecs, [
        { name: 'spin', command: ['sh', '-c', `${STOP_ON_TERM}; while :; do :; done & while :; do :; done`] },
      ]);
      await untilStatus(m.ecs, arn, 'RUNNING', 60_000);
      const hostId = await hostOf(arn);
      const sampler = new TaskSampler({
        hostId,
        runtime: new DockerRuntime({ socketPath: m.local.dockerSocket }),
        stats: new DockerStatsSource({ socketPath: m.local.dockerSocket }),
        tasks: () => [{ cluster: 'default', taskId: taskIdOf(arn), cpu: 256, memory: 512 }],
      });

      // Act: the agent's own sampler, over two seconds.
      await sampler.sample();
      await new Promise((r) => setTimeout(r, 2_000));
      const cpu = (await sampler.sample()).find((d) => d.name === METRICS.taskCpuUtilization.name)!.values[0];
      const { HostConfig: limits } = await docker.getContainer(await engineId(arn, 'spin')).inspect();

      // Assess: a quarter of a cpu is 100 % of 256 units; unbounded, two loops would take up to
      // 800 % on two cores. The bound is generous for sampling on a loaded machine.
      expect(cpu).toBeLessThan(150);
      expect(cpu).toBeGreaterThan(0);
      expect(limits).toMatchObject({ NanoCpus: 250_000_000, Memory: 512 * MiB, MemorySwap: 512 * MiB, PidsLimit: DEFAULT_TASK_PIDS_LIMIT });
      await m.ecs.send(new StopTaskCommand({ task: arn }));
      await untilStatus(m.ecs, arn, 'STOPPED', 30_000);
    });

    it('keeps a fork bomb inside its task: it fills its process limit, and the next task on that host starts and runs normally', async () => {
      // Prepare: the classic bomb; PID 1 then waits, without forking, on a FIFO nobody writes to.
      const [bomb] = await runContainers(m.ecs, [{
        name: 'bomb',
        command: ['sh', '-c', `mkfifo /tmp/never; exec 3<>/tmp/never; ${STOP_ON_TERM}; b() { b | b & }; b; while :; do read -t 1 line <&3; done`],
      }]);
      await untilStatus(m.ecs, bomb, 'RUNNING', 60_000);
      const hostId = await hostOf(bomb);
      const bombId = await engineId(bomb, 'bomb');
      const pids = async () => ((await docker.getContainer(bombId).stats({ stream: false })) as { pids_stats?: { current?: number } }).pids_stats?.current ?? 0;
      const peak = await eventually(async () => {
        const n = await pids();
        return n >= DEFAULT_TASK_PIDS_LIMIT * 0.9 ? n : undefined;
      }, 30_000, 'the bomb to fill its process limit');

      // Act: the next task, on the same host, forks as any shell script does.
      const family = `after-bomb-${Date.now()}`;
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'next', image: BUSYBOX, command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo "round $(echo $i)"; done | tail -n 1'] }],
      }));
      const run = await m.ecs.send(new RunTaskCommand({
        taskDefinition: family, placementConstraints: [{ type: 'memberOf', expression: `ec2InstanceId == ${hostId}` }],
      }));
      const next = run.tasks![0].taskArn!;
      const t = await untilStatus(m.ecs, next, 'STOPPED', 60_000);

      // Assess
      expect(peak).toBeLessThanOrEqual(DEFAULT_TASK_PIDS_LIMIT);
      expect(await hostOf(next)).toBe(hostId);
      expect(t).toMatchObject({ stopCode: 'EssentialContainerExited' });
      expect(t.containers![0].exitCode).toBe(0);
      await eventually(async () => containerLog(m.dataDir, next, 'next').includes('round 5'), 5_000, 'the next task\'s output');
      expect(await pids()).toBeLessThanOrEqual(DEFAULT_TASK_PIDS_LIMIT);
      await m.ecs.send(new StopTaskCommand({ task: bomb }));
      const stopped = await untilStatus(m.ecs, bomb, 'STOPPED', 30_000);
      expect(stopped.stopCode).toBe('UserInitiated');
    });
  });
}
