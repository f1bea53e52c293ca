import type { Berth } from '../context';
import { parseTaskDefinitionRef, taskDefinitionArn } from '../domain/arns';
import { ClientException } from '../domain/errors';
import { type Json, oneOf, optString, optStringList, reqString } from '../domain/fields';
import { readRegisterRequest } from '../domain/task-definition';
import type { TaskDefinitionRecord } from '../store';
import type { Operation } from './operation';
import { page } from './paging';
import { toEcsTags, toEcsTaskDefinition } from './shapes';

export const RegisterTaskDefinition: Operation = async (b, body) => {
  const { spec, tags } = readRegisterRequest(body, { allowHostPaths: b.config.allowHostPaths });
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

const STATUSES = ['ACTIVE', 'INACTIVE'] as const;

function filtered(defs: TaskDefinitionRecord[], body: Json, statuses: readonly string[]) {
  const familyPrefix = optString(body, 'familyPrefix');
  return defs.filter((d) => (familyPrefix === undefined || d.family.startsWith(familyPrefix)) && statuses.includes(d.status));
}

export const ListTaskDefinitions: Operation = async (b, body) => {
  const status = oneOf(optString(body, 'status') ?? 'ACTIVE', STATUSES, 'status');
  const sort = oneOf(optString(body, 'sort') ?? 'ASC', ['ASC', 'DESC'] as const, 'sort');
  const defs = filtered(await b.store.taskDefinitions.all(), body, [status]);
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
    if (prefix !== undefined && !d.family.startsWith(prefix)) continue;
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
