import type { WorkflowEngine } from './cloud/workflow-engine';
import type { Partition } from './domain/arns';
import type { Store } from './store';

export interface BerthConfig {
  /** How long a task may wait for room before it fails to start (ECS: RESOURCE:*). */
  placementTimeoutSeconds: number;
  /** How long to wait between placement attempts while no host has room. */
  placementRetrySeconds: number;
}

export const DEFAULT_CONFIG: BerthConfig = {
  placementTimeoutSeconds: 300,
  placementRetrySeconds: 1,
};

/** Tells a host's agent that it has work; a no-op where agents poll. */
export interface HostNotifier {
  notify(hostId: string): void;
}

/**
 * Everything the core needs, passed in: a Lambda builds it from its environment, the local
 * runtime and the tests build it with local adapters.
 */
export interface Berth {
  partition: Partition;
  store: Store;
  workflows: WorkflowEngine;
  notifier: HostNotifier;
  config: BerthConfig;
  /** Epoch milliseconds. */
  now: () => number;
}
