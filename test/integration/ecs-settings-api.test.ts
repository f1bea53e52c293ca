/**
 * Account settings, DeleteTaskDefinitions, ListTaskDefinitions' familyPrefix, UpdateCluster,
 * UpdateClusterSettings and DescribeClusters' include, through the API on dynalite with the AWS
 * CLI v2 and signed calls: ECS's shapes (against the CLI's model), ECS's errors, and that a
 * refused call changes nothing in the store.
 */
import { awsEcs } from '../support/aws-cli';
import { expectConforms, expectEcsError } from '../support/ecs-model';
import { type Harness, startHarness, storeSnapshot } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

const ARN = 'arn:aws:ecs:us-east-1:000000000000';
const ROOT = 'arn:aws:iam::000000000000:root';
const ALICE = 'arn:aws:iam::000000000000:user/alice';

const definition = (family: string) => ({
  family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
  containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest' }],
});

describe('ECS settings API', () => {
  let h: Harness;
  const ecs = (args: string[]) => awsEcs(h.url, args);
  const call = async (operation: string, body: object): Promise<{ status: number; body: any }> => {
    const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });
    return { status: r.status, body: await r.json() };
  };
  /** The call is refused with `type` and leaves every table as it was. */
  const expectRefused = async (operation: string, body: object, type: string, message?: RegExp) => {
    const before = await storeSnapshot(h);
    const r = await call(operation, body);
    expect(r.status).toBe(400);
    expect(r.body.__type).toBe(type);
    if (message) expect(r.body.message).toMatch(message);
    expect(await storeSnapshot(h)).toEqual(before);
  };

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  afterEach(() => {
    for (const x of h.exchanges.splice(0)) {
      if (x.status === 200) expectConforms(x.operation, x.body);
      else expectEcsError(x.body);
    }
  });

  describe('account settings', () => {
    it('puts, lists and deletes a setting of the caller (the root user), and of a named user', async () => {
      // Act
      const put = await ecs(['put-account-setting', '--name', 'awsvpcTrunking', '--value', 'enabled']);
      const forAlice = await ecs(['put-account-setting', '--name', 'containerInsights', '--value', 'enhanced', '--principal-arn', ALICE]);
      const mine = await ecs(['list-account-settings']);
      const alices = await ecs(['list-account-settings', '--principal-arn', ALICE]);
      const deleted = await ecs(['delete-account-setting', '--name', 'awsvpcTrunking']);
      const after = await ecs(['list-account-settings']);

      // Assess
      expect(put.json.setting).toEqual({ name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT });
      expect(forAlice.json.setting).toEqual({ name: 'containerInsights', value: 'enhanced', principalArn: ALICE });
      expect(mine.json.settings).toEqual([{ name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT }]);
      expect(alices.json.settings).toEqual([{ name: 'containerInsights', value: 'enhanced', principalArn: ALICE }]);
      expect(deleted.json.setting).toEqual({ name: 'awsvpcTrunking', value: 'enabled', principalArn: ROOT });
      expect(after.json.settings).toEqual([]);
      await call('DeleteAccountSetting', { name: 'containerInsights', principalArn: ALICE });
    });

    it('reports effective settings: the principal\'s own, else the account default, else ECS\'s default; long ARNs enabled', async () => {
      // Prepare
      await call('PutAccountSettingDefault', { name: 'fargateTaskRetirementWaitPeriod', value: '14' });
      await call('PutAccountSetting', { name: 'fargateTaskRetirementWaitPeriod', value: '0', principalArn: ALICE });

      // Act
      const all = await call('ListAccountSettings', { effectiveSettings: true, principalArn: 'arn:aws:iam::000000000000:role/ci' });
      const alice = await call('ListAccountSettings', { effectiveSettings: true, principalArn: ALICE, name: 'fargateTaskRetirementWaitPeriod' });
      const filtered = await call('ListAccountSettings', { effectiveSettings: true, name: 'taskLongArnFormat', value: 'enabled' });
      const paged = await call('ListAccountSettings', { effectiveSettings: true, maxResults: 5 });
      const next = await call('ListAccountSettings', { effectiveSettings: true, maxResults: 10, nextToken: paged.body.nextToken });

      // Assess
      const byName = Object.fromEntries(all.body.settings.map((s: { name: string; value: string }) => [s.name, s.value]));
      expect(byName).toMatchObject({ fargateTaskRetirementWaitPeriod: '14', taskLongArnFormat: 'enabled', serviceLongArnFormat: 'enabled', containerInstanceLongArnFormat: 'enabled', containerInsights: 'disabled', tagResourceAuthorization: 'on' });
      expect(all.body.settings).toHaveLength(10);
      expect(all.body.nextToken).toBeDefined();
      expect(alice.body.settings).toEqual([{ name: 'fargateTaskRetirementWaitPeriod', value: '0', principalArn: ALICE }]);
      expect(filtered.body.settings).toEqual([{ name: 'taskLongArnFormat', value: 'enabled', principalArn: ROOT }]);
      expect(paged.body.settings).toHaveLength(5);
      expect([...paged.body.settings, ...next.body.settings].map((s: { name: string }) => s.name)).toEqual(
        expect.arrayContaining(['serviceLongArnFormat', 'fargateEventWindows']),
      );
      await call('DeleteAccountSetting', { name: 'fargateTaskRetirementWaitPeriod' });
      await call('DeleteAccountSetting', { name: 'fargateTaskRetirementWaitPeriod', principalArn: ALICE });
    });

    it.each([
      ['PutAccountSetting', { name: 'fooSetting', value: 'enabled' }, "Invalid setting 'name'"],
      ['PutAccountSettingDefault', { name: 'containerinsights', value: 'enabled' }, "Invalid setting 'name'"],
      ['DeleteAccountSetting', { name: 'fooSetting' }, "Invalid setting 'name'"],
      ['ListAccountSettings', { name: 'fooSetting' }, "Invalid setting 'name'"],
      ['PutAccountSetting', { name: 'containerInsights', value: 'ENABLED' }, "Invalid setting 'value'"],
      ['PutAccountSettingDefault', { name: 'fargateTaskRetirementWaitPeriod', value: '30' }, "Invalid setting 'value'"],
      ['PutAccountSetting', { name: 'taskLongArnFormat', value: 'disabled' }, 'can no longer be disabled'],
      ['PutAccountSettingDefault', { name: 'serviceLongArnFormat', value: 'disabled' }, 'can no longer be disabled'],
      ['PutAccountSetting', { name: 'awsvpcTrunking', value: 'enabled', principalArn: 'arn:aws:iam::111111111111:user/bob' }, 'Invalid principalArn'],
      ['ListAccountSettings', { value: 'enabled' }, 'account setting name'],
      ['ListAccountSettings', { maxResults: 11 }, 'maxResults', 'ClientException'],
    ])('%s %j is refused, naming %s, and changes nothing', async (operation, body, message, type = 'InvalidParameterException') => {
      await expectRefused(operation, body, type, new RegExp(message.replace(/[()']/g, '.')));
    });

    it('gives a new cluster the account\'s containerInsights, and an explicit setting wins', async () => {
      // Prepare
      await call('PutAccountSettingDefault', { name: 'containerInsights', value: 'enabled' });

      // Act
      const plain = await ecs(['create-cluster', '--cluster-name', 'insights-default']);
      const explicit = await ecs(['create-cluster', '--cluster-name', 'insights-off', '--settings', 'name=containerInsights,value=disabled']);
      await call('DeleteAccountSetting', { name: 'containerInsights' });

      // Assess
      expect(plain.json.cluster.settings).toEqual([{ name: 'containerInsights', value: 'enabled' }]);
      expect(explicit.json.cluster.settings).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
    });
  });

  describe('task definitions', () => {
    beforeAll(async () => {
      for (const f of ['web', 'web', 'web', 'web-worker']) expect((await call('RegisterTaskDefinition', definition(f))).status).toBe(200);
    });

    it('lists with familyPrefix as the exact family; ListTaskDefinitionFamilies still matches by prefix', async () => {
      const listed = await ecs(['list-task-definitions', '--family-prefix', 'web']);
      const none = await ecs(['list-task-definitions', '--family-prefix', 'we']);
      const families = await ecs(['list-task-definition-families', '--family-prefix', 'web']);

      expect(listed.json.taskDefinitionArns).toEqual([1, 2, 3].map((r) => `${ARN}:task-definition/web:${r}`));
      expect(none.json.taskDefinitionArns).toEqual([]);
      expect(families.json.families).toEqual(['web', 'web-worker']);
    });

    it('deletes only INACTIVE revisions, to DELETE_IN_PROGRESS; ACTIVE and missing ones are failures with ECS\'s reasons', async () => {
      // Prepare
      await call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });

      // Act
      const r = await call('DeleteTaskDefinitions', { taskDefinitions: ['web:1', `${ARN}:task-definition/web:2`, 'web:9'] });
      const described = await call('DescribeTaskDefinition', { taskDefinition: 'web:1' });
      const inactive = await ecs(['list-task-definitions', '--family-prefix', 'web', '--status', 'INACTIVE']);
      const rederegistered = await call('DeregisterTaskDefinition', { taskDefinition: 'web:1' });
      const run = await call('RunTask', { taskDefinition: 'web:1' });

      // Assess
      expect(r.status).toBe(200);
      expect(r.body.taskDefinitions).toHaveLength(1);
      expect(r.body.taskDefinitions[0]).toMatchObject({ taskDefinitionArn: `${ARN}:task-definition/web:1`, status: 'DELETE_IN_PROGRESS' });
      expect(r.body.failures).toEqual([
        { arn: `${ARN}:task-definition/web:2`, reason: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.' },
        { arn: `${ARN}:task-definition/web:9`, reason: 'The specified task definition does not exist.' },
      ]);
      expect(described.body.taskDefinition.status).toBe('DELETE_IN_PROGRESS');
      expect(inactive.json.taskDefinitionArns).toEqual([]);
      expect(rederegistered.status).toBe(400);
      expect(run.status).toBe(400);
      expect((await call('DescribeTaskDefinition', { taskDefinition: 'web:2' })).body.taskDefinition.status).toBe('ACTIVE');
    });

    it.each([
      [{ taskDefinitions: [] }, 'InvalidParameterException'],
      [{ taskDefinitions: ['web'] }, 'ClientException'],
      [{ taskDefinitions: ['web:3', 'web:x'] }, 'ClientException'],
      [{ taskDefinitions: Array.from({ length: 11 }, (_, i) => `web:${i + 1}`) }, 'ClientException'],
    ])('refuses DeleteTaskDefinitions %j and deletes nothing', async (body, type) => {
      await call('DeregisterTaskDefinition', { taskDefinition: 'web:3' });
      h.exchanges.splice(0);
      await expectRefused('DeleteTaskDefinitions', body, type);
    });
  });

  describe('clusters', () => {
    beforeAll(async () => {
      await call('CreateCluster', { clusterName: 'shop', tags: [{ key: 'team', value: 'core' }] });
    });

    it('describes only what include asks for, each member as ECS gives it', async () => {
      // Act
      const plain = await ecs(['describe-clusters', '--clusters', 'shop']);
      const all = await ecs(['describe-clusters', '--clusters', 'shop', '--include', 'ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'STATISTICS', 'TAGS']);

      // Assess
      const p = plain.json.clusters[0];
      expect(p).toMatchObject({ clusterName: 'shop', statistics: [], tags: [] });
      expect(p.settings).toBeUndefined();
      expect(p.attachments).toBeUndefined();
      const c = all.json.clusters[0];
      expect(c.tags).toEqual([{ key: 'team', value: 'core' }]);
      expect(c.settings).toEqual([{ name: 'containerInsights', value: 'disabled' }]);
      expect(c.attachments).toEqual([]);
      expect(c.attachmentsStatus).toBe('UPDATE_COMPLETE');
      expect(c.statistics).toEqual(expect.arrayContaining([
        { name: 'runningFargateTasksCount', value: '0' }, { name: 'activeFargateServiceCount', value: '0' }, { name: 'drainingEC2ServiceCount', value: '0' },
      ]));
      expect(c.statistics).toHaveLength(8);
    });

    it('updates settings and the execute-command configuration, and describes them back', async () => {
      // Act
      const settings = await ecs(['update-cluster-settings', '--cluster', 'shop', '--settings', 'name=containerInsights,value=enhanced']);
      const updated = await ecs(['update-cluster', '--cluster', `${ARN}:cluster/shop`, '--configuration',
        'executeCommandConfiguration={kmsKeyId=alias/exec,logging=OVERRIDE,logConfiguration={cloudWatchLogGroupName=/exec,cloudWatchEncryptionEnabled=true}}']);
      const described = await ecs(['describe-clusters', '--clusters', 'shop', '--include', 'SETTINGS', 'CONFIGURATIONS']);

      // Assess
      expect(settings.json.cluster.settings).toEqual([{ name: 'containerInsights', value: 'enhanced' }]);
      const configuration = { executeCommandConfiguration: { kmsKeyId: 'alias/exec', logging: 'OVERRIDE', logConfiguration: { cloudWatchLogGroupName: '/exec', cloudWatchEncryptionEnabled: true } } };
      expect(updated.json.cluster).toMatchObject({ clusterName: 'shop', configuration, settings: [{ name: 'containerInsights', value: 'enhanced' }] });
      expect(described.json.clusters[0]).toMatchObject({ configuration, settings: [{ name: 'containerInsights', value: 'enhanced' }] });
    });

    it.each([
      ['UpdateCluster', { cluster: 'nope', settings: [{ name: 'containerInsights', value: 'enabled' }] }, 'ClusterNotFoundException'],
      ['UpdateClusterSettings', { cluster: 'nope', settings: [{ name: 'containerInsights', value: 'enabled' }] }, 'ClusterNotFoundException'],
      ['UpdateClusterSettings', { cluster: 'shop' }, 'InvalidParameterException'],
      ['UpdateClusterSettings', { cluster: 'shop', settings: [{ name: 'containerInsights', value: 'on' }] }, 'InvalidParameterException'],
      ['UpdateCluster', { cluster: 'shop', settings: [{ name: 'containerInsights', value: 'disabled' }], serviceConnectDefaults: { namespace: 'shop' } }, 'InvalidParameterException'],
      ['UpdateCluster', { cluster: 'shop', configuration: { executeCommandConfiguration: { logging: 'OVERRIDE' } } }, 'InvalidParameterException'],
      ['UpdateCluster', { cluster: 'shop', configuration: { managedStorageConfiguration: { kmsKeyId: 'k' } } }, 'InvalidParameterException'],
      ['DescribeClusters', { clusters: ['shop'], include: ['EVERYTHING'] }, 'ClientException'],
    ])('%s %j is refused and changes nothing', async (operation, body, type) => {
      await expectRefused(operation, body, type);
    });
  });
});
