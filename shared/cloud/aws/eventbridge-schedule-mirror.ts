import { createHash } from 'node:crypto';
import {
  ConflictException, CreateScheduleCommand, type CreateScheduleCommandInput, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { ScheduleMirror } from '../../schedules/mirror';
import type { ScheduleKey, ScheduleRecord } from '../../store';

export interface EventBridgeScheduleMirrorOptions {
  /** The schedule group Berth keeps its timers in (one per stack). */
  groupName: string;
  /** The function EventBridge Scheduler invokes with the schedule's key. */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it (lambda:InvokeFunction on that function only). */
  roleArn: string;
}

/**
 * On AWS, each Berth schedule has a real EventBridge Scheduler schedule as its timer, with the
 * same expression, time zone, dates, state, flexible window and retry policy, whose target is
 * Berth's schedules function with the schedule's key. Berth's own record stays the truth: the
 * function fires through the same code as the local timer, so an at-least-once delivery runs
 * the task once.
 */
export class EventBridgeScheduleMirror implements ScheduleMirror {
  constructor(private readonly o: EventBridgeScheduleMirrorOptions, private readonly client = new SchedulerClient({})) {}

  /** Scheduler's names stop at 64 characters: the user's name, shortened, and a digest of group and name. */
  timerName(key: ScheduleKey): string {
    return `${key.name.slice(0, 40)}-${createHash('sha256').update(`${key.groupName}/${key.name}`).digest('hex').slice(0, 16)}`;
  }

  async put(s: ScheduleRecord): Promise<void> {
    const input: CreateScheduleCommandInput = {
      Name: this.timerName(s),
      GroupName: this.o.groupName,
      Description: `Berth schedule ${s.groupName}/${s.name}`,
      ScheduleExpression: s.scheduleExpression,
      ScheduleExpressionTimezone: s.scheduleExpressionTimezone,
      StartDate: s.startDate === undefined ? undefined : new Date(s.startDate),
      EndDate: s.endDate === undefined ? undefined : new Date(s.endDate),
      State: s.state,
      FlexibleTimeWindow: s.flexibleTimeWindow,
      // Berth ends its own schedules (ActionAfterCompletion DELETE) and removes the timer with them.
      ActionAfterCompletion: 'NONE',
      Target: {
        Arn: this.o.targetArn,
        RoleArn: this.o.roleArn,
        Input: JSON.stringify({ groupName: s.groupName, name: s.name }),
        RetryPolicy: s.target.RetryPolicy as { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number } | undefined,
        DeadLetterConfig: s.target.DeadLetterConfig as { Arn?: string } | undefined,
      },
    };
    try {
      await this.client.send(new UpdateScheduleCommand(input));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
      try {
        await this.client.send(new CreateScheduleCommand(input));
      } catch (c) {
        // Made meanwhile by a concurrent put: write ours over it.
        if (!(c instanceof ConflictException)) throw c;
        await this.client.send(new UpdateScheduleCommand(input));
      }
    }
  }

  async delete(key: ScheduleKey): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: this.timerName(key), GroupName: this.o.groupName }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  }
}
