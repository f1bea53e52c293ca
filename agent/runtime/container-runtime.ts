/**
 * The agent's port to the container engine: Docker on an EC2 host, podman's Docker-compatible
 * API here. Everything the agent does to containers goes through this.
 */

import type { NetworkBinding } from '../../shared/domain/ports';

/** Labels every Berth container carries, so a restarted agent can find and adopt its own. */
export const LABELS = {
  task: 'berth.task-id',
  cluster: 'berth.cluster',
  container: 'berth.container-name',
  host: 'berth.host-id',
  /** On a namespace owner (a pause container): the network it owns, removed with it. */
  network: 'berth.network',
  /** On a task's container: the name of the namespace owner whose network namespace it joined. */
  namespace: 'berth.namespace',
  /** On a task's container: its task endpoint's id and token, so a restarted agent serves the same. */
  endpointId: 'berth.endpoint-id',
  endpointToken: 'berth.endpoint-token',
  /**
   * On everything a local mode's hosts make: its data directory, so a local mode clears what an
   * earlier run of the same data directory left, and never another's. Absent on EC2.
   */
  instance: 'berth.instance',
} as const;

/**
 * Where a container's network namespace comes from: a namespace of its own on a network (a
 * namespace owner, which also publishes the task's ports), or an owner's, shared as containers of
 * an awsvpc task share their ENI.
 */
export type NetworkAttachment = { ownNamespaceOn: string } | { joinNamespaceOf: string };

export interface ContainerSpec {
  /** The engine's container name: deterministic from the task (see containerName). */
  name: string;
  image: string;
  /** ECS `command` (Docker Cmd) and `entryPoint` (Docker Entrypoint). */
  command?: string[];
  entryPoint?: string[];
  /** Final environment, overrides applied, as NAME=value. */
  env: string[];
  workingDirectory?: string;
  user?: string;
  /** ECS cpu units → Docker CpuShares (a relative weight, as ECS's EC2 launch type sets it). */
  cpuShares?: number;
  /** Hard cpu quota (Docker NanoCpus): this container's part of the task's cpu (task-limits.ts). */
  nanoCpus?: number;
  /** Hard limit (Docker Memory) and soft limit (MemoryReservation), MiB. */
  memoryMiB?: number;
  memoryReservationMiB?: number;
  /** Most processes the container may have at once (Docker PidsLimit): its part of the task's. */
  pidsLimit?: number;
  ulimits: { name: string; softLimit: number; hardLimit: number }[];
  /**
   * Published on the host; only a namespace owner may have any (the engine's rule). hostPort 0
   * lets the engine choose; hostIp (default: every address) is the address it is bound to.
   */
  portMappings: { containerPort: number; hostPort: number; protocol: 'tcp' | 'udp'; hostIp?: string }[];
  labels: Record<string, string>;
  /** Without one the engine's default bridge, where every container reaches every other. */
  network?: NetworkAttachment;
  /** `name:address` lines for its /etc/hosts (a namespace's owner: its task's containers share them). */
  extraHosts?: string[];
  /**
   * Linux capabilities added to the engine's default set, without the CAP_ prefix (ECS's
   * linuxParameters.capabilities.add). The caller has checked them against the host's policy.
   */
  capAdd?: string[];
  /** Linux capabilities removed from the engine's default set (linuxParameters.capabilities.drop). */
  capDrop?: string[];
  /** Engine volumes (by name) and, where the operator allows them, host directories (absolute paths). */
  mounts?: { source: string; target: string; readOnly: boolean }[];
  /** Containers (engine names) whose mounts it takes, as ECS's volumesFrom. */
  volumesFrom?: { container: string; readOnly: boolean }[];
  /** ECS's readonlyRootFilesystem. */
  readonlyRootfs?: boolean;
  /**
   * The task's ephemeralStorage: a cap on the container's writable layer where the engine can
   * set one (Docker's overlay2 on XFS with project quotas); see DockerRuntime.create.
   */
  storageSizeGiB?: number;
}

/** A volume in the engine, made by the local driver. */
export interface VolumeSpec {
  name: string;
  labels: Record<string, string>;
  driverOpts?: Record<string, string>;
}

/** A network namespace's address; the subnet's prefix length and gateway (the host's address on it) when the engine tells them. */
export interface NamespaceAddress {
  ipv4Address: string;
  macAddress: string;
  prefixLength?: number;
  gateway?: string;
}

export interface ContainerState {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** created, running, exited, ... as the engine says. */
  status: string;
  running: boolean;
  exitCode?: number;
  /** Killed by the kernel for memory: as the engine says, or as the kernel's log says (see oom-kills.ts). */
  oomKilled: boolean;
  /** Epoch ms; undefined when never started / not finished. */
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  /** Its address on its network, for a container with a network namespace of its own. */
  address?: NamespaceAddress;
  /** The host ports it publishes. */
  portBindings?: NetworkBinding[];
  /** Its main process on the host, while it runs (a way into its network namespace). */
  pid?: number;
}

/** The image could not be pulled; the reason is in ECS's words. */
export class CannotPullContainerError extends Error {
  constructor(image: string, detail: string) {
    super(`CannotPullContainerError: pull image ${image}: ${detail}`);
    this.name = 'CannotPullContainerError';
  }
}

/** The engine refused to create or start the container. */
export class CannotCreateContainerError extends Error {
  constructor(name: string, detail: string) {
    super(`CannotCreateContainerError: ${name}: ${detail}`);
    this.name = 'CannotCreateContainerError';
  }
}

/** A registry login for one pull (Docker's X-Registry-Auth). Never logged or reported. */
export interface RegistryAuth {
  username: string;
  password: string;
  /** The registry host it is for, e.g. `127.0.0.1:5000`. */
  serverAddress: string;
}

export interface ContainerRuntime {
  hasImage(image: string): Promise<boolean>;
  /** Pulls the image, with the login given if any; throws CannotPullContainerError. */
  pull(image: string, auth?: RegistryAuth): Promise<void>;
  /**
   * The digest (`sha256:...`) the image's registry knows it by, from the engine's RepoDigests;
   * undefined for an image no registry served (built or imported here).
   */
  imageDigest(image: string): Promise<string | undefined>;
  /** Creates the container; throws CannotCreateContainerError. Returns its id. */
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  inspect(id: string): Promise<ContainerState | undefined>;
  /** Resolves with the exit code once the container has stopped (at once if it already has). */
  wait(id: string): Promise<number>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds` (Docker's stop). A stopped container is fine. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /**
   * Removes the container; one that is gone already is fine. For a namespace owner, the
   * containers that joined its namespace go first (podman refuses otherwise).
   */
  remove(id: string): Promise<void>;
  /**
   * Creates a network for one namespace owner, isolated from every other such network; one that
   * exists already is fine.
   */
  createNetwork(name: string, labels: Record<string, string>): Promise<void>;
  /** Removes the network; one that is gone already is fine. */
  removeNetwork(name: string): Promise<void>;
  /** The names of the networks carrying all of these labels. */
  listNetworks(labels: Record<string, string>): Promise<string[]>;
  /** Creates a volume with the local driver; one that exists already is fine. */
  createVolume(spec: VolumeSpec): Promise<void>;
  hasVolume(name: string): Promise<boolean>;
  /** Removes the volume; one that is gone already is fine. */
  removeVolume(name: string): Promise<void>;
  /** The volumes carrying all of these labels, with their labels. */
  listVolumes(labels: Record<string, string>): Promise<{ name: string; labels: Record<string, string> }[]>;
  /** Runs a command inside a running container and returns its exit code (health checks). */
  exec(id: string, command: string[], timeoutSeconds: number): Promise<number>;
  /** Every container carrying all of these labels. */
  list(labels: Record<string, string>): Promise<ContainerState[]>;
  /**
   * Follows the container's stdout and stderr from its start, calling `onLine` per line with
   * the time it was read (epoch ms), until it exits; resolves once the last line is delivered.
   */
  followLogs(id: string, onLine: (line: string, stream: 'stdout' | 'stderr', timestampMs?: number) => void): Promise<void>;
}

/** The exit code of a process killed with SIGKILL, as the OOM killer kills. */
export const SIGKILL_EXIT_CODE = 137;

/** Engine names are deterministic, so a restarted agent finds the same containers. */
export const containerName = (taskId: string, container: string) => `berth-${taskId}-${container}`;

/** A task-scoped volume's engine name: deterministic too, and never another task's. */
export const taskVolumeName = (taskId: string, volume: string) => `berth-${taskId}-${volume}`;

