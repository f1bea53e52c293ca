import { type ContainerDefinition, DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type Volume } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '../../../agent/runtime/container-runtime';
import { awsEcs } from '../../support/aws-cli';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, containerLog, untilStatus } from '../../support/local-mode';

/**
 * Volumes with Fargate's rules, on real containers: storage of the task's own that its
 * containers share and that goes with the task, volumesFrom, a read-only root, and definitions
 * that ask for what Berth cannot give refused at RegisterTaskDefinition.
 */
const taskIdOf = (arn: string) => arn.split('/').pop()!;
/** The value after `key=` in a container's output. */
const field = (lines: string[], key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Volumes', () => {
  let m: LocalMode;
  let docker: Docker;
  let families = 0;
  beforeAll(() => {
    m = mode();
    docker = new Docker({ socketPath: m.local.dockerSocket });
  });

  /** Registers a FARGATE definition with these volumes and runs it; returns the task ARN. */
  async function run(containers: ContainerDefinition[], volumes: Volume[]): Promise<string> {
    const family = `e2e-volumes-${++families}-${Date.now()}`;
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: containers.map((c) => ({ image: BUSYBOX, stopTimeout: 2, ...c })), volumes,
    }));
    const r = await m.ecs.send(new RunTaskCommand({ taskDefinition: family }));
    return r.tasks![0].taskArn!;
  }

  /** The engine's volumes of a task, by the task label the agent puts on them. */
  const volumesOf = async (arn: string) =>
    (await docker.listVolumes({ filters: { label: [`${LABELS.task}=${taskIdOf(arn)}`] } })).Volumes ?? [];
  const untilNoVolumes = (arn: string) =>
    eventually(async () => (await volumesOf(arn)).length === 0, 30_000, 'the task\'s volumes to be removed');

  it('shares a volume of the task\'s own: a sidecar writes, the essential container reads; it goes with the task', async () => {
    // Prepare
    const token = randomBytes(8).toString('hex');

    // Act
    const arn = await run([
      { name: 'writer', essential: false, mountPoints: [{ sourceVolume: 'shared', containerPath: '/out' }], command: ['sh', '-c', `echo ${token} > /out/msg`] },
      {
        name: 'reader', dependsOn: [{ containerName: 'writer', condition: 'SUCCESS' }],
        mountPoints: [{ sourceVolume: 'shared', containerPath: '/in', readOnly: true }],
        command: ['sh', '-c', `trap 'exit 0' TERM; echo "read=$(cat /in/msg)"; touch /in/x 2>/dev/null; echo "write=$?"; sleep 60 & wait`],
      },
    ], [{ name: 'shared', host: {} }]);
    const lines = await eventually(async () => {
      const l = containerLog(m.dataDir, arn, 'reader');
      return field(l, 'write') !== undefined ? l : undefined;
    }, 60_000, 'the reader to read');
    const whileRunning = await volumesOf(arn);
    await m.ecs.send(new StopTaskCommand({ task: arn }));
    const stopped = await untilStatus(m.ecs, arn, 'STOPPED', 60_000);

    // Assess
    expect(field(lines, 'read')).toBe(token);
    expect(field(lines, 'write')).not.toBe('0');
    expect(whileRunning.map((v) => v.Labels?.[LABELS.host])).toEqual([expect.stringMatching(/^local-/)]);
    expect(stopped.containers!.find((c) => c.name === 'writer')!.exitCode).toBe(0);
    await untilNoVolumes(arn);
  }, 120_000);

  it('gives a container the volumes of another through volumesFrom, read-only when asked', async () => {
    const arn = await run([
      {
        name: 'source', essential: false, mountPoints: [{ sourceVolume: 'cache', containerPath: '/cache' }],
        command: ['sh', '-c', "trap 'exit 0' TERM; echo from-source > /cache/f; sleep 60 & wait"],
      },
      {
        name: 'taker', dependsOn: [{ containerName: 'source', condition: 'START' }], volumesFrom: [{ sourceContainer: 'source', readOnly: true }],
        command: ['sh', '-c', 'for i in $(seq 100); do [ -s /cache/f ] && break; sleep 0.05; done; echo "got=$(cat /cache/f)"; touch /cache/y 2>/dev/null; echo "write=$?"'],
      },
    ], [{ name: 'cache', dockerVolumeConfiguration: { scope: 'task', driver: 'local' } }]);
    const stopped = await untilStatus(m.ecs, arn, 'STOPPED', 60_000);

    const lines = containerLog(m.dataDir, arn, 'taker');
    expect(field(lines, 'got')).toBe('from-source');
    expect(field(lines, 'write')).not.toBe('0');
    expect(stopped.containers!.find((c) => c.name === 'taker')!.exitCode).toBe(0);
    await untilNoVolumes(arn);
  }, 120_000);

  it('refuses writes to a read-only root, and keeps the container\'s volumes writable', async () => {
    const arn = await run([{
      name: 'app', readonlyRootFilesystem: true, mountPoints: [{ sourceVolume: 'scratch', containerPath: '/scratch' }],
      command: ['sh', '-c', 'touch /rootfile 2>/dev/null; echo "root=$?"; touch /scratch/f; echo "scratch=$?"'],
    }], [{ name: 'scratch' }]);
    await untilStatus(m.ecs, arn, 'STOPPED', 60_000);

    const lines = containerLog(m.dataDir, arn, 'app');
    expect(field(lines, 'root')).not.toBe('0');
    expect(field(lines, 'root')).toBeDefined();
    expect(field(lines, 'scratch')).toBe('0');
    await untilNoVolumes(arn);
  }, 120_000);

  it('removes the task\'s volume when a container cannot start', async () => {
    const arn = await run([{
      name: 'broken', entryPoint: ['/no/such/binary'], mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }],
    }], [{ name: 'data', host: {} }]);
    const stopped = await untilStatus(m.ecs, arn, 'STOPPED', 60_000);

    expect(stopped.stopCode).toBe('TaskFailedToStart');
    await untilNoVolumes(arn);
  }, 120_000);

  it('mounts an EFS file system (locally, the directory that stands in for it) that tasks naming it share; a missing rootDirectory fails the task', async () => {
    // Prepare: one task makes a directory in the file system's root and writes to it.
    const fileSystemId = `fs-${randomBytes(8).toString('hex')}`;
    const token = randomBytes(8).toString('hex');
    const writer = await run([{
      name: 'app', mountPoints: [{ sourceVolume: 'efs', containerPath: '/mnt/efs' }],
      command: ['sh', '-c', `mkdir -p /mnt/efs/app && echo ${token} > /mnt/efs/app/msg`],
    }], [{ name: 'efs', efsVolumeConfiguration: { fileSystemId } }]);
    const written = await untilStatus(m.ecs, writer, 'STOPPED', 60_000);

    // Act: another task mounts that directory as its root, read-only; a third names one that is not there.
    const [reader, missing] = await Promise.all([
      run([{
        name: 'app', mountPoints: [{ sourceVolume: 'efs', containerPath: '/data', readOnly: true }],
        command: ['sh', '-c', 'echo "read=$(cat /data/msg)"; touch /data/x 2>/dev/null; echo "write=$?"'],
      }], [{ name: 'efs', efsVolumeConfiguration: { fileSystemId, rootDirectory: '/app', transitEncryption: 'ENABLED' } }]),
      run([{ name: 'app', mountPoints: [{ sourceVolume: 'efs', containerPath: '/data' }], command: ['true'] }],
        [{ name: 'efs', efsVolumeConfiguration: { fileSystemId, rootDirectory: '/nowhere' } }]),
    ]);
    const [read, failed] = await Promise.all([untilStatus(m.ecs, reader, 'STOPPED', 60_000), untilStatus(m.ecs, missing, 'STOPPED', 60_000)]);

    // Assess
    expect(written.containers![0].exitCode).toBe(0);
    expect(read.containers![0].exitCode).toBe(0);
    const lines = containerLog(m.dataDir, reader, 'app');
    expect(field(lines, 'read')).toBe(token);
    expect(field(lines, 'write')).not.toBe('0');
    expect(failed.stopCode).toBe('TaskFailedToStart');
    expect(failed.stoppedReason).toMatch(/^ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: .*No such file or directory/);
    expect(failed.containers![0].exitCode).toBeUndefined();
  }, 120_000);

  describe('definitions asking for what Berth cannot give', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-volumes-'));
    const base = (family: string) => ({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: BUSYBOX, mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }],
      volumes: [{ name: 'data' }],
    });

    it.each<[string, (family: string) => object, RegExp]>([
      ['a host sourcePath', (f) => ({ ...base(f), volumes: [{ name: 'data', host: { sourcePath: '/etc' } }] }), /volumes\[0\]\.host\.sourcePath.*does not support host paths/],
      ['a bind of a host path through driverOpts', (f) => ({
        ...base(f), volumes: [{ name: 'data', dockerVolumeConfiguration: { scope: 'task', driver: 'local', driverOpts: { type: 'none', o: 'bind', device: '/etc' } } }],
      }), /driverOpts.*mounts a path of the host/],
      ['an EFS access point without transit encryption', (f) => ({
        ...base(f), volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-12345678', authorizationConfig: { accessPointId: 'fsap-12345678' } } }],
      }), /volumes\[0\]\.efsVolumeConfiguration\.authorizationConfig\.accessPointId.*transit encryption must be enabled/],
      ['a member Berth cannot honour', (f) => {
        const b = base(f);
        return { ...b, containerDefinitions: [{ ...b.containerDefinitions[0], linuxParameters: { initProcessEnabled: true } }] };
      }, /containerDefinitions\[0\]\.linuxParameters\.initProcessEnabled.*cannot honour/],
    ])('refuses %s with ClientException, and registers nothing', async (name, body, message) => {
      // Prepare
      const family = `e2e-refused-${randomBytes(4).toString('hex')}`;
      const file = join(dir, `${family}.json`);
      writeFileSync(file, JSON.stringify(body(family)));

      // Act
      const registered = await awsEcs(m.local.url, ['register-task-definition', '--cli-input-json', `file://${file}`]);

      // Assess
      expect(registered.code).not.toBe(0);
      expect(registered.errorType).toBe('ClientException');
      expect(registered.stderr).toMatch(message);
      const listed = await m.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
      expect(listed.taskDefinitionArns).toEqual([]);
      await expect(m.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family }))).rejects.toThrow();
    }, 30_000);
  });
});
}
