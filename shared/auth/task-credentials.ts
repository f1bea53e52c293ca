import { randomBytes } from 'node:crypto';
import type { GetTaskCredentialsResponse } from '../agent-wire/responses';
import type { Berth } from '../context';
import { ReportRefusedException } from '../lifecycle/reports';
import type { AccessKeyRecord, TaskDefinitionRecord, TaskRecord } from '../store';
import { issueAccessKey } from './access-keys';

/** How long a task's key signs: AWS SDKs refresh container credentials well before this; the agent does 15 minutes before. */
export const TASK_KEY_LIFETIME_MS = 60 * 60_000;

/**
 * A task role's credentials, for the host that runs the task: a Berth key whose principal is the
 * task (see taskPrincipal), short-lived. Only for a task bound to that host, not STOPPED, whose
 * definition has a taskRoleArn; anything else is refused and issues nothing.
 */
export async function issueTaskCredentials(b: Berth, hostId: string, ref: { cluster: string; taskId: string }): Promise<GetTaskCredentialsResponse> {
  const task = await b.store.tasks.get(ref);
  if (!task || task.hostId !== hostId || task.lastStatus === 'STOPPED') {
    throw new ReportRefusedException(`Host ${hostId} does not run task ${ref.taskId}.`);
  }
  const def = await b.store.taskDefinitions.get(task.family, task.revision);
  if (!def?.taskRoleArn) throw new ReportRefusedException(`Task ${ref.taskId} has no taskRoleArn.`);
  const expiresAt = b.now() + TASK_KEY_LIFETIME_MS;
  const key = await issueAccessKey(b, 'task', hostId, { cluster: task.cluster, taskId: task.taskId, expiresAt });
  return {
    ...key,
    // AWS SDKs need one; the signature, made with the key's secret, is what proves the caller.
    sessionToken: randomBytes(24).toString('base64'),
    expiration: expiresAt,
    roleArn: def.taskRoleArn,
  };
}

/**
 * The task a task key stands for, with its definition, while it may still act: bound to the
 * host that was given the key, and not STOPPED. Undefined for any other key, or once the task
 * has stopped.
 */
export async function taskPrincipal(b: Berth, key: AccessKeyRecord | undefined): Promise<{ task: TaskRecord; def: TaskDefinitionRecord } | undefined> {
  if (key?.principal !== 'task' || !key.cluster || !key.taskId) return undefined;
  const task = await b.store.tasks.get({ cluster: key.cluster, taskId: key.taskId });
  if (!task || task.hostId !== key.hostId || task.lastStatus === 'STOPPED') return undefined;
  const def = await b.store.taskDefinitions.get(task.family, task.revision);
  return def && { task, def };
}
