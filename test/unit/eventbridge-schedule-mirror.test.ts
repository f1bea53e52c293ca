import { CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, type SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from '@jest/globals';
import { EventBridgeScheduleMirror } from '../../shared/cloud/aws/eventbridge-schedule-mirror';
import type { ScheduleRecord } from '../../shared/store';

const OPTIONS = {
  groupName: 'berth-dev',
  targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:berth-dev-fireSchedule',
  roleArn: 'arn:aws:iam::123456789012:role/berth-dev-scheduler',
};

const schedule: ScheduleRecord = {
  groupName: 'reports', name: 'nightly', scheduleExpression: 'cron(0 2 * * ? *)', scheduleExpressionTimezone: 'Europe/Paris',
  startDate: Date.UTC(2030, 0, 1), state: 'DISABLED', flexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
  actionAfterCompletion: 'DELETE', createdAt: 0, modifiedAt: 0, version: 1, attempts: 0,
  target: { Arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/default', RoleArn: 'arn:aws:iam::123456789012:role/user', EcsParameters: { TaskDefinitionArn: 'job' },
    RetryPolicy: { MaximumRetryAttempts: 3 }, DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:dlq' } },
};

/** A SchedulerClient that records what it is sent and answers from `answers` (in order; an Error is thrown). */
function fakeClient(answers: (object | Error)[]) {
  const sent: object[] = [];
  const client = { send: async (command: object) => {
    sent.push(command);
    const answer = answers.shift() ?? {};
    if (answer instanceof Error) throw answer;
    return answer;
  } } as unknown as SchedulerClient;
  return { client, sent };
}

const notFound = () => new ResourceNotFoundException({ message: 'Schedule not found', Message: 'Schedule not found', $metadata: {} });

describe('EventBridgeScheduleMirror', () => {
  describe('put', () => {
    it('writes a timer with the schedule\'s timing, state, window and retry policy, aimed at the fire function with the schedule\'s key', async () => {
      const { client, sent } = fakeClient([{}]);
      await new EventBridgeScheduleMirror(OPTIONS, client).put(schedule);

      expect(sent).toHaveLength(1);
      expect(sent[0]).toBeInstanceOf(UpdateScheduleCommand);
      const input = (sent[0] as UpdateScheduleCommand).input;
      expect(input).toMatchObject({
        GroupName: 'berth-dev', ScheduleExpression: 'cron(0 2 * * ? *)', ScheduleExpressionTimezone: 'Europe/Paris', State: 'DISABLED',
        StartDate: new Date(Date.UTC(2030, 0, 1)), FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 }, ActionAfterCompletion: 'NONE',
        Target: { Arn: OPTIONS.targetArn, RoleArn: OPTIONS.roleArn, RetryPolicy: { MaximumRetryAttempts: 3 }, DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:dlq' } },
      });
      expect(JSON.parse(input.Target!.Input!)).toEqual({ groupName: 'reports', name: 'nightly' });
      expect(input.Name!.length).toBeLessThanOrEqual(64);
    });

    it('creates the timer when there is none yet', async () => {
      const { client, sent } = fakeClient([notFound(), {}]);
      await new EventBridgeScheduleMirror(OPTIONS, client).put(schedule);
      expect(sent.map((c) => c.constructor)).toEqual([UpdateScheduleCommand, CreateScheduleCommand]);
      expect((sent[1] as CreateScheduleCommand).input.Name).toBe((sent[0] as UpdateScheduleCommand).input.Name);
    });

    it('names two schedules of the same name in different groups apart', () => {
      const mirror = new EventBridgeScheduleMirror(OPTIONS, fakeClient([]).client);
      expect(mirror.timerName({ groupName: 'a', name: 'x'.repeat(64) })).not.toBe(mirror.timerName({ groupName: 'b', name: 'x'.repeat(64) }));
    });
  });

  describe('delete', () => {
    it('removes the timer, and counts one already gone as removed', async () => {
      const { client, sent } = fakeClient([notFound()]);
      await expect(new EventBridgeScheduleMirror(OPTIONS, client).delete(schedule)).resolves.toBeUndefined();
      expect(sent[0]).toBeInstanceOf(DeleteScheduleCommand);
      expect((sent[0] as DeleteScheduleCommand).input.GroupName).toBe('berth-dev');
    });

    it('passes on any other failure', async () => {
      const { client } = fakeClient([new Error('throttled')]);
      await expect(new EventBridgeScheduleMirror(OPTIONS, client).delete(schedule)).rejects.toThrow('throttled');
    });
  });
});
