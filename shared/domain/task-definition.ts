import { FAMILY } from './arns';
import { ClientException, InvalidParameterException } from './errors';
import {
  type Json,
  type Tag,
  isObject,
  nameValueList,
  oneOf,
  optBool,
  optInt,
  optObject,
  optObjectList,
  optString,
  optStringList,
  optStringMap,
  readTags,
  reqString,
} from './fields';
import { type RepositoryCredentials, ecrRegistry, parseImageReference, readImage, readRepositoryCredentials } from './image';
import { type LinuxParameters, readLinuxParameters, refuseHostPrivileges } from './linux-parameters';
import type { PortMapping } from './ports';
import { PORT_NAME } from './service-connect';
import { checkDockerLabels } from './docker-labels';
import { assertFargateSize, isFargateSize, parseCpu, parseMemory } from './sizes';
import { InvalidValueFromError, parseValueFrom } from './value-from';
import { refuseUnhonoured } from './definition-members';
import {
  type MountPoint, type TaskVolume, type VolumeFrom, type VolumeOptions,
  checkMounts, readEphemeralStorage, readMountPoints, readVolumes, readVolumesFrom,
} from './volumes';

export const DEPENDENCY_CONDITIONS = ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'] as const;
export type DependencyCondition = (typeof DEPENDENCY_CONDITIONS)[number];
export const NETWORK_MODES = ['awsvpc', 'bridge', 'host', 'none'] as const;
export const COMPATIBILITIES = ['EC2', 'FARGATE', 'EXTERNAL'] as const;
export const LOG_DRIVERS = ['json-file', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'awsfirelens'] as const;
export const ULIMIT_NAMES = [
  'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
] as const;

/** Fargate's limits, which ECS applies to FARGATE-compatible definitions. */
export const MAX_CONTAINERS = 10;
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
/** ECS's ceiling; the stop workflow's AwaitStopped timeout (300 s) leaves room above it. */
export const MAX_STOP_TIMEOUT_SECONDS = 120;
/** ECS's bounds for startTimeout on Fargate (platform 1.3.0 and later). */
export const MAX_START_TIMEOUT_SECONDS = 120;

export interface ContainerDefinition {
  name: string;
  image: string;
  /** A private registry's username and password, from a Secrets Manager secret. */
  repositoryCredentials?: RepositoryCredentials;
  cpu?: number;
  memory?: number;
  memoryReservation?: number;
  essential: boolean;
  command?: string[];
  entryPoint?: string[];
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  /** hostPort 0 asks for a dynamic host port; awsvpc publishes none (see ports.ts). */
  portMappings?: PortMapping[];
  dependsOn?: { containerName: string; condition: DependencyCondition }[];
  healthCheck?: { command: string[]; interval: number; timeout: number; retries: number; startPeriod?: number };
  stopTimeout?: number;
  workingDirectory?: string;
  user?: string;
  logConfiguration?: { logDriver: string; options?: Record<string, string>; secretOptions?: { name: string; valueFrom: string }[] };
  ulimits?: { name: string; softLimit: number; hardLimit: number }[];
  linuxParameters?: LinuxParameters;
  /** Put on the container beside the labels ECS's agent sets (see docker-labels.ts). */
  dockerLabels?: Record<string, string>;
  mountPoints?: MountPoint[];
  volumesFrom?: VolumeFrom[];
  readonlyRootFilesystem?: boolean;
  /** Seconds to wait for its dependsOn conditions (ECS's startTimeout); the agent's default unless set. */
  startTimeout?: number;
}

/** What RegisterTaskDefinition accepted, normalised; the revision and status come from the store. */
export interface TaskDefinitionSpec {
  family: string;
  containerDefinitions: ContainerDefinition[];
  /** Task size in cpu units and MiB, as given (ECS echoes the string it was given). */
  cpu?: string;
  memory?: string;
  networkMode?: string;
  requiresCompatibilities?: string[];
  taskRoleArn?: string;
  executionRoleArn?: string;
  volumes?: TaskVolume[];
  ephemeralStorage?: { sizeInGiB: number };
  runtimePlatform?: { cpuArchitecture?: string; operatingSystemFamily?: string };
}

export interface RegisterRequest {
  spec: TaskDefinitionSpec;
  tags: Tag[];
}

function readContainer(c: Json, path: string, networkMode: string | undefined, fargate: boolean): ContainerDefinition {
  const name = reqString(c, 'name', `${path}.name`, 255);
  if (!FAMILY.test(name)) {
    throw new ClientException(`Invalid parameter '${path}.name': up to 255 letters, numbers, hyphens and underscores.`);
  }
  const image = readImage(c, path);
  const cpu = optInt(c, 'cpu', `${path}.cpu`, { min: 0, max: 10 * 1024 * 1024 });
  const memory = optInt(c, 'memory', `${path}.memory`, { min: 6 });
  const memoryReservation = optInt(c, 'memoryReservation', `${path}.memoryReservation`, { min: 6 });
  if (memory !== undefined && memoryReservation !== undefined && memoryReservation > memory) {
    throw new ClientException(
      `Invalid setting for container '${name}'. 'memory' must be greater than or equal to 'memoryReservation'.`,
    );
  }
  const portMappings = optObjectList(c, 'portMappings', (p, pp) => {
    const containerPort = optInt(p, 'containerPort', `${pp}.containerPort`, { min: 1, max: 65535 });
    if (containerPort === undefined) throw new ClientException(`Invalid parameter '${pp}.containerPort': is required.`);
    const given = optInt(p, 'hostPort', `${pp}.hostPort`, { min: 0, max: 65535 });
    // In awsvpc and host mode a container binds the port itself: no mapping to another. ECS
    // echoes an omitted hostPort as the containerPort there; in bridge mode as 0, a dynamic port.
    const bindsItself = networkMode === 'awsvpc' || networkMode === 'host';
    if (bindsItself && given !== undefined && given !== containerPort) {
      throw new ClientException(`Invalid parameter '${pp}.hostPort': when networkMode=${networkMode}, the host ports and container ports in port mappings must match.`);
    }
    const hostPort = given ?? (bindsItself ? containerPort : 0);
    const protocol = oneOf(optString(p, 'protocol', `${pp}.protocol`) ?? 'tcp', ['tcp', 'udp'] as const, `${pp}.protocol`);
    // Service Connect's name for the port (serviceConnectConfiguration.services[].portName).
    const portName = optString(p, 'name', `${pp}.name`, 64);
    if (portName !== undefined && !PORT_NAME.test(portName)) {
      throw new ClientException(`Invalid parameter '${pp}.name': use up to 64 lowercase letters, numbers, underscores and hyphens, not starting with a hyphen.`);
    }
    const appProtocol = optString(p, 'appProtocol', `${pp}.appProtocol`);
    if (appProtocol !== undefined) oneOf(appProtocol, ['http', 'http2', 'grpc'] as const, `${pp}.appProtocol`);
    return { containerPort, hostPort, protocol, ...(portName !== undefined ? { name: portName } : {}), ...(appProtocol !== undefined ? { appProtocol } : {}) };
  }, `${path}.portMappings`);
  const dependsOn = optObjectList(c, 'dependsOn', (d, dp) => ({
    containerName: reqString(d, 'containerName', `${dp}.containerName`),
    condition: oneOf(reqString(d, 'condition', `${dp}.condition`), DEPENDENCY_CONDITIONS, `${dp}.condition`),
  }), `${path}.dependsOn`);
  const hc = optObject(c, 'healthCheck', `${path}.healthCheck`);
  const healthCheck = hc && {
    command: requireNonEmpty(optStringList(hc, 'command', `${path}.healthCheck.command`), `${path}.healthCheck.command`),
    interval: optInt(hc, 'interval', `${path}.healthCheck.interval`, { min: 5, max: 300 }) ?? 30,
    timeout: optInt(hc, 'timeout', `${path}.healthCheck.timeout`, { min: 2, max: 60 }) ?? 5,
    retries: optInt(hc, 'retries', `${path}.healthCheck.retries`, { min: 1, max: 10 }) ?? 3,
    startPeriod: optInt(hc, 'startPeriod', `${path}.healthCheck.startPeriod`, { min: 0, max: 300 }),
  };
  const lc = optObject(c, 'logConfiguration', `${path}.logConfiguration`);
  const logConfiguration = lc && {
    logDriver: oneOf(reqString(lc, 'logDriver', `${path}.logConfiguration.logDriver`), LOG_DRIVERS, `${path}.logConfiguration.logDriver`),
    options: readStringMap(lc, 'options', `${path}.logConfiguration.options`),
    secretOptions: readSecrets(lc, 'secretOptions', `${path}.logConfiguration.secretOptions`),
  };
  const ulimits = optObjectList(c, 'ulimits', (u, up) => {
    const softLimit = optInt(u, 'softLimit', `${up}.softLimit`, { min: 0 });
    const hardLimit = optInt(u, 'hardLimit', `${up}.hardLimit`, { min: 0 });
    if (softLimit === undefined || hardLimit === undefined) {
      throw new ClientException(`Invalid parameter '${up}': softLimit and hardLimit are required.`);
    }
    if (softLimit > hardLimit) throw new ClientException(`Invalid parameter '${up}.softLimit': greater than hardLimit.`);
    return { name: oneOf(reqString(u, 'name', `${up}.name`), ULIMIT_NAMES, `${up}.name`), softLimit, hardLimit };
  }, `${path}.ulimits`);
  return dropUndefined({
    name,
    image,
    repositoryCredentials: readRepositoryCredentials(c, path),
    cpu,
    memory,
    memoryReservation,
    essential: optBool(c, 'essential', `${path}.essential`) ?? true,
    command: optStringList(c, 'command', `${path}.command`),
    entryPoint: optStringList(c, 'entryPoint', `${path}.entryPoint`),
    environment: nameValueList(c, 'environment', `${path}.environment`),
    secrets: readSecrets(c, 'secrets', `${path}.secrets`),
    portMappings,
    dependsOn,
    healthCheck: healthCheck && dropUndefined(healthCheck),
    stopTimeout: optInt(c, 'stopTimeout', `${path}.stopTimeout`, { min: 0, max: MAX_STOP_TIMEOUT_SECONDS }),
    workingDirectory: optString(c, 'workingDirectory', `${path}.workingDirectory`, 4096),
    user: optString(c, 'user', `${path}.user`, 255),
    logConfiguration: logConfiguration && dropUndefined(logConfiguration),
    ulimits,
    linuxParameters: readLinuxParameters(c, path, fargate),
    dockerLabels: checkDockerLabels(readStringMap(c, 'dockerLabels', `${path}.dockerLabels`), `${path}.dockerLabels`),
    mountPoints: readMountPoints(c, path),
    volumesFrom: readVolumesFrom(c, path),
    readonlyRootFilesystem: optBool(c, 'readonlyRootFilesystem', `${path}.readonlyRootFilesystem`),
    startTimeout: optInt(c, 'startTimeout', `${path}.startTimeout`, { min: 2, max: MAX_START_TIMEOUT_SECONDS }),
  });
}

function requireNonEmpty(list: string[] | undefined, field: string): string[] {
  if (!list || list.length === 0) throw new ClientException(`Invalid parameter '${field}': is required.`);
  return list;
}

function readSecrets(o: Json, key: string, field: string) {
  return optObjectList(o, key, (s, sp) => ({
    name: reqString(s, 'name', `${sp}.name`, 1024),
    valueFrom: readValueFrom(reqString(s, 'valueFrom', `${sp}.valueFrom`, 2048), `${sp}.valueFrom`),
  }), field);
}

/** A valueFrom must name a secret or parameter in a form ECS accepts; what it names is checked at launch. */
function readValueFrom(valueFrom: string, field: string): string {
  try {
    parseValueFrom(valueFrom);
  } catch (e) {
    if (e instanceof InvalidValueFromError) throw new ClientException(`Invalid parameter '${field}': ${e.message}.`);
    throw e;
  }
  return valueFrom;
}

const readStringMap = optStringMap;

export function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Validates a RegisterTaskDefinition request as ECS does; the message names the field. */
/**
 * Where ECS would run a definition (its `compatibilities`): on EC2 always, on Fargate when it
 * has the awsvpc network mode and a task size Fargate has.
 */
export function compatibilitiesOf(d: { networkMode?: string; cpu?: string; memory?: string }): ('EC2' | 'FARGATE')[] {
  const fargate = d.networkMode === 'awsvpc' && d.cpu !== undefined && d.memory !== undefined && isFargateSize(Number(d.cpu), Number(d.memory));
  return fargate ? ['EC2', 'FARGATE'] : ['EC2'];
}

/** Running a definition on Fargate by name (launchType FARGATE) that Fargate cannot run is refused, in ECS's words. */
export function checkLaunchType(d: { networkMode?: string; cpu?: string; memory?: string }, launchType: string | undefined): void {
  if (launchType === 'FARGATE' && !compatibilitiesOf(d).includes('FARGATE')) {
    throw new InvalidParameterException('Task definition does not support launch_type FARGATE.');
  }
}

export function readRegisterRequest(body: Json, options: VolumeOptions = {}): RegisterRequest {
  const family = reqString(body, 'family', 'family', 255);
  if (!FAMILY.test(family)) {
    throw new ClientException("Invalid parameter 'family': up to 255 letters, numbers, hyphens and underscores.");
  }
  const requiresCompatibilities = optStringList(body, 'requiresCompatibilities');
  requiresCompatibilities?.forEach((c, i) => oneOf(c, COMPATIBILITIES, `requiresCompatibilities[${i}]`));
  const fargate = requiresCompatibilities?.includes('FARGATE') ?? false;
  const networkMode = optString(body, 'networkMode');
  if (networkMode !== undefined) oneOf(networkMode, NETWORK_MODES, 'networkMode');
  if (fargate && networkMode !== 'awsvpc') {
    // ECS's own words, typographic quotes included.
    throw new ClientException('Fargate only supports network mode ‘awsvpc’.');
  }
  const raw = body.containerDefinitions;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ClientException("Invalid parameter 'containerDefinitions': at least one container definition is required.");
  }
  if (raw.length > MAX_CONTAINERS) {
    throw new ClientException(`Invalid parameter 'containerDefinitions': at most ${MAX_CONTAINERS} containers.`);
  }
  const containers = raw.map((c, i) => {
    const path = `containerDefinitions[${i}]`;
    if (!isObject(c)) throw new ClientException(`Invalid parameter '${path}': expected an object.`);
    return readContainer(c, path, networkMode, fargate);
  });
  refuseHostPrivileges(body, raw as Json[]);
  refuseUnhonoured(body);
  checkContainerSet(containers);
  const volumes = readVolumes(body, options);
  checkMounts(containers, volumes);

  const cpuText = readSizeText(body, 'cpu');
  const memoryText = readSizeText(body, 'memory');
  const cpu = cpuText === undefined ? undefined : parseCpu(cpuText);
  const memory = memoryText === undefined ? undefined : parseMemory(memoryText);
  if (fargate) {
    // ECS's own words, as for the refusals below.
    if (cpu === undefined) throw new ClientException("Fargate requires that 'cpu' be defined at the task level.");
    if (memory === undefined) throw new ClientException("Fargate requires that 'memory' be defined at the task level.");
    assertFargateSize(cpu, memory);
  }
  checkContainersFit(containers, cpu, memory);

  const executionRoleArn = optString(body, 'executionRoleArn', 'executionRoleArn', 2048);
  if (executionRoleArn === undefined) requireExecutionRole(containers, fargate);

  const spec: TaskDefinitionSpec = dropUndefined({
    family,
    containerDefinitions: containers,
    cpu: cpu === undefined ? undefined : String(cpu),
    memory: memory === undefined ? undefined : String(memory),
    networkMode,
    requiresCompatibilities,
    taskRoleArn: optString(body, 'taskRoleArn', 'taskRoleArn', 2048),
    executionRoleArn,
    volumes,
    ephemeralStorage: readEphemeralStorage(body),
    runtimePlatform: readRuntimePlatform(body),
  });
  return { spec, tags: readTags(body) ?? [] };
}

/**
 * What only a task's execution role may fetch: its secrets and private registry credentials
 * anywhere; on Fargate also its awslogs output and ECR images (on EC2, ECS lets the instance's
 * role do those). A definition that needs the role and names none is refused, in ECS's words
 * (the private registry one is modelled on the secrets one; ECS documents the requirement).
 */
function requireExecutionRole(containers: readonly ContainerDefinition[], fargate: boolean): void {
  const needs = (c: ContainerDefinition) => ({
    secrets: (c.secrets?.length ?? 0) > 0 || (c.logConfiguration?.secretOptions?.length ?? 0) > 0,
    registry: c.repositoryCredentials !== undefined,
    awslogs: fargate && c.logConfiguration?.logDriver === 'awslogs',
    ecr: fargate && ecrRegistry(parseImageReference(c.image).registry) !== undefined,
  });
  const all = containers.map(needs);
  if (all.some((n) => n.secrets)) {
    throw new ClientException("When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.");
  }
  if (all.some((n) => n.registry)) {
    throw new ClientException("When you are specifying private repository credentials, you must also specify a value for 'executionRoleArn'.");
  }
  if (all.some((n) => n.awslogs)) throw new ClientException('Fargate requires task definition to have execution role ARN to support log driver awslogs.');
  if (all.some((n) => n.ecr)) throw new ClientException('Fargate requires task definition to have execution role ARN to support ECR images.');
}

/**
 * Berth's hosts run Linux on x86-64, and on arm64 (Graviton) where the operator allows it
 * (BERTH_GRAVITON; otherwise an ARM64 task fails to start, saying so): a definition for another
 * platform could not run on any.
 */
function readRuntimePlatform(body: Json): TaskDefinitionSpec['runtimePlatform'] {
  const p = optObject(body, 'runtimePlatform');
  if (!p) return undefined;
  const os = optString(p, 'operatingSystemFamily', 'runtimePlatform.operatingSystemFamily');
  const arch = optString(p, 'cpuArchitecture', 'runtimePlatform.cpuArchitecture');
  if (os !== undefined && os !== 'LINUX') {
    throw new ClientException(`Invalid parameter 'runtimePlatform.operatingSystemFamily': Berth's hosts run LINUX only, not ${os}.`);
  }
  if (arch !== undefined && arch !== 'X86_64' && arch !== 'ARM64') {
    throw new ClientException(`Invalid parameter 'runtimePlatform.cpuArchitecture': Berth's hosts are X86_64 or ARM64, not ${arch}.`);
  }
  return dropUndefined({ cpuArchitecture: arch, operatingSystemFamily: os });
}

/** ECS takes task cpu and memory as strings, but tools also send numbers. */
function readSizeText(body: Json, key: 'cpu' | 'memory'): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  if (typeof v !== 'string') throw new ClientException(`Invalid parameter '${key}': expected a string.`);
  return v;
}

function checkContainerSet(containers: ContainerDefinition[]): void {
  const names = new Set<string>();
  for (const c of containers) {
    if (names.has(c.name)) throw new ClientException(`Invalid parameter 'containerDefinitions': duplicate container name '${c.name}'.`);
    names.add(c.name);
  }
  if (!containers.some((c) => c.essential)) {
    throw new ClientException("Invalid parameter 'containerDefinitions': a task definition must have at least one essential container.");
  }
  const byName = new Map(containers.map((c) => [c.name, c]));
  for (const c of containers) {
    for (const d of c.dependsOn ?? []) {
      const target = byName.get(d.containerName);
      if (!target || target === c) {
        throw new ClientException(`Invalid parameter 'dependsOn' of container '${c.name}': unknown container '${d.containerName}'.`);
      }
      if (d.condition === 'HEALTHY' && !target.healthCheck) {
        throw new ClientException(`Invalid parameter 'dependsOn' of container '${c.name}': HEALTHY needs a healthCheck on '${d.containerName}'.`);
      }
      if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && target.essential) {
        throw new ClientException(`Invalid parameter 'dependsOn' of container '${c.name}': ${d.condition} needs '${d.containerName}' to be non-essential.`);
      }
    }
  }
  if (hasCycle(containers)) throw new ClientException("Invalid parameter 'dependsOn': the dependencies form a cycle.");
}

function hasCycle(containers: ContainerDefinition[]): boolean {
  const deps = new Map(containers.map((c) => [c.name, (c.dependsOn ?? []).map((d) => d.containerName)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string): boolean => {
    if (state.get(n) === 'done') return false;
    if (state.get(n) === 'visiting') return true;
    state.set(n, 'visiting');
    const cyclic = (deps.get(n) ?? []).some(visit);
    state.set(n, 'done');
    return cyclic;
  };
  return containers.some((c) => visit(c.name));
}

/**
 * Each container's memory must be set somewhere, and all of them must fit in the task's size: the
 * agent bounds the task by its size (agent/task-limits.ts). Messages in ECS's words.
 */
export function checkContainersFit(containers: readonly ContainerDefinition[], cpu?: number, memory?: number): void {
  const cpuSum = containers.reduce((s, c) => s + (c.cpu ?? 0), 0);
  if (cpu !== undefined && cpuSum > cpu) {
    throw new ClientException("The sum of all container 'cpu' values cannot be greater than the value of the task 'cpu'.");
  }
  let reserved = 0;
  for (const c of containers) {
    if (memory === undefined && c.memory === undefined && c.memoryReservation === undefined) {
      throw new ClientException(`Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`);
    }
    if (memory !== undefined && (c.memory ?? 0) > memory) {
      throw new ClientException(`The 'memory' setting for container '${c.name}' is greater than for the task.`);
    }
    if (memory !== undefined && (c.memoryReservation ?? 0) > memory) {
      throw new ClientException(`The 'memoryReservation' setting for container '${c.name}' is greater than for the task.`);
    }
    reserved += c.memoryReservation ?? c.memory ?? 0;
  }
  if (memory !== undefined && reserved > memory) {
    // ECS counts a container's memoryReservation where it has one, else its memory.
    const counted = containers.some((c) => c.memoryReservation !== undefined) ? 'memoryReservation' : 'memory';
    throw new ClientException(`The sum of all container '${counted}' values cannot be greater than the value of the task 'memory'.`);
  }
}

/** What the scheduler reserves: the task size, or the containers' sum when there is none. */
export function reservationOf(
  containers: readonly Pick<ContainerDefinition, 'cpu' | 'memory' | 'memoryReservation'>[],
  taskCpu?: number,
  taskMemory?: number,
): { cpu: number; memory: number } {
  return {
    cpu: taskCpu ?? containers.reduce((s, c) => s + (c.cpu ?? 0), 0),
    memory: taskMemory ?? containers.reduce((s, c) => s + Math.max(c.memory ?? 0, c.memoryReservation ?? 0), 0),
  };
}

/** The host architecture a definition's tasks need: ARM64 → arm64; X86_64 or none → x86_64 (absent). */
export function cpuArchitectureOfDefinition(def: Pick<TaskDefinitionSpec, 'runtimePlatform'>): 'arm64' | undefined {
  return def.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'arm64' : undefined;
}
