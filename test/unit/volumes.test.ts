import { describe, expect, it } from '@jest/globals';
import { ClientException } from '../../shared/domain/errors';
import type { Json } from '../../shared/domain/fields';
import { readRegisterRequest } from '../../shared/domain/task-definition';
import { isTaskScoped, volumesFromOrder } from '../../shared/domain/volumes';
import { toEcsTaskDefinition } from '../../shared/ecs-api/shapes';
import { caught } from '../support/caught';
import { expectConforms } from '../support/ecs-model';

/** A FARGATE definition: a sidecar writes to a volume of the task's own, the app reads it. */
function aBody(): Json & { containerDefinitions: Json[]; volumes: Json[] } {
  return {
    family: 'shared-dir',
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'app', image: 'busybox', mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: true }] },
      { name: 'sidecar', image: 'busybox', essential: false, mountPoints: [{ sourceVolume: 'data', containerPath: '/out' }] },
    ],
    volumes: [{ name: 'data', host: {} }],
  };
}

const refusal = (body: Json, options = {}) => {
  const e = caught(() => readRegisterRequest(body, options));
  expect(e).toBeInstanceOf(ClientException);
  return (e as Error).message;
};

describe('TaskDefinition volumes', () => {
  it('reads volumes, mountPoints, volumesFrom, readonlyRootFilesystem and ephemeralStorage', () => {
    // Prepare
    const body = aBody();
    body.volumes.push({ name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' }, labels: { team: 'a' } } });
    body.volumes.push({ name: 'scratch' });
    body.containerDefinitions.push({ name: 'reader', image: 'busybox', essential: false, volumesFrom: [{ sourceContainer: 'sidecar', readOnly: true }], readonlyRootFilesystem: true });
    body.ephemeralStorage = { sizeInGiB: 21 };

    // Act
    const { spec } = readRegisterRequest(body);

    // Assess
    expect(spec.volumes).toEqual([
      { name: 'data', host: {} },
      { name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=64m' }, labels: { team: 'a' } } },
      { name: 'scratch' },
    ]);
    expect(spec.containerDefinitions[0].mountPoints).toEqual([{ sourceVolume: 'data', containerPath: '/data', readOnly: true }]);
    expect(spec.containerDefinitions[1].mountPoints).toEqual([{ sourceVolume: 'data', containerPath: '/out', readOnly: false }]);
    expect(spec.containerDefinitions[2]).toMatchObject({ volumesFrom: [{ sourceContainer: 'sidecar', readOnly: true }], readonlyRootFilesystem: true });
    expect(spec.ephemeralStorage).toEqual({ sizeInGiB: 21 });
    expect(spec.volumes!.map(isTaskScoped)).toEqual([true, false, true]);
  });

  it('echoes volumes, mounts, ephemeralStorage and runtimePlatform in the shape of the ECS model', () => {
    // Prepare
    const body = aBody();
    body.volumes.push({ name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, labels: { team: 'a' } } });
    body.containerDefinitions[1].volumesFrom = [{ sourceContainer: 'app' }];
    body.ephemeralStorage = { sizeInGiB: 30 };
    body.runtimePlatform = { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' };
    const { spec } = readRegisterRequest(body);

    // Act
    const taskDefinition = toEcsTaskDefinition({ region: 'us-east-1', accountId: '123456789012' }, { ...spec, revision: 1, status: 'ACTIVE', registeredAt: 0, tags: [] });

    // Assess
    expectConforms('DescribeTaskDefinition', { taskDefinition });
    expect(taskDefinition).toMatchObject({ volumes: spec.volumes, ephemeralStorage: { sizeInGiB: 30 } });
  });

  it('reads EFS volumes as ECS takes them, echoes them in the model\'s shape, and never removes them with a task', () => {
    // Prepare
    const body = aBody();
    body.volumes.push({ name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/app/data' } });
    body.volumes.push({
      name: 'ap', efsVolumeConfiguration: {
        fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/', transitEncryption: 'ENABLED', transitEncryptionPort: 20049,
        authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0', iam: 'DISABLED' },
      },
    });

    // Act
    const { spec } = readRegisterRequest(body);
    const taskDefinition = toEcsTaskDefinition({ region: 'us-east-1', accountId: '123456789012' }, { ...spec, revision: 1, status: 'ACTIVE', registeredAt: 0, tags: [] });

    // Assess
    expect(spec.volumes!.slice(1)).toEqual([
      { name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/app/data' } },
      {
        name: 'ap', efsVolumeConfiguration: {
          fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/', transitEncryption: 'ENABLED', transitEncryptionPort: 20049,
          authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0', iam: 'DISABLED' },
        },
      },
    ]);
    expect(spec.volumes!.map(isTaskScoped)).toEqual([true, false, false]);
    expectConforms('DescribeTaskDefinition', { taskDefinition });
  });

  it('leaves out what was not given', () => {
    const { spec } = readRegisterRequest({ family: 'plain', containerDefinitions: [{ name: 'a', image: 'busybox', memory: 64 }] });
    expect(spec).not.toHaveProperty('volumes');
    expect(spec).not.toHaveProperty('ephemeralStorage');
    expect(spec.containerDefinitions[0]).not.toHaveProperty('mountPoints');
    expect(spec.containerDefinitions[0]).not.toHaveProperty('readonlyRootFilesystem');
  });

  it('refuses a host sourcePath unless the operator allows host paths, then takes it', () => {
    const body = aBody();
    body.volumes[0] = { name: 'data', host: { sourcePath: '/var/lib/data' } };
    expect(refusal(body)).toMatch(/^Invalid parameter 'volumes\[0\]\.host\.sourcePath': Berth runs tasks as Fargate does, which does not support host paths/);
    expect(readRegisterRequest(body, { allowHostPaths: true }).spec.volumes).toEqual([{ name: 'data', host: { sourcePath: '/var/lib/data' } }]);
    expect(isTaskScoped({ name: 'data', host: { sourcePath: '/var/lib/data' } })).toBe(false);
  });

  it('refuses an EFS volume where this Berth mounts none (the local mode, unless BERTH_LOCAL_EFS)', () => {
    const body = aBody();
    body.volumes.push({ name: 'efs', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0' } });

    expect(() => readRegisterRequest(body, { efsVolumes: false })).toThrow(/'volumes\[1\]\.efsVolumeConfiguration': this local Berth has no EFS.*BERTH_LOCAL_EFS=1/);
    expect(readRegisterRequest(body, { efsVolumes: true }).spec.volumes).toContainEqual(expect.objectContaining({ name: 'efs' }));
  });

  it.each<[string, (b: ReturnType<typeof aBody>) => void, RegExp]>([
    ['a bind through driverOpts', (b) => (b.volumes[0] = { name: 'data', dockerVolumeConfiguration: { driverOpts: { type: 'none', o: 'bind', device: '/etc' } } }), /'volumes\[0\]\.dockerVolumeConfiguration\.driverOpts': mounts a path of the host/],
    ['a host device through driverOpts', (b) => (b.volumes[0] = { name: 'data', dockerVolumeConfiguration: { driverOpts: { type: 'ext4', device: '/dev/sda1' } } }), /mounts a path of the host/],
    ['a driver other than local', (b) => (b.volumes[0] = { name: 'data', dockerVolumeConfiguration: { driver: 'rexray/ebs' } }), /'volumes\[0\]\.dockerVolumeConfiguration\.driver': Berth's hosts have the 'local' driver only/],
    ['autoprovision of a task volume', (b) => (b.volumes[0] = { name: 'data', dockerVolumeConfiguration: { scope: 'task', autoprovision: true } }), /autoprovision': only a volume of scope 'shared'/],
    ['an unknown scope', (b) => (b.volumes[0] = { name: 'data', dockerVolumeConfiguration: { scope: 'cluster' } }), /scope': must be one of task, shared/],
    ['host and dockerVolumeConfiguration both', (b) => (b.volumes[0] = { name: 'data', host: {}, dockerVolumeConfiguration: {} }), /'volumes\[0\]': give one of host, dockerVolumeConfiguration and efsVolumeConfiguration/],
    ['an EFS file system id that is not one', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: '../etc' } }), /'volumes\[0\]\.efsVolumeConfiguration\.fileSystemId': '\.\.\/etc' is not an EFS file system id/],
    ['an EFS volume without a file system', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { rootDirectory: '/a' } }), /efsVolumeConfiguration\.fileSystemId': is required/],
    ['an EFS rootDirectory climbing out', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/a/../../b' } }), /rootDirectory': may not climb out/],
    ['an EFS access point without transit encryption', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0' } } }), /accessPointId': transit encryption must be enabled when an access point is used/],
    ['an EFS access point with a rootDirectory', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', rootDirectory: '/x', transitEncryption: 'ENABLED', authorizationConfig: { accessPointId: 'fsap-0123456789abcdef0' } } }), /rootDirectory': must be omitted or '\/' when an access point is used/],
    ['EFS IAM authorization without transit encryption', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', authorizationConfig: { iam: 'ENABLED' } } }), /iam': transit encryption must be enabled when IAM authorization is used/],
    ['EFS IAM authorization (the task role)', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', transitEncryption: 'ENABLED', authorizationConfig: { iam: 'ENABLED' } } }), /iam': Berth cannot honour it \(the host mounts EFS with its own role/],
    ['an EFS transitEncryptionPort without transit encryption', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', transitEncryptionPort: 2049 } }), /transitEncryptionPort': applies only when transitEncryption is ENABLED/],
    ['an unknown EFS transitEncryption', (b) => (b.volumes[0] = { name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-0123456789abcdef0', transitEncryption: 'ON' } }), /transitEncryption': must be one of ENABLED, DISABLED/],
    ['a volume without a name', (b) => (b.volumes[0] = { host: {} }), /'volumes\[0\]\.name': is required/],
    ['a bad volume name', (b) => (b.volumes[0] = { name: 'my data' }), /'volumes\[0\]\.name': up to 255 letters/],
    ['two volumes of one name', (b) => b.volumes.push({ name: 'data' }), /duplicate volume name 'data'/],
    ['a mount of an unknown volume', (b) => ((b.containerDefinitions[0].mountPoints as Json[])[0].sourceVolume = 'nope'), /'mountPoints' of container 'app': unknown volume 'nope'/],
    ['a relative containerPath', (b) => ((b.containerDefinitions[0].mountPoints as Json[])[0].containerPath = 'data'), /'containerDefinitions\[0\]\.mountPoints\[0\]\.containerPath': must be an absolute path/],
    ['a mount without a containerPath', (b) => delete (b.containerDefinitions[0].mountPoints as Json[])[0].containerPath, /containerPath': is required/],
    ['one path mounted twice', (b) => (b.containerDefinitions[0].mountPoints as Json[]).push({ sourceVolume: 'data', containerPath: '/data' }), /'\/data' is mounted twice/],
    ['readOnly as a string', (b) => ((b.containerDefinitions[0].mountPoints as Json[])[0].readOnly = 'yes'), /readOnly': expected true or false/],
    ['volumesFrom an unknown container', (b) => (b.containerDefinitions[0].volumesFrom = [{ sourceContainer: 'ghost' }]), /'volumesFrom' of container 'app': unknown container 'ghost'/],
    ['volumesFrom itself', (b) => (b.containerDefinitions[0].volumesFrom = [{ sourceContainer: 'app' }]), /unknown container 'app'/],
    ['volumesFrom in a cycle', (b) => {
      b.containerDefinitions[0].volumesFrom = [{ sourceContainer: 'sidecar' }];
      b.containerDefinitions[1].volumesFrom = [{ sourceContainer: 'app' }];
    }, /take volumes from each other in a cycle/],
    ['ephemeralStorage of 20 GiB', (b) => (b.ephemeralStorage = { sizeInGiB: 20 }), /'ephemeralStorage\.sizeInGiB': must be at least 21/],
    ['ephemeralStorage of 201 GiB', (b) => (b.ephemeralStorage = { sizeInGiB: 201 }), /'ephemeralStorage\.sizeInGiB': must be at most 200/],
    ['ephemeralStorage without a size', (b) => (b.ephemeralStorage = { other: 1 }), /ephemeralStorage/],
    ['readonlyRootFilesystem as a string', (b) => (b.containerDefinitions[0].readonlyRootFilesystem = 'true'), /'containerDefinitions\[0\]\.readonlyRootFilesystem': expected true or false/],
    ['a RISC-V platform', (b) => (b.runtimePlatform = { cpuArchitecture: 'RISCV64' }), /'runtimePlatform\.cpuArchitecture': Berth's hosts are X86_64 or ARM64, not RISCV64/],
    ['a Windows platform', (b) => (b.runtimePlatform = { operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE' }), /operatingSystemFamily/],
    ['a startTimeout of 1 s', (b) => (b.containerDefinitions[0].startTimeout = 1), /'containerDefinitions\[0\]\.startTimeout': must be at least 2/],
  ])('refuses %s, naming the field', (_, change, message) => {
    const body = aBody();
    change(body);
    expect(refusal(body)).toMatch(message);
  });

  it('takes a Linux x86-64 runtimePlatform and a startTimeout, and echoes them', () => {
    const body = aBody();
    body.runtimePlatform = { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' };
    body.containerDefinitions[0].startTimeout = 30;
    const { spec } = readRegisterRequest(body);
    expect(spec.runtimePlatform).toEqual({ cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' });
    expect(spec.containerDefinitions[0].startTimeout).toBe(30);
  });

  describe('volumesFromOrder', () => {
    it('puts each container after those it takes volumes from', () => {
      const order = volumesFromOrder([
        { name: 'c', volumesFrom: [{ sourceContainer: 'b', readOnly: false }] },
        { name: 'b', volumesFrom: [{ sourceContainer: 'a', readOnly: false }] },
        { name: 'a' },
      ]);
      expect(order.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    });
  });
});
