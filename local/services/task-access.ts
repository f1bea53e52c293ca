import { taskPrincipal } from '../../shared/auth/task-credentials';
import type { Berth } from '../../shared/context';
import { parseValueFrom } from '../../shared/domain/value-from';
import type { Caller } from '../../shared/aws-protocol/operation';
import { AccessDeniedException } from './errors';

/**
 * What a task's own key (its task role's credentials, see shared/auth/task-credentials.ts) may
 * do on the local slices, as a task role's policy would say on AWS: read the secrets and
 * parameters its task definition names in a container's `secrets` (GetSecretValue, GetParameter,
 * GetParameters), while the task is not STOPPED. Nothing else: every other call, and any other
 * secret or parameter, is AccessDeniedException.
 */

/** The definition's secret references, by source. */
async function namedBy(b: Berth, caller: Caller) {
  const found = await taskPrincipal(b, caller.principal);
  if (!found) return undefined;
  const refs = found.def.containerDefinitions.flatMap((c) => (c.secrets ?? []).map((s) => parseValueFrom(s.valueFrom)));
  return {
    secretIds: refs.flatMap((r) => (r.source === 'secretsmanager' ? [r.secretId] : [])),
    parameters: refs.flatMap((r) => (r.source === 'ssm' ? [r.name] : [])),
  };
}

const isTask = (caller: Caller) => caller.principal?.principal === 'task';

/** Throws unless the caller is not a task, or is one whose definition names the secret (matched as its ARN, whole or partial). */
export async function authorizeSecretRead(
  b: Berth, caller: Caller, operation: string, matches: (secretId: string) => boolean,
): Promise<void> {
  if (!isTask(caller)) return;
  const named = await namedBy(b, caller);
  if (!named?.secretIds.some(matches)) throw new AccessDeniedException(`secretsmanager:${operation}`);
}

/**
 * Throws unless the caller is not a task, or is one whose definition names every parameter
 * asked for: a name matches when the names it may mean (`candidatesOf`, for a name or an ARN)
 * meet those of a parameter the definition names. One denied name denies the whole call, as IAM does.
 */
export async function authorizeParameterRead(
  b: Berth, caller: Caller, operation: string, requested: readonly string[], candidatesOf: (ref: string) => readonly string[],
): Promise<void> {
  if (!isTask(caller)) return;
  const named = await namedBy(b, caller);
  const allowed = new Set((named?.parameters ?? []).flatMap((r) => candidatesOf(r)));
  if (!named || !requested.every((ref) => candidatesOf(ref).some((n) => allowed.has(n)))) throw new AccessDeniedException(`ssm:${operation}`);
}
