import type { PrePullImage } from '../agent-wire/responses';
import type { Berth } from '../context';
import { parseTaskDefinitionRef } from '../domain/arns';
import type { TaskDefinitionRecord } from '../store';

/** Definitions whose tasks were created this recently count as recently run. */
export const PRE_PULL_RECENT_MS = 60 * 60_000;
/** The list is worked out at most this often per control-plane process: it queries two tables. */
export const PRE_PULL_CACHE_MS = 30_000;
/** At most this many images per host, services' first: a host's disk is not a registry mirror. */
export const MAX_PRE_PULL_IMAGES = 32;

const cached = new WeakMap<Berth, { at: number; defs: Promise<TaskDefinitionRecord[]> }>();

/**
 * The definitions warm hosts pull ahead of any task (the image cache Fargate lacks): those of
 * ACTIVE services' deployments, then those run in the last hour, without repeats.
 */
export async function prePullDefinitions(b: Berth): Promise<TaskDefinitionRecord[]> {
  const now = b.now();
  const hit = cached.get(b);
  if (hit && now - hit.at < PRE_PULL_CACHE_MS) return hit.defs;
  const defs = (async () => {
    const services = (await b.store.services.listLive()).filter((s) => s.status === 'ACTIVE');
    const refs = [
      ...services.flatMap((s) => s.deployments.map((d) => parseTaskDefinitionRef(d.taskDefinitionArn) as { family: string; revision: number })),
      ...(await b.store.tasks.definitionsRunSince(now - PRE_PULL_RECENT_MS, now)),
    ];
    const unique = [...new Map(refs.map((r) => [`${r.family}:${r.revision}`, r])).values()];
    const found = await Promise.all(unique.map((r) => b.store.taskDefinitions.get(r.family, r.revision)));
    return found.filter((d): d is TaskDefinitionRecord => d !== undefined);
  })();
  cached.set(b, { at: now, defs });
  // A failure is not kept: the next heartbeat asks again.
  defs.catch(() => cached.get(b)?.defs === defs && cached.delete(b));
  return defs;
}

/** The images of those definitions, each once, with the login its pull needs. */
export async function prePullImages(b: Berth): Promise<PrePullImage[]> {
  const images = new Map<string, PrePullImage>();
  for (const def of await prePullDefinitions(b)) {
    for (const c of def.containerDefinitions) {
      if (images.has(c.image)) continue;
      images.set(c.image, { image: c.image, repositoryCredentials: c.repositoryCredentials, executionRoleArn: def.executionRoleArn });
    }
  }
  return [...images.values()].slice(0, MAX_PRE_PULL_IMAGES);
}
