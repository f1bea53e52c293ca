import type { Operation } from '../aws-protocol/operation';
import type { Berth } from '../context';
import { InvalidParameterException } from '../domain/errors';
import type { Json } from '../domain/fields';
import { page } from '../ecs-api/paging';
import type { ScheduleRecord } from '../store';
import { ConflictException, ResourceNotFoundException, ValidationException } from './errors';
import {
  DEFAULT_GROUP, checkName, dueFrom, readSettings, scheduleArn, scheduleGroupArn, toSchedule, toScheduleGroup, toScheduleSummary,
} from './schedule';

const ensured = new WeakSet<object>();

/** The `default` group exists in every account, as on AWS; made on first use. */
async function ensureDefaultGroup(b: Berth): Promise<void> {
  if (ensured.has(b.store)) return;
  const now = b.now();
  await b.store.schedules.createGroup({ name: DEFAULT_GROUP, createdAt: now, modifiedAt: now, tags: [] });
  ensured.add(b.store);
}

async function existingGroup(b: Berth, name: string): Promise<string> {
  await ensureDefaultGroup(b);
  if (!(await b.store.schedules.getGroup(name))) throw new ResourceNotFoundException(`Schedule group ${name} does not exist.`);
  return name;
}

const groupOf = (body: Json) => (body.GroupName === undefined ? DEFAULT_GROUP : checkName(body.GroupName, 'GroupName'));

/** ListSchedules and ListScheduleGroups page as ECS's lists do; Scheduler's members are PascalCase. */
function paged<T>(items: T[], body: Json, keyOf: (item: T) => string) {
  try {
    return page(items, { maxResults: body.MaxResults, nextToken: body.NextToken }, keyOf);
  } catch (e) {
    if (e instanceof InvalidParameterException || (e as Error).name === 'ClientException') throw new ValidationException((e as Error).message.replace('maxResults', 'MaxResults').replace('nextToken', 'NextToken'));
    throw e;
  }
}

export const CreateSchedule: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  const groupName = groupOf(body);
  const settings = readSettings(body, b.partition);
  await existingGroup(b, groupName);
  const now = b.now();
  const base = { groupName, name, ...settings, createdAt: now, modifiedAt: now, version: 1 };
  const schedule: ScheduleRecord = { ...base, ...dueFrom(b.partition, base, now) };
  if (!(await b.store.schedules.create(schedule))) throw new ConflictException(`Schedule ${name} already exists.`);
  await b.scheduleMirror?.put(schedule);
  return { ScheduleArn: scheduleArn(b.partition, groupName, name) };
};

export const UpdateSchedule: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  const groupName = groupOf(body);
  const settings = readSettings(body, b.partition);
  await existingGroup(b, groupName);
  const existing = await b.store.schedules.get({ groupName, name });
  if (!existing) throw new ResourceNotFoundException(`Schedule ${name} does not exist.`);
  const now = b.now();
  const base = {
    groupName, name, ...settings, createdAt: existing.createdAt, modifiedAt: now, version: existing.version + 1,
    lastRun: existing.lastRun, failures: existing.failures,
  };
  // Every member is replaced, the firing state too: the next due time counts from now.
  const schedule: ScheduleRecord = { ...base, ...dueFrom(b.partition, base, now) };
  if (!(await b.store.schedules.replace(schedule, existing.version))) {
    throw new ConflictException(`Schedule ${name} was changed by another request; try again.`);
  }
  await b.scheduleMirror?.put(schedule);
  return { ScheduleArn: scheduleArn(b.partition, groupName, name) };
};

export const GetSchedule: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  const groupName = groupOf(body);
  const schedule = await b.store.schedules.get({ groupName, name });
  if (!schedule) throw new ResourceNotFoundException(`Schedule ${name} does not exist.`);
  return toSchedule(b.partition, schedule);
};

export const DeleteSchedule: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  const groupName = groupOf(body);
  if (!(await b.store.schedules.delete({ groupName, name }))) throw new ResourceNotFoundException(`Schedule ${name} does not exist.`);
  await b.scheduleMirror?.delete({ groupName, name });
  return {};
};

export const ListSchedules: Operation = async (b, body) => {
  const groupName = body.GroupName === undefined ? undefined : await existingGroup(b, checkName(body.GroupName, 'GroupName'));
  const prefix = body.NamePrefix === undefined ? undefined : checkName(body.NamePrefix, 'NamePrefix');
  const state = body.State;
  if (state !== undefined && state !== 'ENABLED' && state !== 'DISABLED') throw new ValidationException('State must be ENABLED or DISABLED.');
  const all = (await b.store.schedules.list(groupName))
    .filter((s) => (prefix === undefined || s.name.startsWith(prefix)) && (state === undefined || s.state === state));
  const { items, nextToken } = paged(all, body, (s) => `${s.groupName}/${s.name}`);
  return { Schedules: items.map((s) => toScheduleSummary(b.partition, s)), ...(nextToken ? { NextToken: nextToken } : {}) };
};

export const CreateScheduleGroup: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  const tags = body.Tags ?? [];
  if (!Array.isArray(tags) || tags.length > 200 || tags.some((t) => typeof t?.Key !== 'string' || typeof t?.Value !== 'string' || !t.Key || t.Key.length > 128 || t.Value.length > 256)) {
    throw new ValidationException('Tags must be a list of at most 200 {Key, Value} pairs.');
  }
  await ensureDefaultGroup(b);
  const now = b.now();
  if (!(await b.store.schedules.createGroup({ name, createdAt: now, modifiedAt: now, tags }))) {
    throw new ConflictException(`Schedule group ${name} already exists.`);
  }
  return { ScheduleGroupArn: scheduleGroupArn(b.partition, name) };
};

export const GetScheduleGroup: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  await ensureDefaultGroup(b);
  const group = await b.store.schedules.getGroup(name);
  if (!group) throw new ResourceNotFoundException(`Schedule group ${name} does not exist.`);
  return toScheduleGroup(b.partition, group);
};

export const ListScheduleGroups: Operation = async (b, body) => {
  const prefix = body.NamePrefix === undefined ? undefined : checkName(body.NamePrefix, 'NamePrefix');
  await ensureDefaultGroup(b);
  const all = (await b.store.schedules.listGroups()).filter((g) => prefix === undefined || g.name.startsWith(prefix)).sort((x, y) => x.name.localeCompare(y.name));
  const { items, nextToken } = paged(all, body, (g) => g.name);
  return { ScheduleGroups: items.map((g) => toScheduleGroup(b.partition, g)), ...(nextToken ? { NextToken: nextToken } : {}) };
};

/** Deletes the group and every schedule in it, as AWS does (there, over a while, the group DELETING meanwhile). */
export const DeleteScheduleGroup: Operation = async (b, body) => {
  const name = checkName(body.Name, 'Name');
  if (name === DEFAULT_GROUP) throw new ValidationException('The default schedule group cannot be deleted.');
  if (!(await b.store.schedules.getGroup(name))) throw new ResourceNotFoundException(`Schedule group ${name} does not exist.`);
  for (const s of await b.store.schedules.list(name)) {
    await b.store.schedules.delete(s);
    await b.scheduleMirror?.delete(s);
  }
  await b.store.schedules.deleteGroup(name);
  return {};
};
