import '../../../shared/cloud/local/promise-with-resolvers';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { ECS_RESOURCES } from '../../../shared/batch/ecs-integration';
import { InvalidDefinition } from './errors';

/** Users' state machines call Berth's batch function through this resource, on AWS and locally. */
export const LAMBDA_CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * The batch function's name as serverless.yml names it (`berth-<stage>-batch`, the
 * BatchFunctionName output) or `berth-batch`, alone or as a function ARN, maybe qualified.
 */
const BATCH_FUNCTION = /^(arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:)?berth(-[\w]+)?-batch(:[\w$-]+)?$/;
export const isBatchFunction = (name: unknown) => typeof name === 'string' && BATCH_FUNCTION.test(name);

/** What a Task state's Resource binds it to, in Berth. */
export type TaskBinding = 'runTask' | 'sync' | 'callback' | 'batchFunction';

const BINDINGS: Record<string, TaskBinding> = {
  [ECS_RESOURCES.runTask]: 'runTask',
  [ECS_RESOURCES.sync]: 'sync',
  [ECS_RESOURCES.callback]: 'callback',
};

export interface TaskStateInfo {
  binding: TaskBinding;
  resource: string;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
}

export interface CheckedDefinition {
  /** As the engine runs it: every Task state bounded (see below). */
  runnable: StateMachineDefinition;
  /** Every Task state by name (names are unique across the whole machine, as AWS requires). */
  tasks: Map<string, TaskStateInfo>;
}

/**
 * aws-local-stepfunctions gives a Task state without TimeoutSeconds 60 s, and Node's timers stop
 * at 2^31-1 ms: unbounded there means this (about 24 days), AWS's own default being a year.
 */
export const MAX_TASK_TIMEOUT_SECONDS = 2_147_483;

const invalid = (detail: string): never => {
  throw new InvalidDefinition(`Invalid State Machine Definition: '${detail}'`);
};

type States = Record<string, Record<string, any>>;

/** Every nested machine's States (Map's ItemProcessor or Iterator, Parallel's Branches), depth first. */
function* allStates(states: States, path: string): Generator<[string, Record<string, any>, string]> {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state, `${path}/${name}`];
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested?.States) yield* allStates(nested.States, `${path}/${name}/${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}/States`);
    for (const [i, branch] of (state.Branches ?? []).entries()) {
      if (branch?.States) yield* allStates(branch.States, `${path}/${name}/Branches[${i}]/States`);
    }
  }
}

/**
 * Validates a definition as CreateStateMachine does (InvalidDefinition with AWS's error codes):
 * valid JSON, valid ASL, unique state names, and every Task's Resource one Berth serves.
 */
export function checkDefinition(text: string): CheckedDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return invalid(`INVALID_JSON_DESCRIPTION: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid('SCHEMA_VALIDATION_FAILED: The definition must be a JSON object');
  const definition = parsed as StateMachineDefinition & { QueryLanguage?: string };
  if (definition.QueryLanguage === 'JSONata') invalid('SCHEMA_VALIDATION_FAILED: Berth runs JSONPath state machines only (QueryLanguage JSONata is not supported locally)');
  try {
    new StateMachine(definition);
  } catch (e) {
    invalid(String((e as Error).message).replace(/^State machine definition is invalid, see error\(s\) below:\s*/, '').trim());
  }
  const tasks = new Map<string, TaskStateInfo>();
  const seen = new Set<string>();
  // A copy by parsing again: the executor tells objects from values by their prototype, which
  // structuredClone's copies (made in Node's own realm) do not share under a test runner's.
  const runnable = JSON.parse(text) as StateMachineDefinition;
  for (const [name, state, path] of allStates(runnable.States as States, '/States')) {
    if (seen.has(name)) invalid(`DUPLICATE_STATE_NAME: Duplicate State name: ${name} at ${path}`);
    seen.add(name);
    if (state.Type !== 'Task') continue;
    const resource = String(state.Resource);
    const binding = BINDINGS[resource] ?? (resource === LAMBDA_CALLBACK_RESOURCE && isBatchFunction(state.Parameters?.FunctionName) ? 'batchFunction' : undefined);
    if (!binding) {
      invalid(`SCHEMA_VALIDATION_FAILED: The resource provided ${resource} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. at ${path}/Resource`);
    }
    tasks.set(name, { binding: binding!, resource, heartbeatSeconds: state.HeartbeatSeconds, timeoutSeconds: state.TimeoutSeconds });
    if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = Math.min(state.TimeoutSeconds ?? MAX_TASK_TIMEOUT_SECONDS, MAX_TASK_TIMEOUT_SECONDS);
  }
  return { runnable, tasks };
}
