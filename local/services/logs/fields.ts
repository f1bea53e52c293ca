import type { Json } from '../../../shared/domain/fields';
import { invalid } from './errors';

/**
 * Readers for the Logs slice's request members. They check the constraints of CloudWatch Logs'
 * model and refuse with its InvalidParameterException and its validation wording.
 */
const violation = (member: string, value: unknown, constraint: string) =>
  invalid(`1 validation error detected: Value '${typeof value === 'string' ? value : JSON.stringify(value)}' at '${member}' failed to satisfy constraint: ${constraint}`);

/** Log group names: 1–512 of `[.-_/#A-Za-z0-9]`. */
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
/** Log stream names: 1–512 of anything but `:` and `*`. */
const STREAM_NAME = /^[^:*]*$/;

export function optString(body: Json, member: string, max = 1024): string | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw violation(member, v, 'Member must be a string');
  if (v.length > max) throw violation(member, v, `Member must have length less than or equal to ${max}`);
  return v;
}

function nonEmpty(body: Json, member: string, max: number): string | undefined {
  const v = optString(body, member, max);
  if (v === '') throw violation(member, v, 'Member must have length greater than or equal to 1');
  return v;
}

export function optGroupName(body: Json, member = 'logGroupName'): string | undefined {
  const v = nonEmpty(body, member, 512);
  if (v !== undefined && !GROUP_NAME.test(v)) throw violation(member, v, 'Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+');
  return v;
}

export function reqGroupName(body: Json, member = 'logGroupName'): string {
  const v = optGroupName(body, member);
  if (v === undefined) throw violation(member, null, 'Member must not be null');
  return v;
}

/**
 * The group a read names: `logGroupName`, or `logGroupIdentifier` (a name or an ARN), not both.
 */
export function groupOf(body: Json): string {
  const identifier = nonEmpty(body, 'logGroupIdentifier', 2048);
  const name = optGroupName(body);
  if (identifier !== undefined && name !== undefined) throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  if (identifier !== undefined) {
    const m = /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:([^:]+)(:\*)?$/.exec(identifier);
    const groupName = m ? m[1] : identifier;
    if (!GROUP_NAME.test(groupName)) throw violation('logGroupIdentifier', identifier, 'Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*');
    return groupName;
  }
  if (name === undefined) throw invalid('Either LogGroupName or LogGroupIdentifier must be specified.');
  return name;
}

export function optStreamName(body: Json, member = 'logStreamName'): string | undefined {
  const v = nonEmpty(body, member, 512);
  if (v !== undefined && !STREAM_NAME.test(v)) throw violation(member, v, 'Member must satisfy regular expression pattern: [^:*]*');
  return v;
}

export function reqStreamName(body: Json, member = 'logStreamName'): string {
  const v = optStreamName(body, member);
  if (v === undefined) throw violation(member, null, 'Member must not be null');
  return v;
}

export function optInt(body: Json, member: string, range: { min: number; max: number }): number | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw violation(member, v, 'Member must be an integer');
  if (v < range.min) throw violation(member, v, `Member must have value greater than or equal to ${range.min}`);
  if (v > range.max) throw violation(member, v, `Member must have value less than or equal to ${range.max}`);
  return v;
}

/** Epoch milliseconds, as the model's Timestamp (a non-negative long). */
export const optTimestamp = (body: Json, member: string) => optInt(body, member, { min: 0, max: Number.MAX_SAFE_INTEGER });

export function optBool(body: Json, member: string): boolean | undefined {
  const v = body[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw violation(member, v, 'Member must be a boolean');
  return v;
}

export function optToken(body: Json, member = 'nextToken'): string | undefined {
  return nonEmpty(body, member, 4096);
}
