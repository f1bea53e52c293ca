/**
 * Fuzzes the ECS API over HTTP, signed as a client would sign: random JSON and mutations of a
 * valid request for every operation, then raw garbage. Every answer must be a 200 that the ECS
 * model accepts or an ECS-shaped 4xx, none a 5xx or a hang; and afterwards the store may hold
 * only what the fuzzer's 200s account for.
 */
import {
  CreateCapacityProviderCommand, type CreateCapacityProviderCommandInput, CreateClusterCommand, CreateServiceCommand, DescribeTasksCommand,
  RegisterTaskDefinitionCommand, RunTaskCommand,
} from '@aws-sdk/client-ecs';
import fc from 'fast-check';
import { OPERATIONS, TARGET_PREFIX } from '../../shared/ecs-api/operations';
import { registerHost } from '../../shared/lifecycle/reports';
import { TABLES } from '../../shared/store/tables';
import { type StructureShape, loadEcsModel, validateError, validateOutput } from '../support/ecs-model';
import { type Harness, eventually, settledSnapshot, startHarness } from '../support/harness';
import { JSON_1_1, harnessCredentials, signedFetch } from '../support/signed-fetch';

/** A hang fails the request (and so the property) instead of stalling the suite. */
const REQUEST_TIMEOUT_MS = 10_000;
/** More runs for a deeper search on demand: BERTH_FUZZ_SCALE=10 npx jest test/e2e/fuzz.test.ts */
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1);
const RUNS = {
  randomJson: Math.ceil(15 * SCALE),
  randomObject: Math.ceil(10 * SCALE),
  modelShaped: Math.ceil(20 * SCALE),
  randomBytes: Math.ceil(5 * SCALE),
};
// Replays a reported failure: BERTH_FUZZ_SEED=<seed from the report> npx jest test/e2e/fuzz.test.ts -t '<its name>'
if (process.env.BERTH_FUZZ_SEED !== undefined) fc.configureGlobal({ seed: Number(process.env.BERTH_FUZZ_SEED) });
/** Grown bodies stay well under the local server's 10 MB read limit (API Gateway's). */
const MAX_FUZZ_BODY_CHARS = 3 * 1024 * 1024;
/**
 * A property stops after this long, keeping the smallest failure found so far: shrinking a
 * RunTask failure replays hundreds of task launches, and a short report soon beats a minimal
 * one late. Only a loaded machine reaches it without a failure; the runs done then still count.
 */
const PROPERTY_TIME_LIMIT_MS = 20_000;
const PROPERTY_TIMEOUT_MS = 120_000;

const ARN = 'arn:aws:ecs:us-east-1:000000000000';
const FUZZ_PRINCIPAL = 'arn:aws:iam::000000000000:user/fuzz';
const OPERATION_NAMES = Object.keys(OPERATIONS).sort();
/**
 * The operations that take away what the valid requests refer to go last, so that a fuzzed
 * DeleteCluster of `fuzz` cannot turn every later RunTask into ClusterNotFoundException.
 */
const DESTRUCTIVE = ['DeleteCapacityProvider', 'StopTask', 'UpdateContainerInstancesState', 'DeleteService', 'DeregisterTaskDefinition', 'DeleteTaskDefinitions', 'DeleteCluster'];
const FUZZ_ORDER = [...OPERATION_NAMES.filter((o) => !DESTRUCTIVE.includes(o)), ...DESTRUCTIVE.filter((o) => OPERATION_NAMES.includes(o))];

// ---------------------------------------------------------------------------------------------
// The wire: every request the fuzzer sends, and what came back.

interface Sent {
  operation: string;
  /** The X-Amz-Target header, undefined when none was sent. */
  target: string | undefined;
  contentType: string | null;
  /** The parsed request body when it was JSON; for the store check. */
  request: unknown;
  rawBody: Buffer;
  status: number;
  responseContentType: string | null;
  response: unknown;
}

const sent: Sent[] = [];

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function preview(body: Buffer, max = 1500): string {
  const text = body.toString('utf8');
  return text.length > max ? `${text.slice(0, max)}... (${body.length} bytes in all)` : text;
}

let h: Harness;

async function send(
  target: string | undefined,
  body: string | Buffer,
  contentType: string | null = JSON_1_1,
): Promise<Sent> {
  const rawBody = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const res = await signedFetch(h.url, {
    target,
    body: rawBody,
    contentType,
    credentials: harnessCredentials(h),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  const operation = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  const parsed = parseOrUndefined(text);
  const record: Sent = {
    operation,
    target,
    contentType,
    request: parseOrUndefined(rawBody.toString('utf8')),
    rawBody,
    status: res.status,
    responseContentType: res.headers.get('content-type'),
    response: parsed === undefined ? text : parsed,
  };
  sent.push(record);
  return record;
}

const call = (operation: string, body: string | Buffer, contentType?: string | null) =>
  send(`${TARGET_PREFIX}${operation}`, body, contentType);

/** Why this exchange is not a conforming 200 or an ECS-shaped 4xx; empty when it is fine. */
function problemsOf(x: Sent, { allowOk }: { allowOk: boolean }): string[] {
  const problems: string[] = [];
  if (x.responseContentType !== JSON_1_1) problems.push(`content-type: ${String(x.responseContentType)}`);
  if (x.status === 200 && allowOk) {
    problems.push(...validateOutput(x.operation, x.response));
  } else if (x.status >= 400 && x.status < 500) {
    problems.push(...validateError(x.response));
  } else {
    problems.push(`status ${x.status} (expected ${allowOk ? '200 or ' : ''}a 4xx)`);
  }
  return problems;
}

function describeExchange(x: Sent, problems: string[]): string {
  return [
    `${x.target ?? '(no X-Amz-Target)'} answered ${x.status}: ${problems.join('; ')}`,
    `  content-type: ${String(x.contentType)}`,
    `  request:  ${preview(x.rawBody)}`,
    `  response: ${JSON.stringify(x.response)?.slice(0, 1500)}`,
  ].join('\n');
}

function assertWellFormed(x: Sent, options = { allowOk: true }): void {
  const problems = problemsOf(x, options);
  if (problems.length > 0) throw new Error(describeExchange(x, problems));
}

// ---------------------------------------------------------------------------------------------
// What the fuzzer sends.

/** Values of every JSON type, biased to the edges a validator forgets. */
const specialNumber = fc.constantFrom(
  0, -0, -1, 0.5, -2.5, 6, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2,
  1e21, 1e126, -1e126, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER,
);
const specialString = fc.constantFrom(
  '', ' ', 'NaN', 'Infinity', '-Infinity', '-1', '0', '-0', '1.5', '1e999', '0x1F', '1_000', 'null', 'true', '{}', '[]',
  '9'.repeat(400), `1${'0'.repeat(130)}`, `1${'0'.repeat(130)} vCPU`, `1${'0'.repeat(130)} GB`, '100000000000000000000000',
  '9007199254740992', '8796093022208 vCPU', '8796093022208 GB', '0.0001 vCPU', '0 GB', ' 512 ', '512\n',
  '\u0000', '\ud800', '\udfff\ud800', 'é', '💥', '\u202e', '\ufeff', 'ﷺ', 'a\nb', '\\', '"',
  'aws:secret', '__proto__', 'constructor', 'toString', '../../etc/passwd', '%00', "'; DROP TABLE x; --", '${jndi:ldap://x}',
  'fuzz', 'default', 'fuzz-base', 'fuzz-base:1', 'fuzz-base:0', 'fuzz-base:99999999999999999999', 'fuzz-base:-1', 'fuzz-base:1.5',
  `${ARN}:cluster/fuzz`, `${ARN}:cluster/`, `${ARN}:task-definition/fuzz-base:1`, `${ARN}:task/fuzz/${'0'.repeat(32)}`,
  `${ARN}:container-instance/fuzz/fuzz-host`, 'arn:aws:ecs:us-east-1:000000000000:', 'arn:aws:s3:::bucket',
  'FARGATE', 'EC2', 'ACTIVE', 'INACTIVE', 'DRAINING', 'TAGS', 'binpack', 'spread', 'awsvpc', 'STOPPED',
);
/**
 * A long string that a counterexample shows as `'x'.repeat(65537)` rather than in full; JSON
 * writes it out in full.
 */
class LongString {
  constructor(readonly unit: string, readonly length: number) {}
  toJSON(): string {
    return this.unit.repeat(this.length);
  }
  [fc.toStringMethod](): string {
    return `${JSON.stringify(this.unit)}.repeat(${this.length})`;
  }
}
const longString = fc
  .record({ length: fc.constantFrom(129, 256, 1025, 2049, 4097, 65_537, 100_000), unit: fc.constantFrom('x', 'é', '💥', '\ud800') })
  .map(({ length, unit }) => new LongString(unit, length));
const anyString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: specialString, weight: 4 },
  { arbitrary: specialNumber, weight: 3 },
  { arbitrary: anyString, weight: 2 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: fc.array(fc.oneof(specialString, specialNumber, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }), weight: 2 },
  { arbitrary: fc.dictionary(anyString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), weight: 2 },
);

/** Strings that read as numbers, most of them beyond what a 64-bit double holds exactly. */
const numericString = fc
  .record({
    digits: fc.oneof(
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
      fc.bigInt({ min: 2n ** 53n - 2n, max: 2n ** 53n + 2n }),
      fc.bigInt({ min: 0n, max: 200_000n }),
    ),
    unit: fc.constantFrom('', '', ' vCPU', ' GB'),
  })
  .map(({ digits, unit }) => `${digits}${unit}`);

/** A value of the same type as `v`, pushed to an edge: for a replace that a type check lets through. */
const edgeString: fc.Arbitrary<string | LongString> = fc.oneof(
  { arbitrary: numericString, weight: 3 },
  { arbitrary: specialString, weight: 2 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: anyString, weight: 1 },
);
const edgeNumber = fc.oneof(specialNumber, fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }));

function inputShapeOf(operation: string): string | undefined {
  const op = loadEcsModel().operations[operation] as unknown as { input?: { shape: string } } | undefined;
  return op?.input?.shape;
}

/** Every member name anywhere in an operation's input, from the ECS model. */
function inputMemberNames(operation: string): string[] {
  const model = loadEcsModel();
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (shapeName: string) => {
    if (seen.has(shapeName)) return;
    seen.add(shapeName);
    const shape = model.shapes[shapeName];
    if (shape?.type === 'structure') {
      for (const [name, ref] of Object.entries((shape as StructureShape).members)) {
        names.add(name);
        walk(ref.shape);
      }
    } else if (shape?.type === 'list') {
      walk(shape.member.shape);
    } else if (shape?.type === 'map') {
      walk(shape.value.shape);
    }
  };
  const input = inputShapeOf(operation);
  if (input !== undefined) walk(input);
  return [...names].sort();
}

function topLevelMembers(operation: string): string[] {
  const input = inputShapeOf(operation);
  const shape = input === undefined ? undefined : (loadEcsModel().shapes[input] as StructureShape);
  return shape ? Object.keys(shape.members) : [];
}

type Path = (string | number)[];
type Mutation =
  | { kind: 'drop'; at: number }
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'edge'; at: number; text: string | LongString; numeric: string; number: number; other: unknown }
  | { kind: 'insert'; at: number; key: string; value: unknown }
  | { kind: 'deepNest'; at: number; depth: number; as: 'array' | 'object' }
  | { kind: 'grow'; at: number; times: number };

function mutationArb(operation: string): fc.Arbitrary<Mutation> {
  const names = inputMemberNames(operation);
  const key = fc.oneof(
    anyString,
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '__type', 'message', 'Cluster', 'CLUSTER', 'clientToken'),
    ...(names.length > 0 ? [fc.constantFrom(...names)] : []),
  );
  return fc.oneof(
    fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
    { arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: fuzzValue }), weight: 3 },
    {
      arbitrary: fc.record({
        kind: fc.constant('edge' as const), at: fc.nat(), text: edgeString, numeric: numericString, number: edgeNumber, other: fuzzValue,
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), key, value: fuzzValue }), weight: 2 },
    fc.record({
      kind: fc.constant('deepNest' as const), at: fc.nat(),
      depth: fc.constantFrom(64, 1_000, 10_000, 40_000), as: fc.constantFrom('array' as const, 'object' as const),
    }),
    fc.record({ kind: fc.constant('grow' as const), at: fc.nat(), times: fc.constantFrom(0, 11, 51, 101, 1_001) }),
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof LongString);

/**
 * A copy to mutate: fast-check keeps the values it generated to shrink them later, so the
 * fuzzer never changes one in place. Long strings are immutable and stay shared.
 */
function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (!isPlainObject(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) setOwn(out, k, copy(x));
  return out;
}

/**
 * Members and elements below the root, depth first; the first few thousand of a grown request
 * are plenty to pick from, and listing a million would stall the event loop that the server
 * shares with this test.
 */
const MAX_PATHS = 5_000;
function pathsIn(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  const children: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isPlainObject(value) ? Object.entries(value) : [];
  for (const [k, v] of children) {
    if (out.length >= MAX_PATHS) break;
    out.push([...at, k]);
    pathsIn(v, [...at, k], out);
  }
  return out;
}

/** Whether `root` written as JSON would pass `limit` characters, found without writing it. */
function longerThan(root: unknown, limit: number): boolean {
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    total += 2;
    if (typeof v === 'string') total += v.length;
    else if (v instanceof LongString) total += v.unit.length * v.length;
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) { total += k.length; stack.push(x); }
    else total += 24;
    if (total > limit) return true;
  }
  return false;
}

function objectPathsIn(root: unknown): Path[] {
  return [[], ...pathsIn(root)].filter((p) => isPlainObject(getAt(root, p)));
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
}

/** Own, enumerable data properties, so that `__proto__` becomes a member and not a prototype. */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const DEEP = '\u0001fuzz-deep-nest\u0001';

function nested(depth: number, as: 'array' | 'object'): string {
  return as === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** The valid request with the mutations applied, as the JSON text to send; undefined when too long to send. */
function mutate(valid: object, mutations: Mutation[]): string | undefined {
  const root = copy(valid) as Record<string, unknown>;
  let deep: string | undefined;
  for (const m of mutations) {
    if (m.kind === 'insert') {
      const objects = objectPathsIn(root);
      setOwn(getAt(root, objects[m.at % objects.length]) as object, m.key, copy(m.value));
      continue;
    }
    const all = pathsIn(root);
    // An edge value replaces a scalar: a container has no edge of its own type.
    const leaves = all.filter((p) => !isPlainObject(getAt(root, p)) && !Array.isArray(getAt(root, p)));
    const paths = m.kind === 'edge' && leaves.length > 0 ? leaves : all;
    if (paths.length === 0) continue;
    const path = paths[m.at % paths.length];
    const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
    const key = path[path.length - 1];
    switch (m.kind) {
      case 'drop':
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'replace':
        setOwn(parent, key, copy(m.value));
        break;
      case 'edge': {
        const v = (parent as Record<string | number, unknown>)[key];
        // A string that reads as a number ('256', '1 GB') keeps reading as one, only bigger.
        const edge = typeof v === 'string' ? (/^\d/.test(v) ? m.numeric : m.text) : typeof v === 'number' ? m.number : copy(m.other);
        setOwn(parent, key, edge);
        break;
      }
      case 'deepNest':
        // Built as text: a JS value this deep would overflow JSON.stringify's stack here.
        deep = nested(m.depth, m.as);
        setOwn(parent, key, DEEP);
        break;
      case 'grow': {
        const v = (parent as Record<string | number, unknown>)[key];
        // A string becomes `times` characters long; a list `times` items long; anything else a
        // list of `times` of itself. The copies are one value: a later mutation of one is of all.
        if (typeof v === 'string') setOwn(parent, key, (v || 'x').repeat(Math.ceil(m.times / Math.max(v.length, 1))).slice(0, m.times));
        else if (Array.isArray(v)) setOwn(parent, key, Array.from({ length: m.times }, (_, i) => v[i % Math.max(v.length, 1)] ?? 'x'));
        else setOwn(parent, key, Array.from({ length: m.times }, () => v));
        break;
      }
    }
  }
  // Past this the local server stops reading, as API Gateway does: not the API's answer.
  if (longerThan(root, MAX_FUZZ_BODY_CHARS)) return undefined;
  const text = JSON.stringify(root);
  return deep === undefined ? text : text.replace(JSON.stringify(DEEP), deep);
}

/** More mutations for a request with more to mutate: RunTask and RegisterTaskDefinition most. */
function mutationRuns(valid: object): number {
  const leaves = pathsIn(valid).filter((p) => {
    const v = getAt(valid, p);
    return !isPlainObject(v) && !Array.isArray(v);
  }).length;
  return Math.ceil(SCALE * Math.min(200, 40 + 4 * leaves));
}

// ---------------------------------------------------------------------------------------------
// The state the valid requests refer to, made before the fuzzer starts.

interface Fixture {
  victimArn: string;
  victimId: string;
}

/** One valid request per operation, each referring to what the fixture created. */
function validRequests(f: Fixture): Record<string, object> {
  return {
    CreateCluster: { clusterName: 'fuzz-new', tags: [{ key: 'team', value: 'fuzz' }] },
    DescribeClusters: { clusters: ['fuzz', `${ARN}:cluster/fuzz`, 'nope'], include: ['TAGS'] },
    ListClusters: { maxResults: 10 },
    // Its own cluster: a fuzzed DeleteCluster that succeeds must not take the others' away.
    DeleteCluster: { cluster: 'fuzz-doomed' },
    RegisterTaskDefinition: {
      family: 'fuzz-reg',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{
        name: 'app', image: 'localhost/busybox:latest', essential: true, command: ['sh', '-c', 'echo hi'], entryPoint: ['/bin/sh'],
        cpu: 128, memory: 256, memoryReservation: 128,
        environment: [{ name: 'A', value: '1' }], portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
        secrets: [{ name: 'TOKEN', valueFrom: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tok' }],
        healthCheck: { command: ['CMD-SHELL', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 0 },
        ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 1024 }],
        logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } },
        stopTimeout: 10, workingDirectory: '/', user: 'nobody',
      }, {
        name: 'side', image: 'localhost/busybox:latest', essential: false, memoryReservation: 64,
        dependsOn: [{ containerName: 'app', condition: 'HEALTHY' }],
      }],
      taskRoleArn: 'arn:aws:iam::000000000000:role/task',
      executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      tags: [{ key: 'team', value: 'fuzz' }],
    },
    DescribeTaskDefinition: { taskDefinition: 'fuzz-base:1', include: ['TAGS'] },
    // Its own family: a fuzzed deregistration must not make fuzz-base unrunnable.
    DeregisterTaskDefinition: { taskDefinition: 'fuzz-dereg:1' },
    ListTaskDefinitions: { familyPrefix: 'fuzz', status: 'ACTIVE', sort: 'DESC', maxResults: 5 },
    ListTaskDefinitionFamilies: { familyPrefix: 'fuzz', status: 'ALL', maxResults: 5 },
    RunTask: {
      cluster: 'fuzz',
      taskDefinition: 'fuzz-base:1',
      count: 1,
      launchType: 'FARGATE',
      startedBy: 'fuzzer',
      group: 'family:fuzz-base',
      overrides: {
        containerOverrides: [{ name: 'app', command: ['echo', 'hi'], environment: [{ name: 'A', value: '1' }], cpu: 128, memory: 256, memoryReservation: 128 }],
        cpu: '256',
        memory: '512',
      },
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
      tags: [{ key: 'team', value: 'fuzz' }],
      // No clientToken: with one, every mutation that passes validation would end in
      // ConflictException and never reach the store. The fuzzer inserts one now and then.
    },
    StopTask: { cluster: 'fuzz', task: f.victimArn, reason: 'fuzz' },
    DescribeTasks: { cluster: 'fuzz', tasks: [f.victimArn, f.victimId], include: ['TAGS'] },
    ListTasks: { cluster: 'fuzz', family: 'fuzz-base', startedBy: 'victim', desiredStatus: 'STOPPED', launchType: 'FARGATE', maxResults: 10 },
    TagResource: { resourceArn: `${ARN}:cluster/fuzz`, tags: [{ key: 'a', value: 'b' }] },
    UntagResource: { resourceArn: `${ARN}:task-definition/fuzz-base:1`, tagKeys: ['a'] },
    ListTagsForResource: { resourceArn: f.victimArn },
    ListContainerInstances: { cluster: 'fuzz', status: 'ACTIVE', maxResults: 10 },
    DescribeContainerInstances: { cluster: 'fuzz', containerInstances: ['fuzz-host', `${ARN}:container-instance/fuzz/fuzz-host`] },
    UpdateContainerInstancesState: { cluster: 'fuzz', containerInstances: ['fuzz-host'], status: 'DRAINING' },
    CreateService: {
      cluster: 'fuzz', serviceName: 'fuzz-new-svc', taskDefinition: 'fuzz-base:1', desiredCount: 2, launchType: 'FARGATE',
      schedulingStrategy: 'REPLICA', clientToken: 'fuzz-token',
      deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 150, deploymentCircuitBreaker: { enable: true, rollback: true } },
      placementStrategy: [{ type: 'spread', field: 'instanceId' }], placementConstraints: [{ type: 'distinctInstance' }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
      healthCheckGracePeriodSeconds: 10, tags: [{ key: 'team', value: 'fuzz' }], propagateTags: 'SERVICE', enableECSManagedTags: true,
    },
    UpdateService: {
      cluster: 'fuzz', service: 'fuzz-svc', desiredCount: 1, taskDefinition: 'fuzz-base:1', forceNewDeployment: false,
      deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 }, healthCheckGracePeriodSeconds: 5,
      placementStrategy: [{ type: 'binpack', field: 'cpu' }], propagateTags: 'TASK_DEFINITION', enableECSManagedTags: false,
    },
    DescribeServices: { cluster: 'fuzz', services: ['fuzz-svc', `${ARN}:service/fuzz/fuzz-svc`, 'nope'], include: ['TAGS'] },
    ListServices: { cluster: 'fuzz', launchType: 'FARGATE', schedulingStrategy: 'REPLICA', maxResults: 10 },
    // Its own service: a fuzzed deletion must not take fuzz-svc away from UpdateService.
    DeleteService: { cluster: 'fuzz', service: 'fuzz-svc-doomed', force: true },
    // fuzz-base:1 is ACTIVE, so it stays: a failure in the answer, not a deletion.
    DeleteTaskDefinitions: { taskDefinitions: ['fuzz-dereg:1', 'fuzz-base:1'] },
    UpdateCluster: {
      cluster: 'fuzz', settings: [{ name: 'containerInsights', value: 'enhanced' }], serviceConnectDefaults: { namespace: '' },
      configuration: { executeCommandConfiguration: { kmsKeyId: 'k', logging: 'OVERRIDE', logConfiguration: {
        cloudWatchLogGroupName: 'g', cloudWatchEncryptionEnabled: true, s3BucketName: 'b', s3EncryptionEnabled: false, s3KeyPrefix: 'p',
      } } },
    },
    UpdateClusterSettings: { cluster: 'fuzz', settings: [{ name: 'containerInsights', value: 'enabled' }] },
    PutClusterCapacityProviders: {
      cluster: 'fuzz', capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', weight: 2 }],
    },
    PutAccountSetting: { name: 'awsvpcTrunking', value: 'enabled', principalArn: FUZZ_PRINCIPAL },
    PutAccountSettingDefault: { name: 'fargateTaskRetirementWaitPeriod', value: '14' },
    ListAccountSettings: { name: 'awsvpcTrunking', value: 'enabled', principalArn: FUZZ_PRINCIPAL, effectiveSettings: true, maxResults: 5 },
    DeleteAccountSetting: { name: 'awsvpcTrunking', principalArn: FUZZ_PRINCIPAL },
    CreateCapacityProvider: { ...FUZZ_POOL, name: 'fuzz-new-pool', tags: [{ key: 'team', value: 'fuzz' }] },
    DescribeCapacityProviders: { capacityProviders: ['fuzz-pool', 'FARGATE', 'nope'], include: ['TAGS'], maxResults: 5 },
    UpdateCapacityProvider: {
      name: 'fuzz-pool', cluster: 'fuzz',
      managedInstancesProvider: { ...FUZZ_POOL.managedInstancesProvider, instanceLaunchTemplate: { instanceRequirements: { vCpuCount: { min: 2 }, memoryMiB: { min: 4096 } } } },
    },
    // Its own provider: a fuzzed deletion must not take fuzz-pool away from UpdateCapacityProvider.
    DeleteCapacityProvider: { capacityProvider: 'fuzz-pool-doomed', cluster: 'fuzz' },
  };
}

/** A pool of the fleet, as CreateCapacityProvider takes one. */
const FUZZ_POOL = {
  cluster: 'fuzz',
  managedInstancesProvider: {
    infrastructureRoleArn: 'arn:aws:iam::000000000000:role/ecsInfrastructureRole',
    propagateTags: 'CAPACITY_PROVIDER',
    instanceLaunchTemplate: {
      ec2InstanceProfileArn: 'arn:aws:iam::000000000000:instance-profile/ecsInstanceRole',
      networkConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'] },
      capacityOptionType: 'SPOT',
      instanceRequirements: { vCpuCount: { min: 2, max: 4 }, memoryMiB: { min: 4096 }, allowedInstanceTypes: ['c6i.*', 'm6i.large'] },
    },
  },
};

const fargateDefinition = (family: string) => ({
  family,
  requiresCompatibilities: ['FARGATE' as const],
  networkMode: 'awsvpc' as const,
  cpu: '256',
  memory: '512',
  containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest', command: ['sleep', '1'] }],
});

// ---------------------------------------------------------------------------------------------
// The store check: what appeared or changed must follow from a 200.

type Snapshot = Record<string, unknown[]>;

function keyOf(table: string, item: unknown): string {
  const schema = (TABLES as Record<string, { hashKey: string; rangeKey: string | undefined }>)[table];
  const record = item as Record<string, unknown>;
  if (schema === undefined) return JSON.stringify(item);
  return schema.rangeKey === undefined ? String(record[schema.hashKey]) : `${String(record[schema.hashKey])}:${String(record[schema.rangeKey])}`;
}

interface Change {
  table: string;
  key: string;
  kind: 'created' | 'changed' | 'removed';
}

function changesBetween(before: Snapshot, after: Snapshot): Change[] {
  const changes: Change[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = new Map((before[table] ?? []).map((i) => [keyOf(table, i), JSON.stringify(i)]));
    const now = new Map((after[table] ?? []).map((i) => [keyOf(table, i), JSON.stringify(i)]));
    for (const [key, item] of now) {
      if (!old.has(key)) changes.push({ table, key, kind: 'created' });
      else if (old.get(key) !== item) changes.push({ table, key, kind: 'changed' });
    }
    for (const key of old.keys()) if (!now.has(key)) changes.push({ table, key, kind: 'removed' });
  }
  return changes;
}

const clusterOfArn = (arn: unknown) => (typeof arn === 'string' ? /:cluster\/([^/]+)$/.exec(arn)?.[1] : undefined);
const taskOfArn = (arn: unknown) => (typeof arn === 'string' ? /:task\/([^/]+)\/([a-f0-9]{32})$/.exec(arn) : null);
const serviceOfArn = (arn: unknown) => (typeof arn === 'string' ? /:service\/([^/]+)\/([^/]+)$/.exec(arn) : null);
const definitionOfArn = (arn: unknown) => (typeof arn === 'string' ? /:task-definition\/([^:/]+):(\d+)$/.exec(arn) : null);

/** Which items the fuzzer's 200s may have created or changed, table by table. */
function accountedFor(exchanges: Sent[]): Record<string, Set<string>> {
  const may: Record<string, Set<string>> = {
    clusters: new Set(), taskDefinitions: new Set(), tasks: new Set(), hosts: new Set(), clientTokens: new Set(), demand: new Set(),
    services: new Set(), accountSettings: new Set(), capacityProviders: new Set(), usage: new Set(),
  };
  for (const x of exchanges) {
    if (x.status !== 200 || !isPlainObject(x.response)) continue;
    const res = x.response as Record<string, any>;
    const req = isPlainObject(x.request) ? x.request : {};
    switch (x.operation) {
      case 'CreateCluster':
      case 'DeleteCluster':
        may.clusters.add(res.cluster?.clusterName);
        break;
      case 'RegisterTaskDefinition': {
        const d = res.taskDefinition;
        may.taskDefinitions.add(`${d?.family}:${d?.revision}`);
        may.taskDefinitions.add(`${d?.family}:0`); // the family's revision counter
        break;
      }
      case 'DeregisterTaskDefinition':
        may.taskDefinitions.add(`${res.taskDefinition?.family}:${res.taskDefinition?.revision}`);
        break;
      case 'RunTask':
        for (const t of (res.tasks ?? []) as { taskArn?: string; clusterArn?: string }[]) {
          const m = taskOfArn(t.taskArn);
          if (!m) continue;
          may.tasks.add(`${m[1]}:${m[2]}`);
          // The meter's record of the task, once it stops.
          may.usage.add(`${m[1]}:${m[2]}`);
          may.demand.add(m[2]);
          // RunTask brings `default` into being on first use, as ECS does.
          may.clusters.add(m[1]);
          if (typeof req.clientToken === 'string') may.clientTokens.add(`${m[1]}#${req.clientToken}`);
        }
        break;
      case 'StopTask': {
        const m = taskOfArn(res.task?.taskArn);
        if (m) may.tasks.add(`${m[1]}:${m[2]}`);
        break;
      }
      case 'TagResource':
      case 'UntagResource': {
        const cluster = clusterOfArn(req.resourceArn);
        const def = definitionOfArn(req.resourceArn);
        const task = taskOfArn(req.resourceArn);
        const service = serviceOfArn(req.resourceArn);
        if (service) may.services.add(`${service[1]}:${service[2]}`);
        if (cluster) may.clusters.add(cluster);
        if (def) may.taskDefinitions.add(`${def[1]}:${Number(def[2])}`);
        if (task) may.tasks.add(`${task[1]}:${task[2]}`);
        const provider = typeof req.resourceArn === 'string' ? /:capacity-provider\/([^/]+)$/.exec(req.resourceArn) : null;
        if (provider) may.capacityProviders.add(provider[1]);
        break;
      }
      case 'CreateCapacityProvider':
      case 'UpdateCapacityProvider':
      case 'DeleteCapacityProvider':
        may.capacityProviders.add(res.capacityProvider?.name);
        // A provider joins and leaves its cluster's list.
        if (x.operation !== 'UpdateCapacityProvider') may.clusters.add(res.capacityProvider?.cluster);
        break;
      case 'CreateService':
      case 'UpdateService':
      case 'DeleteService': {
        const m = serviceOfArn(res.service?.serviceArn);
        if (m) may.services.add(`${m[1]}:${m[2]}`);
        // CreateService brings `default` into being on first use, as RunTask does.
        if (m && x.operation === 'CreateService') may.clusters.add(m[1]);
        break;
      }
      case 'UpdateCluster':
      case 'UpdateClusterSettings':
      case 'PutClusterCapacityProviders':
        may.clusters.add(res.cluster?.clusterName);
        break;
      case 'DeleteTaskDefinitions':
        for (const d of (res.taskDefinitions ?? []) as { family?: string; revision?: number }[]) may.taskDefinitions.add(`${d.family}:${d.revision}`);
        break;
      case 'PutAccountSetting':
      case 'PutAccountSettingDefault':
      case 'DeleteAccountSetting':
        may.accountSettings.add(`${res.setting?.principalArn}:${res.setting?.name}`);
        break;
      case 'UpdateContainerInstancesState':
        for (const ci of (res.containerInstances ?? []) as { ec2InstanceId?: string }[]) may.hosts.add(String(ci.ec2InstanceId));
        break;
      default:
    }
  }
  return may;
}

// ---------------------------------------------------------------------------------------------

describe('ECS API under fuzzing', () => {
  let fixture: Fixture;
  let before: Snapshot;
  let valid: Record<string, object>;

  beforeAll(async () => {
    // A short placement deadline: the fuzzer's tasks find no room and stop within seconds.
    h = await startHarness({ config: { placementTimeoutSeconds: 1 } });
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'fuzz' }));
    await h.ecs.send(new CreateClusterCommand({ clusterName: 'fuzz-doomed' }));
    await h.ecs.send(new RegisterTaskDefinitionCommand(fargateDefinition('fuzz-base')));
    await h.ecs.send(new RegisterTaskDefinitionCommand(fargateDefinition('fuzz-dereg')));
    for (const name of ['fuzz-pool', 'fuzz-pool-doomed']) {
      await h.ecs.send(new CreateCapacityProviderCommand({ ...FUZZ_POOL, name } as CreateCapacityProviderCommandInput));
    }
    // Too small for any task: placements fail fast and leave no reservations behind.
    await registerHost(h.berth, { hostId: 'fuzz-host', cpu: 1, memory: 6 });
    for (const serviceName of ['fuzz-svc', 'fuzz-svc-doomed']) {
      await h.ecs.send(new CreateServiceCommand({ cluster: 'fuzz', serviceName, taskDefinition: 'fuzz-base:1', desiredCount: 0 }));
    }
    const run = await h.ecs.send(new RunTaskCommand({ cluster: 'fuzz', taskDefinition: 'fuzz-base:1', startedBy: 'victim' }));
    const victimArn = run.tasks![0].taskArn!;
    fixture = { victimArn, victimId: victimArn.split('/').pop()! };
    await eventually(async () => {
      const d = await h.ecs.send(new DescribeTasksCommand({ cluster: 'fuzz', tasks: [victimArn] }));
      return d.tasks?.[0]?.lastStatus === 'STOPPED';
    }, 15_000, 'the victim task to stop');
    valid = validRequests(fixture);
    before = await settledSnapshot(h);
  }, 60_000);

  afterAll(async () => {
    const histogram: Record<number, number> = {};
    for (const x of sent) histogram[x.status] = (histogram[x.status] ?? 0) + 1;
    console.log(`fuzz: ${sent.length} requests sent; statuses ${JSON.stringify(histogram)}`);
    await h?.close();
  });

  it('has a valid request for every operation, and each is answered 200', async () => {
    expect(Object.keys(valid).sort()).toEqual(OPERATION_NAMES);
    for (const operation of FUZZ_ORDER) {
      const x = await call(operation, JSON.stringify(valid[operation]));
      expect(problemsOf(x, { allowOk: true }).map((p) => `${operation}: ${p}`)).toEqual([]);
      expect([operation, x.status]).toEqual([operation, 200]);
    }
  });

  // Each found by the fuzzer (or by probing what it found) and kept so that it stays found.
  describe('requests found by fuzzing', () => {
    const runWith = (overrides: object, extra: object = {}) => ({ cluster: 'fuzz', taskDefinition: 'fuzz-base:1', overrides, ...extra });

    it.each([
      ['a task cpu override past 2^53 units', runWith({ cpu: '9007199254740992' })],
      ['a task memory override past 2^53 MiB', runWith({ memory: '9007199254740992' })],
      ['a task cpu override in vCPU past 2^53 units', runWith({ cpu: '8796093022208 vCPU' })],
      ['a task cpu override of 131 digits', runWith({ cpu: `1${'0'.repeat(130)}` })],
      ['a task cpu override past 2^53 units, with a clientToken', runWith({ cpu: '9007199254740992' }, { clientToken: 'fuzz-found' })],
    ])('RunTask with %s: a 4xx', async (_what, body) => {
      assertWellFormed(await call('RunTask', JSON.stringify(body)), { allowOk: false });
    });

    it.each([
      ['a task cpu past 2^53 units', { cpu: '9007199254740992', memory: '512' }, [{ name: 'app', image: 'busybox' }]],
      ['a task cpu of 131 digits', { cpu: `1${'0'.repeat(130)}`, memory: '512' }, [{ name: 'app', image: 'busybox' }]],
      ['containers whose memory sums past 2^53 MiB', {}, [
        { name: 'a', image: 'busybox', memory: Number.MAX_SAFE_INTEGER },
        { name: 'b', image: 'busybox', memory: Number.MAX_SAFE_INTEGER },
      ]],
    ])('RegisterTaskDefinition with %s, then RunTask of it: each a conforming 200 or a 4xx', async (_what, size, containerDefinitions) => {
      const family = `fuzz-found-${sent.length}`;
      const register = await call('RegisterTaskDefinition', JSON.stringify({ family, ...size, containerDefinitions }));
      const run = await call('RunTask', JSON.stringify({ cluster: 'fuzz', taskDefinition: family }));
      // Both, so that one report shows each step that went wrong.
      const reports = [register, run].flatMap((x) => {
        const problems = problemsOf(x, { allowOk: true });
        return problems.length > 0 ? [describeExchange(x, problems)] : [];
      });
      if (reports.length > 0) throw new Error(reports.join('\n'));
    });
  });

  describe.each(FUZZ_ORDER)('%s', (operation) => {
    it('answers random JSON with a conforming 200 or an ECS-shaped 4xx', async () => {
      await fc.assert(fc.asyncProperty(fc.json({ maxDepth: 4 }), async (text) => {
        assertWellFormed(await call(operation, text));
      }), { numRuns: RUNS.randomJson });
      await fc.assert(fc.asyncProperty(fc.object({ maxDepth: 3 }), async (body) => {
        assertWellFormed(await call(operation, JSON.stringify(body)));
      }), { numRuns: RUNS.randomObject });
      // The operation's own member names, each with a value of any type.
      const members = topLevelMembers(operation);
      if (members.length > 0) {
        await fc.assert(fc.asyncProperty(fc.dictionary(fc.constantFrom(...members), fuzzValue, { maxKeys: members.length }), async (body) => {
          assertWellFormed(await call(operation, JSON.stringify(body)));
        }), { numRuns: RUNS.modelShaped });
      }
    }, PROPERTY_TIMEOUT_MS);

    it('answers mutations of a valid request with a conforming 200 or an ECS-shaped 4xx', async () => {
      await fc.assert(fc.asyncProperty(fc.array(mutationArb(operation), { minLength: 1, maxLength: 3 }), async (mutations) => {
        const body = mutate(valid[operation], mutations);
        fc.pre(body !== undefined);
        assertWellFormed(await call(operation, body));
      }), { numRuns: mutationRuns(valid[operation]), interruptAfterTimeLimit: PROPERTY_TIME_LIMIT_MS });
    }, PROPERTY_TIMEOUT_MS);
  });

  describe('raw garbage', () => {
    const TARGET = (operation: string) => `${TARGET_PREFIX}${operation}`;
    const invalidUtf8 = [
      Buffer.from([0xff, 0xfe, 0xfd]),
      Buffer.concat([Buffer.from('{'), Buffer.from([0xc0, 0xaf]), Buffer.from('}')]),
      Buffer.concat([Buffer.from('{"clusterName":"'), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ];
    const scalars = ['1', '-1.5e300', '"a string"', 'true', 'null', '[]', '[{}]', '[1,2,3]', '\ufeff{}', '{"a":1}{"b":2}', '{', '}', '{"a":}', '{"a" 1}', 'NaN'];

    it.each(OPERATION_NAMES)('%s: random bytes, invalid UTF-8 and JSON that is not an object get an ECS-shaped 4xx', async (operation) => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        // Random bytes that happen to be a JSON object are not garbage.
        const asText = parseOrUndefined(Buffer.from(bytes).toString('utf8'));
        const x = await call(operation, Buffer.from(bytes));
        assertWellFormed(x, { allowOk: isPlainObject(asText) });
      }), { numRuns: RUNS.randomBytes });
      for (const body of [...invalidUtf8.slice(0, 2), ...scalars]) assertWellFormed(await call(operation, body), { allowOk: false });
    });

    it('answers CreateCluster with an invalid UTF-8 name with an ECS-shaped 4xx', async () => {
      assertWellFormed(await call('CreateCluster', invalidUtf8[2]), { allowOk: false });
    });

    it('answers an empty body as the empty request, with a conforming 200 or an ECS-shaped 4xx', async () => {
      // AWS's JSON protocols read no body as `{}`; operations with required members refuse it.
      for (const operation of OPERATION_NAMES) assertWellFormed(await call(operation, ''));
    });

    it.each([
      ['no X-Amz-Target', undefined],
      ['an empty X-Amz-Target', ''],
      ['an unknown operation', TARGET('LaunchRockets')],
      ['an inherited property as operation', TARGET('__proto__')],
      ['another service\'s prefix', 'DynamoDB_20120810.ListTables'],
      ['the prefix alone', TARGET_PREFIX],
      ['the operation without its prefix', 'ListClusters'],
      ['a lower-case operation', TARGET('listclusters')],
      ['trailing garbage', `${TARGET('ListClusters')}.x`],
      ['a very long target', TARGET('A'.repeat(8000))],
    ])('refuses %s with an ECS-shaped 4xx', async (_what, target) => {
      assertWellFormed(await send(target, '{}'), { allowOk: false });
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['application/json', 'application/json'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['no Content-Type', null],
    ])('refuses garbage sent as %s with an ECS-shaped 4xx', async (_what, contentType) => {
      for (const body of ['not json', '[1]', Buffer.from([0x00, 0xff, 0x10])]) {
        assertWellFormed(await call('ListClusters', body, contentType), { allowOk: false });
      }
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['form data', 'application/x-www-form-urlencoded'],
      ['no Content-Type', null],
    ])('refuses a well-formed request sent as %s with an ECS-shaped 4xx', async (_what, contentType) => {
      assertWellFormed(await call('ListClusters', '{}', contentType), { allowOk: false });
    });

    it.each([
      ['300 KB', 300 * 1024],
      ['2 MB', 2 * 1024 * 1024],
    ])('refuses a %s body with an ECS-shaped 4xx (413 allowed)', async (_what, bytes) => {
      const request = JSON.stringify({ ...valid.RegisterTaskDefinition, family: 'fuzz-oversized' });
      const padded = `${request.slice(0, -1)},"pad":"${'x'.repeat(bytes - request.length)}"}`;
      for (const operation of ['RegisterTaskDefinition', 'RunTask', 'ListClusters']) {
        assertWellFormed(await call(operation, padded), { allowOk: false });
      }
      assertWellFormed(await call('CreateCluster', Buffer.alloc(bytes, 0x7b)), { allowOk: false });
    });
  });

  it('leaves in the store only what its 200 responses account for', async () => {
    const after = await settledSnapshot(h);
    const may = accountedFor(sent);
    const unaccounted = changesBetween(before, after)
      .filter((c) => !(c.table === 'demand' && c.kind === 'removed'))
      // Only DeleteAccountSetting and DeleteCapacityProvider remove an item; a removal anywhere else is never accounted for.
      .filter((c) => (c.kind === 'removed' && c.table !== 'accountSettings' && c.table !== 'capacityProviders') || !may[c.table]?.has(c.key));
    expect(unaccounted).toEqual([]);
    // What the fuzzer created stays within reason: no request made more than RunTask's ten tasks.
    expect(after.tasks.length - before.tasks.length).toBeLessThanOrEqual(10 * sent.filter((x) => x.operation === 'RunTask' && x.status === 200).length);
  }, 60_000);
});
