import type { InstanceIdentityConfig } from './auth/instance-identity';
import type { TaskCallbacks } from './batch/task-callbacks';
import type { LoadBalancing } from './cloud/load-balancing';
import type { ServiceConnect } from './cloud/service-connect';
import type { PriceCatalog } from './billing/prices';
import type { WorkflowEngine } from './cloud/workflow-engine';
import type { Partition } from './domain/arns';
import type { MetricsSink } from './metrics/sink';
import type { DeadLetterSink } from './schedules/dead-letter';
import type { ScheduleMirror } from './schedules/mirror';
import type { Store } from './store';

export interface BerthConfig {
  /** How long a task may wait for room before it fails to start (ECS: RESOURCE:*). */
  placementTimeoutSeconds: number;
  /** How long to wait between placement attempts while no host has room. */
  placementRetrySeconds: number;
  /** Let hosts that no launch accounts for register: for tests and hand-run fleets only. */
  openHostRegistration: boolean;
  /**
   * Host ports no task may ask for: ECS's reserved ones (ECS_RESERVED_PORTS, when unset) and,
   * locally, the endpoint's own.
   */
  reservedHostPorts?: readonly number[];
  /** Whose signatures an EC2 host's identity document may carry; AWS's certificates when unset. */
  instanceIdentity?: InstanceIdentityConfig;
  /**
   * Whether a task definition may mount a directory of the host (a volume's host.sourcePath, or
   * the local driver's bind options). Off, as on Fargate, unless the operator allows it.
   */
  allowHostPaths?: boolean;
  /** Whether EFS volumes are mounted (VolumeOptions.efsVolumes): on AWS, and locally with BERTH_LOCAL_EFS. */
  efsVolumes?: boolean;
  /** The prices cost reports use (shared/billing/prices.ts): the defaults unless the operator gave others. */
  prices?: PriceCatalog;
}

export const DEFAULT_CONFIG: BerthConfig = {
  placementTimeoutSeconds: 300,
  placementRetrySeconds: 1,
  openHostRegistration: false,
};

/**
 * Wakes a host's agent when its work changes. Locally a signal in process; on AWS, where a
 * long-poll cannot be woken from another Lambda, `wait` simply paces the poll of the store.
 */
export interface HostNotifier {
  notify(hostId: string): void;
  /** Resolves on the next notify for the host, after `timeoutMs`, or once `signal` aborts (the waiter left). */
  wait(hostId: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** The queue a host's agent may wait on itself (SQS on AWS); absent where only `wait` serves. */
  wakeQueueUrl?(hostId: string): string;
  /** Makes that queue, as the host registers, so its agent can wait there from its first poll. */
  prepare?(hostId: string): Promise<void>;
  /** Removes what `prepare` made, once the host has ended; a host never prepared is no matter. */
  forget?(hostId: string): Promise<void>;
  /** True once it waits no more (the local mode stopping): a long poll then answers instead of reading again. */
  readonly closed?: boolean;
}

/** Asks for a capacity cycle now: placement found no room. */
export interface CapacityTrigger {
  trigger(): void;
}

/**
 * Wakes a service's reconciler now: its desired state changed (an API call) or one of its tasks
 * stopped. Locally a pass in process; on AWS an asynchronous invoke of the services function.
 * A lost wake only delays the service to the next timer or scheduled pass.
 */
export interface ServiceTrigger {
  wake(cluster: string, serviceName: string): void;
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
  capacity: CapacityTrigger;
  services: ServiceTrigger;
  config: BerthConfig;
  /** Epoch milliseconds. */
  now: () => number;
  /** Target groups for services' `loadBalancers`: ELBv2 on AWS, the local ELBv2 slice locally; unset, services refuse them. */
  loadBalancing?: LoadBalancing;
  /**
   * Service Connect's namespaces and endpoints, served beside loadBalancing (whose target groups
   * hold the endpoints' tasks): the local load balancer locally; unset on AWS, where services refuse it.
   */
  serviceConnect?: ServiceConnect;
  /**
   * Answers users' state machines waiting on a task (a token kept with it): Step Functions on AWS,
   * the local Step Functions slice locally; unset where nothing waits.
   */
  callbacks?: TaskCallbacks;
  /** Where agents' task samples go: the local mode's `/metrics` registry; unset on AWS (EMF only). */
  metrics?: MetricsSink;
  /** On AWS, the EventBridge Scheduler schedules that fire Berth's; unset locally (the local firer reads the store). */
  scheduleMirror?: ScheduleMirror;
  /** Where a schedule's dropped due times go (its DeadLetterConfig): SQS on AWS, the local SQS slice locally. */
  deadLetters?: DeadLetterSink;
}
