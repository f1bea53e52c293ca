/**
 * Packages the service with osls (offline, no AWS credentials) and checks the CloudFormation
 * template it produces against the code: the handlers exist and are exported by the artifact,
 * the tables are the ones in shared/store/tables.ts, the state machines are the ASL files and
 * call only functions of this stack, and every role grants only what its function uses.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

import { createHash } from 'node:crypto';
import { AGENT_BUNDLE_FILE, agentBundleKey } from '../../deploy/host-user-data';
import { LAMBDA_VARIABLES } from '../../shared/environment';
import { sdkActionsOf } from '../support/sdk-actions';
import { KEY_TYPES, TABLES, globalIndexDeclaration, globalIndexesOf, keyAttributesOf, localIndexesOf, tableNames } from '../../shared/store/tables';

const run = promisify(execFile);

const REPO = resolve(__dirname, '../..');
const STAGE = 'dev';
const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
const TABLE_PREFIX = `berth-${STAGE}-`;
type Workflow = 'launch' | 'stop';
const ASL_FILES: Record<Workflow, string> = {
  launch: 'shared/workflows/task-launch.asl.json',
  stop: 'shared/workflows/task-stop.asl.json',
};
/** Packaging bundles every function with esbuild: about a minute on a calm 2-core machine, over three when other work shares it. The bound only guards a hang. */
const PACKAGE_TIMEOUT_MS = 420_000;
const USERS_STATE_MACHINES = `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:*`;

/**
 * When Lambda deprecates each Node.js runtime (its runtime deprecation schedule): after that day
 * no new function can be created on it, so a new stack would fail. A runtime missing here fails
 * the test too, until someone looks its date up.
 */
const NODE_RUNTIME_DEPRECATION: Record<string, string> = {
  'nodejs18.x': '2025-09-01',
  'nodejs20.x': '2026-04-30',
  'nodejs22.x': '2027-04-30',
  'nodejs24.x': '2028-04-30',
};

/** serverless.yml function key → handler. The keys are the names the ASL files reference. */
const FUNCTIONS: Record<string, string> = {
  api: 'functions/api.handler',
  agent: 'functions/agent.handler',
  operator: 'functions/operator.handler',
  operatorKey: 'functions/operator.createOperatorKey',
  teardown: 'functions/teardown.handler',
  capacity: 'functions/capacity.handler',
  services: 'functions/services.handler',
  autoscaling: 'functions/autoscaling.handler',
  spot: 'functions/spot.handler',
  place: 'functions/lifecycle.place',
  start: 'functions/lifecycle.start',
  awaitRunning: 'functions/lifecycle.awaitRunning',
  awaitStopped: 'functions/lifecycle.awaitStopped',
  requestStop: 'functions/lifecycle.requestStop',
  markStopped: 'functions/lifecycle.markStopped',
  release: 'functions/lifecycle.release',
  schedulerApi: 'functions/schedules.api',
  fireSchedule: 'functions/schedules.fire',
  batch: 'functions/batch.handler',
  recordUsage: 'functions/lifecycle.recordUsage',
  billing: 'functions/billing.handler',
};

const DATA_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:BatchGetItem',
  // The demand, account-setting and capacity-provider stores delete items.
  'dynamodb:DeleteItem',
];
const LOG_ACTIONS = ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'];
const TASK_RESPONSE_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure'];

/** The log group of EMF metrics records (serverless.yml custom.metricsLogGroup). */
const METRICS_LOG_GROUP = '/berth/metrics';

/** What each handler file may do, which state machines it may start, and which log groups besides its own it writes. */
const GRANTS: Record<string, { actions: string[]; startable: Workflow[]; logGroups?: string[]; userQueues?: boolean }> = {
  // Scheduler's API (the schedule tables, SigV4's key lookup, the timers and passing their role)
  // and the timers' target (RunTask, and removing a finished schedule's timer).
  'functions/schedules': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, 'dynamodb:DeleteItem', 'kms:Decrypt', 'states:StartExecution', 'lambda:InvokeFunction',
      'scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'iam:PassRole',
      // A dropped due time to the schedule's dead-letter queue.
      'sqs:SendMessage'],
    startable: ['launch'],
    userQueues: true,
  },
  // SigV4 verification opens the caller's sealed secret (kms:Decrypt).
  'functions/api': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'states:StartExecution', 'kms:Decrypt', 'lambda:InvokeFunction',
      // CreateService and UpdateService check that a loadBalancers' target group exists.
      'elasticloadbalancing:DescribeTargetHealth'],
    startable: ['launch', 'stop'],
  },
  // The service scheduler runs and stops tasks, and wakes itself and the capacity manager; its
  // tasks join and leave their target groups.
  'functions/services': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'states:StartExecution', 'lambda:InvokeFunction',
      'elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:DescribeTargetHealth'],
    startable: ['launch', 'stop'],
  },
  'functions/lifecycle': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'states:StartExecution', 'lambda:InvokeFunction'],
    startable: ['stop'],
  },
  'functions/capacity': {
    actions: [
      ...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'sqs:DeleteQueue',
      'ec2:CreateFleet', 'ec2:RunInstances', 'ec2:CreateTags', 'ec2:DescribeLaunchTemplateVersions', 'ec2:TerminateInstances', 'iam:PassRole',
      // The orphan sweep lists the stage's instances.
      'ec2:DescribeInstances',
      'lambda:InvokeFunction',
    ],
    startable: [],
    // It also publishes the control plane's metrics.
    logGroups: [METRICS_LOG_GROUP],
  },
  // The hourly billing round: reads the meter, writes cost metrics and the day's file to the cost bucket.
  'functions/billing': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, 's3:PutObject'],
    startable: [],
    logGroups: [METRICS_LOG_GROUP],
  },
  // Application Auto Scaling's controller sets desired counts through UpdateService, which wakes the service.
  'functions/autoscaling': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, 'lambda:InvokeFunction', 'cloudwatch:GetMetricData'],
    startable: [],
  },
  // Stops the tasks of an interrupted spot host (their stop workflows) and asks for capacity.
  'functions/spot': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'states:StartExecution', 'lambda:InvokeFunction'],
    startable: ['stop'],
  },
  // The operator API: a spot interruption by hand stops tasks (as functions/spot); a new
  // person's key is sealed (kms:Encrypt); every signed call opens one (kms:Decrypt).
  'functions/operator': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'sqs:SendMessage', 'states:StartExecution', 'lambda:InvokeFunction', 'kms:Encrypt', 'kms:Decrypt'],
    startable: ['stop'],
  },
  // The stack's deletion terminates its hosts (by tag) before the rest goes.
  'functions/teardown': {
    actions: [...LOG_ACTIONS, 'ec2:DescribeInstances', 'ec2:TerminateInstances'],
    startable: [],
  },
  // Users' state machines' batch function: RunTask (the launch workflow) and their task tokens.
  'functions/batch': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'states:SendTaskHeartbeat', 'states:StartExecution'],
    startable: ['launch'],
  },
  // An agent's STOPPED report ends the task's waits and starts its stop workflow. Registration
  // seals the new host key (kms:Encrypt); every signed call opens one (kms:Decrypt).
  // It also waits on its host's wake queue (and makes it the first time).
  'functions/agent': {
    actions: [...LOG_ACTIONS, ...DATA_ACTIONS, ...TASK_RESPONSE_ACTIONS, 'states:StartExecution', 'lambda:InvokeFunction', 'kms:Encrypt', 'kms:Decrypt',
      'sqs:SendMessage', 'sqs:CreateQueue', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
    startable: ['stop'],
  },
};

/**
 * Grants an SDK call needs beyond its own action: the function's own log group (Lambda writes
 * it, not the code), and what EC2 and Scheduler check on the caller for the calls that pass a
 * role or launch from a template.
 */
const IMPLIED_BY = (action: string, calls: ReadonlySet<string>): boolean => {
  if (LOG_ACTIONS.includes(action)) return true;
  const needs: Record<string, string[]> = {
    'ec2:RunInstances': ['ec2:CreateFleet'],
    'ec2:CreateTags': ['ec2:CreateFleet'],
    'ec2:DescribeLaunchTemplateVersions': ['ec2:CreateFleet'],
    'iam:PassRole': ['ec2:CreateFleet', 'scheduler:CreateSchedule', 'scheduler:UpdateSchedule'],
  };
  return (needs[action] ?? []).some((a) => calls.has(a));
};

// CloudFormation JSON is untyped by nature; these names only say what a value is meant to be.
type Json = any;
interface Resource {
  Type: string;
  Properties: Json;
  DependsOn?: string | string[];
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json }>;
}
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function resourcesOfType(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function roleStatements(role: Resource): Statement[] {
  return asArray<Json>(role.Properties.Policies).flatMap((p) => asArray<Statement>(p.PolicyDocument.Statement));
}

/** Logical ids named by Ref, Fn::GetAtt or a Fn::Sub `${Id}` anywhere inside a value. */
function referencedIds(value: Json): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value === null || typeof value !== 'object') return [];
  const own: string[] = [];
  if (typeof value.Ref === 'string' && !value.Ref.startsWith('AWS::')) own.push(value.Ref);
  if (Array.isArray(value['Fn::GetAtt'])) own.push(value['Fn::GetAtt'][0]);
  if (typeof value['Fn::GetAtt'] === 'string') own.push(value['Fn::GetAtt'].split('.')[0]);
  if (value['Fn::Sub'] !== undefined) {
    const [text, variables] = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'] : [value['Fn::Sub'], {}];
    // `${!Literal}` is an escape; `${AWS::Region}` a pseudo parameter; others in the map are local.
    for (const m of String(text).matchAll(/\$\{([^}!][^}]*)\}/g)) {
      const id = m[1].split('.')[0];
      if (!id.startsWith('AWS::') && !(id in variables)) own.push(id);
    }
  }
  return [...own, ...Object.values(value).flatMap(referencedIds)];
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT_ID };

/** Substitutes CloudFormation pseudo parameters, as they would read in one account. */
function resolvePseudo(value: Json): string {
  if (typeof value?.Ref === 'string' && value.Ref in PSEUDO) return PSEUDO[value.Ref];
  const sub = typeof value === 'string' ? value : value?.['Fn::Sub'];
  if (typeof sub !== 'string') return `unresolved:${JSON.stringify(value)}`;
  return sub.replace(/\$\{(AWS::\w+)\}/g, (whole, name: string) => PSEUDO[name] ?? whole);
}

function parseHandler(handler: string): { file: string; name: string } {
  const dot = handler.lastIndexOf('.');
  return { file: handler.slice(0, dot), name: handler.slice(dot + 1) };
}

/** Names a TypeScript module exports, read from its source without compiling it. */
function exportedNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(/export\s+(?:async\s+)?function\s*\*?\s*([\w$]+)/g)) names.add(m[1]);
  for (const m of source.matchAll(/export\s+(?:const|let|var)\s+([\w$]+)/g)) names.add(m[1]);
  for (const m of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const item of m[1].split(',')) {
      const name = item.trim().split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  return names;
}

/** Reads every entry of a zip archive (stored or deflated), as Lambda will unpack it. */
function unzip(archive: Buffer): Map<string, Buffer> {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  let eocd = archive.length - 22;
  while (eocd >= 0 && archive.readUInt32LE(eocd) !== EOCD) eocd -= 1;
  if (eocd < 0) throw new Error('not a zip archive');
  const count = archive.readUInt16LE(eocd + 10);
  let at = archive.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 1) {
    if (archive.readUInt32LE(at) !== CENTRAL) throw new Error('corrupt zip central directory');
    const method = archive.readUInt16LE(at + 10);
    const compressedSize = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const localHeader = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart =
      localHeader + 30 + archive.readUInt16LE(localHeader + 26) + archive.readUInt16LE(localHeader + 28);
    const data = archive.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** A state machine's definition as deployed, with its `${placeholder}` → intrinsic map. */
interface Machine {
  logicalId: string;
  name: string;
  definition: Json;
  params: Record<string, Json>;
  roleId: string;
}

function machines(template: Template): Machine[] {
  return resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(([logicalId, r]) => {
    const raw = r.Properties.DefinitionString;
    const [text, params] =
      typeof raw === 'string'
        ? [raw, {}]
        : Array.isArray(raw['Fn::Sub'])
          ? raw['Fn::Sub']
          : [raw['Fn::Sub'], {}];
    return {
      logicalId,
      name: r.Properties.StateMachineName,
      definition: JSON.parse(text),
      params,
      roleId: referencedIds(r.Properties.RoleArn)[0],
    };
  });
}

/** Task states, including those inside Parallel branches and Map iterators. */
function taskStates(states: Record<string, Json>): Array<[string, Json]> {
  return Object.entries(states).flatMap(([name, state]): Array<[string, Json]> => {
    if (state.Type === 'Task') return [[name, state]];
    if (state.Type === 'Parallel') return state.Branches.flatMap((b: Json) => taskStates(b.States));
    if (state.Type === 'Map') return taskStates((state.ItemProcessor ?? state.Iterator).States);
    return [];
  });
}

/** serverless's logical id for a function key (`place` → `PlaceLambdaFunction`). */
function lambdaLogicalId(key: string): string {
  const normalized = key.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized[0].toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

/** Puts the intrinsics back where serverless-step-functions left `${placeholder}`s. */
function withIntrinsics(value: Json, params: Record<string, Json>): Json {
  if (typeof value === 'string') {
    const param = /^\$\{(\w+)\}$/.exec(value)?.[1];
    return param !== undefined && param in params ? params[param] : value;
  }
  if (Array.isArray(value)) return value.map((v) => withIntrinsics(v, params));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withIntrinsics(v, params)]));
}

/** An ASL file's `Fn::GetAtt: [functionKey, Arn]`, as the template must name the function. */
function withLogicalIds(value: Json): Json {
  if (Array.isArray(value)) return value.map(withLogicalIds);
  if (value === null || typeof value !== 'object') return value;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] in FUNCTIONS) return { 'Fn::GetAtt': [lambdaLogicalId(getAtt[0]), getAtt[1]] };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withLogicalIds(v)]));
}

/** The Lambda function a Task state calls: its Resource, or FunctionName for lambda:invoke. */
function invokedFunction(state: Json): Json {
  const resource = state.Resource;
  if (typeof resource === 'string' && resource.startsWith('arn:aws:states:::lambda:invoke')) {
    return state.Parameters?.FunctionName;
  }
  return resource;
}

describe('serverless.yml', () => {
  let outDir: string;
  let template: Template;
  let artifacts: Map<string, Map<string, Buffer>>;

  const lambdas = (): Array<[string, Resource]> => resourcesOfType(template, 'AWS::Lambda::Function');
  const resource = (id: string): Resource | undefined => template.Resources[id];
  const readAsl = (workflow: Workflow): Json => JSON.parse(readFileSync(join(REPO, ASL_FILES[workflow]), 'utf8'));
  /** The state machines deployed from a workflow's ASL file (there should be exactly one). */
  const deployedFrom = (workflow: Workflow): Machine[] =>
    machines(template).filter((m) => m.definition.Comment === readAsl(workflow).Comment);
  const arnOf = (workflow: Workflow): string =>
    `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:${deployedFrom(workflow)[0]?.name}`;

  /** A file in .build/, where a local mode in another test lane may be loading its bundles while this one packages. */
  const localBundleStandIn = join(REPO, '.build', `packaging-leaves-this-${process.pid}.js`);

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'berth-package-'));
    mkdirSync(dirname(localBundleStandIn), { recursive: true });
    writeFileSync(localBundleStandIn, '// stand-in for a local bundle\n');
    // Packaging makes no AWS call; dummy credentials and no profile make sure it cannot use real ones.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !['AWS_PROFILE', 'AWS_SESSION_TOKEN'].includes(k)),
    );
    await run(
      join(REPO, 'node_modules/.bin/osls'),
      ['package', '--stage', STAGE, '--region', REGION, '--package', outDir],
      {
        cwd: REPO,
        timeout: PACKAGE_TIMEOUT_MS,
        env: { ...env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example' },
      },
    );
    template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
    artifacts = new Map();
    for (const [, fn] of lambdas()) {
      const key: string = fn.Properties.Code.S3Key;
      const zip = join(outDir, key.slice(key.lastIndexOf('/') + 1));
      if (!artifacts.has(zip)) artifacts.set(zip, unzip(readFileSync(zip)));
    }
  }, PACKAGE_TIMEOUT_MS + 10_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    rmSync(localBundleStandIn, { force: true });
  });

  it('leaves .build/ alone, where the local mode keeps its bundles', () => {
    // Packaging deletes its work folder whole; were that .build/, a local mode starting in another lane lost its agent bundle.
    expect(existsSync(localBundleStandIn)).toBe(true);
  });

  it('references only resources it declares, without a cycle', () => {
    // Prepare
    const edges = new Map(
      Object.entries(template.Resources).map(([id, r]) => [
        id,
        [...new Set([...referencedIds(r.Properties), ...asArray(r.DependsOn)])],
      ]),
    );

    // Act
    const dangling = [...edges].flatMap(([id, to]) => to.filter((t) => !edges.has(t)).map((t) => `${id} → ${t}`));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done' || !edges.has(id)) return;
      if (state.get(id) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(id)), id].join(' → '));
        return;
      }
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) visit(next, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of edges.keys()) visit(id, []);

    // Assess
    expect(dangling).toEqual([]);
    expect(cycles).toEqual([]);
  });

  describe('functions', () => {
    it.each(Object.entries(FUNCTIONS))('declares %s as %s on a runtime Lambda has not deprecated', (key, handler) => {
      // Prepare: serverless names a function's resource after its key, which the ASL uses.
      const logicalId = lambdaLogicalId(key);

      // Assess
      expect(resource(logicalId)?.Type).toBe('AWS::Lambda::Function');
      expect(resource(logicalId)?.Properties.Handler).toBe(handler);
      const deprecated = NODE_RUNTIME_DEPRECATION[resource(logicalId)?.Properties.Runtime];
      expect(deprecated).toBeDefined();
      expect(new Date(deprecated).getTime()).toBeGreaterThan(Date.now());
    });

    it("names the batch function, which users' state machines call, in a stack output", () => {
      // Assess
      const batch = resource(lambdaLogicalId('batch'));
      expect(template.Outputs?.BatchFunctionName?.Value).toBe(batch?.Properties.FunctionName);
      expect(batch?.Properties.FunctionName).toBe(`berth-${STAGE}-batch`);
    });

    it('declares no other function', () => {
      expect(lambdas().map(([, fn]) => fn.Properties.Handler).sort()).toEqual(Object.values(FUNCTIONS).sort());
    });

    it('points every handler at a TypeScript export in the repo', () => {
      // Act
      const problems = lambdas().flatMap(([id, fn]) => {
        const { file, name } = parseHandler(fn.Properties.Handler);
        const source = join(REPO, `${file}.ts`);
        if (!existsSync(source)) return [`${id}: ${file}.ts does not exist`];
        return exportedNames(readFileSync(source, 'utf8')).has(name) ? [] : [`${id}: ${file}.ts does not export ${name}`];
      });

      // Assess
      expect(problems).toEqual([]);
    });

    it('packages a bundle for every handler that loads and exports it', async () => {
      // Prepare: unpack each artifact as Lambda would, and load each handler module with the
      // function's own environment.
      const problems: string[] = [];
      for (const [id, fn] of lambdas()) {
        const { file, name } = parseHandler(fn.Properties.Handler);
        const key: string = fn.Properties.Code.S3Key;
        const entries = artifacts.get(join(outDir, key.slice(key.lastIndexOf('/') + 1)));
        const bundle = entries?.get(`${file}.js`);
        if (!bundle) {
          problems.push(`${id}: the artifact has no ${file}.js`);
          continue;
        }
        if ([...(entries?.keys() ?? [])].some((entry) => entry.startsWith('node_modules/'))) {
          problems.push(`${id}: the artifact carries node_modules (bundle them instead)`);
        }
        const unpacked = join(outDir, 'unpacked', id, `${file}.js`);
        mkdirSync(dirname(unpacked), { recursive: true });
        writeFileSync(unpacked, bundle);
        const env = Object.fromEntries(
          Object.entries<Json>(fn.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, resolvePseudo(v)]),
        );

        // Act
        const { stdout } = await run(
          process.execPath,
          ['-e', 'process.stdout.write(JSON.stringify(Object.keys(require(process.argv[1]))))', unpacked],
          {
            timeout: 30_000,
            env: {
              PATH: process.env.PATH,
              ...env,
              AWS_REGION: REGION,
              AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
              AWS_SECRET_ACCESS_KEY: 'example',
            },
          },
        );

        // Assess
        if (!JSON.parse(stdout).includes(name)) problems.push(`${id}: ${file}.js does not export ${name}`);
      }
      expect(problems).toEqual([]);
    });

    it("gives every function the table prefix and the ARN of each workflow's state machine", () => {
      for (const [, fn] of lambdas()) {
        const env = fn.Properties.Environment.Variables;
        expect(env.BERTH_TABLE_PREFIX).toBe(TABLE_PREFIX);
        expect(resolvePseudo(env.BERTH_LAUNCH_STATE_MACHINE_ARN)).toBe(arnOf('launch'));
        expect(resolvePseudo(env.BERTH_STOP_STATE_MACHINE_ARN)).toBe(arnOf('stop'));
      }
    });

    it('sets every variable that shared/environment.ts requires', () => {
      // Prepare: Lambda itself sets the AWS_* variables (AWS_REGION and the like).
      const required = Object.entries(LAMBDA_VARIABLES)
        .filter(([name, v]) => v.whenUnset.kind === 'required' && !name.startsWith('AWS_'))
        .map(([name]) => name);
      expect(required.length).toBeGreaterThan(0);

      // Act
      const missing = lambdas().flatMap(([id, fn]) =>
        required.filter((name) => !(name in (fn.Properties.Environment?.Variables ?? {}))).map((name) => `${id}: ${name}`),
      );

      // Assess
      expect(missing).toEqual([]);
    });

    it.each([
      ['POST /', 'functions/api.handler'],
      ['POST /agent', 'functions/agent.handler'],
      ['POST /operator', 'functions/operator.handler'],
    ])('serves %s of the HTTP API with %s', (routeKey, handler) => {
      // Prepare
      const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').filter(
        ([, r]) => r.Properties.RouteKey === routeKey,
      );
      expect(routes).toHaveLength(1);
      const [integrationId] = referencedIds(routes[0][1].Properties.Target);

      // Act
      const [functionId] = referencedIds(resource(integrationId)?.Properties.IntegrationUri);

      // Assess
      expect(resource(functionId)?.Properties.Handler).toBe(handler);
    });
  });

  describe('tables', () => {
    it.each(Object.entries(TABLES))('declares %s with its key schema and prefixed name', (key, table) => {
      // Prepare
      const name = tableNames(TABLE_PREFIX)[key as keyof typeof TABLES];
      const keys = [
        { AttributeName: table.hashKey, KeyType: 'HASH' },
        ...(table.rangeKey ? [{ AttributeName: table.rangeKey, KeyType: 'RANGE' }] : []),
      ];

      // Act
      const declared = resourcesOfType(template, 'AWS::DynamoDB::Table').filter(
        ([, r]) => r.Properties.TableName === name,
      );

      // Assess
      expect(declared).toHaveLength(1);
      const props = declared[0][1].Properties;
      expect(props.BillingMode).toBe('PAY_PER_REQUEST');
      expect(props.KeySchema).toEqual(keys);
      const indexes = Object.entries(localIndexesOf(table));
      const attributes = keyAttributesOf(table);
      expect([...props.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName))).toEqual(
        attributes
          .map((k) => ({ AttributeName: k, AttributeType: KEY_TYPES[k] ?? 'S' }))
          .sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
      );
      expect(props.LocalSecondaryIndexes ?? []).toEqual(indexes.map(([IndexName, rangeKey]) => ({
        IndexName,
        KeySchema: [{ AttributeName: table.hashKey, KeyType: 'HASH' }, { AttributeName: rangeKey, KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'ALL' },
      })));
      expect(props.GlobalSecondaryIndexes ?? []).toEqual(
        Object.entries(globalIndexesOf(table)).map(([name, g]) => globalIndexDeclaration(name, g)),
      );
      const ttl = (table as { ttlAttribute?: string }).ttlAttribute;
      expect(props.TimeToLiveSpecification).toEqual(ttl === undefined ? undefined : { AttributeName: ttl, Enabled: true });
    });

    it('declares every index the store queries, on the table it queries', () => {
      // Prepare: each `IndexName: '...'` in shared/store, with the table its store is given
      const dir = resolve(REPO, 'shared/store');
      const queried = readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((f) =>
        [...readFileSync(join(dir, f), 'utf8').matchAll(/IndexName: '(\w+)'/g)].map((m) => m[1]));
      const declared = new Set(resourcesOfType(template, 'AWS::DynamoDB::Table').flatMap(([, r]) =>
        [...(r.Properties.GlobalSecondaryIndexes ?? []), ...(r.Properties.LocalSecondaryIndexes ?? [])].map((i: { IndexName: string }) => i.IndexName)));

      // Assess
      expect(queried).toEqual(expect.arrayContaining(['due', 'awaited', 'byGroup']));
      expect(queried.filter((i) => !declared.has(i))).toEqual([]);
    });

    it('declares no table that shared/store/tables.ts does not know', () => {
      const declared = resourcesOfType(template, 'AWS::DynamoDB::Table').map(([, r]) => r.Properties.TableName);
      expect(declared.sort()).toEqual(Object.values(tableNames(TABLE_PREFIX)).sort());
    });
  });

  describe('hosts', () => {
    const launchData = () => resource('HostLaunchTemplate')!.Properties.LaunchTemplateData;
    const userData = (): string => launchData().UserData['Fn::Base64']['Fn::Sub'];

    it('launches Amazon Linux 2023 through its public SSM parameter, requiring IMDSv2 with a hop limit of 1', () => {
      expect(launchData().ImageId).toMatch(/^\{\{resolve:ssm:\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-[\w-]+\}\}$/);
      expect(launchData().MetadataOptions).toEqual({ HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      expect(referencedIds(launchData().IamInstanceProfile)).toEqual(['HostInstanceProfile']);
      expect(referencedIds(resource('HostInstanceProfile')!.Properties.Roles)).toEqual(['HostRole']);
      expect(referencedIds(launchData().SecurityGroupIds)).toEqual(['HostSecurityGroup']);
      expect(resource('HostSecurityGroup')!.Properties.SecurityGroupIngress).toBeUndefined();
    });

    it('is what the capacity function launches, and the only role it may pass', () => {
      const capacity = resource(lambdaLogicalId('capacity'))!;
      expect(referencedIds(capacity.Properties.Environment.Variables.BERTH_LAUNCH_TEMPLATE_ID)).toEqual(['HostLaunchTemplate']);
      const roleName = resource('HostRole')!.Properties.RoleName;
      const passRole = roleStatements(resource(capacity.Properties.Role['Fn::GetAtt'][0])!)
        .filter((st) => asArray(st.Action).includes('iam:PassRole')).flatMap((st) => asArray<Json>(st.Resource).map(resolvePseudo));
      expect(passRole).toHaveLength(1);
      expect(`arn:aws:iam::${ACCOUNT_ID}:role/${roleName.replace('${sls:stage}', STAGE)}`).toMatch(new RegExp(`^${passRole[0].replace(/\*/g, '.*')}$`));
    });

    it('fetches the agent bundle packaged with it from the stack\'s bucket and checks its SHA-256, then calls the stack\'s API', () => {
      // Prepare: packaging bundled the agent; the user data must name exactly that file.
      const sha256 = createHash('sha256').update(readFileSync(AGENT_BUNDLE_FILE)).digest('hex');

      // Assess
      expect(userData()).toContain(`aws s3 cp --only-show-errors 's3://\${AgentArtifactsBucket}/${agentBundleKey(sha256)}' /opt/berth/agent.js`);
      expect(userData()).toContain(`echo '${sha256}  /opt/berth/agent.js' | sha256sum -c -`);
      expect(userData()).toContain("'BERTH_ENDPOINT=https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}'");
      expect(userData()).toContain("'AWS_REGION=${AWS::Region}'");
      expect(referencedIds(launchData().UserData).sort()).toEqual(['AgentArtifactsBucket', 'HttpApi']);
    });

    it('terminates them when the stack is deleted: after the capacity function, before their role, profile, group and template', () => {
      const teardown = resource('HostsTeardown')!;
      expect(referencedIds(teardown.Properties.ServiceToken)).toEqual([lambdaLogicalId('teardown')]);
      expect(asArray<string>(teardown.DependsOn).sort()).toEqual(['HostInstanceProfile', 'HostLaunchTemplate', 'HostRole', 'HostSecurityGroup']);
      expect(asArray(resource(lambdaLogicalId('capacity'))!.DependsOn)).toContain('HostsTeardown');
      const terminate = roleStatements(resource(resource(lambdaLogicalId('teardown'))!.Properties.Role['Fn::GetAtt'][0])!)
        .find((st) => asArray(st.Action).includes('ec2:TerminateInstances'))!;
      expect((terminate as Json).Condition).toEqual({ StringEquals: { 'ec2:ResourceTag/berth:managed': 'true' } });
    });

    it('gives the hosts\' role only what the agent itself needs, never a * action or resource', () => {
      const statements = roleStatements(resource('HostRole')!);
      expect(statements.flatMap((st) => asArray<string>(st.Action)).sort()).toEqual(
        ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 'sqs:DeleteMessage', 'sqs:ReceiveMessage', 'sts:AssumeRole'],
      );
      // Its agent takes its wakes from the hosts' queues, and nothing else of SQS.
      const wake = statements.find((st) => asArray(st.Action).includes('sqs:ReceiveMessage'))!;
      expect(asArray<string>(wake.Action).sort()).toEqual(['sqs:DeleteMessage', 'sqs:ReceiveMessage']);
      expect(JSON.stringify(wake.Resource)).toMatch(/:sqs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:[\w-]*host-\*"/);
      for (const st of statements) {
        for (const r of asArray<Json>(st.Resource)) expect(resolvePseudo(r)).not.toBe('*');
        for (const a of asArray<string>(st.Action)) expect(a).not.toContain('*');
      }
      const getObject = statements.find((st) => asArray(st.Action).includes('s3:GetObject'))!;
      expect(getObject.Resource).toEqual({ 'Fn::Sub': '${AgentArtifactsBucket.Arn}/agent/*' });
    });
  });

  describe('access keys', () => {
    it("seals their secrets with the stack's own rotating KMS key, named to every function", () => {
      // Prepare
      const keys = resourcesOfType(template, 'AWS::KMS::Key');
      expect(keys).toHaveLength(1);
      const [keyId, key] = keys[0];

      // Assess
      expect(key.Properties.EnableKeyRotation).toBe(true);
      for (const [id, fn] of lambdas()) {
        expect([id, referencedIds(fn.Properties.Environment.Variables.BERTH_ACCESS_KEYS_KMS_KEY_ARN)]).toEqual([id, [keyId]]);
      }
    });

    it('lets a role use that key only for access keys (by encryption context)', () => {
      const problems = resourcesOfType(template, 'AWS::IAM::Role').flatMap(([id, role]) =>
        roleStatements(role)
          .filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')))
          .filter((s: Json) => s.Condition?.StringEquals?.['kms:EncryptionContext:purpose'] !== 'berth-access-key')
          .map(() => `${id}: kms without the access-key encryption context`),
      );
      expect(problems).toEqual([]);
    });
  });

  describe('state machines', () => {
    it.each(Object.keys(ASL_FILES) as Workflow[])('deploys the %s workflow as its ASL file says', (workflow) => {
      // Act
      const asl = readAsl(workflow);
      const deployed = deployedFrom(workflow);

      // Assess
      expect(deployed).toHaveLength(1);
      expect(withIntrinsics(deployed[0].definition, deployed[0].params)).toEqual(withLogicalIds(asl));
    });

    it('calls only Lambda functions declared in the template', () => {
      // Prepare
      const functionNames = new Set(lambdas().map(([, fn]) => fn.Properties.FunctionName));
      const isFunction = (id: string) => resource(id)?.Type === 'AWS::Lambda::Function';

      // Act: every intrinsic in a definition, and every Task state's target, must be a function
      // of this stack (by logical id, or by name in a static ARN).
      const problems = machines(template).flatMap((m) => [
        ...Object.values(m.params)
          .flatMap(referencedIds)
          .filter((id) => !isFunction(id))
          .map((id) => `${m.name}: references ${id}, which is no function in the template`),
        ...taskStates(m.definition.States).flatMap(([stateName, state]) => {
          const target = invokedFunction(state);
          const param = typeof target === 'string' ? /^\$\{(\w+)\}$/.exec(target)?.[1] : undefined;
          const arnName = typeof target === 'string' ? /:function:([^:$]+)$/.exec(target)?.[1] : undefined;
          const ok =
            param !== undefined
              ? referencedIds(m.params[param]).length > 0 && referencedIds(m.params[param]).every(isFunction)
              : arnName !== undefined && functionNames.has(arnName);
          const shown = param !== undefined ? JSON.stringify(m.params[param]) : JSON.stringify(target);
          return ok ? [] : [`${m.name}.${stateName}: calls ${shown}, which is no function in the template`];
        }),
      ]);

      // Assess
      expect(problems).toEqual([]);
    });

    it.each(Object.values(ASL_FILES))('bounds every Task state of %s with a timeout', (file) => {
      const asl = JSON.parse(readFileSync(join(REPO, file), 'utf8'));
      const unbounded = taskStates(asl.States)
        .filter(([, s]) => s.TimeoutSeconds === undefined && s.TimeoutSecondsPath === undefined)
        .map(([name]) => name);
      expect(unbounded).toEqual([]);
    });
  });

  describe('roles', () => {
    it('gives each function a role of its own', () => {
      // Act
      const roles = lambdas().map(([, fn]) => referencedIds(fn.Properties.Role)[0]);

      // Assess
      for (const role of roles) expect(resource(role)?.Type).toBe('AWS::IAM::Role');
      expect(new Set(roles).size).toBe(roles.length);
    });

    it('grants no wildcard action in any role', () => {
      const problems = resourcesOfType(template, 'AWS::IAM::Role').flatMap(([id, role]) =>
        roleStatements(role)
          .filter((s) => s.Effect === 'Allow')
          .flatMap((s) => [
            ...(s.NotAction ? [`${id}: Allow with NotAction`] : []),
            ...asArray(s.Action)
              .filter((a) => a === '*' || a.endsWith(':*'))
              .map((a) => `${id}: allows ${a}`),
          ]),
      );
      expect(problems).toEqual([]);
    });

    it('grants each function only the actions it uses, on its own resources', () => {
      // Prepare
      const tableIds = new Set(resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id]) => id));

      // Act
      const problems = lambdas().flatMap(([id, fn]) => {
        const { file } = parseHandler(fn.Properties.Handler);
        const grants = GRANTS[file];
        if (!grants) return [`${id}: no expected grants for ${file}`];
        const role = resource(referencedIds(fn.Properties.Role)[0]);
        const found: string[] = [];
        for (const s of roleStatements(role as Resource).filter((st) => st.Effect === 'Allow')) {
          const actions = asArray(s.Action);
          for (const a of actions.filter((x) => !grants.actions.includes(x))) found.push(`${id}: allows ${a}`);
          const targets = asArray<Json>(s.Resource);
          if (actions.some((a) => a.startsWith('dynamodb:'))) {
            for (const t of targets) {
              if (!referencedIds(t).every((r) => tableIds.has(r)) || referencedIds(t).length === 0) {
                found.push(`${id}: dynamodb on ${JSON.stringify(t)}`);
              }
            }
          }
          if (actions.some((a) => a.startsWith('states:'))) {
            const allowed = actions.includes('states:StartExecution')
              ? grants.startable.map(arnOf)
              // Task tokens: the lifecycle's own, and those of users' state machines waiting on a task.
              : [arnOf('launch'), arnOf('stop'), USERS_STATE_MACHINES];
            for (const t of targets) {
              if (!allowed.includes(resolvePseudo(t))) found.push(`${id}: ${actions.join(',')} on ${JSON.stringify(t)}`);
            }
          }
          if (actions.some((a) => a.startsWith('sqs:'))) {
            // The hosts' wake-up queues are the stack's own; dead-letter queues are the user's
            // (only for the functions that send them): this account's and region's, nothing wider.
            const allowed = [`arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${TABLE_PREFIX}host-*`, ...(grants.userQueues ? [`arn:aws:sqs:${REGION}:${ACCOUNT_ID}:*`] : [])];
            for (const t of targets) {
              if (!allowed.includes(resolvePseudo(t))) found.push(`${id}: sqs on ${JSON.stringify(t)}`);
            }
          }
          if (actions.some((a) => a.startsWith('kms:'))) {
            for (const t of targets) {
              if (referencedIds(t).length === 0 || !referencedIds(t).every((r) => resource(r)?.Type === 'AWS::KMS::Key')) {
                found.push(`${id}: kms on ${JSON.stringify(t)}`);
              }
            }
          }
          if (actions.some((a) => a.startsWith('s3:'))) {
            for (const t of targets) {
              if (!referencedIds(t).every((r) => resource(r)?.Type === 'AWS::S3::Bucket') || referencedIds(t).length === 0) {
                found.push(`${id}: s3 on ${JSON.stringify(t)}`);
              }
            }
          }
          if (actions.some((a) => a.startsWith('logs:'))) {
            for (const t of targets) {
              const arn = resolvePseudo(t);
              const own = arn.includes(`:log-group:/aws/lambda/${fn.Properties.FunctionName}:`);
              const granted = (grants.logGroups ?? []).some((g) => arn.endsWith(`:log-group:${g}`) || arn.endsWith(`:log-group:${g}:*`));
              if (!own && !granted) {
                found.push(`${id}: logs on ${arn}`);
              }
            }
          }
        }
        return found;
      });

      // Assess
      expect(problems).toEqual([]);
    });

    it('grants no AWS action that the function\'s bundled code cannot call (derived from its SDK calls)', async () => {
      // Prepare: what each handler file's bundle can call, from its `new XCommand(` calls.
      const files = [...new Set(lambdas().map(([, fn]) => parseHandler(fn.Properties.Handler).file))];
      const callable = new Map(await Promise.all(files.map(async (f) => [f, new Set(await sdkActionsOf(REPO, `${f}.ts`))] as const)));

      // Act
      const problems = lambdas().flatMap(([id, fn]) => {
        const { file } = parseHandler(fn.Properties.Handler);
        const calls = callable.get(file)!;
        const granted = roleStatements(resource(referencedIds(fn.Properties.Role)[0]) as Resource)
          .filter((st) => st.Effect === 'Allow').flatMap((st) => asArray(st.Action));
        return granted.filter((a) => !calls.has(a) && !IMPLIED_BY(a, calls)).map((a) => `${id} (${file}): grants ${a}, which its code never calls`);
      });

      // Assess
      expect(problems).toEqual([]);
    }, 120_000);

    it('lets each state machine invoke exactly the functions its definition calls', () => {
      const problems = machines(template).flatMap((m) => {
        const called = new Set(Object.values(m.params).flatMap(referencedIds));
        const role = resource(m.roleId);
        if (!role) return [`${m.name}: role ${m.roleId} is not in the template`];
        const statements = roleStatements(role).filter((s) => s.Effect === 'Allow');
        const actions = statements.flatMap((s) => asArray(s.Action));
        const invokable = new Set(statements.flatMap((s) => referencedIds(s.Resource)));
        return [
          ...actions.filter((a) => a !== 'lambda:InvokeFunction').map((a) => `${m.name}: allows ${a}`),
          ...[...invokable].filter((f) => !called.has(f)).map((f) => `${m.name}: may invoke ${f}`),
          ...[...called].filter((f) => !invokable.has(f)).map((f) => `${m.name}: may not invoke ${f}`),
        ];
      });
      expect(problems).toEqual([]);
    });
  });
});
