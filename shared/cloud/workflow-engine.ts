/** The two lifecycle state machines, kept as ASL in shared/workflows. */
export const WORKFLOWS = ['launch', 'stop'] as const;
export type WorkflowName = (typeof WORKFLOWS)[number];

/**
 * The workflow engine port: Step Functions on AWS, aws-local-stepfunctions locally.
 * Both are idempotent where the lifecycle needs them to be.
 */
export interface WorkflowEngine {
  /** Starts an execution; starting one with a name already used does nothing. */
  start(workflow: WorkflowName, executionName: string, input: object): Promise<void>;
  /** Completes a `.waitForTaskToken` wait; a token that is unknown or already used is ignored. */
  succeed(taskToken: string, output: object): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}
