import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../agent/agent';
import type { AgentClient, TaskReportBody } from '../../agent/client';
import { LABELS } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { TaskRunner } from '../../agent/task-runner';
import { TaskVolumes } from '../../agent/task-volumes';
import type { Assignment } from '../../shared/lifecycle/assignments';
import type { TaskVolume } from '../../shared/domain/volumes';
import { eventually } from '../support/harness';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService, type PodmanService } from '../../local/podman';

/**
 * Task volumes against real podman: what a task makes goes with it, a shared volume stays, and
 * an agent that starts after another was killed removes the volumes of tasks no longer assigned.
 */
describe('Task volumes', () => {
  let dataDir: string;
  let podman: PodmanService;
  let runtime: DockerRuntime;
  const RUN = randomBytes(4).toString('hex');
  const hostId = `volumes-host-${RUN}`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
    podman = await startPodmanService({ dataDir, log: () => {} });
    await ensureBusyboxImage({ env: podman.env, log: () => {} });
    runtime = new DockerRuntime({ socketPath: podman.socketPath, labels: { 'berth.test-run': RUN } });
  }, 120_000);

  afterAll(async () => {
    for (const v of await runtime.listVolumes({ 'berth.test-run': RUN }).catch(() => [])) await runtime.removeVolume(v.name);
    await podman?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const assignment = (volumes: TaskVolume[], command: string[]): Assignment => {
    const taskId = randomBytes(16).toString('hex');
    return {
      cluster: 'default', taskId, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${taskId}`, family: 'volumes', revision: 1,
      desiredStatus: 'RUNNING', lastStatus: 'PENDING', createdAt: Date.now(), cpu: 256, memory: 512,
      containers: [{ name: 'app', image: BUSYBOX_IMAGE, essential: true, command, mountPoints: volumes.map((v) => ({ sourceVolume: v.name, containerPath: `/${v.name}`, readOnly: false })) }],
      volumes,
    };
  };

  async function runToEnd(task: Assignment): Promise<TaskReportBody[]> {
    const reports: TaskReportBody[] = [];
    const runner = new TaskRunner(task, { hostId, runtime, logDir: join(dataDir, 'logs'), report: async (body) => void reports.push(body) });
    await runner.launch();
    return reports;
  }

  it('keeps a shared volume after the task, and makes it only when it may autoprovision', async () => {
    // Prepare
    const name = `shared-${RUN}`;
    const refused = assignment([{ name, dockerVolumeConfiguration: { scope: 'shared', driver: 'local' } }], ['true']);
    const allowed = assignment([{ name, dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', labels: { team: 'a' } } }], ['sh', '-c', `echo kept > /${name}/f`]);
    const reader = assignment([{ name, dockerVolumeConfiguration: { scope: 'shared', driver: 'local' } }], ['sh', '-c', `grep -q kept /${name}/f`]);

    // Act
    const refusedReports = await runToEnd(refused);
    const allowedReports = await runToEnd(allowed);
    const readerReports = await runToEnd(reader);

    // Assess
    expect(refusedReports.at(-1)).toMatchObject({
      lastStatus: 'STOPPED', stop: { stopCode: 'TaskFailedToStart', stoppedReason: expect.stringContaining('does not exist and autoprovision is false') },
    });
    expect(allowedReports.at(-1)).toMatchObject({ stop: { stopCode: 'EssentialContainerExited' }, containers: [{ exitCode: 0 }] });
    expect(readerReports.at(-1)).toMatchObject({ containers: [{ exitCode: 0 }] });
    expect(await runtime.hasVolume(name)).toBe(true);
  }, 60_000);

  it('removes a volume of the task\'s own with the task, driverOpts and all', async () => {
    const task = assignment([{ name: 'scratch', dockerVolumeConfiguration: { scope: 'task', driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs' } } }],
      ['sh', '-c', 'grep -q " /scratch tmpfs " /proc/mounts']);

    const reports = await runToEnd(task);

    expect(reports.at(-1)).toMatchObject({ stop: { stopCode: 'EssentialContainerExited' }, containers: [{ exitCode: 0 }] });
    expect(await runtime.listVolumes({ [LABELS.task]: task.taskId })).toEqual([]);
  }, 60_000);

  it('caps a container\'s writable layer at the task\'s ephemeralStorage where the engine can, and says so where it cannot', async () => {
    // Prepare: a runtime of its own, whose log is read.
    const said: string[] = [];
    const own = new DockerRuntime({ socketPath: podman.socketPath, labels: { 'berth.test-run': RUN }, log: (l) => said.push(l) });
    const tasks = [assignment([], ['true']), assignment([], ['true'])].map((t) => ({ ...t, ephemeralStorageGiB: 21 }));

    // Act
    const ends = [];
    for (const task of tasks) {
      const reports: TaskReportBody[] = [];
      await new TaskRunner(task, { hostId, runtime: own, report: async (body) => void reports.push(body) }).launch();
      ends.push(reports.at(-1));
    }

    // Assess: podman's storage here has no project quotas, so the tasks run uncapped, and the log says it once.
    expect(ends).toEqual([expect.objectContaining({ containers: [expect.objectContaining({ exitCode: 0 })] }), expect.objectContaining({ containers: [expect.objectContaining({ exitCode: 0 })] })]);
    expect(said.filter((l) => l.includes('ephemeralStorage is not enforced on this host'))).toHaveLength(1);
    // ... and names each later task's container whose size it does not enforce.
    expect(said.filter((l) => l.includes(tasks[1].taskId) && l.includes('ephemeralStorage of 21 GiB is not enforced'))).toHaveLength(1);
  }, 60_000);

  it('has a starting agent remove the volumes of tasks no longer assigned to it, and no other host\'s', async () => {
    // Prepare: volumes as an agent killed after making them (and before any container) left them.
    const gone = assignment([{ name: 'data' }], ['true']);
    const elsewhere = assignment([{ name: 'data' }], ['true']);
    await new TaskVolumes({ runtime, taskId: gone.taskId, cluster: 'default', hostId, volumes: gone.volumes }).prepare();
    await new TaskVolumes({ runtime, taskId: elsewhere.taskId, cluster: 'default', hostId: 'another-host', volumes: elsewhere.volumes }).prepare();
    expect(await runtime.listVolumes({ [LABELS.task]: gone.taskId })).toHaveLength(1);
    let polled = 0;
    const client = {
      hostId,
      register: async () => ({ hostId, status: 'ACTIVE', heartbeatIntervalSeconds: 60 }),
      heartbeat: async () => ({}),
      // No task is assigned to this host any more.
      poll: async () => {
        polled++;
        await new Promise((r) => setTimeout(r, 50));
        return { tasks: [], version: 1 };
      },
      report: async () => ({}),
    } as unknown as AgentClient;
    const agent = new Agent({ client, runtime, cpu: 1024, memory: 1024, namespacePoolSize: 0 });

    // Act
    await agent.start();
    await eventually(async () => polled >= 2, 20_000, 'the agent to poll twice');
    await agent.stop();

    // Assess
    expect(await runtime.listVolumes({ [LABELS.task]: gone.taskId })).toEqual([]);
    expect(await runtime.listVolumes({ [LABELS.task]: elsewhere.taskId })).toHaveLength(1);
  }, 60_000);
});
