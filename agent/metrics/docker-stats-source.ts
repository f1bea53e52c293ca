import Docker from 'dockerode';
import type { ContainerStatsReading, ContainerStatsSource } from './container-stats';

/** The parts of Docker's stats answer that Berth reads. */
interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

const statusOf = (e: unknown) => (e as { statusCode?: number })?.statusCode;

/** Memory as `docker stats` shows it: usage less inactive page cache (cgroup v2, then v1 names). */
export function memoryInUse(m: DockerStats['memory_stats']): number {
  const usage = m?.usage ?? 0;
  const cache = m?.stats?.inactive_file ?? m?.stats?.total_inactive_file ?? 0;
  return Math.max(0, usage - (cache <= usage ? cache : 0));
}

export function toReading(s: DockerStats, fallbackNowMs: number): ContainerStatsReading {
  const read = s.read ? Date.parse(s.read) : NaN;
  return {
    cpuTotalNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memoryBytes: memoryInUse(s.memory_stats),
    // Engines that have not read yet say 0001-01-01.
    readAtMs: Number.isFinite(read) && read > 0 ? read : fallbackNowMs,
  };
}

/**
 * ContainerStatsSource over the Docker Engine API. One-shot: Docker otherwise holds the call a
 * second to fill its previous reading, and Berth keeps its own previous readings anyway.
 */
export class DockerStatsSource implements ContainerStatsSource {
  private readonly docker: Docker;

  constructor(options: { socketPath: string }) {
    this.docker = new Docker({ socketPath: options.socketPath });
  }

  /** The engine's answer whole, as Docker gives it (the task metadata endpoint's /stats). */
  async raw(containerId: string): Promise<object | undefined> {
    try {
      return (await this.docker.getContainer(containerId).stats({ stream: false, 'one-shot': true } as { stream: false })) as object;
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }

  async read(containerId: string): Promise<ContainerStatsReading | undefined> {
    try {
      const s = (await this.docker.getContainer(containerId).stats({ stream: false, 'one-shot': true } as { stream: false })) as DockerStats;
      return toReading(s, Date.now());
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw e;
    }
  }
}
