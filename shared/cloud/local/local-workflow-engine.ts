import './promise-with-resolvers';
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { DEFINITIONS, WAIT_FOR_TASK_TOKEN, functionRef } from '../../workflows/definitions';
import type { WorkflowEngine, WorkflowName } from '../workflow-engine';

/** A Lambda function as the local runtime calls it: the payload in, the result out. */
export type LocalFunction = (payload: any) => Promise<unknown>;

type Waiter = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

const localArn = (fn: string) => `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;

/** Replaces every `Fn::GetAtt` with a Lambda ARN, so the ASL validates as it would once deployed. */
function resolveRefs(v: unknown): unknown {
  const fn = functionRef(v);
  if (fn) return localArn(fn);
  if (Array.isArray(v)) return v.map(resolveRefs);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveRefs(x)]));
  }
  return v;
}

export interface LocalWorkflowOptions {
  /** Called when an execution fails outright (the ASL catches task failures itself). */
  onError?: (workflow: WorkflowName, name: string, error: unknown) => void;
  /** Per Task state, a TimeoutSeconds to use instead of the ASL's: tests shorten the waits. */
  timeoutSeconds?: Record<string, number>;
  /** The definitions to run instead of the repo's: bench:control-plane runs the previous ones beside them. */
  definitions?: Record<WorkflowName, object>;
  /** Told of every state an execution enters (and every retry): what Step Functions bills as a transition. */
  onTransition?: (workflow: WorkflowName, state: string) => void;
}

class TaskTokenError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/**
 * Runs the repo's ASL in process through aws-local-stepfunctions. Task states call the local
 * functions by name; `.waitForTaskToken` states, which the library lacks, get a token minted
 * here that `succeed`/`fail` resolve, exactly as SendTaskSuccess/SendTaskFailure would.
 * Executions live in memory only: recovery after a restart comes from the store, not from here.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly machines = new Map<WorkflowName, { machine: StateMachine; overrides: Record<string, (input: any) => Promise<any>> }>();
  private readonly names = new Set<string>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly aborts = new Set<() => void>();
  /** Task states' function calls still running: an aborted execution does not cancel them. */
  private readonly calls = new Set<Promise<unknown>>();
  private closed = false;
  private readonly waiters = new Map<string, Waiter>();
  private readonly onError: (workflow: WorkflowName, name: string, error: unknown) => void;
  private readonly onTransition?: (workflow: WorkflowName, state: string) => void;

  constructor(
    private readonly functions: Record<string, LocalFunction>,
    options: LocalWorkflowOptions = {},
  ) {
    this.onError = options.onError ?? (() => {});
    this.onTransition = options.onTransition;
    for (const [workflow, definition] of Object.entries(options.definitions ?? DEFINITIONS) as [WorkflowName, object][]) {
      const resolved = resolveRefs(definition) as { States: Record<string, any> };
      const overrides: Record<string, (input: any) => Promise<any>> = {};
      for (const [stateName, state] of Object.entries(resolved.States)) {
        if (state.Type !== 'Task') continue;
        const timeout = options.timeoutSeconds?.[stateName];
        if (timeout !== undefined) state.TimeoutSeconds = timeout;
        // The library reads TimeoutSecondsPath from the state's Parameters, not from its input
        // as Step Functions does: carry the value into the payload and point the path there.
        if (state.TimeoutSecondsPath && state.Parameters?.Payload) {
          state.Parameters.Payload['timeoutSeconds.$'] = state.TimeoutSecondsPath;
          state.TimeoutSecondsPath = '$.Payload.timeoutSeconds';
        }
        overrides[stateName] = this.override(state);
      }
      this.machines.set(workflow, { machine: new StateMachine(resolved as any), overrides });
    }
  }

  private fn(arn: string): LocalFunction {
    const name = arn.split(':function:')[1];
    const f = this.functions[name];
    if (!f) throw new Error(`No local function ${name} for ${arn}`);
    return (payload) => {
      const call = f(payload);
      const tracked = call.then(() => {}, () => {});
      this.calls.add(tracked);
      void tracked.finally(() => this.calls.delete(tracked));
      return call;
    };
  }

  private override(state: any): (input: any) => Promise<any> {
    if (state.Resource !== WAIT_FOR_TASK_TOKEN) {
      const f = this.fn(state.Resource);
      return (input) => f(input);
    }
    const f = this.fn(state.Parameters.FunctionName);
    return (input) => {
      const token = randomUUID();
      const done = new Promise((resolve, reject) => this.waiters.set(token, { resolve, reject }));
      // Ended (the engine's close, a fail) while the function is still being called, before
      // anything awaits it: not an unhandled rejection; the await below still sees it.
      done.catch(() => {});
      const waited = (async () => {
        try {
          await f({ ...input.Payload, taskToken: token });
          return await done;
        } finally {
          this.waiters.delete(token);
        }
      })();
      // A wait the library ended by its timeout no longer listens: its token's later end
      // (a late succeed, the engine's close) must not be an unhandled rejection.
      waited.catch(() => {});
      return waited;
    };
  }

  async start(workflow: WorkflowName, executionName: string, input: object): Promise<void> {
    const key = `${workflow}/${executionName}`;
    // Closed: the store holds what it would have done, and the next start's recovery resumes it.
    if (this.closed || this.names.has(key)) return;
    this.names.add(key);
    const { machine, overrides } = this.machines.get(workflow)!;
    const execution = machine.run(input as any, {
      overrides: { taskResourceLocalHandlers: overrides },
      noThrowOnAbort: true,
      // `$$.Task.Token` must resolve; the real token is minted per wait in `override`.
      context: { Task: { Token: 'minted-per-wait' } },
    });
    if (this.onTransition) void this.countTransitions(workflow, execution.eventLogs);
    const settled = execution.result.then(
      () => undefined,
      (e) => this.onError(workflow, executionName, e),
    );
    this.running.add(settled);
    this.aborts.add(execution.abort);
    void settled.finally(() => {
      this.running.delete(settled);
      this.aborts.delete(execution.abort);
    });
  }

  private async countTransitions(workflow: WorkflowName, events: AsyncIterable<{ type: string; state?: { name: string } }>): Promise<void> {
    try {
      for await (const e of events) {
        if (e.type === 'StateEntered' || e.type === 'StateRetried') this.onTransition!(workflow, e.state?.name ?? '');
      }
    } catch {
      // An aborted execution ends its log; nothing to count past it.
    }
  }

  async succeed(taskToken: string, output: object): Promise<void> {
    this.waiters.get(taskToken)?.resolve(output);
    this.waiters.delete(taskToken);
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.waiters.get(taskToken)?.reject(new TaskTokenError(error, cause));
    this.waiters.delete(taskToken);
  }

  /** Resolves once no execution is running: for tests and a clean shutdown. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * Abandons every execution, as a process exit would (their state lives on in the store), and
   * resolves once the Task states' calls already running have ended: none of them still reads or
   * writes the store after this.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const abort of this.aborts) abort();
    for (const w of this.waiters.values()) w.reject(new TaskTokenError('States.Runtime', 'engine closed'));
    this.waiters.clear();
    while (this.calls.size > 0) await Promise.all([...this.calls]);
  }

  get activeExecutions(): number {
    return this.running.size;
  }
}
