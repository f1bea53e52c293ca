import type { Berth } from '../context';
import { type ResourceRef, parseResourceArn } from '../domain/arns';
import { InvalidParameterException, ResourceNotFoundException } from '../domain/errors';
import { type Tag, mergeTags, optStringList, readTags, reqString } from '../domain/fields';
import type { Operation } from '../aws-protocol/operation';
import { toEcsTags } from './shapes';

/** Reads and writes the tags of whatever the ARN names, through its own repository. */
async function tagsOf(b: Berth, ref: ResourceRef): Promise<{ tags: Tag[]; save: (tags: Tag[]) => Promise<unknown> }> {
  switch (ref.kind) {
    case 'cluster': {
      const c = await b.store.clusters.get(ref.cluster);
      if (!c || c.status !== 'ACTIVE') throw new ResourceNotFoundException('The specified cluster is inactive or does not exist.');
      return { tags: c.tags, save: (t) => b.store.clusters.setTags(ref.cluster, t) };
    }
    case 'task-definition': {
      const d = await b.store.taskDefinitions.get(ref.family, ref.revision);
      if (!d) throw new ResourceNotFoundException('The specified task definition does not exist.');
      return { tags: d.tags, save: (t) => b.store.taskDefinitions.setTags(ref.family, ref.revision, t) };
    }
    case 'task': {
      const t = await b.store.tasks.get(ref);
      if (!t) throw new ResourceNotFoundException('The specified task does not exist.');
      return { tags: t.tags, save: (tags) => b.store.tasks.setTags(ref, tags) };
    }
    case 'service': {
      const s = await b.store.services.get(ref);
      if (!s || s.status === 'INACTIVE') throw new ResourceNotFoundException('The specified service does not exist.');
      return { tags: s.tags, save: (tags) => b.store.services.mutate(ref, (current) => ({ ...current, tags })) };
    }
    case 'capacity-provider': {
      const p = await b.store.capacityProviders.get(ref.name);
      if (!p) throw new ResourceNotFoundException('The specified capacity provider does not exist.');
      return { tags: p.tags, save: (tags) => b.store.capacityProviders.setTags(ref.name, tags) };
    }
  }
}

export const TagResource: Operation = async (b, body) => {
  const ref = parseResourceArn(reqString(body, 'resourceArn'));
  const added = readTags(body);
  if (!added || added.length === 0) throw new InvalidParameterException('Tags cannot be empty.');
  const { tags, save } = await tagsOf(b, ref);
  await save(mergeTags(tags, added));
  return {};
};

export const UntagResource: Operation = async (b, body) => {
  const ref = parseResourceArn(reqString(body, 'resourceArn'));
  const keys = optStringList(body, 'tagKeys', 'tagKeys', 50);
  if (!keys || keys.length === 0) throw new InvalidParameterException('tagKeys cannot be empty.');
  const { tags, save } = await tagsOf(b, ref);
  await save(tags.filter((t) => !keys.includes(t.key)));
  return {};
};

export const ListTagsForResource: Operation = async (b, body) => {
  const ref = parseResourceArn(reqString(body, 'resourceArn'));
  const { tags } = await tagsOf(b, ref);
  return { tags: toEcsTags(tags) };
};
