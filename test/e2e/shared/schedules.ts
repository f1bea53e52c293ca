import { DeregisterTaskDefinitionCommand, ListTasksCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { randomBytes } from 'node:crypto';
import { awsCli } from '../../support/aws-cli';
import { TEST_CREDENTIALS } from '../../support/harness';
import { BUSYBOX, type LocalMode, describe1 } from '../../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';
import { expectSchedulerCallsConform } from '../../support/scheduler-model';

const ROLE = 'arn:aws:iam::000000000000:role/berth-scheduler';
const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/default';

/** `at()` of a time, in UTC, as Scheduler writes it. */
const atOf = (t: number) => `at(${new Date(t).toISOString().slice(0, 19)})`;

/**
 * EventBridge Scheduler on the local endpoint, driven by the AWS CLI v2 (`aws scheduler`) and
 * @aws-sdk/client-scheduler: schedules run real tasks on the local fleet at their time, once.
 * Schedules are made and fired by their own clock, which this suite pins and steps
 * (m.scheduleClock; tasks keep the wall clock): a due time comes when the test says, however
 * long the CLI takes to start on a loaded machine.
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
    const sqs = (args: string[]) => awsCli(m.local.url, 'sqs', args, TEST_CREDENTIALS);
    const dlq = `dlq-${suffix}`;
    const target = (ecs: object, more: object = {}) => JSON.stringify({ Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family, ...ecs }, ...more });
    // Desired RUNNING first, then STOPPED, as one set: a task that stops between the two calls is
    // seen twice and counted once, never missed (desiredStatus only moves RUNNING → STOPPED).
    const tasksStartedBy = async (name: string) => {
      const running = (await m.ecs.send(new ListTasksCommand({ startedBy: `scheduler/default/${name}` }))).taskArns!;
      const stopped = (await m.ecs.send(new ListTasksCommand({ startedBy: `scheduler/default/${name}`, desiredStatus: 'STOPPED' }))).taskArns!;
      return new Set([...running, ...stopped]).size;
    };
    const gone = `gone-${suffix}`;
    let goneArn: string;
    let at: string;
    let due: number;
    let made: Awaited<ReturnType<typeof awsCli>>[];
    const stored = (name: string) => m.local.berth.store.schedules.get({ groupName: 'default', name });
    /** Sets the schedules' clock and lets a whole firing pass see it. */
    const clockAt = async (t: number) => {
      m.scheduleClock.pin(t);
      await m.local.schedules.tick();
      await m.local.schedules.tick();
    };

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
      // Made together, up front, 5 s ahead of the schedules' clock, which stands still meanwhile.
      const t0 = Math.ceil(Date.now() / 1000) * 1000;
      m.scheduleClock.pin(t0);
      due = t0 + 5000;
      at = atOf(due);
      made = await Promise.all([
        // The deregistered definition's schedule sends its dropped due time here.
        sqs(['create-queue', '--queue-name', dlq]),
        scheduler(['create-schedule', '--name', `once-${suffix}`, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--target', target({ TaskCount: 2, Group: 'nightly', Tags: [{ team: 'data' }] })]),
        scheduler(['create-schedule', '--name', `off-${suffix}`, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--state', 'DISABLED', '--target', target({})]),
        scheduler(['create-schedule', '--name', gone, '--schedule-expression', at, '--flexible-time-window', 'Mode=OFF',
          '--target', JSON.stringify({ Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: goneArn },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
            DeadLetterConfig: { Arn: `arn:aws:sqs:us-east-1:000000000000:${dlq}` } })]),
      ]);
      expect(made.shift()!.stderr).toBe('');
    }, 120_000);
    afterAll(async () => {
      m?.scheduleClock.release();
      sdk?.destroy();
      await proxy?.close();
    });
    afterEach(() => expectSchedulerCallsConform(proxy.calls));

    it('runs an at() schedule once, at its time, with the group, tags and count of its EcsParameters; a DISABLED one beside it never runs', async () => {
      // Prepare (in beforeAll)
      expect(made.map((r) => r.stderr)).toEqual(['', '', '']);
      expect(made[0].json.ScheduleArn).toBe(`arn:aws:scheduler:us-east-1:000000000000:schedule/default/once-${suffix}`);

      // Act: a second before its time, then at its time.
      await clockAt(due - 1000);
      const early = await tasksStartedBy(`once-${suffix}`);
      await clockAt(due);

      // Assess
      expect(early).toBe(0);
      const done = (await stored(`once-${suffix}`))!;
      expect(done).toMatchObject({ lastRun: { dueAt: due, firedAt: due } });
      expect(done.dueAt).toBeUndefined();
      expect(done.lastRun!.taskArns).toHaveLength(2);
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
      const byeAt = m.scheduleClock.now() + 3000;
      await sdk.send(new CreateScheduleCommand({
        Name: `bye-${suffix}`, ScheduleExpression: atOf(byeAt), FlexibleTimeWindow: { Mode: 'OFF' }, ActionAfterCompletion: 'DELETE',
        Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family } },
      }));

      await clockAt(byeAt);

      expect(await stored(`bye-${suffix}`)).toBeUndefined();
      expect(await tasksStartedBy(`bye-${suffix}`)).toBe(1);
      const got = await scheduler(['get-schedule', '--name', `bye-${suffix}`]);
      expect(got.errorType).toBe('ResourceNotFoundException');
    }, 90_000);

    it('retries a schedule whose definition was deregistered, records the failure, sends it to its dead-letter queue, and runs nothing', async () => {
      // Prepare (in beforeAll): the definition was deregistered before the schedule was made.
      expect(made[2].stderr).toBe('');

      // Act: the clock a second at a time, past each retry (1 s, then 2 s after the last).
      for (let t = m.scheduleClock.now(); !(await stored(gone))?.failures && t <= due + 30_000; t += 1000) await clockAt(t);
      const s = (await stored(gone))!;

      // Assess: three attempts (the first and two retries), one recorded failure, no task.
      expect(s.failures).toEqual([expect.objectContaining({ attempts: 3, reason: expect.stringContaining('TaskDefinition is inactive') })]);
      expect(s.dueAt).toBeUndefined();
      expect(await tasksStartedBy(gone)).toBe(0);
      const metrics = await (await fetch(`${m.local.url}/metrics`)).text();
      expect(metrics).toMatch(/berth_schedule_invocations_dropped_count\{[^}]*schedule_group="default"[^}]*\} [1-9]/);
      expect(metrics).toMatch(/berth_schedule_target_errors_count\{[^}]*schedule_group="default"[^}]*\} [3-9]/);
      // One dead letter, read with the AWS CLI as Scheduler's user guide reads it.
      const queueUrl = (await sqs(['get-queue-url', '--queue-name', dlq])).json.QueueUrl;
      const received = await sqs(['receive-message', '--queue-url', queueUrl, '--attribute-names', 'All', '--message-attribute-names', 'All',
        '--max-number-of-messages', '10']);
      expect(received.stderr).toBe('');
      expect(received.json.Messages).toHaveLength(1);
      const letter = received.json.Messages[0];
      expect(JSON.parse(letter.Body)).toMatchObject({ cluster: 'default', taskDefinition: goneArn, startedBy: `scheduler/default/${gone}` });
      const attributes = Object.fromEntries(Object.entries(letter.MessageAttributes as Record<string, { StringValue: string; DataType: string }>)
        .map(([k, v]) => [k, `${v.DataType}:${v.StringValue}`]));
      expect(attributes).toEqual({
        ERROR_CODE: 'String:ClientException', ERROR_MESSAGE: expect.stringContaining('TaskDefinition is inactive'),
        EXECUTION_ID: expect.stringMatching(/^String:[0-9a-f]{16}$/), EXHAUSTED_RETRY_CONDITION: 'String:MaximumRetryAttempts',
        IS_PAYLOAD_TRUNCATED: 'String:false', RETRY_ATTEMPTS: 'String:2', SCHEDULED_TIME: `String:${new Date(due).toISOString().replace('.000Z', 'Z')}`,
        SCHEDULE_ARN: `String:arn:aws:scheduler:us-east-1:000000000000:schedule/default/${gone}`, TARGET_ARN: `String:${CLUSTER}`,
      });
    }, 120_000);

    it('fires rate(1 minute) and a cron() in its time zone on time by an injected clock, not a moment before', async () => {
      // Prepare: a rate from a StartDate half a minute past a whole minute a few minutes ahead,
      // and a cron at a whole minute after it, written in Kolkata's wall time (UTC+5:30).
      const minute = 60_000;
      const whole = Math.ceil((m.scheduleClock.now() + 3 * minute) / minute) * minute;
      const start = whole + 30_000;
      const cronAt = whole + 2 * minute;
      const kolkata = new Date(cronAt + 330 * minute);
      const [rate, cron] = [`rate-${suffix}`, `cron-${suffix}`];
      const created = await Promise.all([
        scheduler(['create-schedule', '--name', rate, '--schedule-expression', 'rate(1 minute)', '--start-date', new Date(start).toISOString(),
          '--flexible-time-window', 'Mode=OFF', '--target', target({})]),
        scheduler(['create-schedule', '--name', cron, '--schedule-expression', `cron(${kolkata.getUTCMinutes()} ${kolkata.getUTCHours()} * * ? *)`,
          '--schedule-expression-timezone', 'Asia/Kolkata', '--flexible-time-window', 'Mode=OFF', '--target', target({})]),
      ]);
      expect(created.map((r) => r.stderr)).toEqual(['', '']);
      const runs = async (name: string) => (await stored(name))?.lastRun?.dueAt;

      try {
        // Act and assess, a step of the clock at a time.
        await clockAt(start - 1000);
        expect([await runs(rate), await tasksStartedBy(rate)]).toEqual([undefined, 0]);
        await clockAt(start);
        expect(await stored(rate)).toMatchObject({ lastRun: { dueAt: start, firedAt: start }, dueAt: start + minute });
        await clockAt(start + minute - 1000);
        expect(await runs(rate)).toBe(start);
        await clockAt(start + minute);
        expect(await runs(rate)).toBe(start + minute);
        await clockAt(cronAt - 1000);
        expect([await runs(cron), await tasksStartedBy(cron)]).toEqual([undefined, 0]);
        await clockAt(cronAt);
        expect(await stored(cron)).toMatchObject({ lastRun: { dueAt: cronAt, firedAt: cronAt }, dueAt: cronAt + 24 * 60 * minute });
        expect([await tasksStartedBy(rate), await tasksStartedBy(cron)]).toEqual([2, 1]);
      } finally {
        // Else the rate runs on in real time, once the clock is released, while the next suites use the fleet.
        await Promise.all([rate, cron].map((n) => scheduler(['delete-schedule', '--name', n])));
      }
      expect([await stored(rate), await stored(cron)]).toEqual([undefined, undefined]);
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
