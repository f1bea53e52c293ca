import {
  ExecutionAlreadyExists,
  InvalidToken,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import type { WorkflowEngine, WorkflowName } from '../workflow-engine';

/** A token that Step Functions no longer waits on: the wait already ended, so there is nothing to do. */
export const isSpentToken = (e: unknown) =>
  e instanceof InvalidToken || e instanceof TaskDoesNotExist || e instanceof TaskTimedOut;

export class SfnWorkflowEngine implements WorkflowEngine {
  constructor(
    private readonly stateMachineArns: Record<WorkflowName, string>,
    private readonly sfn = new SFNClient({}),
  ) {}

  async start(workflow: WorkflowName, executionName: string, input: object): Promise<void> {
    try {
      await this.sfn.send(new StartExecutionCommand({
        stateMachineArn: this.stateMachineArns[workflow],
        name: executionName,
        input: JSON.stringify(input),
      }));
    } catch (e) {
      // Same name, same input: Step Functions itself treats it as idempotent. Other input under
      // the same name means the execution for this task already exists, which is what we want.
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
    }
  }

  async succeed(taskToken: string, output: object): Promise<void> {
    try {
      await this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
    } catch (e) {
      if (!isSpentToken(e)) throw e;
    }
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    try {
      await this.sfn.send(new SendTaskFailureCommand({ taskToken, error, cause }));
    } catch (e) {
      if (!isSpentToken(e)) throw e;
    }
  }
}
