import { SerializationException } from '../domain/errors';
import type { Json } from '../domain/fields';
import { ValidationException } from './errors';

/**
 * Readers for the slices' request members, failing as AWS's JSON services do: a value of the
 * wrong JSON type is a SerializationException, a constraint of the service model broken is a
 * ValidationException in AWS's words, naming the member in lowerCamelCase.
 */
const memberName = (key: string) => key[0].toLowerCase() + key.slice(1);

const violation = (key: string, constraint: string, value?: unknown): never => {
  const shown = value === undefined ? '' : ` '${String(value).slice(0, 64)}'`;
  throw new ValidationException(`1 validation error detected: Value${shown} at '${memberName(key)}' failed to satisfy constraint: ${constraint}`);
};

const wrongType = (key: string, expected: string): never => {
  throw new SerializationException(`Unexpected value for '${key}': expected ${expected}.`);
};

export function optStr(body: Json, key: string, limits: { min?: number; max?: number } = {}): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') wrongType(key, 'a string');
  const s = v as string;
  if (limits.min !== undefined && s.length < limits.min) violation(key, `Member must have length greater than or equal to ${limits.min}`);
  if (limits.max !== undefined && s.length > limits.max) violation(key, `Member must have length less than or equal to ${limits.max}`);
  return s;
}

/** A required member's value: absent is the model's "must not be null". */
function present<T>(key: string, v: T | undefined): T {
  if (v === undefined) violation(key, 'Member must not be null');
  return v as T;
}

export function reqStr(body: Json, key: string, limits: { min?: number; max?: number } = {}): string {
  return present(key, optStr(body, key, limits));
}

export function optBool(body: Json, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') wrongType(key, 'true or false');
  return v as boolean;
}

export function optInt(body: Json, key: string, limits: { min?: number; max?: number } = {}): number | undefined {
  return optNumber(body, key, limits, true);
}

export function optStrList(body: Json, key: string, limits: { min?: number; max?: number; itemMax?: number } = {}): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) wrongType(key, 'a list');
  const list = v as unknown[];
  if (limits.min !== undefined && list.length < limits.min) violation(key, `Member must have length greater than or equal to ${limits.min}`);
  if (limits.max !== undefined && list.length > limits.max) violation(key, `Member must have length less than or equal to ${limits.max}`);
  for (const item of list) {
    if (typeof item !== 'string') wrongType(key, 'a list of strings');
    if ((item as string).length < 1) violation(key, 'Member must satisfy constraint: [Member must have length greater than or equal to 1]');
    if (limits.itemMax !== undefined && (item as string).length > limits.itemMax) {
      violation(key, `Member must satisfy constraint: [Member must have length less than or equal to ${limits.itemMax}]`);
    }
  }
  return list as string[];
}

/** JSON timestamps of AWS's JSON protocol: epoch seconds, with milliseconds as a fraction. */
export const epochSeconds = (ms: number): number => ms / 1000;

/** A double member (Application Auto Scaling's TargetValue), or an integer one. */
export function optNumber(body: Json, key: string, limits: { min?: number; max?: number } = {}, integer = false): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !(integer ? Number.isSafeInteger(v) : Number.isFinite(v))) wrongType(key, integer ? 'an integer' : 'a number');
  const n = v as number;
  if (limits.min !== undefined && n < limits.min) violation(key, `Member must have value greater than or equal to ${limits.min}`, n);
  if (limits.max !== undefined && n > limits.max) violation(key, `Member must have value less than or equal to ${limits.max}`, n);
  return n;
}

/** A timestamp member, sent as epoch seconds; epoch milliseconds out. */
export function optTimestamp(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) wrongType(key, 'a timestamp in epoch seconds');
  return Math.round((v as number) * 1000);
}

/** A member that must be one of the model's enum values. */
export function optEnum<T extends string>(body: Json, key: string, values: readonly T[]): T | undefined {
  const v = optStr(body, key);
  if (v !== undefined && !(values as readonly string[]).includes(v)) violation(key, `Member must satisfy enum value set: [${values.join(', ')}]`, v);
  return v as T | undefined;
}

export function reqEnum<T extends string>(body: Json, key: string, values: readonly T[]): T {
  return present(key, optEnum(body, key, values));
}

/** A structure member. */
export function optStruct(body: Json, key: string): Json | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) wrongType(key, 'an object');
  return v as Json;
}
