import type { ContainerDefinition } from '../shared/domain/task-definition';

/**
 * How a task's size becomes the engine's limits.
 *
 * Fargate bounds a task as a whole: its containers together never use more than the task's cpu
 * and memory. The engine bounds containers, one at a time, so each container gets a part of the
 * task and the parts add up to the task: the limits use only the Docker Engine API's standard
 * container fields (Memory, MemorySwap, NanoCpus, CpuShares, PidsLimit), which Docker and
 * podman honour alike on cgroup v1 and v2, with the cgroupfs and the systemd driver.
 *
 * A cgroup of its own per task (HostConfig.CgroupParent, with the limits written on it) would let
 * the containers of a task borrow from each other; it was weighed and left: the agent would have
 * to write the limits itself, in a different way for each cgroup version and driver (files under
 * /sys/fs/cgroup for cgroupfs, a transient systemd slice for systemd, which Docker on Amazon
 * Linux 2023 uses), podman puts its conmon processes into that cgroup (charged to the task), and
 * on cgroup v1 the kernel counts an OOM kill in the container's own cgroup anyway, not the task's.
 *
 * The parts, for a task of T:
 * - memory (hard, MiB): a container's own `memory`; a container without one gets its
 *   `memoryReservation` (or 0) plus an equal share of what the others leave of T. No swap
 *   beyond it. `memoryReservation` stays the soft limit.
 * - cpu (a hard quota, NanoCpus): each container its own `cpu` units plus an equal share of what
 *   the containers' cpu leave of T; `cpu` is also its relative weight (CpuShares) in the task.
 * - processes (PidsLimit): the operator's per-task limit, split equally, so a fork bomb stops
 *   inside its task.
 * A task without cpu (an EC2 definition whose containers name none) gets no cpu quota, as on ECS.
 */
export interface ContainerLimits {
  /** Relative weight, from the container's cpu units; undefined when it names none. */
  cpuShares?: number;
  /** Hard cpu quota in billionths of a cpu; undefined when the task has no cpu. */
  nanoCpus?: number;
  /** Hard memory limit, MiB (swap included: none beyond it). */
  memoryMiB?: number;
  /** Soft memory limit, MiB. */
  memoryReservationMiB?: number;
  /** Most processes (threads included) the container may have at once. */
  pidsLimit?: number;
}

/** What the agent bounds a task by: what the scheduler reserved for it (cpu units, MiB). */
export interface TaskSize {
  cpu: number;
  memory: number;
}

/** The default per-task process limit (BERTH_TASK_PIDS_LIMIT): roomy for thread-heavy runtimes. */
export const DEFAULT_TASK_PIDS_LIMIT = 4096;
/** Room for ten containers of a few processes each; the kernel's own ceiling (pid_max) above. */
export const MIN_TASK_PIDS_LIMIT = 64;
export const MAX_TASK_PIDS_LIMIT = 4_194_304;

/** Docker's floor for a memory limit; ECS refuses less at registration. */
export const MIN_MEMORY_MIB = 6;
/** Docker's floor for NanoCpus ("Range of CPUs is from 0.01"). */
export const MIN_NANO_CPUS = 10_000_000;
/** Enough for a shell and what it runs, whatever the split leaves. */
export const MIN_PIDS = 8;
const NANO_CPUS_PER_UNIT = 1e9 / 1024;

/**
 * Shares `total` among containers: each gets its own amount and an equal share of what the own
 * amounts leave; whole numbers that add up to `total` exactly (the first few get the remainder).
 */
export function share(total: number, own: readonly number[]): number[] {
  const left = Math.max(0, total - own.reduce((s, x) => s + x, 0));
  const each = Math.floor(left / own.length);
  const extra = left - each * own.length;
  return own.map((x, i) => x + each + (i < extra ? 1 : 0));
}

/** Each container's limits, in the order of `containers`. */
export function containerLimits(
  containers: readonly Pick<ContainerDefinition, 'cpu' | 'memory' | 'memoryReservation'>[],
  task: TaskSize,
  taskPidsLimit: number = DEFAULT_TASK_PIDS_LIMIT,
): ContainerLimits[] {
  const hard = containers.reduce((s, c) => s + (c.memory ?? 0), 0);
  const open = containers.filter((c) => c.memory === undefined);
  const openMemory = share(Math.max(0, task.memory - hard), open.map((c) => c.memoryReservation ?? 0));
  const cpu = task.cpu > 0 ? share(task.cpu, containers.map((c) => c.cpu ?? 0)) : undefined;
  const pids = Math.max(MIN_PIDS, Math.floor(taskPidsLimit / containers.length));
  return containers.map((c, i) => ({
    cpuShares: c.cpu,
    nanoCpus: cpu && Math.max(MIN_NANO_CPUS, Math.round(cpu[i] * NANO_CPUS_PER_UNIT)),
    memoryMiB: c.memory ?? (task.memory > 0 ? Math.max(MIN_MEMORY_MIB, openMemory[open.indexOf(c)]) : undefined),
    memoryReservationMiB: c.memoryReservation,
    pidsLimit: pids,
  }));
}
