import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskReportBody } from '../../agent/client';
import { type ContainerSpec, LABELS, containerName } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { ImagePuller } from '../../agent/images/image-puller';
import { TaskRunner } from '../../agent/task-runner';
import type { Assignment } from '../../shared/lifecycle/assignments';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService, type PodmanService } from '../../local/podman';

/**
 * A restarted agent taking over what the previous agent process left, against real podman.
 * Locally agents die with the control plane, so a crash of the local mode can leave a task's
 * containers created but never started. And a launch whose image left the engine behind the
 * agent's back.
 */
describe('TaskRunner.adopt', () => {
  let dataDir: string;
  let podman: PodmanService;
  let runtime: DockerRuntime;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-adopt-'));
    podman = await startPodmanService({ dataDir, log: () => {} });
    await ensureBusyboxImage({ env: podman.env, log: () => {} });
    runtime = new DockerRuntime({ socketPath: podman.socketPath });
  }, 120_000);

  afterAll(async () => {
    runtime?.close();
  await podman?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** A one-container task of a host's, and its container as an agent that has since died left it. */
  function leftBehind(command: string[], lastStatus: Assignment['lastStatus']) {
    const taskId = randomBytes(16).toString('hex');
    const task: Assignment = {
      cluster: 'default', taskId, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${taskId}`, family: 'app', revision: 1,
      desiredStatus: 'RUNNING', lastStatus, createdAt: Date.now(), cpu: 256, memory: 512,
      containers: [{ name: 'app', image: BUSYBOX_IMAGE, essential: true, command }],
    };
    const labels = { [LABELS.task]: taskId, [LABELS.cluster]: 'default', [LABELS.container]: 'app', [LABELS.host]: 'adopt-host' };
    const spec: ContainerSpec = { name: containerName(taskId, 'app'), image: BUSYBOX_IMAGE, command, env: [], ulimits: [], portMappings: [], labels };
    return { taskId, task, spec };
  }

  it('launches afresh a task whose containers were created but never started, and runs it once', async () => {
    // Prepare: the containers as an agent that died between create and start left them.
    const { taskId, task, spec } = leftBehind(['sh', '-c', 'echo started; sleep 1'], 'PENDING');
    await runtime.create(spec);
    const reports: TaskReportBody[] = [];
    const runner = new TaskRunner(task, {
      hostId: 'adopt-host', runtime, logDir: join(dataDir, 'logs'), report: async (body) => void reports.push(body),
    });

    // Act
    await runner.adopt(await runtime.list({ [LABELS.task]: taskId }));

    // Assess: it ran to its own end, once, rather than failing to start.
    expect(reports.map((r) => r.lastStatus)).toEqual(['RUNNING', 'STOPPING', 'STOPPED']);
    expect(reports[2]).toMatchObject({ stop: { stopCode: 'EssentialContainerExited' }, containers: [{ exitCode: 0 }] });
    expect(readFileSync(join(dataDir, 'logs', taskId, 'app.log'), 'utf8').split('\n').filter((l) => l === 'started')).toHaveLength(1);
    expect(await runtime.list({ [LABELS.task]: taskId })).toEqual([]);
  }, 60_000);

  it('reports the exit of a container that exits while a restarted agent takes it over', async () => {
    // Prepare: the task's container, started by an agent that has since died; it exits soon.
    const { taskId, task, spec } = leftBehind(['sh', '-c', 'sleep 1; exit 3'], 'RUNNING');
    await runtime.start(await runtime.create(spec));
    // The restarted agent's own runtime: it follows the engine's events only from now on.
    const restarted = new DockerRuntime({ socketPath: podman.socketPath });
    const reports: TaskReportBody[] = [];
    const runner = new TaskRunner(task, {
      hostId: 'adopt-host', runtime: restarted, logDir: join(dataDir, 'logs'), report: async (body) => void reports.push(body),
    });

    try {
      // Act
      await runner.adopt(await restarted.list({ [LABELS.task]: taskId }));

      // Assess: the exit is reported with its code, and the task stops because of it.
      expect(reports.map((r) => r.lastStatus)).toEqual(['STOPPING', 'STOPPED']);
      expect(reports[1]).toMatchObject({ stop: { stopCode: 'EssentialContainerExited' }, containers: [{ lastStatus: 'STOPPED', exitCode: 3 }] });
    } finally {
      restarted.close();
    }
  }, 60_000);

  it('stops the containers while its STOPPING report is on its way, and sends STOPPED only once that report has landed', async () => {
    // Prepare: a running task taken over, whose STOPPING report lands only once its container has exited.
    const { taskId, task, spec } = leftBehind(['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'], 'RUNNING');
    const id = await runtime.create(spec);
    await runtime.start(id);
    const events: string[] = [];
    const runner = new TaskRunner(task, {
      hostId: 'adopt-host', runtime, logDir: join(dataDir, 'logs'), report: async (body) => {
        events.push(`sent ${body.lastStatus}`);
        if (body.lastStatus !== 'STOPPING') return;
        await runtime.wait(id);
        events.push('STOPPING landed');
      },
    });

    // Act: StopTask reaches the agent.
    const adopted = runner.adopt(await runtime.list({ [LABELS.task]: taskId }));
    runner.requestStop();
    await adopted;

    // Assess: the SIGTERM did not wait for the report (or the report would never have landed),
    // and STOPPED followed STOPPING's landing.
    expect(events).toEqual(['sent STOPPING', 'STOPPING landed', 'sent STOPPED']);
  }, 60_000);
  it('launches a task whose image was removed from the engine since the agent last ran it: fetched again, once', async () => {
    // Prepare: an image this agent ran (so its cache serves it without asking the engine), then
    // removed from the engine. Its "registry" is a tag of busybox, made again by the pull.
    const engine = new Docker({ socketPath: podman.socketPath });
    const [repo, tag] = ['localhost/berth-removed', '1'];
    const image = `${repo}:${tag}`;
    const retag = () => engine.getImage(BUSYBOX_IMAGE).tag({ repo, tag });
    await retag();
    const pulls = jest.spyOn(runtime, 'pull').mockImplementation(async () => void (await retag()));
    const images = new ImagePuller({ runtime, behavior: 'prefer-cached', log: () => {} });
    const launch = async () => {
      const { task } = leftBehind(['true'], 'PENDING');
      task.containers[0].image = image;
      const reports: TaskReportBody[] = [];
      await new TaskRunner(task, {
        hostId: 'adopt-host', runtime, images, logDir: join(dataDir, 'logs'), report: async (body) => void reports.push(body),
      }).launch();
      return reports;
    };
    try {
      await launch();
      const pullsBefore = pulls.mock.calls.length;
      await engine.getImage(image).remove();

      // Act
      const reports = await launch();

      // Assess: it ran to its own end, after one pull, rather than failing to start.
      expect(pullsBefore).toBe(0);
      expect(pulls.mock.calls.map(([pulled]) => pulled)).toEqual([image]);
      expect(reports.map((r) => r.lastStatus)).toEqual(['RUNNING', 'STOPPING', 'STOPPED']);
      expect(reports[2]).toMatchObject({ stop: { stopCode: 'EssentialContainerExited' }, containers: [{ exitCode: 0 }] });
    } finally {
      pulls.mockRestore();
      await engine.getImage(image).remove().catch(() => {});
    }
  }, 60_000);
});
