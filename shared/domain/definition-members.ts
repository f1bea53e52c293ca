import { ClientException } from './errors';
import { isObject } from './fields';

/**
 * What Berth does with every member of a RegisterTaskDefinition request, by the ECS model's
 * shape names: a member it reads (and honours), or one it refuses because it cannot honour it. A member that is none of these, a newer ECS member say,
 * is refused as well: nothing a definition asks for is dropped in silence.
 * test/unit/definition-members.test.ts checks this table against the ECS model awscli ships.
 */
export type MemberRule =
  /** Read by the parser; `shape` is the model's shape of its value (or of its list's items), walked too. */
  | { read: true; shape?: string }
  /** Refused whenever given a value that asks for something (not null, false, [] or {}). */
  | { refused: string };

const read = (shape?: string): MemberRule => ({ read: true, shape });
const refused = (why: string): MemberRule => ({ refused: why });

const AWSVPC = 'a task has its own network namespace, as an awsvpc task on Fargate has';
const NO_GPU = 'Berth schedules cpu and memory only';

export const DEFINITION_MEMBERS: Readonly<Record<string, Readonly<Record<string, MemberRule>>>> = {
  RegisterTaskDefinitionRequest: {
    family: read(),
    taskRoleArn: read(),
    executionRoleArn: read(),
    networkMode: read(),
    containerDefinitions: read('ContainerDefinition'),
    volumes: read('Volume'),
    placementConstraints: refused('place a task with RunTask\'s placementConstraints instead'),
    requiresCompatibilities: read(),
    cpu: read(),
    memory: read(),
    tags: read('Tag'),
    // 'host' is refused by refuseHostPrivileges, with its own words.
    pidMode: refused('every container of a task has a PID namespace of its own'),
    ipcMode: refused('every container of a task has an IPC namespace of its own'),
    proxyConfiguration: refused('Berth has no App Mesh proxy'),
    inferenceAccelerators: refused(NO_GPU),
    ephemeralStorage: read('EphemeralStorage'),
    runtimePlatform: read('RuntimePlatform'),
  },
  ContainerDefinition: {
    name: read(),
    image: read(),
    repositoryCredentials: read('RepositoryCredentials'),
    cpu: read(),
    memory: read(),
    memoryReservation: read(),
    links: refused(AWSVPC),
    portMappings: read('PortMapping'),
    essential: read(),
    entryPoint: read(),
    command: read(),
    environment: read('KeyValuePair'),
    environmentFiles: refused('Berth does not read environment files from S3; use environment or secrets'),
    mountPoints: read('MountPoint'),
    volumesFrom: read('VolumeFrom'),
    linuxParameters: read('LinuxParameters'),
    secrets: read('Secret'),
    dependsOn: read('ContainerDependency'),
    startTimeout: read(),
    stopTimeout: read(),
    hostname: refused(AWSVPC),
    user: read(),
    workingDirectory: read(),
    disableNetworking: refused(AWSVPC),
    // true is refused by refuseHostPrivileges.
    privileged: read(),
    readonlyRootFilesystem: read(),
    dnsServers: refused(AWSVPC),
    dnsSearchDomains: refused(AWSVPC),
    extraHosts: refused(AWSVPC),
    dockerSecurityOptions: refused('Berth sets the security options of every container itself'),
    interactive: refused('a task\'s containers have no stdin'),
    pseudoTerminal: refused('a task\'s containers have no terminal'),
    dockerLabels: read(),
    ulimits: read('Ulimit'),
    logConfiguration: read('LogConfiguration'),
    healthCheck: read('HealthCheck'),
    systemControls: refused('Berth does not set namespaced kernel parameters'),
    resourceRequirements: refused(NO_GPU),
    firelensConfiguration: refused('Berth ships logs itself (awslogs); it has no FireLens router'),
  },
  PortMapping: {
    containerPort: read(),
    hostPort: read(),
    protocol: read(),
    name: read(),
    appProtocol: read(),
    containerPortRange: refused('map each port on its own'),
  },
  RepositoryCredentials: { credentialsParameter: read() },
  KeyValuePair: { name: read(), value: read() },
  Secret: { name: read(), valueFrom: read() },
  ContainerDependency: { containerName: read(), condition: read() },
  Ulimit: { name: read(), softLimit: read(), hardLimit: read() },
  LogConfiguration: { logDriver: read(), options: read(), secretOptions: read('Secret') },
  HealthCheck: { command: read(), interval: read(), timeout: read(), retries: read(), startPeriod: read() },
  Tag: { key: read(), value: read() },
  LinuxParameters: {
    capabilities: read('KernelCapabilities'),
    devices: refused('a task gets no device of the host, as on Fargate'),
    initProcessEnabled: refused('Berth does not run an init process in containers'),
    sharedMemorySize: refused('Berth keeps the engine\'s /dev/shm'),
    tmpfs: refused('use a volume of the task\'s own'),
    maxSwap: refused('containers get no swap, as on Fargate'),
    swappiness: refused('containers get no swap, as on Fargate'),
  },
  KernelCapabilities: { add: read(), drop: read() },
  MountPoint: { sourceVolume: read(), containerPath: read(), readOnly: read() },
  VolumeFrom: { sourceContainer: read(), readOnly: read() },
  Volume: {
    name: read(),
    host: read('HostVolumeProperties'),
    dockerVolumeConfiguration: read('DockerVolumeConfiguration'),
    efsVolumeConfiguration: read('EFSVolumeConfiguration'),
    fsxWindowsFileServerVolumeConfiguration: refused('Berth runs Linux containers only'),
  },
  HostVolumeProperties: { sourcePath: read() },
  EFSVolumeConfiguration: {
    fileSystemId: read(), rootDirectory: read(), transitEncryption: read(), transitEncryptionPort: read(),
    authorizationConfig: read('EFSAuthorizationConfig'),
  },
  // iam ENABLED is refused by the parser, with its own words.
  EFSAuthorizationConfig: { accessPointId: read(), iam: read() },
  DockerVolumeConfiguration: { scope: read(), autoprovision: read(), driver: read(), driverOpts: read(), labels: read() },
  EphemeralStorage: { sizeInGiB: read() },
  RuntimePlatform: { cpuArchitecture: read(), operatingSystemFamily: read() },
};

/** A value that asks for nothing: what SDKs and tools send for a member left at its default. */
const asksNothing = (v: unknown) =>
  v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/**
 * Refuses, with ClientException naming it, any member of `value` (a `shape` of the model) that
 * Berth would not honour: one refused in DEFINITION_MEMBERS, or one it does not know at all.
 * Members of the wrong type are left to the parser, which names them too.
 */
export function refuseUnhonoured(value: unknown, shape = 'RegisterTaskDefinitionRequest', path = ''): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => refuseUnhonoured(item, shape, `${path}[${i}]`));
    return;
  }
  if (!isObject(value)) return;
  const members = DEFINITION_MEMBERS[shape];
  for (const [key, v] of Object.entries(value)) {
    const field = path ? `${path}.${key}` : key;
    const rule = members[key];
    if (!rule) {
      if (v === undefined || v === null) continue;
      throw new ClientException(`Invalid parameter '${field}': Berth does not know this member of ${shape}, so it cannot honour it.`);
    }
    if ('refused' in rule && !asksNothing(v)) {
      throw new ClientException(`Invalid parameter '${field}': Berth cannot honour it (${rule.refused}).`);
    }
    if ('read' in rule && rule.shape) refuseUnhonoured(v, rule.shape, field);
  }
}
