import type { STSClient } from '@aws-sdk/client-sts';
import { lazySts, stsAssumeRole } from '../identity/sts-assume-role';
import type { Assignment } from '../../shared/agent-wire/responses';
import type { AgentClient } from '../client';
import type { TaskRoleCredentials } from './server';

/** Where a task role's credentials come from: the port the task endpoint asks. */
export type TaskRoleCredentialsSource = (task: Assignment) => Promise<TaskRoleCredentials>;

/** ECS's task role sessions last an hour by default; the endpoint refreshes them before that. */
export const TASK_ROLE_SESSION_SECONDS = 3600;

/** Locally: Berth keys whose principal is the task, from the control plane (shared/auth/task-credentials.ts). */
export const berthTaskKeys = (client: Pick<AgentClient, 'taskCredentials'>): TaskRoleCredentialsSource => (task) => client.taskCredentials(task);

/**
 * On AWS: the task role assumed with the host's instance role (STS AssumeRole), the session
 * named after the task, as ECS names it. The role's trust policy must let the hosts' instance
 * role assume it (see the README).
 */
export function stsTaskRoles(sts: Pick<STSClient, 'send'>): TaskRoleCredentialsSource {
  const assume = stsAssumeRole(sts);
  return async (task) => {
    if (!task.taskRoleArn) throw new Error(`task ${task.taskId} has no taskRoleArn`);
    const c = await assume({ roleArn: task.taskRoleArn, sessionName: task.taskId, durationSeconds: TASK_ROLE_SESSION_SECONDS });
    return { ...c, roleArn: task.taskRoleArn };
  };
}

/** The source an agent uses: Berth keys against a local AWS endpoint, STS on AWS. */
export function taskRoleCredentialsSource(client: Pick<AgentClient, 'taskCredentials'>, aws: { region: string; endpoint?: string }): TaskRoleCredentialsSource {
  return aws.endpoint ? berthTaskKeys(client) : stsTaskRoles(lazySts(aws.region));
}
