import launch from './task-launch.asl.json';
import stop from './task-stop.asl.json';
import type { WorkflowName } from '../cloud/workflow-engine';

/** The ASL as kept in the repo, with `Fn::GetAtt` references that serverless.yml resolves. */
export const DEFINITIONS: Record<WorkflowName, object> = { launch, stop };

export const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** The Lambda function a `{"Fn::GetAtt": [fn, "Arn"]}` names, if that is what `v` is. */
export function functionRef(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const ref = (v as Record<string, unknown>)['Fn::GetAtt'];
  return Array.isArray(ref) && ref[1] === 'Arn' && typeof ref[0] === 'string' ? ref[0] : undefined;
}
