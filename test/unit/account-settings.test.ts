import { ACCOUNT_SETTING_NAMES, checkPrincipalArn, checkSettingName, checkSettingValue, effectiveSetting } from '../../shared/domain/account-settings';
import { mergeClusterSettings, readClusterConfiguration, readClusterSettings, readServiceConnectDefaults } from '../../shared/domain/cluster-settings';

const ROOT = 'arn:aws:iam::000000000000:root';
const ALICE = 'arn:aws:iam::000000000000:user/alice';

describe('Account settings', () => {
  describe('checkSettingName', () => {
    it.each(ACCOUNT_SETTING_NAMES)('knows %s', (name) => {
      expect(checkSettingName(name)).toBe(name);
    });

    it.each(['containerinsights', 'fooBar', '', 'toString', '__proto__'])('refuses %j with ECS\'s InvalidParameterException', (name) => {
      expect(() => checkSettingName(name)).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: "Invalid setting 'name'" }));
    });
  });

  describe('checkSettingValue', () => {
    it.each([
      ['containerInsights', 'enhanced'], ['awsvpcTrunking', 'enabled'], ['tagResourceAuthorization', 'off'],
      ['fargateTaskRetirementWaitPeriod', '14'], ['defaultLogDriverMode', 'blocking'], ['taskLongArnFormat', 'enabled'],
    ] as const)('takes %s=%s', (name, value) => {
      expect(checkSettingValue(name, value)).toBe(value);
    });

    it.each([
      ['containerInsights', 'ENABLED'], ['awsvpcTrunking', 'enhanced'], ['tagResourceAuthorization', 'enabled'],
      ['fargateTaskRetirementWaitPeriod', '3'], ['serviceLongArnFormat', 'yes'],
    ] as const)('refuses %s=%s with "Invalid setting \'value\'"', (name, value) => {
      expect(() => checkSettingValue(name, value)).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: "Invalid setting 'value'" }));
    });

    it.each(['serviceLongArnFormat', 'taskLongArnFormat', 'containerInstanceLongArnFormat'] as const)('refuses to turn %s off', (name) => {
      expect(() => checkSettingValue(name, 'disabled')).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: expect.stringContaining('can no longer be disabled') }));
    });
  });

  describe('checkPrincipalArn', () => {
    it.each([ROOT, ALICE, 'arn:aws:iam::000000000000:role/deployer'])('takes %s', (arn) => {
      expect(checkPrincipalArn(arn, '000000000000')).toBe(arn);
    });

    it.each(['arn:aws:iam::111111111111:root', 'alice', 'arn:aws:iam::000000000000:group/admins', 'arn:aws:sts::000000000000:assumed-role/x/y'])('refuses %s', (arn) => {
      expect(() => checkPrincipalArn(arn, '000000000000')).toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
    });
  });

  describe('effectiveSetting', () => {
    it('takes the principal\'s own setting first, then the account default, then ECS\'s default for the root user', () => {
      const own = [{ name: 'awsvpcTrunking' as const, value: 'enabled', principalArn: ALICE }];
      const defaults = [{ name: 'awsvpcTrunking' as const, value: 'disabled', principalArn: ROOT }, { name: 'containerInsights' as const, value: 'enhanced', principalArn: ROOT }];

      expect(effectiveSetting('awsvpcTrunking', own, defaults, ROOT)).toEqual(own[0]);
      expect(effectiveSetting('containerInsights', own, defaults, ROOT)).toEqual(defaults[1]);
      expect(effectiveSetting('taskLongArnFormat', own, defaults, ROOT)).toEqual({ name: 'taskLongArnFormat', value: 'enabled', principalArn: ROOT });
      expect(effectiveSetting('fargateTaskRetirementWaitPeriod', [], [], ROOT)).toEqual({ name: 'fargateTaskRetirementWaitPeriod', value: '7', principalArn: ROOT });
    });
  });
});

describe('Cluster settings', () => {
  it('reads containerInsights and merges a later value over an earlier one', () => {
    const s = readClusterSettings({ settings: [{ name: 'containerInsights', value: 'enhanced' }] })!;

    expect(mergeClusterSettings([{ name: 'containerInsights', value: 'disabled' }], s)).toEqual([{ name: 'containerInsights', value: 'enhanced' }]);
  });

  it.each([
    [{ settings: [{ name: 'fooInsights', value: 'enabled' }] }, /Invalid cluster setting name/],
    [{ settings: [{ name: 'containerInsights', value: 'on' }] }, /Invalid value 'on' for containerInsights/],
  ])('refuses %j', (body, message) => {
    expect(() => readClusterSettings(body)).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: expect.stringMatching(message) }));
  });

  it('reads an execute-command configuration with OVERRIDE logging', () => {
    const c = readClusterConfiguration({ configuration: { executeCommandConfiguration: { kmsKeyId: 'k', logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: '/exec', cloudWatchEncryptionEnabled: true } } } });

    expect(c).toEqual({ executeCommandConfiguration: { kmsKeyId: 'k', logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: '/exec', cloudWatchEncryptionEnabled: true } } });
  });

  it.each([
    [{ executeCommandConfiguration: { logging: 'OVERRIDE' } }, /logConfiguration must be specified/],
    [{ executeCommandConfiguration: { logging: 'DEFAULT', logConfiguration: { s3BucketName: 'b' } } }, /only be specified when logging is set to OVERRIDE/],
    [{ executeCommandConfiguration: { logging: 'ALL' } }, /Invalid value 'ALL' for logging/],
    [{ managedStorageConfiguration: { kmsKeyId: 'k' } }, /managedStorageConfiguration is not supported/],
  ])('refuses the configuration %j', (configuration, message) => {
    expect(() => readClusterConfiguration({ configuration })).toThrow(expect.objectContaining({ name: 'InvalidParameterException', message: expect.stringMatching(message) }));
  });

  it('reads a Service Connect namespace by name or ARN, and the empty one that removes it', () => {
    expect(readServiceConnectDefaults({ serviceConnectDefaults: { namespace: 'shop' } })).toBe('shop');
    expect(readServiceConnectDefaults({ serviceConnectDefaults: { namespace: 'arn:aws:servicediscovery:us-east-1:1:namespace/ns-1' } })).toMatch(/^arn:/);
    expect(readServiceConnectDefaults({ serviceConnectDefaults: { namespace: '' } })).toBe('');
    expect(readServiceConnectDefaults({})).toBeUndefined();
  });

  it.each(['sh-op', 'a/b', 'x~y'])('refuses the namespace name %s, as ECS does', (namespace) => {
    expect(() => readServiceConnectDefaults({ serviceConnectDefaults: { namespace } })).toThrow(expect.objectContaining({ name: 'InvalidParameterException' }));
  });
});
