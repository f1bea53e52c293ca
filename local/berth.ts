import type { KeySealer } from '../shared/auth/key-sealer';
import { LocalWorkflowEngine, type LocalFunction, type LocalWorkflowOptions } from '../shared/cloud/local/local-workflow-engine';
import { LocalHostNotifier } from '../shared/cloud/local/local-host-notifier';
import { type Berth, type BerthConfig, type CapacityTrigger, DEFAULT_CONFIG, type HostNotifier, type ServiceTrigger } from '../shared/context';
import type { Partition } from '../shared/domain/arns';
import { lifecycleSteps } from '../shared/lifecycle/steps';
import { createStore } from '../shared/store';
import { TABLES, type TableNames, tableNames } from '../shared/store/tables';
import { type CrashHook, crashAfterReserve, crashBeforeWorkflowStart, crashHook, parseCrashPlan, withCrashPoints } from './crash-points';
import { documentClientFor } from './dynalite';

export const LOCAL_PARTITION: Partition = { region: 'us-east-1', accountId: '000000000000' };

export interface LocalBerth extends Berth {
  workflows: LocalWorkflowEngine;
  /** The armed crash points' hook (BERTH_CRASH_AT), for the parts wired outside this file. */
  crashHook?: CrashHook;
}

export interface LocalBerthOptions {
  dynamoEndpoint: string;
  tablePrefix?: string;
  /** Table names, instead of the prefix's: a region's own tables beside the shared access keys. */
  tables?: TableNames;
  /** The account and region its ARNs carry; LOCAL_PARTITION when not given. */
  partition?: Partition;
  config?: Partial<BerthConfig>;
  notifier?: HostNotifier;
  capacity?: CapacityTrigger;
  services?: ServiceTrigger;
  now?: () => number;
  workflows?: LocalWorkflowOptions;
  /** Seals issued access keys' secrets; one of this process only when not given. */
  keySealer?: KeySealer;
  /** Crash points to die at (see crash-points.ts): the local mode's BERTH_CRASH_AT, for the crash suite. */
  crashAt?: string;
}

/**
 * The same core as on AWS with the local adapters plugged in: dynalite for DynamoDB and the
 * repo's ASL run in process, its Task states calling the lifecycle steps directly.
 */
export function localBerth(options: LocalBerthOptions): LocalBerth {
  const tables = options.tables ?? tableNames(options.tablePrefix);
  // Tasks are what clients poll (DescribeTasks, waiters) while the same thread launches them; a
  // host's item is what its agent's woken poll reads first, as the binding's touch wrote it.
  const db = documentClientFor(options.dynamoEndpoint, [
    { table: tables.tasks, key: [TABLES.tasks.hashKey, TABLES.tasks.rangeKey] },
    { table: tables.hosts, key: [TABLES.hosts.hashKey] },
  ]);
  const berth = {
    partition: options.partition ?? LOCAL_PARTITION,
    store: createStore(db, tables, { keySealer: options.keySealer }),
    notifier: options.notifier ?? new LocalHostNotifier(),
    // Replaced by the local mode's capacity manager once it exists.
    capacity: options.capacity ?? { trigger: () => {} },
    // Replaced by the local mode's service scheduler once it exists.
    services: options.services ?? { wake: () => {} },
    config: { ...DEFAULT_CONFIG, ...options.config },
    now: options.now ?? Date.now,
  } as LocalBerth;
  const steps = lifecycleSteps(berth);
  let functions: Record<string, LocalFunction> = Object.fromEntries(
    Object.entries(steps).map(([name, fn]) => [name, (payload: unknown) => (fn as (p: unknown) => Promise<unknown>)(payload)]),
  );
  const crash = parseCrashPlan(options.crashAt);
  const hook = crash && crashHook(crash, async (ref) => (await berth.store.tasks.get(ref))?.startedBy, (l) => console.log(`berth: ${l}`));
  if (hook) functions = withCrashPoints(functions, hook);
  berth.workflows = new LocalWorkflowEngine(functions, options.workflows);
  if (hook) {
    berth.crashHook = hook;
    crashBeforeWorkflowStart(berth.workflows, hook);
    crashAfterReserve(berth.store.hosts, hook);
  }
  return berth;
}
