import type { Partition } from '../domain/arns';
import { type Json, isObject } from '../domain/fields';
import { dropUndefined } from '../domain/task-definition';
import type { ScheduleGroupRecord, ScheduleRecord } from '../store';
import { ValidationException } from './errors';
import { isTimeZone, parseScheduleExpression } from './expression';
import { type Timing, flexibleOffsetMs, nextFireTime } from './next-fire';
import { readTarget } from './target';

export const DEFAULT_GROUP = 'default';
export const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

export const scheduleArn = (p: Partition, group: string, name: string) => `arn:aws:scheduler:${p.region}:${p.accountId}:schedule/${group}/${name}`;
export const scheduleGroupArn = (p: Partition, name: string) => `arn:aws:scheduler:${p.region}:${p.accountId}:schedule-group/${name}`;

const bad = (message: string): never => {
  throw new ValidationException(message);
};

export function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) bad(`${what} must be 1 to 64 letters, digits, '-', '_' or '.'.`);
  return value as string;
}

/** A timestamp as the REST-JSON protocol carries it: epoch seconds (or an ISO 8601 string). Epoch milliseconds out. */
function timestamp(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? Math.round(ms) : bad(`${key} is not a valid timestamp.`);
}

function enumOf<T extends string>(body: Json, key: string, values: readonly T[], fallback?: T): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !values.includes(v as T)) bad(`${key} must be one of ${values.join(', ')}.`);
  return v as T;
}

/** What CreateSchedule and UpdateSchedule set: every member, checked (UpdateSchedule replaces them all, as on AWS). */
export type ScheduleSettings = Pick<ScheduleRecord,
  'description' | 'scheduleExpression' | 'scheduleExpressionTimezone' | 'startDate' | 'endDate' | 'state' | 'flexibleTimeWindow'
  | 'actionAfterCompletion' | 'target' | 'kmsKeyArn'>;

export function readSettings(body: Json, p: Partition): ScheduleSettings {
  const expression = body.ScheduleExpression;
  if (typeof expression !== 'string' || expression.length < 1 || expression.length > 256) bad('ScheduleExpression is required (1 to 256 characters).');
  parseScheduleExpression(expression as string);
  const timezone = body.ScheduleExpressionTimezone;
  if (timezone !== undefined && (typeof timezone !== 'string' || timezone.length > 50 || !isTimeZone(timezone))) {
    bad(`Invalid ScheduleExpressionTimezone: ${String(timezone)}.`);
  }
  const description = body.Description;
  if (description !== undefined && (typeof description !== 'string' || description.length > 512)) bad('Description must be at most 512 characters.');
  const kmsKeyArn = body.KmsKeyArn;
  if (kmsKeyArn !== undefined && (typeof kmsKeyArn !== 'string' || !/^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*$/.test(kmsKeyArn))) {
    bad('KmsKeyArn is not a KMS key ARN.');
  }
  const window = body.FlexibleTimeWindow;
  if (!isObject(window)) return bad('FlexibleTimeWindow is required.');
  const mode = enumOf(window, 'Mode', ['OFF', 'FLEXIBLE'] as const) ?? bad('FlexibleTimeWindow.Mode is required.');
  const minutes = window.MaximumWindowInMinutes;
  if (mode === 'FLEXIBLE' && (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < 1 || minutes > 1440)) {
    bad('FlexibleTimeWindow.MaximumWindowInMinutes must be from 1 to 1440 when Mode is FLEXIBLE.');
  }
  if (mode === 'OFF' && minutes !== undefined && minutes !== null) bad('FlexibleTimeWindow.MaximumWindowInMinutes can only be set when Mode is FLEXIBLE.');
  const startDate = timestamp(body, 'StartDate');
  const endDate = timestamp(body, 'EndDate');
  if (startDate !== undefined && endDate !== undefined && endDate <= startDate) bad('The EndDate must be after the StartDate.');
  return dropUndefined({
    description: description as string | undefined,
    scheduleExpression: expression as string,
    scheduleExpressionTimezone: timezone as string | undefined,
    startDate,
    endDate,
    state: enumOf(body, 'State', ['ENABLED', 'DISABLED'] as const, 'ENABLED')!,
    flexibleTimeWindow: mode === 'FLEXIBLE' ? { Mode: mode, MaximumWindowInMinutes: minutes as number } : { Mode: mode },
    actionAfterCompletion: enumOf(body, 'ActionAfterCompletion', ['NONE', 'DELETE'] as const, 'NONE')!,
    target: readTarget(body, p),
    kmsKeyArn: kmsKeyArn as string | undefined,
  });
}

export const timingOf = (s: Pick<ScheduleRecord, 'scheduleExpression' | 'scheduleExpressionTimezone' | 'startDate' | 'endDate' | 'createdAt'>): Timing => ({
  expression: parseScheduleExpression(s.scheduleExpression),
  timezone: s.scheduleExpressionTimezone ?? 'UTC',
  startDate: s.startDate,
  endDate: s.endDate,
  createdAt: s.createdAt,
});

/**
 * The firing state for the first due time at or after `from`: when it is due, and when in its
 * flexible window it runs. No due time left: both absent.
 */
export function dueFrom(p: Partition, s: Omit<ScheduleRecord, 'dueAt' | 'fireAt' | 'attempts'>, from: number): Pick<ScheduleRecord, 'dueAt' | 'fireAt' | 'attempts'> {
  const dueAt = nextFireTime(timingOf(s), from);
  if (dueAt === undefined) return { attempts: 0 };
  return { dueAt, fireAt: dueAt + flexibleOffsetMs(scheduleArn(p, s.groupName, s.name), dueAt, s.flexibleTimeWindow.MaximumWindowInMinutes), attempts: 0 };
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/** GetSchedule's answer. */
export const toSchedule = (p: Partition, s: ScheduleRecord) => dropUndefined({
  ActionAfterCompletion: s.actionAfterCompletion,
  Arn: scheduleArn(p, s.groupName, s.name),
  CreationDate: seconds(s.createdAt),
  Description: s.description,
  EndDate: seconds(s.endDate),
  FlexibleTimeWindow: s.flexibleTimeWindow,
  GroupName: s.groupName,
  KmsKeyArn: s.kmsKeyArn,
  LastModificationDate: seconds(s.modifiedAt),
  Name: s.name,
  ScheduleExpression: s.scheduleExpression,
  ScheduleExpressionTimezone: s.scheduleExpressionTimezone,
  StartDate: seconds(s.startDate),
  State: s.state,
  Target: s.target,
});

/** ListSchedules' summary of one schedule. */
export const toScheduleSummary = (p: Partition, s: ScheduleRecord) => ({
  Arn: scheduleArn(p, s.groupName, s.name),
  CreationDate: s.createdAt / 1000,
  GroupName: s.groupName,
  LastModificationDate: s.modifiedAt / 1000,
  Name: s.name,
  State: s.state,
  Target: { Arn: s.target.Arn },
});

export const toScheduleGroup = (p: Partition, g: ScheduleGroupRecord) => ({
  Arn: scheduleGroupArn(p, g.name),
  CreationDate: g.createdAt / 1000,
  LastModificationDate: g.modifiedAt / 1000,
  Name: g.name,
  State: 'ACTIVE',
});
