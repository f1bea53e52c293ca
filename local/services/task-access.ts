import { taskPrincipal } from '../../shared/auth/task-credentials';
import type { Berth } from '../../shared/context';
import { parseValueFrom } from '../../shared/domain/value-from';
import type { Caller } from '../../shared/aws-protocol/operation';
import type { TaskDefinitionRecord } from '../../shared/store';
import { AccessDeniedException } from './errors';

/**
 * Who may read which secret on the local slices, as IAM would say on AWS:
 * - a task's own key (its task role's credentials, see shared/auth/task-credentials.ts) reads
 *   the secrets and parameters its definition names in a container's `secrets`, while the task
 *   is not STOPPED, as a task role's policy would allow;
 * - a host's key reads what the definitions of the tasks it holds now name (containers'
 *   `secrets`, `repositoryCredentials` and awslogs `secretOptions`), as each task's execution
 *   role would allow: a host never reads a secret for a task that is not its own.
 * Nothing else for either: every other secret or parameter is AccessDeniedException. Users and
 * operators are not limited here.
 */

interface Named {
  secretIds: string[];
  parameters: string[];
}

/** The secret references of a definition, by source; `withExecution` adds what the execution role reads. */
function referencesOf(defs: readonly TaskDefinitionRecord[], withExecution: boolean): Named {
  const valueFroms = defs.flatMap((d) => d.containerDefinitions.flatMap((c) => [
    ...(c.secrets ?? []),
    ...(withExecution ? c.logConfiguration?.secretOptions ?? [] : []),
  ].map((s) => s.valueFrom)));
  const refs = valueFroms.map((v) => parseValueFrom(v));
  const credentials = withExecution
    ? defs.flatMap((d) => d.containerDefinitions.flatMap((c) => (c.repositoryCredentials ? [c.repositoryCredentials.credentialsParameter] : [])))
    : [];
  return {
    secretIds: [...refs.flatMap((r) => (r.source === 'secretsmanager' ? [r.secretId] : [])), ...credentials],
    parameters: refs.flatMap((r) => (r.source === 'ssm' ? [r.name] : [])),
  };
}

/** The definitions of the tasks a host holds now: reserved on it, bound to it, not STOPPED. */
async function heldBy(b: Berth, hostId: string): Promise<TaskDefinitionRecord[]> {
  const host = await b.store.hosts.get(hostId);
  const defs = await Promise.all(Object.entries(host?.reservations ?? {}).map(async ([taskId, r]) => {
    const task = await b.store.tasks.get({ cluster: r.cluster, taskId });
    if (!task || task.hostId !== hostId || task.lastStatus === 'STOPPED') return undefined;
    return b.store.taskDefinitions.get(task.family, task.revision);
  }));
  return defs.filter((d): d is TaskDefinitionRecord => d !== undefined);
}

/** What the caller may read; undefined for a caller this does not limit. */
async function namedFor(b: Berth, caller: Caller): Promise<Named | undefined> {
  const p = caller.principal;
  if (p?.principal === 'task') {
    const found = await taskPrincipal(b, p);
    return referencesOf(found ? [found.def] : [], false);
  }
  if (p?.principal === 'host') return referencesOf(p.hostId ? await heldBy(b, p.hostId) : [], true);
  return undefined;
}

/** Throws unless the caller is not limited, or may read the secret (matched as its ARN, whole or partial). */
export async function authorizeSecretRead(
  b: Berth, caller: Caller, operation: string, matches: (secretId: string) => boolean,
): Promise<void> {
  const named = await namedFor(b, caller);
  if (named && !named.secretIds.some(matches)) throw new AccessDeniedException(`secretsmanager:${operation}`);
}

/**
 * Throws unless the caller is not limited, or may read every parameter asked for: a name matches
 * when the names it may mean (`candidatesOf`, for a name or an ARN) meet those of a parameter it
 * may read. One denied name denies the whole call, as IAM does.
 */
export async function authorizeParameterRead(
  b: Berth, caller: Caller, operation: string, requested: readonly string[], candidatesOf: (ref: string) => readonly string[],
): Promise<void> {
  const named = await namedFor(b, caller);
  if (!named) return;
  const allowed = new Set(named.parameters.flatMap((r) => candidatesOf(r)));
  if (!requested.every((ref) => candidatesOf(ref).some((n) => allowed.has(n)))) throw new AccessDeniedException(`ssm:${operation}`);
}
