import { taskPrincipal } from '../../shared/auth/task-credentials';
import type { Berth } from '../../shared/context';
import { parseValueFrom } from '../../shared/domain/value-from';
import type { Caller } from '../../shared/aws-protocol/operation';
import type { TaskDefinitionRecord } from '../../shared/store';
import { heldTasks } from '../../shared/lifecycle/assignments';
import { prePullDefinitions } from '../../shared/lifecycle/pre-pull';
import { AccessDeniedException } from './errors';

/**
 * Who may read which secret on the local slices, as IAM would say on AWS:
 * - a task's own key (its task role's credentials, see shared/auth/task-credentials.ts) reads
 *   the secrets and parameters its definition names in a container's `secrets`, while the task
 *   is not STOPPED, as a task role's policy would allow;
 * - a host's key reads what the definitions of the tasks it holds now name (containers'
 *   `secrets`, `repositoryCredentials` and awslogs `secretOptions`), as each task's execution
 *   role would allow: a host never reads a task secret for a task that is not its own. It also
 *   reads the `repositoryCredentials` of the definitions warm hosts pre-pull (ACTIVE services',
 *   recently run ones): the registry logins of the images it is asked to pull ahead.
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

/** The definitions of the tasks a host holds now. */
async function heldBy(b: Berth, hostId: string): Promise<TaskDefinitionRecord[]> {
  const { tasks } = await heldTasks(b, hostId);
  const defs = await Promise.all(tasks.map((t) => b.store.taskDefinitions.get(t.family, t.revision)));
  return defs.filter((d): d is TaskDefinitionRecord => d !== undefined);
}

/** What the caller may read; undefined for a caller this does not limit. */
async function namedFor(b: Berth, caller: Caller): Promise<Named | undefined> {
  const p = caller.principal;
  if (p?.principal === 'task') {
    const found = await taskPrincipal(b, p);
    return referencesOf(found ? [found.def] : [], false);
  }
  if (p?.principal === 'host') {
    if (!p.hostId) return { secretIds: [], parameters: [] };
    const held = referencesOf(await heldBy(b, p.hostId), true);
    // Warm hosts pull these images before any task asks (lifecycle/pre-pull.ts): their registry logins only.
    const prePulled = (await prePullDefinitions(b).catch(() => [])).flatMap((d) => d.containerDefinitions.flatMap((c) => c.repositoryCredentials?.credentialsParameter ?? []));
    return { ...held, secretIds: [...held.secretIds, ...prePulled] };
  }
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
