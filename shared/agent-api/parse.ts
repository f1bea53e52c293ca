import type { z } from 'zod';
import { ClientException } from '../domain/errors';

/** A member's name as sent is shown only when it is a plain one: a message never echoes odd input. */
const PLAIN = /^[A-Za-z0-9_-]{1,64}$/;

/** `containers[0].exitCode`, as the ECS API's readers name a field. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => {
    if (typeof p === 'number') return `[${p}]`;
    const key = typeof p === 'string' && PLAIN.test(p) ? p : '(member)';
    return i === 0 ? key : `.${key}`;
  }).join('') || '(body)';
}

/**
 * Parses an untrusted request body with its schema. The first problem is refused as the ECS
 * API's readers refuse one (ClientException naming the field), before anything is read or
 * written; what comes back holds only members the schema knows, each checked.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new ClientException(`Invalid parameter '${fieldOf([...issue.path, issue.keys[0]])}': not a member of this request.`);
  }
  throw new ClientException(`Invalid parameter '${fieldOf(issue.path)}': ${issue.message}.`);
}
