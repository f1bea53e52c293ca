import '../../../shared/cloud/local/promise-with-resolvers';
import { randomBytes } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { runTaskForToken } from '../../../shared/batch/run-for-token';
import { ECS_ERROR_PREFIX, FAILURES_ERROR, camelCaseKeys, runTaskOutput } from '../../../shared/batch/ecs-integration';
import type { TaskCallbacks } from '../../../shared/batch/task-callbacks';
import type { Berth } from '../../../shared/context';
import { EcsError } from '../../../shared/domain/errors';
import { type Json, isObject } from '../../../shared/domain/fields';
import { RunTask } from '../../../shared/ecs-api/tasks';
import { stopTask } from '../../../shared/lifecycle/stop-task';
import { type CheckedDefinition, type TaskStateInfo, checkDefinition } from './definition';
import { HistoryRecorder } from './history';
import type { ExecutionRecord, StatesStore } from './store';

/** What `$$.Task.Token` evaluates to; each wait replaces it in its own input with a token minted for it. */
const TOKEN_PLACEHOLDER = 'berth-task-token-placeholder-0d7c2a';
/** Berth's tokens: a prefix and 64 random bytes. Anything else is not a token (InvalidToken). */
const TOKEN_PREFIX = 'berth1.';
export const isTokenShaped = (token: string) => token.startsWith(TOKEN_PREFIX) && token.length === TOKEN_PREFIX.length + 86;
const mintToken = () => `${TOKEN_PREFIX}${randomBytes(64).toString('base64url')}`;

/** A Task state's failure, named as Step Functions names it: users Retry and Catch on the name. */
class StatesTaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** A state machine waiting on a token (`.sync`, `.waitForTaskToken`). */
interface Waiter {
  execution: Running;
  resolve(output: object): void;
  reject(e: StatesTaskError): void;
  heartbeatSeconds?: number;
  heartbeatTimer?: NodeJS.Timeout;
}

/** An execution this process runs. */
interface Running {
  record: ExecutionRecord;
  abort(): void;
  aborted: boolean;
  /** Its executor's result is being recorded: it ends on its own, and StopExecution waits for that. */
  ending: boolean;
  /** Resolves once it is forgotten: ended, stopped or abandoned. */
  forgotten: Promise<void>;
  markForgotten(): void;
  history: HistoryRecorder;
  tokens: Set<string>;
}

const replaceToken = (v: unknown, token: string): unknown => {
  if (v === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(v)) return v.map((x) => replaceToken(x, token));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceToken(x, token)]));
  return v;
};

const RESOURCE_NAMES: Record<TaskStateInfo['binding'], { resourceType: string; resource: string }> = {
  runTask: { resourceType: 'ecs', resource: 'runTask' },
  sync: { resourceType: 'ecs', resource: 'runTask.sync' },
  callback: { resourceType: 'ecs', resource: 'runTask.waitForTaskToken' },
  batchFunction: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' },
};

export interface LocalStepFunctionsOptions {
  log: (line: object) => void;
}

/**
 * Runs users' state machines in process through aws-local-stepfunctions, with their Task states
 * bound to Berth (ecs:runTask, .sync, .waitForTaskToken, and Berth's batch function). Task tokens
 * are minted here and answered by SendTaskSuccess/Failure (this class is the local mode's
 * TaskCallbacks). Executions and their history live in the store; the executor does not, so an
 * execution running when the process ends is marked ABORTED at the next start (`recover`).
 */
export class LocalStepFunctions implements TaskCallbacks {
  private readonly running = new Map<string, Running>();
  private readonly waiters = new Map<string, Waiter>();
  /** Task states still running: the local mode's stop waits for them. */
  private readonly states = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly berth: Berth, private readonly store: StatesStore, private readonly o: LocalStepFunctionsOptions) {}

  /** Whether a state machine waits on this token now. */
  awaits(token: string): boolean {
    return this.waiters.has(token);
  }

  /** Starts running a new execution (recorded RUNNING already); returns at once. */
  start(record: ExecutionRecord): void {
    // Stopping: left RUNNING in the store, it is marked ABORTED at the next start (`recover`).
    if (this.closed) return;
    const checked = checkDefinition(record.definition);
    const history = new HistoryRecorder(this.store, record.executionArn, () => this.berth.now(), this.o.log);
    let markForgotten!: () => void;
    const forgotten = new Promise<void>((resolve) => { markForgotten = resolve; });
    const running: Running = { record, abort: () => {}, aborted: false, ending: false, forgotten, markForgotten, history, tokens: new Set() };
    this.running.set(record.executionArn, running);
    history.add('ExecutionStarted', { executionStartedEventDetails: { input: record.input, inputDetails: { truncated: false } } });
    const machine = new StateMachine(checked.runnable, { validationOptions: { noValidate: true } });
    const execution = machine.run(JSON.parse(record.input), {
      overrides: { taskResourceLocalHandlers: this.handlers(checked, running) },
      noThrowOnAbort: true,
      context: {
        Task: { Token: TOKEN_PLACEHOLDER },
        Execution: { Id: record.executionArn, Name: record.name },
        StateMachine: { Id: record.stateMachineArn, Name: record.stateMachineName },
      },
    });
    running.abort = execution.abort;
    const recorded = history.follow(execution.eventLogs);
    void execution.result.then(
      async (output) => {
        await recorded;
        if (running.aborted) return;
        running.ending = true;
        const text = JSON.stringify(output);
        history.add('ExecutionSucceeded', { executionSucceededEventDetails: { output: text, outputDetails: { truncated: false } } });
        await this.finish(running, { status: 'SUCCEEDED', output: text });
      },
      async (e: Error) => {
        await recorded;
        if (running.aborted) return;
        running.ending = true;
        const timedOut = e?.name === 'ExecutionTimeoutError';
        const { error, cause } = failureOf(e);
        if (timedOut) history.add('ExecutionTimedOut', { executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution timed out' } });
        else history.add('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
        await this.finish(running, timedOut ? { status: 'TIMED_OUT', error: 'States.Timeout' } : { status: 'FAILED', error, cause });
      },
    ).catch((e) => this.o.log({ level: 'error', message: 'execution not recorded', executionArn: record.executionArn, error: String(e) }));
  }

  private async finish(running: Running, end: Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>): Promise<void> {
    try {
      // History first: whoever sees the execution closed sees all of it.
      await running.history.close();
      await this.store.closeExecution(running.record, { ...end, stopDate: this.berth.now() });
    } finally {
      // Even unrecorded (the next start marks it ABORTED), it is no longer this engine's.
      this.forget(running);
    }
  }

  /**
   * The execution has ended (or was stopped): a state still waiting on a token (a branch beside
   * one that failed, a `.sync` whose execution was stopped) fails now, so it ends too, and writes
   * nothing more to a history that is closed; left waiting, it would never settle.
   */
  private forget(running: Running): void {
    this.running.delete(running.record.executionArn);
    running.aborted = true;
    running.markForgotten();
    for (const token of running.tokens) this.release(token)?.reject(new StatesTaskError('States.Runtime', 'The execution has ended'));
  }

  /**
   * StopExecution's first step, before it writes anything: an execution already recording its
   * own end keeps that end (false, once it is recorded); one still running is claimed, so what
   * its executor returns from now on no longer counts (true). Without it, an end recorded between
   * StopExecution's write and its abort would leave two terminal events in the history.
   */
  async claimStop(executionArn: string): Promise<boolean> {
    const running = this.running.get(executionArn);
    if (!running) return true;
    if (running.ending) {
      await running.forgotten;
      return false;
    }
    running.aborted = true;
    return true;
  }

  /**
   * StopExecution (already recorded ABORTED): the executor is abandoned, its waits end, and every
   * task it ran that is still running is stopped.
   */
  async abort(record: ExecutionRecord, error?: string, cause?: string): Promise<void> {
    const running = this.running.get(record.executionArn);
    if (running) {
      running.aborted = true;
      running.abort();
      running.history.add('ExecutionAborted', { executionAbortedEventDetails: { error, cause } });
      await running.history.close();
      this.forget(running);
    } else {
      await HistoryRecorder.appendAfter(this.store, record.executionArn, 'ExecutionAborted', { executionAbortedEventDetails: { error, cause } }, this.berth.now());
    }
    await this.stopTasks((await this.store.getExecution(record.stateMachineName, record.name)) ?? record);
  }

  private async stopTasks(record: ExecutionRecord): Promise<void> {
    await Promise.all([...(record.taskArns ?? [])].map(async (arn) => {
      const [, cluster, taskId] = /task\/([^/]+)\/([a-f0-9]{32})$/.exec(arn) ?? [];
      if (!cluster) return;
      const task = await this.berth.store.tasks.get({ cluster, taskId });
      if (!task || task.lastStatus === 'STOPPED' || task.desiredStatus === 'STOPPED') return;
      await stopTask(this.berth, cluster, taskId, `Execution ${record.name} of ${record.stateMachineName} was stopped`).catch((e) =>
        this.o.log({ level: 'warn', message: 'task of a stopped execution not stopped', taskArn: arn, error: String(e) }));
    }));
  }

  /**
   * The local mode stops: every execution is abandoned as a process exit would leave it (RUNNING in
   * the store, marked ABORTED at the next start, its tasks left to run), its waits end, and once the
   * states already running and its history's writes have ended, nothing of it uses the store.
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.running.values()];
    for (const r of running) {
      r.aborted = true;
      r.abort();
      for (const token of [...r.tokens]) this.release(token)?.reject(new StatesTaskError('States.Runtime', 'The local mode stopped'));
    }
    while (this.states.size > 0) await Promise.all([...this.states]);
    await Promise.all(running.map((r) => r.history.close()));
    this.running.clear();
  }

  /**
   * A restart: executions left RUNNING by the process before are marked ABORTED (they are not
   * resumed: the executor kept their state in memory) and their tasks stopped.
   */
  async recover(): Promise<number> {
    const left = await this.store.listRunning();
    const error = 'States.Runtime';
    const cause = 'Berth\'s local mode restarted while this execution ran; executions are not resumed.';
    for (const e of left) {
      const closed = await this.store.closeExecution(e, { status: 'ABORTED', stopDate: this.berth.now(), error, cause });
      if (closed) await this.abort(closed, error, cause);
    }
    return left.length;
  }

  /** One handler per Task state, by name (names are unique across the machine). */
  private handlers(checked: CheckedDefinition, running: Running): Record<string, (input: any) => Promise<any>> {
    return Object.fromEntries([...checked.tasks].map(([name, info]) => [name, (input: Json) => {
      const state = this.runState(running, name, info, input);
      const settled = state.then(() => {}, () => {});
      this.states.add(settled);
      void settled.finally(() => this.states.delete(settled));
      return state;
    }]));
  }

  private async runState(running: Running, stateName: string, info: TaskStateInfo, input: Json): Promise<object> {
    // Events of nested machines (a Map's iterations) reach the root's log through promise
    // chains: let them arrive first, so this state's events follow its TaskStateEntered.
    await new Promise((r) => setImmediate(r));
    if (running.aborted) throw new StatesTaskError('States.Runtime', 'The execution was stopped');
    const names = RESOURCE_NAMES[info.binding];
    const { history } = running;
    const token = info.binding === 'runTask' ? undefined : mintToken();
    const parameters = token ? replaceToken(input, token) as Json : input;
    history.add('TaskScheduled', {
      taskScheduledEventDetails: {
        ...names, region: this.berth.partition.region, parameters: JSON.stringify(input),
        ...(info.timeoutSeconds ? { timeoutInSeconds: info.timeoutSeconds } : {}),
        ...(info.heartbeatSeconds ? { heartbeatInSeconds: info.heartbeatSeconds } : {}),
      },
    });
    history.add('TaskStarted', { taskStartedEventDetails: names });
    try {
      // Only a container answers for itself; where Berth runs the task (.sync, its batch function)
      // it is the worker, and its heartbeats (on AWS the batch function's schedule) are implied.
      const done = token ? this.wait(running, token, info.binding === 'callback' ? info.heartbeatSeconds : undefined) : undefined;
      // It may fail before it is awaited (RunTask refused): awaited below all the same.
      done?.catch(() => {});
      let submitted: Record<string, unknown>;
      if (info.binding === 'sync') {
        submitted = await runTaskForToken(this.berth, { taskToken: token!, parameters });
      } else if (info.binding === 'batchFunction') {
        const { TaskToken: taskToken, ...rest } = (isObject(parameters.Payload) ? parameters.Payload : {}) as Json;
        if (typeof taskToken !== 'string') throw new StatesTaskError('States.Runtime', 'The Payload for Berth\'s batch function must carry "TaskToken.$": "$$.Task.Token"');
        submitted = await runTaskForToken(this.berth, { taskToken, parameters: rest });
        if (taskToken !== token) void this.failure(token!, 'States.Runtime', 'The Payload carried another task token');
      } else {
        submitted = await this.runTask(parameters);
        if (token && (submitted.Failures as unknown[]).length > 0) {
          throw new StatesTaskError(FAILURES_ERROR, JSON.stringify(submitted.Failures));
        }
      }
      await this.keepTasks(running, submitted);
      if (!done) {
        history.add('TaskSucceeded', { taskSucceededEventDetails: { ...names, output: JSON.stringify(submitted), outputDetails: { truncated: false } } });
        return submitted;
      }
      if (!('Error' in submitted)) history.add('TaskSubmitted', { taskSubmittedEventDetails: { ...names, output: JSON.stringify(submitted), outputDetails: { truncated: false } } });
      const output = await done;
      history.add('TaskSucceeded', { taskSucceededEventDetails: { ...names, output: JSON.stringify(output), outputDetails: { truncated: false } } });
      return output;
    } catch (e) {
      const { error, cause } = failureOf(e);
      if (token) this.release(token);
      // An execution stopped, ended or abandoned records no more events.
      if (!running.aborted) history.add('TaskFailed', { taskFailedEventDetails: { ...names, error, cause } });
      throw e instanceof StatesTaskError ? e : new StatesTaskError(error, cause);
    }
  }

  /** `ecs:runTask`: RunTask with the state's parameters; ECS's refusal fails the state as `ECS.<exception>`. */
  private async runTask(parameters: Json): Promise<Record<string, unknown>> {
    const body = camelCaseKeys(parameters);
    try {
      if (!isObject(body)) throw new EcsError('The parameters must be an object.');
      return runTaskOutput(await RunTask(this.berth, body, {}) as { tasks: object[]; failures: object[] });
    } catch (e) {
      if (e instanceof EcsError) throw new StatesTaskError(`${ECS_ERROR_PREFIX}${e.name}`, e.message);
      throw e;
    }
  }

  /** Remembers the tasks a state ran, so StopExecution (or a restart) can stop them. */
  private async keepTasks(running: Running, submitted: Record<string, unknown>): Promise<void> {
    const arns = ((submitted.Tasks ?? []) as { TaskArn: string }[]).map((t) => t.TaskArn);
    for (const arn of arns) await this.store.addTask(running.record, arn);
    // Stopped meanwhile: a task started after the stop is stopped too.
    if (running.aborted && arns.length > 0) await this.stopTasks({ ...running.record, taskArns: new Set(arns) });
  }

  private wait(running: Running, token: string, heartbeatSeconds?: number): Promise<object> {
    return new Promise<object>((resolve, reject) => {
      const waiter: Waiter = { execution: running, resolve, reject, heartbeatSeconds };
      this.waiters.set(token, waiter);
      running.tokens.add(token);
      this.armHeartbeat(token, waiter);
    });
  }

  /** HeartbeatSeconds, which aws-local-stepfunctions lacks: no heartbeat in time fails the wait. */
  private armHeartbeat(token: string, w: Waiter): void {
    if (!w.heartbeatSeconds) return;
    clearTimeout(w.heartbeatTimer);
    w.heartbeatTimer = setTimeout(() => {
      this.release(token);
      w.reject(new StatesTaskError('States.HeartbeatTimeout', `No heartbeat within ${w.heartbeatSeconds} seconds`));
    }, w.heartbeatSeconds * 1000);
    w.heartbeatTimer.unref();
  }

  private release(token: string): Waiter | undefined {
    const w = this.waiters.get(token);
    if (!w) return undefined;
    clearTimeout(w.heartbeatTimer);
    this.waiters.delete(token);
    w.execution.tokens.delete(token);
    return w;
  }

  async success(taskToken: string, output: object): Promise<void> {
    this.release(taskToken)?.resolve(output);
  }

  async failure(taskToken: string, error: string, cause: string): Promise<void> {
    this.release(taskToken)?.reject(new StatesTaskError(error, cause));
  }

  async heartbeat(taskToken: string): Promise<void> {
    const w = this.waiters.get(taskToken);
    if (w) this.armHeartbeat(taskToken, w);
  }
}

/** The error and cause of a failed state or execution, as the library reports them. */
function failureOf(e: unknown): { error: string; cause: string } {
  // ExecutionError wraps the state's error as its cause.
  const inner = (e as { cause?: unknown })?.cause instanceof Error && (e as Error).name === 'ExecutionError' ? (e as { cause: Error }).cause : e;
  if (inner instanceof Error) return { error: inner.name || 'Error', cause: inner.message };
  return { error: 'States.Runtime', cause: String(inner) };
}
