import { ClientException } from './errors';

/**
 * Readers for untrusted request JSON. Each names the field it rejects, so a caller learns
 * exactly what to fix, and none lets a value of the wrong type through to the store.
 */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(field: string, what: string): never {
  throw new ClientException(`Invalid parameter '${field}': ${what}.`);
}

export function optString(o: Json, key: string, field = key, maxLength = 65_536): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(field, 'expected a string');
  if (v.length > maxLength) fail(field, `longer than ${maxLength} characters`);
  return v;
}

export function reqString(o: Json, key: string, field = key, maxLength?: number): string {
  const v = optString(o, key, field, maxLength);
  if (v === undefined || v === '') fail(field, 'is required');
  return v;
}

/** ECS's integers are 32-bit (the model's Integer and BoxedInteger). */
export const MAX_INT32 = 2_147_483_647;

export function optInt(
  o: Json,
  key: string,
  field = key,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(field, 'expected an integer');
  const max = range.max ?? MAX_INT32;
  if (range.min !== undefined && v < range.min) fail(field, `must be at least ${range.min}`);
  if (v > max) fail(field, `must be at most ${max}`);
  return v;
}

export function optBool(o: Json, key: string, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(field, 'expected true or false');
  return v;
}

export function optObject(o: Json, key: string, field = key): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) fail(field, 'expected an object');
  return v;
}

export function optArray(o: Json, key: string, field = key, maxItems = 1000): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(field, 'expected a list');
  if (v.length > maxItems) fail(field, `more than ${maxItems} items`);
  return v;
}

export function optStringList(o: Json, key: string, field = key, maxItems = 1000): string[] | undefined {
  const v = optArray(o, key, field, maxItems);
  if (v === undefined) return undefined;
  v.forEach((s, i) => {
    if (typeof s !== 'string') fail(`${field}[${i}]`, 'expected a string');
  });
  return v as string[];
}

/** A list of objects, each read by `item`, which gets the item and its field path. */
export function optObjectList<T>(
  o: Json,
  key: string,
  item: (v: Json, field: string) => T,
  field = key,
  maxItems = 1000,
): T[] | undefined {
  const v = optArray(o, key, field, maxItems);
  if (v === undefined) return undefined;
  return v.map((x, i) => {
    const path = `${field}[${i}]`;
    if (!isObject(x)) fail(path, 'expected an object');
    return item(x, path);
  });
}

export function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    fail(field, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A map of strings, as ECS takes log options, driver options and labels. */
export function optStringMap(o: Json, key: string, field = key): Record<string, string> | undefined {
  const m = optObject(o, key, field);
  if (!m) return undefined;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail(`${field}.${k}`, 'expected a string');
  }
  return m as Record<string, string>;
}

/** `[{name, value}]` pairs as ECS writes environment variables and other key-value lists. */
export function nameValueList(o: Json, key: string, field = key): { name: string; value: string }[] | undefined {
  return optObjectList(o, key, (x, path) => ({
    name: reqString(x, 'name', `${path}.name`, 1024),
    value: optString(x, 'value', `${path}.value`) ?? '',
  }), field);
}

export interface Tag {
  key: string;
  value: string;
}

/** ECS tags: at most 50, keys 1–128 and values 0–256 characters, `aws:` reserved. */
export function readTags(o: Json, key = 'tags'): Tag[] | undefined {
  const tags = optObjectList(o, key, (x, path) => {
    const k = reqString(x, 'key', `${path}.key`, 128);
    if (k.toLowerCase().startsWith('aws:')) fail(`${path}.key`, "the prefix 'aws:' is reserved");
    return { key: k, value: optString(x, 'value', `${path}.value`, 256) ?? '' };
  }, key, 50);
  return tags;
}

export function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.key, t]));
  for (const t of added) byKey.set(t.key, t);
  if (byKey.size > 50) throw new ClientException('A resource can have at most 50 tags.');
  return [...byKey.values()];
}
