import { DeregisterTaskDefinitionCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { randomBytes } from 'node:crypto';
import { awsCli } from '../../support/aws-cli';
import { TEST_CREDENTIALS, eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, describe1 } from '../../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';
import { expectSchedulerCallsConform } from '../../support/scheduler-model';

const ROLE = 'arn:aws:iam::000000000000:role/berth-scheduler';
const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/default';

/** `at()` a few seconds from now, in UTC, as Scheduler writes it. */
const atIn = (seconds: number) => `at(${new Date(Date.now() + seconds * 1000).toISOString().slice(0, 19)})`;

/**
 * EventBridge Scheduler on the local endpoint, driven by the AWS CLI v2 (`aws scheduler`) and
 * @aws-sdk/client-scheduler: one-time schedules run real tasks on the local fleet at their
 * time, once. Rate and cron schedules under a moved clock are in
 * test/integration/schedules.test.ts (the local mode's clock is the wall clock).
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
  describe('Schedules (EventBridge Scheduler)', () => {
    let m: LocalMode;
    let proxy: RecordingProxy;
    let sdk: SchedulerClient;
    const suffix = randomBytes(3).toString('hex');
    const family = `scheduled-${suffix}`;
    const scheduler = (args: string[]) => awsCli(proxy.url, 'scheduler', args, TEST_CREDENTIALS);
    const target = (ecs: object, more: object = {}) => JSON.stringify({ Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family, ...ecs }, ...more });
    const tasksStartedBy = async (name: string) =>
      (await m.ecs.send(new ListTasksCommand({ startedBy: `scheduler/default/${name}`, desiredStatus: 'STOPPED' }))).taskArns!.length
      + (await m.ecs.send(new ListTasksCommand({ startedBy: `scheduler/default/${name}` }))).taskArns!.length;
    const gone = `gone-${suffix}`;
    let goneArn: string;
    let at: string;
    let made: Awaited<ReturnType<typeof awsCli>>[];
    const stored = (name: string) => m.local.berth.store.schedules.get({ groupName: 'default', name });

    beforeAll(async () => {
      m = mode();
      proxy = await startRecordingProxy(m.local.url);
      sdk = new SchedulerClient({ endpoint: proxy.url, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS });
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'job', image: BUSYBOX, command: ['sh', '-c', 'echo nightly run'] }],
      }));
      const registered = await m.ecs.send(new RegisterTaskDefinitionCommand({
        family: gone, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'job', image: BUSYBOX }],
      }));
      goneArn = registered.taskDefinition!.taskDefinitionArn!;
      await m.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: goneArn }));
      // The CLI takes seconds to start on a loaded machine, so its one-time schedules are made
      // together, up front, with a time far enough ahead that none is in the past when it lands.
      at = atIn(12);
      made = await Promise.all([
        scheduler(['create-schedule', '--name', `once-${suffix}`, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--target', target({ TaskCount: 2, Group: 'nightly', Tags: [{ team: 'data' }] })]),
        scheduler(['create-schedule', '--name', `off-${suffix}`, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--state', 'DISABLED', '--target', target({})]),
        scheduler(['create-schedule', '--name', gone, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--target', JSON.stringify({ Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: goneArn },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 } })]),
      ]);
    }, 120_000);
    afterAll(async () => {
      sdk?.destroy();
      await proxy?.close();
    });
    afterEach(() => expectSchedulerCallsConform(proxy.calls));

    it('runs an at() schedule once, at its time, with the group, tags and count of its EcsParameters; a DISABLED one beside it never runs', async () => {
      // Prepare (in beforeAll)
      expect(made.map((r) => r.stderr)).toEqual(['', '', '']);
      expect(made[0].json.ScheduleArn).toBe(`arn:aws:scheduler:us-east-1:000000000000:schedule/default/once-${suffix}`);

      // Act: wait until the schedule has run and has no due time left.
      const done = await eventually(async () => {
        const s = await stored(`once-${suffix}`);
        return s?.lastRun && s.dueAt === undefined ? s : undefined;
      }, 90_000, 'the at() schedule to run');

      // Assess
      expect(done.lastRun!.taskArns).toHaveLength(2);
      expect(done.lastRun!.firedAt).toBeGreaterThanOrEqual(done.lastRun!.dueAt);
      for (const arn of done.lastRun!.taskArns) {
        const task = await describe1(m.ecs, arn);
        expect(task).toMatchObject({ group: 'nightly', startedBy: `scheduler/default/once-${suffix}`, tags: [{ key: 'team', value: 'data' }] });
      }
      expect(await tasksStartedBy(`once-${suffix}`)).toBe(2);
      expect(await tasksStartedBy(`off-${suffix}`)).toBe(0);
      const [got, listed] = await Promise.all([
        scheduler(['get-schedule', '--name', `once-${suffix}`]),
        scheduler(['list-schedules', '--name-prefix', `off-${suffix}`, '--state', 'DISABLED']),
      ]);
      expect(got.json).toMatchObject({ Name: `once-${suffix}`, GroupName: 'default', State: 'ENABLED', ScheduleExpression: at });
      expect(listed.json.Schedules.map((s: { Name: string }) => s.Name)).toEqual([`off-${suffix}`]);
    }, 120_000);

    it('deletes a one-time schedule after it ran, with ActionAfterCompletion DELETE', async () => {
      // The CLI's model (early 2023) predates ActionAfterCompletion; today's SDK sends it.
      await sdk.send(new CreateScheduleCommand({
        Name: `bye-${suffix}`, ScheduleExpression: atIn(3), FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE',
        Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family } },
      }));

      await eventually(async () => (await stored(`bye-${suffix}`)) === undefined, 60_000, 'the schedule to be deleted');

      expect(await tasksStartedBy(`bye-${suffix}`)).toBe(1);
      const got = await scheduler(['get-schedule', '--name', `bye-${suffix}`]);
      expect(got.errorType).toBe('ResourceNotFoundException');
    }, 90_000);

    it('retries a schedule whose definition was deregistered, records the failure, and runs nothing', async () => {
      // Prepare (in beforeAll): the definition was deregistered before the schedule was made.
      expect(made[2].stderr).toBe('');

      // Act
      const s = await eventually(async () => {
        const r = await stored(gone);
        return r?.failures?.length ? r : undefined;
      }, 90_000, 'the failure to be recorded');

      // Assess: three attempts (the first and two retries), one recorded failure, no task.
      expect(s.failures).toEqual([expect.objectContaining({ attempts: 3, reason: expect.stringContaining('TaskDefinition is inactive') })]);
      expect(s.dueAt).toBeUndefined();
      expect(await tasksStartedBy(gone)).toBe(0);
      const metrics = await (await fetch(`${m.local.url}/metrics`)).text();
      expect(metrics).toMatch(/berth_schedule_invocations_dropped_count\{[^}]*schedule_group="default"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/berth_schedule_target_errors_count\{[^}]*schedule_group="default"[^}]*\} [3-9]/);
    }, 120_000);

    it('refuses bad input with Scheduler\'s errors and changes nothing', async () => {
      // Prepare
      const before = await scheduler(['list-schedules']);

      // Act
      const [malformed, zeroRate, noGroup] = await Promise.all([
        scheduler(['create-schedule', '--name', `bad-${suffix}`, '--schedule-expression', 'cron(0 10 * * * *)', '--flexible-time-window', 'Mode=OFF', '--target', target({})]),
        scheduler(['create-schedule', '--name', `bad-${suffix}`, '--schedule-expression', 'rate(0 minutes)', '--flexible-time-window', 'Mode=OFF', '--target', target({})]),
        scheduler(['create-schedule', '--name', `bad-${suffix}`, '--group-name', 'nope', '--schedule-expression', 'rate(5 minutes)', '--flexible-time-window', 'Mode=OFF', '--target', target({})]),
      ]);
      // The CLI itself refuses a window of 0 (the model's minimum is 1); the SDK sends it.
      const zeroWindow = await sdk.send(new CreateScheduleCommand({
        Name: `bad-${suffix}`, ScheduleExpression: 'rate(5 minutes)', FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 0 },
        Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family } },
      })).catch((e: Error) => e);
      const missing = await scheduler(['get-schedule', '--name', `bad-${suffix}`]);

      // Assess
      expect([malformed.errorType, zeroRate.errorType, noGroup.errorType]).toEqual(['ValidationException', 'ValidationException', 'ResourceNotFoundException']);
      expect(malformed.stderr).toContain('Invalid Schedule Expression cron(0 10 * * * *)');
      expect(zeroWindow).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(missing.errorType).toBe('ResourceNotFoundException');
      expect((await scheduler(['list-schedules'])).json).toEqual(before.json);
    }, 120_000);
  });
}
