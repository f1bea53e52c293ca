import { randomUUID } from 'node:crypto';
import type { Caller, Operation } from '../../../shared/aws-protocol/operation';
import type { Partition } from '../../../shared/domain/arns';
import { InvalidParameterException } from '../../../shared/domain/errors';
import type { Json } from '../../../shared/domain/fields';
import { page } from '../../../shared/ecs-api/paging';
import { AccessDeniedException, ValidationException } from '../errors';
import { epochSeconds, optBool, optInt, optStr, reqStr } from '../request';
import { checkDefinition } from './definition';
import { isTokenShaped, type LocalStepFunctions } from './engine';
import {
  ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidArn, InvalidExecutionInput, InvalidName, InvalidOutput, InvalidToken,
  MissingRequiredParameter, StateMachineAlreadyExists, StateMachineDoesNotExist, StateMachineTypeNotSupported, TaskDoesNotExist,
} from './errors';
import { EXECUTION_STATUSES, type ExecutionRecord, type HistoryItem, type StateMachineRecord, type StatesStore } from './store';

/** Step Functions' JSON 1.0 target prefix. */
export const STATES_TARGET_PREFIX = 'AWSStepFunctions.';

export interface StatesContext {
  store: StatesStore;
  engine: LocalStepFunctions;
  partition: Partition;
  now: () => number;
}

const MAX_DEFINITION_CHARS = 1_048_576;
const MAX_PAYLOAD_BYTES = 256 * 1024;
const DEFAULT_PAGE = 100;

const machineArn = (p: Partition, name: string) => `arn:aws:states:${p.region}:${p.accountId}:stateMachine:${name}`;
const executionArn = (p: Partition, machine: string, name: string) => `arn:aws:states:${p.region}:${p.accountId}:execution:${machine}:${name}`;

/** Names AWS accepts for state machines and executions: no whitespace, brackets, wildcards, special or control characters. */
function checkName(name: string | undefined, what: string): string {
  if (name === undefined || name.length < 1 || name.length > 80 || /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw new InvalidName(`Invalid Name: '${name ?? ''}'${what ? ` (${what})` : ''}`);
  }
  return name;
}

/** A state machine's name from its ARN, in this Region and account; anything else is not an ARN of one. */
function machineNameOf(p: Partition, arn: string): string {
  const m = /^arn:aws[\w-]*:states:([\w-]+):(\d{12}):stateMachine:([^:]+)$/.exec(arn);
  if (!m) throw new InvalidArn(`Invalid Arn: 'Resource type not valid in this context: ${arn.split(':')[5] ?? arn}'`);
  if (m[1] !== p.region || m[2] !== p.accountId) throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
  return m[3];
}

function executionOf(p: Partition, arn: string): { machine: string; name: string } {
  const m = /^arn:aws[\w-]*:states:([\w-]+):(\d{12}):execution:([^:]+):([^:]+)$/.exec(arn);
  if (!m) throw new InvalidArn(`Invalid Arn: 'Resource type not valid in this context: ${arn.split(':')[5] ?? arn}'`);
  if (m[1] !== p.region || m[2] !== p.accountId) throw new ExecutionDoesNotExist(`Execution Does Not Exist: '${arn}'`);
  return { machine: m[3], name: m[4] };
}

function checkRoleArn(arn: string): string {
  if (!/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(arn)) throw new InvalidArn(`Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
  return arn;
}

/** A JSON text member (an execution's input, a task's output), as Step Functions checks it. */
function jsonText(body: Json, key: string, fallback: string | undefined, refuse: (message: string) => Error): string {
  const text = optStr(body, key) ?? fallback;
  if (text === undefined) throw new ValidationException(`1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw new ValidationException(`1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`);
  try {
    JSON.parse(text);
  } catch (e) {
    throw refuse((e as Error).message);
  }
  return text;
}

/** AWS's list paging: maxResults 0–1000 (0 means the default, 100), and an opaque nextToken that is ours or InvalidToken. */
function listPage<T>(items: readonly T[], body: Json, keyOf: (item: T) => string) {
  const maxResults = optInt(body, 'maxResults', { min: 0, max: 1000 }) || DEFAULT_PAGE;
  try {
    return page(items, { ...body, maxResults }, keyOf, 1000);
  } catch (e) {
    if (e instanceof InvalidParameterException) throw new InvalidToken(`Invalid Token: '${optStr(body, 'nextToken')}'`);
    throw e;
  }
}

async function existingMachine(c: StatesContext, arn: string): Promise<StateMachineRecord> {
  const m = await c.store.getMachine(machineNameOf(c.partition, arn));
  if (!m) throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
  return m;
}

async function existingExecution(c: StatesContext, arn: string): Promise<ExecutionRecord> {
  const { machine, name } = executionOf(c.partition, arn);
  const e = await c.store.getExecution(machine, name);
  if (!e) throw new ExecutionDoesNotExist(`Execution Does Not Exist: '${arn}'`);
  return e;
}

function checkType(body: Json): void {
  const type = optStr(body, 'type') ?? 'STANDARD';
  if (type === 'EXPRESS') throw new StateMachineTypeNotSupported('Berth runs STANDARD state machines only');
  if (type !== 'STANDARD') throw new ValidationException(`1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]`);
}

const CreateStateMachine = async (c: StatesContext, body: Json) => {
  const name = checkName(reqStr(body, 'name'), '');
  const definition = reqStr(body, 'definition', { min: 1, max: MAX_DEFINITION_CHARS });
  const roleArn = checkRoleArn(reqStr(body, 'roleArn'));
  checkType(body);
  checkDefinition(definition);
  const arn = machineArn(c.partition, name);
  const { created, machine } = await c.store.createMachine({ name, stateMachineArn: arn, definition, roleArn, type: 'STANDARD', creationDate: c.now() });
  // The same request again is answered as the first was; another under the same name is refused.
  if (!created && (machine.definition !== definition || machine.roleArn !== roleArn)) {
    throw new StateMachineAlreadyExists(`State Machine Already Exists: '${arn}'`);
  }
  return { stateMachineArn: arn, creationDate: epochSeconds(machine.creationDate) };
};

const DescribeStateMachine = async (c: StatesContext, body: Json) => {
  const m = await existingMachine(c, reqStr(body, 'stateMachineArn'));
  return {
    stateMachineArn: m.stateMachineArn, name: m.name, status: 'ACTIVE', definition: m.definition, roleArn: m.roleArn,
    type: m.type, creationDate: epochSeconds(m.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false }, tracingConfiguration: { enabled: false },
  };
};

const UpdateStateMachine = async (c: StatesContext, body: Json) => {
  const arn = reqStr(body, 'stateMachineArn');
  const definition = optStr(body, 'definition', { min: 1, max: MAX_DEFINITION_CHARS });
  const roleArn = optStr(body, 'roleArn');
  if (definition === undefined && roleArn === undefined && body.loggingConfiguration === undefined && body.tracingConfiguration === undefined) {
    throw new MissingRequiredParameter('Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified');
  }
  if (roleArn !== undefined) checkRoleArn(roleArn);
  if (definition !== undefined) checkDefinition(definition);
  const m = await existingMachine(c, arn);
  const updated = await c.store.updateMachine(m.name, { definition, roleArn }, c.now());
  if (!updated) throw new StateMachineDoesNotExist(`State Machine Does Not Exist: '${arn}'`);
  return { updateDate: epochSeconds(updated.updateDate!) };
};

const ListStateMachines = async (c: StatesContext, body: Json) => {
  const machines = (await c.store.listMachines()).sort((a, b) => a.name.localeCompare(b.name));
  const { items, nextToken } = listPage(machines, body, (m) => m.name);
  return {
    stateMachines: items.map((m) => ({ stateMachineArn: m.stateMachineArn, name: m.name, type: m.type, creationDate: epochSeconds(m.creationDate) })),
    ...(nextToken ? { nextToken } : {}),
  };
};

/** Deletes the machine at once; executions already running run on to their end. */
const DeleteStateMachine = async (c: StatesContext, body: Json) => {
  await c.store.deleteMachine(machineNameOf(c.partition, reqStr(body, 'stateMachineArn')));
  return {};
};

const StartExecution = async (c: StatesContext, body: Json) => {
  const machine = reqStr(body, 'stateMachineArn');
  const name = checkName(optStr(body, 'name') ?? randomUUID(), '');
  const input = jsonText(body, 'input', '{}', (m) => new InvalidExecutionInput(`Invalid State Machine Execution Input: '${m}'`));
  const m = await existingMachine(c, machine);
  const record: ExecutionRecord = {
    stateMachineName: m.name, name, executionArn: executionArn(c.partition, m.name, name), stateMachineArn: m.stateMachineArn,
    definition: m.definition, status: 'RUNNING', input, startDate: c.now(),
  };
  const { created, execution } = await c.store.createExecution(record);
  if (!created) {
    // Idempotent by name while the first is RUNNING with the same input, as for STANDARD machines.
    if (execution.status !== 'RUNNING' || execution.input !== input) throw new ExecutionAlreadyExists(`Execution Already Exists: '${execution.executionArn}'`);
    return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
  }
  c.engine.start(record);
  return { executionArn: record.executionArn, startDate: epochSeconds(record.startDate) };
};

const DescribeExecution = async (c: StatesContext, body: Json) => {
  const e = await existingExecution(c, reqStr(body, 'executionArn'));
  return {
    executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status,
    startDate: epochSeconds(e.startDate), input: e.input, inputDetails: { included: true },
    ...(e.stopDate !== undefined ? { stopDate: epochSeconds(e.stopDate) } : {}),
    ...(e.status === 'SUCCEEDED' ? { output: e.output, outputDetails: { included: true } } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
};

const ListExecutions = async (c: StatesContext, body: Json) => {
  const arn = optStr(body, 'stateMachineArn');
  if (arn === undefined) throw new ValidationException('Must provide a StateMachine ARN or MapRun ARN');
  const status = optStr(body, 'statusFilter');
  if (status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(status)) {
    throw new ValidationException(`1 validation error detected: Value '${status}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`);
  }
  const m = await existingMachine(c, arn);
  const all = (await c.store.listExecutions(m.name))
    .filter((e) => status === undefined || e.status === status)
    .sort((a, b) => b.startDate - a.startDate || a.name.localeCompare(b.name));
  const { items, nextToken } = listPage(all, body, (e) => e.name);
  return {
    executions: items.map((e) => ({
      executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: epochSeconds(e.startDate),
      ...(e.stopDate !== undefined ? { stopDate: epochSeconds(e.stopDate) } : {}),
    })),
    ...(nextToken ? { nextToken } : {}),
  };
};

const StopExecution = async (c: StatesContext, body: Json) => {
  const arn = reqStr(body, 'executionArn');
  const error = optStr(body, 'error', { max: 256 });
  const cause = optStr(body, 'cause', { max: 32_768 });
  const e = await existingExecution(c, arn);
  const stopped = (await c.engine.claimStop(arn)) ? await c.store.closeExecution(e, { status: 'ABORTED', stopDate: c.now(), error, cause }) : undefined;
  // Ended already (or ending on its own): nothing changes, and the answer is when it ended.
  if (!stopped) return { stopDate: epochSeconds((await existingExecution(c, arn)).stopDate ?? c.now()) };
  await c.engine.abort(stopped, error, cause);
  return { stopDate: epochSeconds(stopped.stopDate!) };
};

/** The details members that carry an execution's data, left out when includeExecutionData is false. */
const DATA_MEMBERS = new Set(['input', 'output', 'parameters', 'cause', 'error']);

const GetExecutionHistory = async (c: StatesContext, body: Json) => {
  const arn = reqStr(body, 'executionArn');
  const reverse = optBool(body, 'reverseOrder') ?? false;
  const withData = optBool(body, 'includeExecutionData') ?? true;
  await existingExecution(c, arn);
  const events = (await c.store.history(arn)).sort((a, b) => (reverse ? b.id - a.id : a.id - b.id));
  const { items, nextToken } = listPage(events, body, (e) => String(e.id));
  return {
    events: items.map(({ executionArn: _e, timestamp, ...rest }: HistoryItem) => {
      const event: Record<string, unknown> = { ...rest, timestamp: epochSeconds(timestamp) };
      if (!withData) {
        for (const [k, v] of Object.entries(event)) {
          if (k.endsWith('EventDetails') && v && typeof v === 'object') {
            event[k] = Object.fromEntries(Object.entries(v).filter(([m]) => !DATA_MEMBERS.has(m)));
          }
        }
      }
      return event;
    }),
    ...(nextToken ? { nextToken } : {}),
  };
};

/** The token a call names, checked: not one of ours is InvalidToken, ours but no longer awaited is TaskDoesNotExist. */
function awaitedToken(c: StatesContext, body: Json): string {
  const token = reqStr(body, 'taskToken', { min: 1, max: 2048 });
  if (!isTokenShaped(token)) throw new InvalidToken('Invalid Token: \'Invalid token\'');
  if (!c.engine.awaits(token)) throw new TaskDoesNotExist('Task Does Not Exist');
  return token;
}

const SendTaskSuccess = async (c: StatesContext, body: Json) => {
  const output = jsonText(body, 'output', undefined, (m) => new InvalidOutput(`Invalid Output: '${m}'`));
  await c.engine.success(awaitedToken(c, body), JSON.parse(output));
  return {};
};

const SendTaskFailure = async (c: StatesContext, body: Json) => {
  const error = optStr(body, 'error', { max: 256 }) ?? '';
  const cause = optStr(body, 'cause', { max: 32_768 }) ?? '';
  await c.engine.failure(awaitedToken(c, body), error, cause);
  return {};
};

const SendTaskHeartbeat = async (c: StatesContext, body: Json) => {
  await c.engine.heartbeat(awaitedToken(c, body));
  return {};
};

const STATES_OPERATIONS = {
  CreateStateMachine, DescribeStateMachine, UpdateStateMachine, ListStateMachines, DeleteStateMachine,
  StartExecution, DescribeExecution, ListExecutions, StopExecution, GetExecutionHistory,
  SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat,
} as const satisfies Record<string, (c: StatesContext, body: Json) => Promise<object>>;

/** What a task's own key may call: answering a token handed to it (a task role granted states:SendTask*). */
const TASK_OPERATIONS = new Set(['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat']);

/** The slice's operations as the JSON API handler serves them; a task's key may only answer tokens. */
export function statesOperations(context: StatesContext): Record<string, Operation> {
  const authorize = (operation: string, caller: Caller) => {
    if (caller.principal?.principal === 'task' && !TASK_OPERATIONS.has(operation)) throw new AccessDeniedException(`states:${operation}`);
  };
  return Object.fromEntries(Object.entries(STATES_OPERATIONS).map(([name, op]) => [name, async (_b, body, caller) => {
    authorize(name, caller);
    return op(context, body);
  }] as [string, Operation]));
}
