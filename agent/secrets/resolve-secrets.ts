import type { ContainerDefinition } from '../../shared/domain/task-definition';
import { InvalidValueFromError, type SecretRef, parseValueFrom } from '../../shared/domain/value-from';
import { type SecretSource, SecretSourceError } from './secret-source';

const ECS_PREFIX = 'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed';

/**
 * The task cannot start because a secret is unavailable. The message is ECS's stoppedReason
 * and names what failed, never a value.
 */
export class SecretsUnavailableError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`${ECS_PREFIX}: ${detail}`, options);
    this.name = 'SecretsUnavailableError';
  }
}

/** `name=value` lines for each container's secrets, by container name; held in memory only. */
export type SecretEnvironment = Map<string, string[]>;

/** The value a JSON key holds: strings as they are, anything else as JSON. */
function jsonKeyValue(secretString: string, key: string, secretId: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(secretString);
  } catch {
    throw new SecretsUnavailableError(`unable to retrieve secret from asm: secret ${secretId} is not JSON, so it has no json key ${key}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.hasOwn(doc, key)) {
    throw new SecretsUnavailableError(`unable to retrieve secret from asm: retrieved secret from Secrets Manager did not contain json key ${key}`);
  }
  const v = (doc as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Resolves every container's `secrets` through the source, as ECS does at task start: Secrets
 * Manager secrets one by one (each fetched once per task), SSM parameters in batches. Any that
 * is missing fails the whole task with SecretsUnavailableError.
 */
export async function resolveSecrets(containers: readonly ContainerDefinition[], source: SecretSource | undefined): Promise<SecretEnvironment> {
  const wanted = containers.flatMap((c) => (c.secrets ?? []).map((s) => ({ container: c.name, name: s.name, valueFrom: s.valueFrom })));
  const env: SecretEnvironment = new Map();
  if (wanted.length === 0) return env;
  if (!source) throw new SecretsUnavailableError('this host has no secret source configured');
  const refs = wanted.map((w) => {
    try {
      return { ...w, ref: parseValueFrom(w.valueFrom) };
    } catch (e) {
      if (e instanceof InvalidValueFromError) throw new SecretsUnavailableError(e.message, { cause: e });
      throw e;
    }
  });

  const parameterRefs = [...new Set(refs.flatMap((r) => (r.ref.source === 'ssm' ? [r.ref.name] : [])))];
  let parameters = new Map<string, string>();
  if (parameterRefs.length > 0) {
    const r = await source.parameters(parameterRefs).catch(wrap('unable to retrieve secrets from ssm'));
    if (r.invalid.length > 0) throw new SecretsUnavailableError(`unable to retrieve secrets from ssm: invalid parameters: ${r.invalid.join(', ')}`);
    parameters = r.found;
  }

  const fetched = new Map<string, Promise<string>>();
  const secretString = (ref: Extract<SecretRef, { source: 'secretsmanager' }>) => {
    const key = JSON.stringify([ref.secretId, ref.versionStage, ref.versionId]);
    let p = fetched.get(key);
    if (!p) {
      p = source.secretString(ref).catch(wrap('unable to retrieve secret from asm'));
      fetched.set(key, p);
    }
    return p;
  };

  for (const r of refs) {
    let value: string;
    if (r.ref.source === 'ssm') {
      value = parameters.get(r.ref.name)!;
    } else {
      const whole = await secretString(r.ref);
      value = r.ref.jsonKey === undefined ? whole : jsonKeyValue(whole, r.ref.jsonKey, r.ref.secretId);
    }
    env.set(r.container, [...(env.get(r.container) ?? []), `${r.name}=${value}`]);
  }
  return env;
}

const wrap = (what: string) => (e: unknown): never => {
  if (e instanceof SecretSourceError) throw new SecretsUnavailableError(`${what}: ${e.message}`, { cause: e });
  throw new SecretsUnavailableError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
};
