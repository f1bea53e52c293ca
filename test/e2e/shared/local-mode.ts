import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsEcs } from '../../support/aws-cli';
import { eventually } from '../../support/harness';
import { type LocalMode, containerLog, describe1, runContainers, untilStatus } from '../../support/local-mode';

/**
 * The local mode end to end: the control plane, two agent processes and real containers
 * through podman, driven with the AWS CLI v2 and @aws-sdk/client-ecs.
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode (not indented, to keep
// its history readable as a move).
export function suite(mode: () => LocalMode): void {
describe('Local mode with real containers', () => {
  let m: LocalMode;
  beforeAll(() => {
    m = mode();
  });

  it('runs a task that prints and exits 3 to STOPPED, EssentialContainerExited, every timestamp in order (AWS CLI)', async () => {
    // Prepare
    const def = {
      family: 'exit3', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'main', image: 'localhost/busybox:latest', command: ['sh', '-c', 'echo about to exit; exit 3'] }],
    };
    const file = join(m.dataDir, 'exit3.json');
    writeFileSync(file, JSON.stringify(def));
    expect((await awsEcs(m.local.url, ['register-task-definition', '--cli-input-json', `file://${file}`])).code).toBe(0);

    // Act
    const run = await awsEcs(m.local.url, ['run-task', '--task-definition', 'exit3']);
    const arn = run.json.tasks[0].taskArn;
    await untilStatus(m.ecs, arn, 'STOPPED');
    const t = (await awsEcs(m.local.url, ['describe-tasks', '--tasks', arn])).json.tasks[0];

    // Assess
    expect(t).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'EssentialContainerExited' });
    expect(t.containers[0]).toMatchObject({ name: 'main', lastStatus: 'STOPPED', exitCode: 3 });
    const order = ['createdAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppingAt', 'executionStoppedAt', 'stoppedAt'];
    const times = order.map((k) => Date.parse(t[k]));
    expect(times.every((x) => Number.isFinite(x))).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    await eventually(async () => containerLog(m.dataDir, arn, 'main').includes('about to exit'), 5000, 'the log line');
  });

  it('takes an ARM64 definition, and fails its task at once, saying why, where Graviton hosts are off (AWS CLI)', async () => {
    // Prepare
    const def = {
      family: 'arm-job', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
      containerDefinitions: [{ name: 'main', image: 'localhost/busybox:latest', command: ['sleep', '60'] }],
    };
    const file = join(m.dataDir, 'arm-job.json');
    writeFileSync(file, JSON.stringify(def));
    const registered = await awsEcs(m.local.url, ['register-task-definition', '--cli-input-json', `file://${file}`]);
    expect(registered.json.taskDefinition.runtimePlatform).toEqual({ cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' });

    // Act
    const arn = (await awsEcs(m.local.url, ['run-task', '--task-definition', 'arm-job'])).json.tasks[0].taskArn;
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 30_000);

    // Assess: the local hosts are x86_64; no container of it ever started on one.
    expect(t.stopCode).toBe('TaskFailedToStart');
    expect(t.stoppedReason).toMatch(/cpu architecture is ARM64, and Graviton hosts are off/);
    expect(t.startedAt).toBeUndefined();
  });

  it('stops a running task with StopTask: UserInitiated; a SIGTERM trap exits by itself, an ignored SIGTERM is killed after stopTimeout', async () => {
    // Prepare
    const [arn] = await runContainers(m.ecs, [
      // ECS's longest stopTimeout, so a stop that waited for it is far from one that did not.
      { name: 'polite', essential: true, stopTimeout: 120, command: ['sh', '-c', "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done"] },
      { name: 'stubborn', essential: false, stopTimeout: 2, command: ['sh', '-c', "trap '' TERM; while true; do sleep 0.2; done"] },
    ]);
    await untilStatus(m.ecs, arn, 'RUNNING');

    // Act
    const started = Date.now();
    const stop = await m.ecs.send(new StopTaskCommand({ task: arn, reason: 'e2e stop' }));
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 150_000);
    const took = Date.now() - started;

    // Assess
    expect(stop.task!.desiredStatus).toBe('STOPPED');
    expect(t).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'e2e stop' });
    const byName = Object.fromEntries(t.containers!.map((c) => [c.name, c]));
    expect(byName.polite.exitCode).toBe(0);
    expect(byName.stubborn.exitCode).toBe(137);
    // At least the stubborn one's 2 s; well short of the polite one's 120 s, with room for a busy machine.
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(took).toBeLessThan(60_000);
    expect(containerLog(m.dataDir, arn, 'polite')).toContain('got TERM');
  }, 180_000);

  it('applies environment and command overrides inside the container', async () => {
    const [arn] = await runContainers(
      m.ecs,
      [{ name: 'app', command: ['sh', '-c', 'echo original'], environment: [{ name: 'KEEP', value: 'kept' }, { name: 'MODE', value: 'base' }] }],
      { overrides: { containerOverrides: [{ name: 'app', command: ['sh', '-c', 'echo "mode=$MODE keep=$KEEP extra=$EXTRA"'], environment: [{ name: 'MODE', value: 'override' }, { name: 'EXTRA', value: 'yes' }] }] } },
    );
    await untilStatus(m.ecs, arn, 'STOPPED');
    await eventually(async () => containerLog(m.dataDir, arn, 'app').length > 0, 5000, 'output');
    expect(containerLog(m.dataDir, arn, 'app')).toEqual(['mode=override keep=kept extra=yes']);
  });

  it('kills a container over its memory limit (exit 137) and stops the task with a reason', async () => {
    const [arn] = await runContainers(m.ecs, [
      { name: 'hog', memory: 16, command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'] },
    ]);
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 60_000);
    expect(t.stopCode).toBe('EssentialContainerExited');
    expect(t.containers![0].exitCode).toBe(137);
    expect(t.containers![0].reason).toMatch(/OutOfMemoryError/);
  });

  it('starts containers in dependsOn order: COMPLETE and SUCCESS, checked from their own output', async () => {
    const [arn] = await runContainers(m.ecs, [
      { name: 'init', essential: false, command: ['sh', '-c', 'echo start $(date +%s); sleep 2; echo done $(date +%s); exit 4'] },
      { name: 'migrate', essential: false, command: ['sh', '-c', 'echo start $(date +%s); sleep 1; echo done $(date +%s)'], dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }] },
      { name: 'app', essential: true, command: ['sh', '-c', 'echo start $(date +%s)'], dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }] },
    ]);
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 30_000);
    expect(t.stopCode).toBe('EssentialContainerExited');
    const time = (container: string, what: string) =>
      Number(containerLog(m.dataDir, arn, container).find((l) => l.startsWith(what))!.split(' ')[1]);
    expect(time('migrate', 'start')).toBeGreaterThanOrEqual(time('init', 'done'));
    expect(time('app', 'start')).toBeGreaterThanOrEqual(time('migrate', 'done'));
    expect(Object.fromEntries(t.containers!.map((c) => [c.name, c.exitCode]))).toEqual({ init: 4, migrate: 0, app: 0 });
  });

  it('fails a task whose image cannot be pulled: TaskFailedToStart, CannotPullContainerError', async () => {
    const [arn] = await runContainers(m.ecs, [{ name: 'ghost', image: 'localhost/does-not-exist:1' }]);
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 90_000);
    expect(t.stopCode).toBe('TaskFailedToStart');
    expect(t.stoppedReason).toMatch(/CannotPullContainerError/);
  });

  it('runs 30 concurrent RunTask calls over 2 hosts without overcommitting either, and none is stuck', async () => {
    // Prepare: 30 tasks of 256 CPU / 512 MiB; each c6i.large host holds 7 at once.
    const arnsP = Promise.all(Array.from({ length: 30 }, () =>
      runContainers(m.ecs, [{ name: 'w', command: ['sh', '-c', 'sleep 1'] }]).then((a) => a[0])));
    let overcommitted: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const h of await m.local.berth.store.hosts.list()) {
          const sumCpu = Object.values(h.reservations).reduce((s, r) => s + r.cpu, 0);
          const sumMem = Object.values(h.reservations).reduce((s, r) => s + r.memory, 0);
          if (sumCpu > h.cpu || sumMem > h.memory) overcommitted.push(`${h.hostId}: ${sumCpu}/${h.cpu} ${sumMem}/${h.memory}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Act
    const arns = await arnsP;
    const final = await Promise.all(arns.map((a) => untilStatus(m.ecs, a, 'STOPPED', 120_000)));
    sampling = false;
    await sampler;

    // Assess
    expect(overcommitted).toEqual([]);
    expect(final.map((t) => t.stopCode)).toEqual(arns.map(() => 'EssentialContainerExited'));
    expect(final.every((t) => t.containers![0].exitCode === 0)).toBe(true);
  }, 180_000);

  it('adopts a running container after its agent is killed and restarted, and still reports the exit code', async () => {
    // Prepare
    const [arn] = await runContainers(m.ecs, [{ name: 'survivor', command: ['sh', '-c', 'sleep 4; echo finishing; exit 7'] }]);
    await untilStatus(m.ecs, arn, 'RUNNING');
    const task = await m.local.berth.store.tasks.get({ cluster: 'default', taskId: arn.split('/').pop()! });
    const hostId = task!.hostId!;

    // Act: SIGKILL the agent, as a crash would, then start it again.
    await m.local.fleet.kill(hostId);
    await new Promise((r) => setTimeout(r, 500));
    m.local.fleet.start({ hostId, cpu: task!.cpu, memory: task!.memory });
    // A restarted agent (a new node process) can take tens of seconds to come up on a busy machine.
    const t = await untilStatus(m.ecs, arn, 'STOPPED', 90_000);

    // Assess
    expect(t.stopCode).toBe('EssentialContainerExited');
    expect(t.containers![0].exitCode).toBe(7);
    // The same container, not a second one started by the new agent.
    expect(task!.containers[0].runtimeId).toEqual(expect.any(String));
    expect(t.containers![0].runtimeId).toBe(task!.containers[0].runtimeId);
    expect(containerLog(m.dataDir, arn, 'survivor').filter((l) => l === 'finishing')).toHaveLength(1);
  }, 150_000);
});
}
