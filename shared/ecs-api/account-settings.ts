import type { Berth } from '../context';
import {
  ACCOUNT_SETTING_NAMES, type AccountSetting, type AccountSettingName, checkPrincipalArn, checkSettingName, checkSettingValue,
  effectiveSetting, rootPrincipalArn,
} from '../domain/account-settings';
import { InvalidParameterException } from '../domain/errors';
import { type Json, optBool, optString, reqString } from '../domain/fields';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';

/**
 * PutAccountSetting, PutAccountSettingDefault, ListAccountSettings and DeleteAccountSetting.
 * Berth has no IAM users of its own: every access key acts for the account, so a call that names
 * no principal acts as the root user, whose settings are the account default. A user's or role's
 * ARN of this account may still be named, and keeps settings of its own.
 */

const root = (b: Berth) => rootPrincipalArn(b.partition.accountId);

/** The principal a call names, or the caller (the root user). */
const principalOf = (b: Berth, body: Json) => {
  const arn = optString(body, 'principalArn', 'principalArn', 1600);
  return arn === undefined ? root(b) : checkPrincipalArn(arn, b.partition.accountId);
};

function readSetting(body: Json, principalArn: string): AccountSetting {
  const name = checkSettingName(reqString(body, 'name'));
  const value = checkSettingValue(name, reqString(body, 'value'));
  return { name, value, principalArn };
}

const byName = (a: AccountSetting, b: AccountSetting) => ACCOUNT_SETTING_NAMES.indexOf(a.name) - ACCOUNT_SETTING_NAMES.indexOf(b.name);
const toEcsSetting = (s: AccountSetting) => ({ name: s.name, value: s.value, principalArn: s.principalArn });

export const PutAccountSetting: Operation = async (b, body) => {
  const setting = readSetting(body, principalOf(b, body));
  await b.store.accountSettings.put(setting);
  return { setting: toEcsSetting(setting) };
};

export const PutAccountSettingDefault: Operation = async (b, body) => {
  const setting = readSetting(body, root(b));
  await b.store.accountSettings.put(setting);
  return { setting: toEcsSetting(setting) };
};

/** What `principalArn` now has for `name`, from its own setting, the account default or ECS's. */
export async function effectiveAccountSetting(b: Berth, name: AccountSettingName, principalArn = root(b)): Promise<AccountSetting> {
  const [own, defaults] = await Promise.all([
    b.store.accountSettings.list(principalArn),
    principalArn === root(b) ? [] : b.store.accountSettings.list(root(b)),
  ]);
  return effectiveSetting(name, own, defaults, root(b));
}

export const DeleteAccountSetting: Operation = async (b, body) => {
  const name = checkSettingName(reqString(body, 'name'));
  const principalArn = principalOf(b, body);
  const deleted = await b.store.accountSettings.delete(principalArn, name);
  return { setting: toEcsSetting(deleted ?? { ...(await effectiveAccountSetting(b, name, principalArn)), principalArn }) };
};

export const ListAccountSettings: Operation = async (b, body) => {
  const nameRef = optString(body, 'name');
  const name = nameRef === undefined ? undefined : checkSettingName(nameRef);
  const value = optString(body, 'value');
  if (value !== undefined && name === undefined) {
    throw new InvalidParameterException('You must also specify an account setting name to use the value parameter.');
  }
  const principalArn = principalOf(b, body);
  const effective = optBool(body, 'effectiveSettings') ?? false;
  const own = await b.store.accountSettings.list(principalArn);
  let settings: AccountSetting[];
  if (effective) {
    const defaults = principalArn === root(b) ? [] : await b.store.accountSettings.list(root(b));
    settings = (name ? [name] : ACCOUNT_SETTING_NAMES).map((n) => effectiveSetting(n, own, defaults, root(b)));
  } else {
    settings = own.filter((s) => name === undefined || s.name === name).sort(byName);
  }
  settings = settings.filter((s) => value === undefined || s.value === value);
  const { items, nextToken } = page(settings, body, (s) => s.name, 10);
  return { settings: items.map(toEcsSetting), nextToken };
};
