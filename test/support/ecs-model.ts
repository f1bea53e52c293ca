/**
 * Conformance checks against the real ECS service model (botocore's service-2.json, as
 * shipped by Debian's awscli). Protocol tests use it so that a response our API sends is one
 * that the AWS SDKs and CLI, built from that same model, can read: no member the model does
 * not know, no missing required member, every value of the type the model says.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';

const MODEL_PATH = '/usr/lib/python3/dist-packages/awscli/botocore/data/ecs/2014-11-13/service-2.json';
const MODEL_PATH_UNDER_PYTHON = 'dist-packages/awscli/botocore/data/ecs/2014-11-13/service-2.json';

/**
 * Errors every AWS JSON protocol service may return besides its own modelled ones; the SDKs
 * know them without the service model listing them.
 */
export const COMMON_JSON_ERRORS = [
  'UnknownOperationException',
  'SerializationException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'AccessDeniedException',
  'ValidationException',
  'ThrottlingException',
  'MissingAuthenticationTokenException',
] as const;

/**
 * ECS errors newer than the model Debian's awscli ships: RunTask's clientToken (and its
 * ConflictException) came after early 2023. Today's SDKs know them.
 */
export const NEWER_ECS_ERRORS = ['ConflictException'] as const;

/**
 * Enum values newer than the model, as ECS's API reference lists them today: the status a
 * revision has once DeleteTaskDefinitions took it (February 2023), and the account settings
 * added since early 2023. Today's SDKs know them; nothing else is let through.
 */
export const NEWER_ENUM_VALUES: Readonly<Record<string, readonly string[]>> = {
  TaskDefinitionStatus: ['DELETE_IN_PROGRESS'],
  SettingName: ['dualStackIPv6', 'fargateFIPSMode', 'tagResourceAuthorization', 'fargateTaskRetirementWaitPeriod', 'guardDutyActivate', 'defaultLogDriverMode', 'fargateEventWindows'],
};

/**
 * Structure members newer than the model, as ECS's API reference lists them today: a capacity
 * provider's `cluster`, `managedInstancesProvider` (ECS Managed Instances, 2025) and `type`.
 * They are let through unchecked here; the e2e reads them back through today's
 * @aws-sdk/client-ecs, whose types know them.
 */
export const NEWER_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  CapacityProvider: ['cluster', 'managedInstancesProvider', 'type'],
};

export interface ShapeRef {
  readonly shape: string;
}

export interface StructureShape {
  readonly type: 'structure';
  readonly members: Readonly<Record<string, ShapeRef>>;
  readonly required?: readonly string[];
  readonly exception?: boolean;
}

export interface ListShape {
  readonly type: 'list';
  readonly member: ShapeRef;
}

export interface MapShape {
  readonly type: 'map';
  readonly key: ShapeRef;
  readonly value: ShapeRef;
}

export interface StringShape {
  readonly type: 'string';
  readonly enum?: readonly string[];
}

export interface ScalarShape {
  readonly type: 'integer' | 'long' | 'double' | 'float' | 'boolean' | 'timestamp' | 'blob';
}

export type Shape = StructureShape | ListShape | MapShape | StringShape | ScalarShape;

export interface Operation {
  readonly name: string;
  readonly output?: ShapeRef;
}

export interface EcsModel {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly operations: Readonly<Record<string, Operation>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

let cachedModel: EcsModel | undefined;

/** Where the model lives: the Debian path first, then any other python3.x on this host. */
function findModelPath(): string {
  if (existsSync(MODEL_PATH)) return MODEL_PATH;
  const tried = [MODEL_PATH];
  let libEntries: string[] = [];
  try {
    libEntries = readdirSync('/usr/lib');
  } catch {
    // No /usr/lib at all: fall through to the error below, which names what was tried.
  }
  for (const entry of libEntries.filter((name) => /^python3/.test(name)).sort()) {
    const candidate = join('/usr/lib', entry, MODEL_PATH_UNDER_PYTHON);
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `ECS service model not found; install Debian's awscli package (apt-get install awscli). Tried: ${tried.join(', ')}`,
  );
}

/**
 * Another service model awscli ships, e.g. `application-autoscaling/2016-02-06`: the same checks
 * (validateOutput, validateError) take it as their last argument.
 */
export function loadServiceModel(serviceAndVersion: string): EcsModel {
  return JSON.parse(readFileSync(findModelPath().replace('ecs/2014-11-13', serviceAndVersion), 'utf8')) as EcsModel;
}

/**
 * The responses AWS recorded for the AWS CLI's own ECS examples (`awscli/examples/ecs/*.rst`,
 * shipped beside the model): each example's `Output::` block, parsed, in the file's order.
 */
export function recordedExamples(command: string): unknown[] {
  const dir = findModelPath().replace(/botocore\/data\/ecs\/2014-11-13\/service-2\.json$/, 'examples/ecs');
  const text = readFileSync(join(dir, `${command}.rst`), 'utf8');
  return [...text.matchAll(/Output::\s*\n((?:\n| {4}.*\n)+)/g)].map((m) => JSON.parse(m[1].split('\n').map((l) => l.slice(4)).join('\n')));
}

/**
 * Every member path in a JSON value, lists flattened (`tasks[].containers[].name`): what a
 * member-by-member comparison of two responses compares.
 */
export function memberPaths(value: unknown, path = ''): Set<string> {
  const out = new Set<string>();
  const visit = (v: unknown, at: string) => {
    if (Array.isArray(v)) {
      for (const item of v) visit(item, `${at}[]`);
    } else if (isPlainObject(v)) {
      for (const [k, child] of Object.entries(v)) {
        const p = at === '' ? k : `${at}.${k}`;
        out.add(p);
        visit(child, p);
      }
    }
  };
  visit(value, path);
  return out;
}

/** The model, read once per test file: it is half a megabyte and never changes under a run. */
export function loadEcsModel(): EcsModel {
  if (cachedModel === undefined) {
    const path = findModelPath();
    cachedModel = JSON.parse(readFileSync(path, 'utf8')) as EcsModel;
  }
  return cachedModel;
}

function shapeNamed(model: EcsModel, name: string): Shape {
  const shape = model.shapes[name];
  if (shape === undefined) throw new Error(`ECS model has no shape ${name}`);
  return shape;
}

function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const shown = JSON.stringify(value) ?? String(value);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function memberPath(parent: string, member: string): string {
  return parent === '' ? member : `${parent}.${member}`;
}

function where(path: string): string {
  return path === '' ? '(body)' : path;
}

// Pure base64 as the JSON protocols send blobs: padded, standard alphabet, no line breaks.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function validateValue(model: EcsModel, shapeName: string, value: unknown, path: string, problems: string[]): void {
  const at = where(path);
  // JSON.parse never yields undefined; a hand-built body's undefined member is dropped by
  // JSON.stringify, so the callers treat it as absent before reaching here.
  if (value === null) {
    problems.push(`${at}: null is not allowed (the wire never carries null; omit the member)`);
    return;
  }
  const shape = shapeNamed(model, shapeName);
  switch (shape.type) {
    case 'structure': {
      if (!isPlainObject(value)) {
        problems.push(`${at}: expected an object (${shapeName}), got ${show(value)}`);
        return;
      }
      for (const required of shape.required ?? []) {
        if (value[required] === undefined) {
          problems.push(`${memberPath(path, required)}: required member is missing (${shapeName})`);
        }
      }
      for (const [name, member] of Object.entries(value)) {
        if (member === undefined) continue;
        const ref = Object.prototype.hasOwnProperty.call(shape.members, name) ? shape.members[name] : undefined;
        if (ref === undefined) {
          if (NEWER_MEMBERS[shapeName]?.includes(name)) continue;
          problems.push(`${memberPath(path, name)}: unknown member of ${shapeName}`);
          continue;
        }
        validateValue(model, ref.shape, member, memberPath(path, name), problems);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        problems.push(`${at}: expected an array (${shapeName}), got ${show(value)}`);
        return;
      }
      value.forEach((item: unknown, index) => {
        validateValue(model, shape.member.shape, item, `${path}[${index}]`, problems);
      });
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) {
        problems.push(`${at}: expected an object (${shapeName}), got ${show(value)}`);
        return;
      }
      for (const [key, entry] of Object.entries(value)) {
        if (entry === undefined) continue;
        const entryPath = `${path}[${JSON.stringify(key)}]`;
        validateValue(model, shape.key.shape, key, `${entryPath} (key)`, problems);
        validateValue(model, shape.value.shape, entry, entryPath, problems);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        problems.push(`${at}: expected a string (${shapeName}), got ${show(value)}`);
        return;
      }
      if (shape.enum !== undefined && !shape.enum.includes(value) && !(NEWER_ENUM_VALUES[shapeName] ?? []).includes(value)) {
        problems.push(`${at}: ${show(value)} is not one of [${shape.enum.join(', ')}] (${shapeName})`);
      }
      return;
    }
    case 'integer': {
      // An integer shape is a 32-bit int in every SDK; a larger number would overflow a Java
      // or Go client even though JavaScript reads it fine.
      if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
        problems.push(`${at}: expected a 32-bit integer (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    case 'long': {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        problems.push(`${at}: expected an integer (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    case 'double':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push(`${at}: expected a number (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    case 'boolean': {
      if (typeof value !== 'boolean') {
        problems.push(`${at}: expected a boolean (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    case 'timestamp': {
      // JSON 1.1 sends timestamps as epoch seconds (fractional allowed); the SDKs reject an
      // ISO-8601 string here even though the REST protocols would take one.
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push(`${at}: expected a timestamp as epoch seconds (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    case 'blob': {
      if (typeof value !== 'string' || !BASE64.test(value)) {
        problems.push(`${at}: expected a base64 string (${shapeName}), got ${show(value)}`);
      }
      return;
    }
    default: {
      const unknownShape: { type?: unknown } = shape;
      problems.push(`${at}: shape ${shapeName} has type ${String(unknownShape.type)}, unknown to this checker`);
    }
  }
}

/**
 * Every way a JSON 1.1 response body (already parsed) strays from the output shape of
 * `operation`, each as `path: problem`; empty when the body conforms.
 */
/**
 * ECS operations newer than the model: DeleteTaskDefinitions came in February 2023. Its answer
 * is checked part by part against the model's shapes (TaskDefinition, Failures).
 */
const NEWER_OPERATIONS: Record<string, (model: EcsModel, body: unknown, problems: string[]) => void> = {
  DeleteTaskDefinitions: (model, body, problems) => {
    if (!isPlainObject(body)) {
      problems.push(`(body): expected an object, got ${show(body)}`);
      return;
    }
    for (const key of Object.keys(body)) {
      if (key !== 'taskDefinitions' && key !== 'failures') problems.push(`${key}: unknown member of DeleteTaskDefinitionsResponse`);
    }
    const defs = Array.isArray(body.taskDefinitions) ? body.taskDefinitions : [];
    defs.forEach((d: unknown, i: number) => {
      validateValue(model, 'TaskDefinition', d, `taskDefinitions[${i}]`, problems);
    });
    if (body.failures !== undefined) validateValue(model, 'Failures', body.failures, 'failures', problems);
  },
};

export function validateOutput(operation: string, body: unknown, model: EcsModel = loadEcsModel()): string[] {
  const known = Object.prototype.hasOwnProperty.call(model.operations, operation);
  const op = known ? model.operations[operation] : undefined;
  const problems: string[] = [];
  if (op === undefined && Object.prototype.hasOwnProperty.call(NEWER_OPERATIONS, operation)) {
    NEWER_OPERATIONS[operation](model, body, problems);
    return problems;
  }
  if (op === undefined) throw new Error(`${String(model.metadata.serviceId)} model has no operation ${operation}`);
  if (op.output === undefined) {
    // An operation without output still answers `{}` in JSON 1.1.
    if (!isPlainObject(body) || Object.keys(body).length > 0) {
      problems.push(`(body): ${operation} has no output, expected {} but got ${show(body)}`);
    }
    return problems;
  }
  validateValue(model, op.output.shape, body, '', problems);
  return problems;
}

/** The error type an SDK would read from `__type`: the part after any `namespace#`. */
export function errorTypeName(type: string): string {
  return type.slice(type.lastIndexOf('#') + 1);
}

/**
 * Every way an error body strays from what the SDKs parse: a string `__type` naming an ECS
 * error shape or a common AWS JSON error, and a string `message`.
 */
export function validateError(body: unknown, model: EcsModel = loadEcsModel()): string[] {
  if (!isPlainObject(body)) return [`(body): expected an error object, got ${show(body)}`];
  const problems: string[] = [];
  const type = body.__type;
  if (typeof type !== 'string') {
    problems.push(`__type: expected a string, got ${type === undefined ? 'nothing' : show(type)}`);
  } else {
    const name = errorTypeName(type);
    const shape = Object.prototype.hasOwnProperty.call(model.shapes, name) ? model.shapes[name] : undefined;
    const isModelled = shape !== undefined && shape.type === 'structure' && shape.exception === true;
    const isCommon = ([...COMMON_JSON_ERRORS, ...NEWER_ECS_ERRORS] as readonly string[]).includes(name);
    if (!isModelled && !isCommon) {
      problems.push(`__type: ${show(type)} is neither an ECS error shape nor a common AWS JSON error`);
    }
  }
  const message = body.message;
  if (typeof message !== 'string') {
    problems.push(`message: expected a string, got ${message === undefined ? 'nothing' : show(message)}`);
  }
  return problems;
}

/** Fails the current test, listing every problem, unless `body` conforms to `operation`'s output. */
export function expectConforms(operation: string, body: unknown): void {
  const problems = validateOutput(operation, body).map((problem) => `${operation}: ${problem}`);
  expect(problems).toEqual([]);
}

/** Fails the current test unless `body` is a well-formed ECS error, of `type` when given. */
export function expectEcsError(body: unknown, type?: string): void {
  const problems = validateError(body);
  if (type !== undefined && isPlainObject(body) && typeof body.__type === 'string') {
    const actual = errorTypeName(body.__type);
    if (actual !== type) problems.push(`__type: expected ${JSON.stringify(type)}, got ${JSON.stringify(actual)}`);
  }
  expect(problems).toEqual([]);
}

/** Takes every call a recording proxy saw and checks each: a conforming answer, or an ECS error. */
export function expectRecordedCallsConform(calls: { target: string; status: number; body: string }[]): void {
  for (const call of calls.splice(0)) {
    const operation = call.target.split('.').pop()!;
    if (call.status === 200) expectConforms(operation, JSON.parse(call.body));
    else expectEcsError(JSON.parse(call.body));
  }
}
