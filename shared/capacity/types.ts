import type { CpuArchitecture, HostStatus } from '../scheduler/placement';

/** EC2 purchase options. */
export const MARKETS = ['on-demand', 'spot'] as const;
export type Market = (typeof MARKETS)[number];

/** One EC2 instance type, as the planner sees it. */
export interface InstanceType {
  name: string;
  vcpu: number;
  memoryGiB: number;
  gpus: number;
  /** USD per hour in the catalog's region. */
  onDemandPrice: number;
  spotPrice: number;
}

/** What a host of this type registers: 1024 cpu units per vCPU, and its memory less what the OS and agent keep. */
export interface Capacity {
  cpu: number;
  memory: number;
}

/** A task waiting for room, as recorded when placement found none. */
export interface PendingDemand {
  taskId: string;
  cluster: string;
  cpu: number;
  memory: number;
  gpus?: number;
  /** The market its capacity provider runs in; absent for a task that names no provider. */
  market?: Market;
  /** The custom capacity provider (pool) whose hosts alone may run it. */
  capacityProvider?: string;
  /** Its runtimePlatform.cpuArchitecture; absent when it declares none, which is x86_64 (as on Fargate). */
  architecture?: CpuArchitecture;
  /** Epoch ms when the task first found no room. */
  since: number;
}

/** A host as the capacity planner sees it. */
export interface FleetHost {
  hostId: string;
  instanceType: string;
  market: Market;
  /** The custom capacity provider (pool) it was launched for. */
  pool?: string;
  status: HostStatus;
  cpu: number;
  memory: number;
  reservedCpu: number;
  reservedMemory: number;
  taskCount: number;
  /** Epoch ms: when it was launched, and since when it has held no task (undefined while busy). */
  launchedAt: number;
  idleSince?: number;
}

export interface CapacityPolicy {
  /** Idle hosts kept ready for the next launches; also the fleet's floor. */
  warmPoolHosts: number;
  /** The instance type of the warm pool. */
  warmPoolType: string;
  /**
   * Idle hosts kept, though not launched, for the observed arrival rate (warm-pool.ts): above
   * warmPoolHosts, up to this many idle hosts are spared their idle timeout. Launching only for
   * the operator's floor keeps a rate that swings from launching hosts the next cycle lets go.
   */
  warmPoolKeepHosts?: number;
  maxHosts: number;
  /** An ACTIVE host with no task for this long, beyond the warm pool, is drained and terminated. */
  idleTimeoutSeconds: number;
  market: Market;
  /**
   * Graviton (arm64) hosts: `off` (the default) never opens one; `arm64` opens them for tasks
   * whose runtimePlatform.cpuArchitecture is ARM64. A task that declares no architecture is
   * x86_64, as on Fargate: its images may not be multi-arch, and nothing checks that they are.
   */
  graviton?: GravitonPolicy;
}

export const GRAVITON_POLICIES = ['off', 'arm64'] as const;
export type GravitonPolicy = (typeof GRAVITON_POLICIES)[number];

export interface Launch {
  instanceType: string;
  market: Market;
  count: number;
  /** The pool the hosts are launched for, if any. */
  capacityProvider?: string;
}

/** A custom capacity provider as the planner sees it: the market it runs in and the catalog types it may launch. */
export interface PlannerPool {
  market: Market;
  instanceTypes: readonly string[];
}

export interface CapacityPlan {
  launches: Launch[];
  /** Hosts to stop placing on (ACTIVE → DRAINING). */
  drains: string[];
  /** Hosts to terminate now: DRAINING or idle, holding no task. */
  terminations: string[];
  /** Tasks no instance type in the catalog can hold: they fail at once. */
  unschedulable: { taskId: string; cluster: string; reason: string }[];
}

export interface PlannerInput {
  pending: PendingDemand[];
  /** Every host not TERMINATED: LAUNCHING ones are the launches in flight. */
  hosts: FleetHost[];
  catalog: InstanceType[];
  policy: CapacityPolicy;
  now: number;
  /** The custom capacity providers, by name: demand for one is packed onto and launched for its pool only. */
  pools?: Readonly<Record<string, PlannerPool>>;
  /**
   * The recent moments the fleet needed fresh room (DemandHistory), epoch ms, and what a relaunch
   * costs (the boot, in seconds): with them, idle hosts beyond the warm pool are let go by the
   * arrival pattern (idle-timeout.ts), never later than the policy's idleTimeoutSeconds.
   */
  freshRoomDemand?: {
    at: readonly number[];
    relaunchSeconds: number;
    /** When hosts went idle (DemandHistory.idleStarts), epoch ms: idle timeouts are judged from these moments when there are enough. */
    idleStarts?: readonly number[];
  };
}
