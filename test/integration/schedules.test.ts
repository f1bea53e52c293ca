import { DeregisterTaskDefinitionCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateScheduleCommand, type CreateScheduleCommandInput, CreateScheduleGroupCommand, DeleteScheduleCommand, DeleteScheduleGroupCommand,
  GetScheduleCommand, GetScheduleGroupCommand, ListScheduleGroupsCommand, ListSchedulesCommand, SchedulerClient, UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { localBerth } from '../../local/berth';
import { serve } from '../../local/server';
import { startLocalSqs } from '../../local/services/sqs';
import { sqsOperations } from '../../local/services/sqs/operations';
import { SqsStore } from '../../local/services/sqs/store';
import { MetricsRegistry } from '../../shared/metrics/registry';
import { createDocumentClient } from '../../shared/store/client';
import { tableNames } from '../../shared/store/tables';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { fireDue } from '../../shared/schedules/firer';
import { createSchedulerApiHandler } from '../../shared/schedules/handler';
import { type Harness, startHarness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

/** What a request was refused with, or undefined. */
const caught = (p: Promise<unknown>): Promise<Error | undefined> => p.then(() => undefined, (e: Error) => e);

const ROLE = 'arn:aws:iam::000000000000:role/berth-scheduler';
const CLUSTER = 'arn:aws:ecs:us-east-1:000000000000:cluster/default';

interface SignedClient {
  config: { systemClockOffset?: number };
  middlewareStack: { add(m: (next: (a: unknown) => unknown) => (a: unknown) => unknown, o: object): void };
}

let h: Harness;
let clock: ManualClock;
let scheduler: SchedulerClient;
let closeServer: () => Promise<void>;
const family = 'nightly';

/** A schedule input that runs `family` in the default cluster; `over` replaces members. */
const input = (name: string, over: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  ScheduleExpression: 'rate(1 minute)',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family } },
  ...over,
});

const tasksOf = async (group: string, name: string) =>
  (await h.berth.store.tasks.list('default')).filter((t) => t.startedBy === `scheduler/${group}/${name}`);

beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2030, 0, 1, 0, 0, 0));
  h = await startHarness({ now: clock.now });
  h.berth.metrics = new MetricsRegistry({ staleAfterMs: 3_600_000, now: clock.now });
  const server = await serve({ 'ANY /schedules': createSchedulerApiHandler(() => h.berth, { log: () => {} }), 'ANY /schedules/*': createSchedulerApiHandler(() => h.berth, { log: () => {} }),
    'ANY /schedule-groups': createSchedulerApiHandler(() => h.berth, { log: () => {} }), 'ANY /schedule-groups/*': createSchedulerApiHandler(() => h.berth, { log: () => {} }) });
  closeServer = server.close;
  // Retries only a connection the server closed as idle (ECONNRESET); Scheduler's own errors are not retried.
  scheduler = new SchedulerClient({ endpoint: server.url, region: 'us-east-1', credentials: h.credentials, maxAttempts: 3 });
  // Requests are signed by the test clock's time, which is Berth's: SigV4 refuses a skew of 15 minutes.
  for (const client of [scheduler, h.ecs] as unknown as SignedClient[]) {
    client.middlewareStack.add((next) => (args) => {
      client.config.systemClockOffset = clock.now() - Date.now();
      return next(args);
    }, { step: 'initialize', name: 'testClock' });
  }
  await h.ecs.send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
    containerDefinitions: [{ name: 'job', image: 'localhost/busybox:latest', command: ['true'] }],
  }));
}, 60_000);

afterAll(async () => {
  scheduler?.destroy();
  await closeServer?.();
  await h?.close();
});

describe('Scheduler API (REST-JSON, through @aws-sdk/client-scheduler)', () => {
  it('keeps schedules and groups: create, get, update, list by group, prefix and state, in pages, delete', async () => {
    await scheduler.send(new CreateScheduleGroupCommand({ Name: 'reports', Tags: [{ Key: 'team', Value: 'data' }] }));
    const created = await scheduler.send(new CreateScheduleCommand(input('daily-a', { GroupName: 'reports', ScheduleExpression: 'cron(0 2 * * ? *)', ScheduleExpressionTimezone: 'Europe/Paris' })));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/reports/daily-a');
    for (const n of ['daily-b', 'daily-c', 'other']) await scheduler.send(new CreateScheduleCommand(input(n, { GroupName: 'reports', State: n === 'daily-c' ? 'DISABLED' : 'ENABLED' })));

    const got = await scheduler.send(new GetScheduleCommand({ Name: 'daily-a', GroupName: 'reports' }));
    expect(got).toMatchObject({ Name: 'daily-a', GroupName: 'reports', State: 'ENABLED', ScheduleExpressionTimezone: 'Europe/Paris', ActionAfterCompletion: 'NONE' });
    expect(got.CreationDate).toEqual(new Date(clock.now()));

    await scheduler.send(new UpdateScheduleCommand(input('daily-a', { GroupName: 'reports', ScheduleExpression: 'cron(30 3 * * ? *)', Description: 'later' })));
    expect(await scheduler.send(new GetScheduleCommand({ Name: 'daily-a', GroupName: 'reports' }))).toMatchObject({ ScheduleExpression: 'cron(30 3 * * ? *)', Description: 'later' });

    const daily = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports', NamePrefix: 'daily', State: 'ENABLED' }));
    expect(daily.Schedules!.map((s) => s.Name)).toEqual(['daily-a', 'daily-b']);
    const first = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports', MaxResults: 3 }));
    const second = await scheduler.send(new ListSchedulesCommand({ GroupName: 'reports', MaxResults: 3, NextToken: first.NextToken }));
    expect([...first.Schedules!, ...second.Schedules!].map((s) => s.Name)).toEqual(['daily-a', 'daily-b', 'daily-c', 'other']);
    expect(second.NextToken).toBeUndefined();

    const groups = await scheduler.send(new ListScheduleGroupsCommand({}));
    expect(groups.ScheduleGroups!.map((g) => g.Name)).toEqual(expect.arrayContaining(['default', 'reports']));
    expect(await scheduler.send(new GetScheduleGroupCommand({ Name: 'default' }))).toMatchObject({ Name: 'default', State: 'ACTIVE' });

    await scheduler.send(new DeleteScheduleCommand({ Name: 'other', GroupName: 'reports' }));
    expect((await caught(scheduler.send(new GetScheduleCommand({ Name: 'other', GroupName: 'reports' }))))?.name).toBe('ResourceNotFoundException');
    await scheduler.send(new DeleteScheduleGroupCommand({ Name: 'reports' }));
    expect((await caught(scheduler.send(new GetScheduleCommand({ Name: 'daily-a', GroupName: 'reports' }))))?.name).toBe('ResourceNotFoundException');
  });

  it.each([
    ['a malformed expression', input('bad', { ScheduleExpression: 'cron(0 10 * * * *)' }), 'ValidationException', 400],
    ['rate(0 minutes)', input('bad', { ScheduleExpression: 'rate(0 minutes)' }), 'ValidationException', 400],
    ['a flexible window of 0', input('bad', { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 0 } }), 'ValidationException', 400],
    ['an unknown time zone', input('bad', { ScheduleExpressionTimezone: 'Mars/Olympus' }), 'ValidationException', 400],
    ['an unknown group', input('bad', { GroupName: 'nope' }), 'ResourceNotFoundException', 404],
    ['a target that is not a cluster', input('bad', { Target: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f', RoleArn: ROLE } }), 'ValidationException', 400],
    ['a bad role ARN', input('bad', { Target: { Arn: CLUSTER, RoleArn: 'role', EcsParameters: { TaskDefinitionArn: 'x' } } }), 'ValidationException', 400],
    ['a task count of 11', input('bad', { Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x', TaskCount: 11 } } }), 'ValidationException', 400],
  ])('refuses %s with AWS error type and changes nothing', async (_what, request, type, status) => {
    const before = await h.berth.store.schedules.list();
    const e = await caught(scheduler.send(new CreateScheduleCommand(request)));
    expect(`${e?.name}: ${e?.message}`).toMatch(new RegExp(`^${type}: `));
    expect((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(status);
    expect(e?.message).toMatch(/\S/);
    expect(await h.berth.store.schedules.list()).toEqual(before);
  });

  it('refuses a second schedule of the same name with ConflictException (409)', async () => {
    await scheduler.send(new CreateScheduleCommand(input('twice', { State: 'DISABLED' })));
    const e = await caught(scheduler.send(new CreateScheduleCommand(input('twice', { ScheduleExpression: 'rate(5 minutes)' }))));
    expect(e?.name).toBe('ConflictException');
    expect((await h.berth.store.schedules.get({ groupName: 'default', name: 'twice' }))!.scheduleExpression).toBe('rate(1 minute)');
    await scheduler.send(new DeleteScheduleCommand({ Name: 'twice' }));
  });
});

describe('Firing (a test clock over dynalite)', () => {
  it('runs rate(1 minute) at creation and every minute after, with its EcsParameters, once per due time', async () => {
    await scheduler.send(new CreateScheduleCommand(input('every-minute', {
      Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: family, TaskCount: 2, Group: 'batch', Tags: [{ owner: 'ops' }] } },
    })));
    await fireDue(h.berth);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'every-minute')).toHaveLength(2);
    await clock.advance(59_000);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'every-minute')).toHaveLength(2);
    await clock.advance(1_000);
    await fireDue(h.berth);
    const tasks = await tasksOf('default', 'every-minute');
    expect(tasks).toHaveLength(4);
    expect(tasks.every((t) => t.group === 'batch' && t.tags.some((tag) => tag.key === 'owner' && tag.value === 'ops'))).toBe(true);

    // DISABLED stops it; ENABLED again picks up from now.
    await scheduler.send(new UpdateScheduleCommand({ ...input('every-minute'), State: 'DISABLED' }));
    await clock.advance(5 * 60_000);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'every-minute')).toHaveLength(4);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'every-minute' }));
  });

  it('runs a cron at its wall-clock times in its time zone, not before', async () => {
    // 2030-01-01 00:07 UTC by now; 10:15 in Kolkata is 04:45 UTC.
    await scheduler.send(new CreateScheduleCommand(input('kolkata', { ScheduleExpression: 'cron(15 10 * * ? *)', ScheduleExpressionTimezone: 'Asia/Kolkata' })));
    const due = Date.UTC(2030, 0, 1, 4, 45);
    await clock.advance(due - clock.now() - 1_000);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'kolkata')).toHaveLength(0);
    await clock.advance(1_000);
    await fireDue(h.berth);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'kolkata')).toHaveLength(1);
    expect((await h.berth.store.schedules.get({ groupName: 'default', name: 'kolkata' }))!.dueAt).toBe(due + 86_400_000);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'kolkata' }));
  });

  it('deletes a one-time schedule after it ran, with ActionAfterCompletion DELETE', async () => {
    const at = new Date(clock.now() + 5_000).toISOString().slice(0, 19);
    await scheduler.send(new CreateScheduleCommand(input('once', { ScheduleExpression: `at(${at})`, ActionAfterCompletion: 'DELETE' })));
    await clock.advance(5_000);
    await fireDue(h.berth);
    expect(await tasksOf('default', 'once')).toHaveLength(1);
    expect((await caught(scheduler.send(new GetScheduleCommand({ Name: 'once' }))))?.name).toBe('ResourceNotFoundException');
  });

  it('retries a RunTask that fails per RetryPolicy, then records the failure and the metrics, sends one dead letter, and runs nothing', async () => {
    // The local SQS slice takes the dead letters, as in the local mode.
    const sqs = await startLocalSqs(h.berth, { dynamoEndpoint: h.dynamoEndpoint, log: () => {}, endpoint: () => 'http://local' });
    h.berth.deadLetters = sqs.deadLettersOf(h.berth);
    const ops = sqsOperations({ store: new SqsStore(createDocumentClient({ endpoint: h.dynamoEndpoint })), partition: h.berth.partition, now: clock.now, endpoint: () => 'http://local' });
    const { QueueUrl } = await ops.CreateQueue(h.berth, { QueueName: 'schedules-dlq' }, {}) as { QueueUrl: string };
    await h.ecs.send(new RegisterTaskDefinitionCommand({
      family: 'gone', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'job', image: 'localhost/busybox:latest' }],
    }));
    await h.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'gone:1' }));
    await scheduler.send(new CreateScheduleCommand(input('broken', {
      ScheduleExpression: 'rate(1 hour)',
      Target: {
        Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'gone:1' }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:schedules-dlq' },
      },
    })));
    const dueAt = (await h.berth.store.schedules.get({ groupName: 'default', name: 'broken' }))!.dueAt!;
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      outcomes.push((await fireDue(h.berth, { retryBaseMs: 10_000 })).get('default/broken')!);
      const s = (await h.berth.store.schedules.get({ groupName: 'default', name: 'broken' }))!;
      if (i < 2) expect(s).toMatchObject({ attempts: i + 1, lastError: expect.stringContaining('TaskDefinition is inactive') });
      await clock.advance(10_000 * 2 ** i);
    }
    expect(outcomes).toEqual(['retrying', 'retrying', 'dropped']);
    const s = (await h.berth.store.schedules.get({ groupName: 'default', name: 'broken' }))!;
    expect(s.failures).toEqual([expect.objectContaining({ attempts: 3, reason: expect.stringContaining('TaskDefinition is inactive') })]);
    expect(s.attempts).toBe(0);
    expect(s.dueAt).toBeGreaterThan(clock.now());
    expect(await tasksOf('default', 'broken')).toHaveLength(0);
    const metrics = (h.berth.metrics as MetricsRegistry).render();
    expect(metrics).toMatch(/berth_schedule_target_errors_count\{[^}]*schedule_group="default"[^}]*\} 3/);
    expect(metrics).toMatch(/berth_schedule_invocations_dropped_count\{[^}]*\} 1/);
    expect(metrics).toMatch(/berth_schedule_dead_letters_sent_count\{[^}]*\} 1/);
    // One dead letter, as EventBridge Scheduler sends it: the RunTask request, and its attributes.
    const received = await ops.ReceiveMessage(h.berth, { QueueUrl, MaxNumberOfMessages: '10', MessageAttributeName: { 1: 'All' } }, {}) as {
      Messages: { Body: string; MessageAttributes: Record<string, { StringValue: string }> }[];
    };
    expect(received.Messages).toHaveLength(1);
    expect(JSON.parse(received.Messages[0].Body)).toMatchObject({ cluster: 'default', taskDefinition: 'gone:1', startedBy: 'scheduler/default/broken' });
    const attributes = Object.fromEntries(Object.entries(received.Messages[0].MessageAttributes).map(([k, v]) => [k, v.StringValue]));
    expect(attributes).toEqual({
      ERROR_CODE: 'ClientException', ERROR_MESSAGE: expect.stringContaining('TaskDefinition is inactive'), EXECUTION_ID: expect.stringMatching(/^[0-9a-f]{16}$/),
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts', IS_PAYLOAD_TRUNCATED: 'false', RETRY_ATTEMPTS: '2',
      SCHEDULED_TIME: new Date(dueAt).toISOString().replace('.000Z', 'Z'), SCHEDULE_ARN: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/broken', TARGET_ARN: CLUSTER,
    });
    await scheduler.send(new DeleteScheduleCommand({ Name: 'broken' }));
    h.berth.deadLetters = undefined;
  });

  it('gives up on a due time older than MaximumEventAgeInSeconds, and counts a dead letter its missing queue did not take', async () => {
    const logged: object[] = [];
    const sqs = await startLocalSqs(h.berth, { dynamoEndpoint: h.dynamoEndpoint, log: () => {}, endpoint: () => 'http://local' });
    h.berth.deadLetters = sqs.deadLettersOf(h.berth);
    await scheduler.send(new CreateScheduleCommand(input('aged', {
      ScheduleExpression: 'rate(1 hour)',
      Target: {
        Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'gone:1' }, RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 60 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:no-such-queue' },
      },
    })));
    // The first retry (61 s on) would be past the event's age: given up at once.
    expect((await fireDue(h.berth, { retryBaseMs: 61_000, log: (l) => logged.push(l) })).get('default/aged')).toBe('dropped');
    expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ message: 'schedule could not send a dead letter', queueArn: 'arn:aws:sqs:us-east-1:000000000000:no-such-queue' })]));
    expect((h.berth.metrics as MetricsRegistry).render()).toMatch(/berth_schedule_dead_letters_failed_count\{[^}]*\} 1/);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'aged' }));
    h.berth.deadLetters = undefined;
  });

  it('keeps only enabled schedules with a due time in the due index, so a look reads what is due and nothing else', async () => {
    // Prepare: one enabled, one disabled, one at() already past (no due time left)
    await scheduler.send(new CreateScheduleCommand(input('idx-on', { ScheduleExpression: 'rate(1 day)' })));
    await scheduler.send(new CreateScheduleCommand(input('idx-off', { ScheduleExpression: 'rate(1 day)', State: 'DISABLED' })));
    await scheduler.send(new CreateScheduleCommand(input('idx-past', { ScheduleExpression: 'at(2020-01-01T00:00:00)' })));
    const indexed = async () => (await createDocumentClient({ endpoint: h.dynamoEndpoint }).send(new QueryCommand({
      TableName: tableNames().schedules, IndexName: 'due', KeyConditionExpression: 'firing = :d', ExpressionAttributeValues: { ':d': 'due' },
    }))).Items!.map((i) => i.name).filter((n) => String(n).startsWith('idx-'));

    // Assess: in the index only the enabled one; disabling it takes it out; a look finds only what is due by now
    expect(await indexed()).toEqual(['idx-on']);
    expect([...(await h.berth.store.schedules.listDue(clock.now())).map((s) => s.name)].filter((n) => n.startsWith('idx-'))).toEqual(['idx-on']);
    expect((await h.berth.store.schedules.listDue(clock.now() - 1)).map((s) => s.name).filter((n) => n.startsWith('idx-'))).toEqual([]);
    // The local firer's wake-up: the earliest due time after a moment, from the same index.
    expect(await h.berth.store.schedules.nextFireAt(clock.now() - 1)).toBe(clock.now());
    expect(await h.berth.store.schedules.nextFireAt(clock.now())).not.toBe(clock.now());
    await scheduler.send(new UpdateScheduleCommand(input('idx-on', { ScheduleExpression: 'rate(1 day)', State: 'DISABLED' })));
    expect(await indexed()).toEqual([]);
    for (const n of ['idx-on', 'idx-off', 'idx-past']) await scheduler.send(new DeleteScheduleCommand({ Name: n }));
  });

  it('neither loses nor doubles a due run when the firer dies between RunTask and its write', async () => {
    // Prepare: a firer whose write after RunTask never lands (the process died there).
    await scheduler.send(new CreateScheduleCommand(input('crash', { ScheduleExpression: 'rate(1 hour)' })));
    const store = h.berth.store.schedules;
    const replace = store.replace.bind(store);
    store.replace = async () => {
      throw new Error('killed');
    };

    // Act: the first firer dies; the next one (the restarted local mode) meets the same due time.
    const died = await fireDue(h.berth).catch((e: Error) => e);
    store.replace = replace;
    const before = (await store.get({ groupName: 'default', name: 'crash' }))!;
    await fireDue(h.berth);

    // Assess
    expect(died).toBeInstanceOf(Error);
    expect(before.lastRun).toBeUndefined();
    expect(await tasksOf('default', 'crash')).toHaveLength(1);
    const after = (await store.get({ groupName: 'default', name: 'crash' }))!;
    expect(after.lastRun).toMatchObject({ dueAt: before.dueAt, taskArns: [expect.any(String)] });
    expect(after.dueAt).toBe(before.dueAt! + 3_600_000);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'crash' }));
  });

  it('runs each due time exactly once however many firers meet it at once (two firers, one store)', async () => {
    // Other control planes: their own Berth over the same tables, and the same clock.
    const others = [1, 2, 3].map(() => localBerth({ dynamoEndpoint: h.dynamoEndpoint, now: clock.now, config: h.berth.config }));
    let n = 0;
    try {
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }),
        async (firers, minuteSteps) => {
          const name = `race-${++n}`;
          await scheduler.send(new CreateScheduleCommand(input(name)));
          let due = 1;
          for (const step of [0, ...minuteSteps]) {
            // A second past the minute: the next due time is ahead, whoever fires first.
            await clock.advance(step === 0 ? 0 : step * 60_000 + 1_000);
            if (step > 0) due += 1; // missed minutes beyond the one in hand are skipped, never run late in a burst
            await Promise.all([h.berth, ...others].slice(0, firers).map((b) => fireDue(b)));
            expect(await tasksOf('default', name)).toHaveLength(due);
          }
          await scheduler.send(new DeleteScheduleCommand({ Name: name }));
        },
      ), { numRuns: 3 });
    } finally {
      for (const b of others) b.workflows.close();
    }
  });
});
