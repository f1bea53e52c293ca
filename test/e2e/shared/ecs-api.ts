import {
  CreateClusterCommand, DeleteAccountSettingCommand, DeleteClusterCommand, DeleteTaskDefinitionsCommand, DeregisterTaskDefinitionCommand,
  DescribeClustersCommand, DescribeTaskDefinitionCommand, ECSClient, ListAccountSettingsCommand, ListTaskDefinitionsCommand,
  PutAccountSettingCommand, PutAccountSettingDefaultCommand, RegisterTaskDefinitionCommand, UpdateClusterCommand, UpdateClusterSettingsCommand,
} from '@aws-sdk/client-ecs';
import { randomBytes } from 'node:crypto';
import { expectRecordedCallsConform } from '../../support/ecs-model';
import { TEST_CREDENTIALS } from '../../support/harness';
import { BUSYBOX, type LocalMode } from '../../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';

/**
 * The ECS calls infrastructure tools make on every apply, with @aws-sdk/client-ecs against the
 * running local mode: account settings, DeleteTaskDefinitions, ListTaskDefinitions by exact
 * family, UpdateCluster and DescribeClusters' include. Every answer validates against the CLI's
 * ECS model; refused calls get ECS's errors and change nothing the next call can see.
 */
const ROOT = 'arn:aws:iam::000000000000:root';

// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
  describe('ECS API for infrastructure tools', () => {
    let proxy: RecordingProxy;
    let ecs: ECSClient;
    const suffix = randomBytes(3).toString('hex');
    beforeAll(async () => {
      proxy = await startRecordingProxy(mode().local.url);
      ecs = new ECSClient({ endpoint: proxy.url, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS });
    });
    afterAll(async () => {
      ecs?.destroy();
      await proxy?.close();
    });
    afterEach(() => expectRecordedCallsConform(proxy.calls));

    it('round-trips account settings: the account default, a user\'s own, effective values, deletion; an unknown name is refused', async () => {
      // Act
      const put = await ecs.send(new PutAccountSettingDefaultCommand({ name: 'containerInsights', value: 'enhanced' }));
      const own = await ecs.send(new PutAccountSettingCommand({ name: 'containerInsights', value: 'disabled', principalArn: 'arn:aws:iam::000000000000:role/ci' }));
      const effective = await ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights', effectiveSettings: true, principalArn: 'arn:aws:iam::000000000000:user/dev' }));
      const roles = await ecs.send(new ListAccountSettingsCommand({ principalArn: 'arn:aws:iam::000000000000:role/ci' }));
      const longArn = await ecs.send(new ListAccountSettingsCommand({ name: 'taskLongArnFormat', effectiveSettings: true }));
      const refused = await ecs.send(new PutAccountSettingCommand({ name: 'noSuchSetting' as never, value: 'enabled' })).catch((e: Error) => e);
      const offRefused = await ecs.send(new PutAccountSettingCommand({ name: 'taskLongArnFormat', value: 'disabled' })).catch((e: Error) => e);
      await ecs.send(new DeleteAccountSettingCommand({ name: 'containerInsights', principalArn: 'arn:aws:iam::000000000000:role/ci' }));
      const deleted = await ecs.send(new DeleteAccountSettingCommand({ name: 'containerInsights' }));
      const after = await ecs.send(new ListAccountSettingsCommand({ name: 'containerInsights', effectiveSettings: true }));

      // Assess
      expect(put.setting).toEqual({ name: 'containerInsights', value: 'enhanced', principalArn: ROOT });
      expect(own.setting!.value).toBe('disabled');
      expect(effective.settings).toEqual([{ name: 'containerInsights', value: 'enhanced', principalArn: ROOT }]);
      expect(roles.settings).toEqual([{ name: 'containerInsights', value: 'disabled', principalArn: 'arn:aws:iam::000000000000:role/ci' }]);
      expect(longArn.settings).toEqual([{ name: 'taskLongArnFormat', value: 'enabled', principalArn: ROOT }]);
      expect(refused).toMatchObject({ name: 'InvalidParameterException', message: "Invalid setting 'name'" });
      expect(offRefused).toMatchObject({ name: 'InvalidParameterException' });
      expect(deleted.setting).toEqual({ name: 'containerInsights', value: 'enhanced', principalArn: ROOT });
      expect(after.settings).toEqual([{ name: 'containerInsights', value: 'disabled', principalArn: ROOT }]);
    });

    it('lists task definitions of the exact family, and deletes a deregistered revision but not an active one', async () => {
      // Prepare
      const family = `tools-${suffix}`;
      const register = (f: string) => ecs.send(new RegisterTaskDefinitionCommand({
        family: f, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'app', image: BUSYBOX }],
      }));
      await register(family);
      await register(family);
      await register(`${family}-worker`);
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: `${family}:1` }));

      // Act
      const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'INACTIVE' }));
      const active = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
      const deleted = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [`${family}:1`, `${family}:2`] }));
      const described = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:1` }));
      const inactiveAfter = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'INACTIVE' }));

      // Assess
      expect(listed.taskDefinitionArns).toEqual([expect.stringMatching(new RegExp(`:task-definition/${family}:1$`))]);
      expect(active.taskDefinitionArns).toEqual([expect.stringMatching(new RegExp(`:task-definition/${family}:2$`))]);
      expect(deleted.taskDefinitions!.map((d) => [d.revision, d.status])).toEqual([[1, 'DELETE_IN_PROGRESS']]);
      expect(deleted.failures).toEqual([{ arn: expect.stringMatching(new RegExp(`${family}:2$`)), reason: expect.stringContaining('still in ACTIVE status') }]);
      expect(described.taskDefinition!.status).toBe('DELETE_IN_PROGRESS');
      expect(inactiveAfter.taskDefinitionArns).toEqual([]);
    });

    it('updates a cluster\'s settings and configuration and describes each include as ECS does; a Service Connect namespace is refused', async () => {
      // Prepare
      const cluster = `tools-${suffix}`;
      await ecs.send(new CreateClusterCommand({ clusterName: cluster, tags: [{ key: 'team', value: 'infra' }] }));

      // Act
      await ecs.send(new UpdateClusterSettingsCommand({ cluster, settings: [{ name: 'containerInsights', value: 'enabled' }] }));
      const updated = await ecs.send(new UpdateClusterCommand({ cluster, configuration: { executeCommandConfiguration: { logging: 'NONE' } } }));
      const refused = await ecs.send(new UpdateClusterCommand({ cluster, serviceConnectDefaults: { namespace: 'sh-op' } })).catch((e: Error) => e);
      const plain = await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
      const full = await ecs.send(new DescribeClustersCommand({ clusters: [cluster], include: ['ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'STATISTICS', 'TAGS'] }));
      await ecs.send(new DeleteClusterCommand({ cluster }));

      // Assess
      expect(updated.cluster).toMatchObject({ settings: [{ name: 'containerInsights', value: 'enabled' }], configuration: { executeCommandConfiguration: { logging: 'NONE' } } });
      expect(refused).toMatchObject({ name: 'InvalidParameterException' });
      expect(plain.clusters![0].settings).toBeUndefined();
      expect(plain.clusters![0].configuration).toBeUndefined();
      expect(plain.clusters![0].serviceConnectDefaults).toBeUndefined();
      expect(full.clusters![0]).toMatchObject({
        settings: [{ name: 'containerInsights', value: 'enabled' }],
        configuration: { executeCommandConfiguration: { logging: 'NONE' } },
        tags: [{ key: 'team', value: 'infra' }],
        attachments: [],
        attachmentsStatus: 'UPDATE_COMPLETE',
      });
      expect(full.clusters![0].statistics!.map((s) => s.name)).toEqual(expect.arrayContaining(['runningFargateTasksCount', 'pendingEC2TasksCount']));
    });
  });
}
