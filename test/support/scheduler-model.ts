/**
 * Conformance checks against EventBridge Scheduler's service model as Debian's awscli ships it,
 * as ecs-model.ts does for ECS: a response Berth sends must be one the SDKs and the CLI, built
 * from that model, read as AWS's own.
 */
import { readFileSync } from 'node:fs';
import { expect } from '@jest/globals';
import { SCHEDULER_ROUTES } from '../../shared/schedules/handler';
import { type EcsModel, validateValue } from './ecs-model';
import type { RecordedCall } from './recording-proxy';

const MODEL_PATH = '/usr/lib/python3/dist-packages/awscli/botocore/data/scheduler/2021-06-30/service-2.json';

/** Errors any AWS REST-JSON service may answer besides its modelled ones. */
const COMMON_ERRORS = ['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignature', 'MissingAuthenticationTokenException',
  'AccessDeniedException', 'SerializationException', 'UnknownOperationException', 'ExpiredTokenException'];

let model: EcsModel | undefined;
const load = (): EcsModel => (model ??= JSON.parse(readFileSync(MODEL_PATH, 'utf8')) as EcsModel);

/**
 * Members newer than the model (ActionAfterCompletion came in late 2023): checked for their
 * values, then left out of the model check. Today's SDKs know them.
 */
const NEWER_MEMBERS: Record<string, Record<string, readonly string[]>> = {
  GetSchedule: { ActionAfterCompletion: ['NONE', 'DELETE'] },
};

/** The operation a REST call names, by its method and path. */
export function operationOf(method: string, path: string): string {
  const parts = path.split('?')[0].split('/');
  const route = SCHEDULER_ROUTES.find((r) => r.method === method && r.path.split('/').length === parts.length
    && r.path.split('/').every((seg, i) => /^\{\w+\}$/.test(seg) || seg === parts[i]));
  if (!route) throw new Error(`no Scheduler operation for ${method} ${path}`);
  return route.operation;
}

export function schedulerOutputProblems(operation: string, body: unknown): string[] {
  const m = load();
  const op = m.operations[operation] as { output?: { shape: string } } | undefined;
  if (!op) throw new Error(`the Scheduler model has no operation ${operation}`);
  const problems: string[] = [];
  const copy = { ...(body as Record<string, unknown>) };
  for (const [member, values] of Object.entries(NEWER_MEMBERS[operation] ?? {})) {
    if (copy[member] !== undefined && !values.includes(copy[member] as string)) problems.push(`${member}: ${String(copy[member])} is not one of ${values.join(', ')}`);
    delete copy[member];
  }
  if (op.output) validateValue(m, op.output.shape, copy, '', problems);
  return problems;
}

/** Every call a recording proxy saw: a 200 whose body conforms, or an error whose type and body are Scheduler's. */
export function expectSchedulerCallsConform(calls: RecordedCall[]): void {
  const m = load();
  for (const call of calls.splice(0)) {
    const operation = operationOf(call.method!, call.path!);
    const body = JSON.parse(call.body || '{}');
    if (call.status === 200) {
      expect(schedulerOutputProblems(operation, body).map((p) => `${operation}: ${p}`)).toEqual([]);
      continue;
    }
    const shape = m.shapes[call.errorType ?? ''] as { exception?: boolean; error?: { httpStatusCode?: number } } | undefined;
    const known = shape?.exception === true || COMMON_ERRORS.includes(call.errorType ?? '');
    expect({ operation, errorType: call.errorType, known, status: shape?.error?.httpStatusCode ?? call.status, message: typeof body.Message })
      .toEqual({ operation, errorType: call.errorType, known: true, status: call.status, message: 'string' });
  }
}
