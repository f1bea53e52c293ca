import type { Berth } from '../context';
import { parseTaskDefinitionRef, taskDefinitionArn } from '../domain/arns';
import { ClientException, InvalidParameterException } from '../domain/errors';
import { type Json, oneOf, optString, optStringList, reqString } from '../domain/fields';
import { readRegisterRequest } from '../domain/task-definition';
import type { TaskDefinitionRecord } from '../store';
import type { Operation } from '../aws-protocol/operation';
import { page } from './paging';
import { type Failure, toEcsTags, toEcsTaskDefinition } from './shapes';

export const RegisterTaskDefinition: Operation = async (b, body) => {
  const { spec, tags } = readRegisterRequest(body, { allowHostPaths: b.config.allowHostPaths, efsVolumes: b.config.efsVolumes });
  const def = await b.store.taskDefinitions.register(spec, tags, b.now());
  return { taskDefinition: toEcsTaskDefinition(b.partition, def), tags: toEcsTags(def.tags) };
};

/** Any revision, ACTIVE or not: describing an INACTIVE revision still works in ECS. */
async function findDefinition(b: Berth, ref: string): Promise<TaskDefinitionRecord> {
  const { family, revision } = parseTaskDefinitionRef(ref);
  const def = revision === undefined
    ? await b.store.taskDefinitions.latestActive(family)
    : await b.store.taskDefinitions.get(family, revision);
  if (!def) throw new ClientException('Unable to describe task definition.');
  return def;
}

export const DescribeTaskDefinition: Operation = async (b, body) => {
  const def = await findDefinition(b, reqString(body, 'taskDefinition'));
  const withTags = optStringList(body, 'include')?.includes('TAGS') ?? false;
  return { taskDefinition: toEcsTaskDefinition(b.partition, def), tags: withTags ? toEcsTags(def.tags) : undefined };
};

export const DeregisterTaskDefinition: Operation = async (b, body) => {
  const ref = reqString(body, 'taskDefinition');
  const { family, revision } = parseTaskDefinitionRef(ref);
  if (revision === undefined) throw new ClientException('Invalid revision number. Number: ');
  const def = await b.store.taskDefinitions.deregister(family, revision, b.now());
  if (!def) throw new ClientException('The specified task definition does not exist.');
  return { taskDefinition: toEcsTaskDefinition(b.partition, def) };
};

/** ECS's reasons, in DeleteTaskDefinitions' `failures`, for a revision it does not delete. */
const DELETE_FAILURE = {
  missing: 'The specified task definition does not exist.',
  active: 'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
} as const;

/**
 * Only INACTIVE revisions go, each to DELETE_IN_PROGRESS, as ECS shows them until they are gone;
 * every other one is a failure with ECS's reason. Every reference is read before anything is
 * deleted, so one malformed reference deletes nothing.
 */
export const DeleteTaskDefinitions: Operation = async (b, body) => {
  const refs = optStringList(body, 'taskDefinitions', 'taskDefinitions', 10) ?? [];
  if (refs.length === 0) throw new InvalidParameterException('taskDefinitions can not be empty.');
  const parsed = refs.map((ref) => {
    const { family, revision } = parseTaskDefinitionRef(ref);
    if (revision === undefined) throw new ClientException('Invalid revision number. Number: ');
    return { family, revision };
  });
  const taskDefinitions = [];
  const failures: Failure[] = [];
  for (const { family, revision } of parsed) {
    const arn = taskDefinitionArn(b.partition, family, revision);
    const deleted = await b.store.taskDefinitions.markDeleted(family, revision);
    if (deleted) {
      taskDefinitions.push(toEcsTaskDefinition(b.partition, deleted));
      continue;
    }
    const existing = await b.store.taskDefinitions.get(family, revision);
    failures.push({ arn, reason: existing ? DELETE_FAILURE.active : DELETE_FAILURE.missing });
  }
  return { taskDefinitions, failures };
};

const STATUSES = ['ACTIVE', 'INACTIVE'] as const;

/** `familyPrefix` is, despite its name, the whole family: only ListTaskDefinitionFamilies matches by prefix. */
async function definitionsOf(b: Berth, body: Json): Promise<TaskDefinitionRecord[]> {
  const family = optString(body, 'familyPrefix');
  return family === undefined ? b.store.taskDefinitions.all() : b.store.taskDefinitions.revisions(family);
}

export const ListTaskDefinitions: Operation = async (b, body) => {
  const status = oneOf(optString(body, 'status') ?? 'ACTIVE', STATUSES, 'status');
  const sort = oneOf(optString(body, 'sort') ?? 'ASC', ['ASC', 'DESC'] as const, 'sort');
  const defs = (await definitionsOf(b, body)).filter((d) => d.status === status);
  if (sort === 'DESC') defs.reverse();
  const { items, nextToken } = page(defs, body, (d) => `${d.family}:${d.revision}`);
  return { taskDefinitionArns: items.map((d) => taskDefinitionArn(b.partition, d.family, d.revision)), nextToken };
};

export const ListTaskDefinitionFamilies: Operation = async (b, body) => {
  const status = oneOf(optString(body, 'status') ?? 'ACTIVE', ['ACTIVE', 'INACTIVE', 'ALL'] as const, 'status');
  const defs = await b.store.taskDefinitions.all();
  const prefix = optString(body, 'familyPrefix');
  const byFamily = new Map<string, boolean>();
  for (const d of defs) {
    // A family whose revisions are all being deleted is gone, as in ECS.
    if ((prefix !== undefined && !d.family.startsWith(prefix)) || d.status === 'DELETE_IN_PROGRESS') continue;
    byFamily.set(d.family, (byFamily.get(d.family) ?? false) || d.status === 'ACTIVE');
  }
  // A family is ACTIVE while any revision is; INACTIVE once none is.
  const families = [...byFamily.entries()]
    .filter(([, active]) => status === 'ALL' || (status === 'ACTIVE') === active)
    .map(([f]) => f)
    .sort();
  const { items, nextToken } = page(families, body, (f) => f);
  return { families: items, nextToken };
};
