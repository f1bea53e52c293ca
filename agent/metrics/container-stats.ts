/**
 * The agent's port to the engine's stats (Docker's `GET /containers/ID/stats`, which podman
 * serves too): a container's cumulative CPU time and its memory in use, at one instant.
 */
export interface ContainerStatsReading {
  /** CPU time the container has used since it started, nanoseconds. */
  cpuTotalNs: number;
  /** Memory in use, bytes, page cache that the kernel may reclaim not counted (as `docker stats`). */
  memoryBytes: number;
  /** When the engine read it, epoch milliseconds. */
  readAtMs: number;
}

export interface ContainerStatsSource {
  /** Undefined when the container is gone. */
  read(containerId: string): Promise<ContainerStatsReading | undefined>;
}

/** Cores in use between two readings of one container: CPU time over wall time. */
export function coresBetween(before: ContainerStatsReading, after: ContainerStatsReading): number | undefined {
  const wallMs = after.readAtMs - before.readAtMs;
  const cpuNs = after.cpuTotalNs - before.cpuTotalNs;
  // A restarted container's counter starts again; an unchanged clock says nothing.
  if (wallMs <= 0 || cpuNs < 0) return undefined;
  return cpuNs / 1e6 / wallMs;
}

/** CPU use as a percentage of a reservation in ECS cpu units (1024 units = 1 vCPU). */
export const cpuUtilizationPercent = (cores: number, reservedCpuUnits: number): number =>
  reservedCpuUnits > 0 ? (cores * 1024 * 100) / reservedCpuUnits : 0;
