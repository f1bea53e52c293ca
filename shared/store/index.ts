import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KeySealer } from '../auth/key-sealer';
import { LocalKeySealer } from '../cloud/local/local-key-sealer';
import { AccessKeyStore } from './access-key-store';
import { AccountSettingStore } from './account-setting-store';
import { AutoscalingStore } from './autoscaling-store';
import { CapacityProviderStore } from './capacity-provider-store';
import { ClientTokenStore } from './client-token-store';
import { ClusterStore } from './cluster-store';
import { DemandStore } from './demand-store';
import { HostStore } from './host-store';
import { LaunchStore } from './launch-store';
import { ScheduleStore } from './schedule-store';
import { ServiceStore } from './service-store';
import type { TableNames } from './tables';
import { TaskDefinitionStore } from './task-definition-store';
import { TaskStore } from './task-store';
import { UsageStore } from './usage-store';

/** Every repository, over one document client. */
export interface Store {
  clusters: ClusterStore;
  taskDefinitions: TaskDefinitionStore;
  tasks: TaskStore;
  hosts: HostStore;
  clientTokens: ClientTokenStore;
  demand: DemandStore;
  accessKeys: AccessKeyStore;
  services: ServiceStore;
  accountSettings: AccountSettingStore;
  schedules: ScheduleStore;
  autoscaling: AutoscalingStore;
  usage: UsageStore;
  capacityProviders: CapacityProviderStore;
  launches: LaunchStore;
}

export interface StoreOptions {
  /**
   * Seals the secrets of issued access keys: KMS on AWS, a key file locally. Without one, a key
   * of this process only: right for an in-memory store, never for a lasting one.
   */
  keySealer?: KeySealer;
}

export function createStore(db: DynamoDBDocumentClient, tables: TableNames, options: StoreOptions = {}): Store {
  return {
    clusters: new ClusterStore(db, tables.clusters),
    taskDefinitions: new TaskDefinitionStore(db, tables.taskDefinitions),
    tasks: new TaskStore(db, tables.tasks),
    hosts: new HostStore(db, tables.hosts),
    clientTokens: new ClientTokenStore(db, tables.clientTokens),
    demand: new DemandStore(db, tables.demand),
    accessKeys: new AccessKeyStore(db, tables.accessKeys, options.keySealer ?? LocalKeySealer.ephemeral()),
    services: new ServiceStore(db, tables.services),
    accountSettings: new AccountSettingStore(db, tables.accountSettings),
    schedules: new ScheduleStore(db, tables.schedules, tables.scheduleGroups),
    autoscaling: new AutoscalingStore(db, tables.autoscaling),
    usage: new UsageStore(db, tables.usage),
    capacityProviders: new CapacityProviderStore(db, tables.capacityProviders),
    launches: new LaunchStore(db, tables.launches),
  };
}

export {
  AccountSettingStore, AutoscalingStore, CapacityProviderStore, ClientTokenStore, ClusterStore, DemandStore, HostStore, LaunchStore, ScheduleStore,
  ServiceStore, TaskDefinitionStore, TaskStore, UsageStore,
};
export type { ServiceKey, ServiceRecord } from './service-store';
export type { ClientTokenRecord } from './client-token-store';
export type { ClusterOptions, ClusterRecord } from './cluster-store';
export type { CapacityProviderRecord } from './capacity-provider-store';
export type { HostRecord, HostRegistration, LaunchRecord, RegistrationProof, Reservation, Reserved } from './host-store';
export { HostNotLaunchedException } from './host-store';
export { CLIENT_TOKEN_TTL_MS } from './client-token-store';
export type { PendingLaunch } from './launch-store';
export { launchClientToken } from './launch-store';
export type { TaskDefinitionRecord } from './task-definition-store';
export type { TaskRecord, StatusChange, TaskKey } from './task-store';
export type { AccessKeyRecord } from './access-key-store';
export { MAX_FAILURES } from './schedule-store';
export type { ScheduleFailure, ScheduleGroupRecord, ScheduleKey, ScheduleRecord, ScheduleTarget } from './schedule-store';
