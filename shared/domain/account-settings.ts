import { InvalidParameterException } from './errors';

/**
 * ECS account settings: each name, the values ECS accepts for it, and what a principal that set
 * nothing gets. A setting belongs to a principal (an IAM user or role, or the root user); the
 * root user's is the account default (PutAccountSettingDefault), which every principal without
 * its own setting gets. Most change nothing in Berth yet: they are kept and reported, as ECS
 * keeps and reports them.
 */
export const ACCOUNT_SETTINGS = {
  serviceLongArnFormat: { values: ['enabled'], default: 'enabled' },
  taskLongArnFormat: { values: ['enabled'], default: 'enabled' },
  containerInstanceLongArnFormat: { values: ['enabled'], default: 'enabled' },
  awsvpcTrunking: { values: ['enabled', 'disabled'], default: 'disabled' },
  containerInsights: { values: ['enabled', 'disabled', 'enhanced'], default: 'disabled' },
  dualStackIPv6: { values: ['enabled', 'disabled'], default: 'disabled' },
  fargateFIPSMode: { values: ['enabled', 'disabled'], default: 'disabled' },
  tagResourceAuthorization: { values: ['on', 'off'], default: 'on' },
  fargateTaskRetirementWaitPeriod: { values: ['0', '7', '14'], default: '7' },
  guardDutyActivate: { values: ['enabled', 'disabled'], default: 'disabled' },
  defaultLogDriverMode: { values: ['blocking', 'non-blocking'], default: 'non-blocking' },
  fargateEventWindows: { values: ['enabled', 'disabled'], default: 'disabled' },
} as const satisfies Record<string, { values: readonly string[]; default: string }>;

export type AccountSettingName = keyof typeof ACCOUNT_SETTINGS;

export const ACCOUNT_SETTING_NAMES = Object.keys(ACCOUNT_SETTINGS) as AccountSettingName[];

/** The long-ARN formats, which ECS no longer lets anyone turn off. */
const LONG_ARN_SETTINGS: readonly string[] = ['serviceLongArnFormat', 'taskLongArnFormat', 'containerInstanceLongArnFormat'];

export interface AccountSetting {
  name: AccountSettingName;
  value: string;
  principalArn: string;
}

export function checkSettingName(name: string): AccountSettingName {
  if (!Object.prototype.hasOwnProperty.call(ACCOUNT_SETTINGS, name)) throw new InvalidParameterException("Invalid setting 'name'");
  return name as AccountSettingName;
}

export function checkSettingValue(name: AccountSettingName, value: string): string {
  if (LONG_ARN_SETTINGS.includes(name) && value === 'disabled') {
    throw new InvalidParameterException(`The ${name} setting can no longer be disabled: the long ARN format is always enabled.`);
  }
  if (!(ACCOUNT_SETTINGS[name].values as readonly string[]).includes(value)) throw new InvalidParameterException("Invalid setting 'value'");
  return value;
}

export const rootPrincipalArn = (accountId: string) => `arn:aws:iam::${accountId}:root`;

const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):(root|user\/[\w+=,.@/-]{1,512}|role\/[\w+=,.@/-]{1,512})$/;

/** A user, a role or the root user, of this account. */
export function checkPrincipalArn(arn: string, accountId: string): string {
  const m = PRINCIPAL_ARN.exec(arn);
  if (!m || m[1] !== accountId) throw new InvalidParameterException(`Invalid principalArn: ${arn}`);
  return arn;
}

/**
 * What a principal gets for one name: its own setting, else the account default, else ECS's
 * default (reported for the root user, as ECS reports it).
 */
export function effectiveSetting(
  name: AccountSettingName,
  own: readonly AccountSetting[],
  accountDefaults: readonly AccountSetting[],
  root: string,
): AccountSetting {
  return own.find((s) => s.name === name)
    ?? accountDefaults.find((s) => s.name === name)
    ?? { name, value: ACCOUNT_SETTINGS[name].default, principalArn: root };
}
