import * as accountSettings from './account-settings';
import * as capacityProviders from './capacity-providers';
import * as clusters from './clusters';
import * as containerInstances from './container-instances';
import type { Operation } from '../aws-protocol/operation';
import * as services from './services';
import * as tags from './tags';
import * as taskDefinitions from './task-definitions';
import * as tasks from './tasks';

/** The ECS operations Berth serves, by the name in `X-Amz-Target`. */
export const OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  ...clusters,
  ...taskDefinitions,
  ...tasks,
  ...services,
  ...tags,
  ...capacityProviders,
  ListContainerInstances: containerInstances.ListContainerInstances,
  DescribeContainerInstances: containerInstances.DescribeContainerInstances,
  UpdateContainerInstancesState: containerInstances.UpdateContainerInstancesState,
  PutAccountSetting: accountSettings.PutAccountSetting,
  PutAccountSettingDefault: accountSettings.PutAccountSettingDefault,
  ListAccountSettings: accountSettings.ListAccountSettings,
  DeleteAccountSetting: accountSettings.DeleteAccountSetting,
});

export const TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
