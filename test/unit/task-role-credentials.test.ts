import { describe, expect, it, jest } from '@jest/globals';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { TASK_ROLE_SESSION_SECONDS, berthTaskKeys, stsTaskRoles } from '../../agent/task-endpoint/task-role-credentials';
import type { Assignment } from '../../shared/agent-wire/responses';

const task: Assignment = {
  cluster: 'default', taskId: '0123456789abcdef0123456789abcdef', taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef',
  family: 'web', revision: 1, taskRoleArn: 'arn:aws:iam::123456789012:role/app', desiredStatus: 'RUNNING', lastStatus: 'PENDING',
  createdAt: 0, cpu: 256, memory: 512, containers: [],
};

describe('Task role credentials sources', () => {
  describe('stsTaskRoles (the STS client mocked, the adapter real)', () => {
    it('assumes the task role, the session named after the task, and answers its credentials', async () => {
      // Prepare
      const expiration = new Date(Date.UTC(2030, 0, 1));
      const send = jest.fn(async (_command: unknown) => ({
        Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'session', Expiration: expiration },
      }));

      // Act
      const c = await stsTaskRoles({ send } as never)(task);

      // Assess
      const command = send.mock.calls[0][0] as AssumeRoleCommand;
      expect(command).toBeInstanceOf(AssumeRoleCommand);
      expect(command.input).toEqual({ RoleArn: task.taskRoleArn, RoleSessionName: task.taskId, DurationSeconds: TASK_ROLE_SESSION_SECONDS });
      expect(c).toEqual({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session', expiration: expiration.getTime(), roleArn: task.taskRoleArn });
    });

    it.each([
      ['a task without a role', { ...task, taskRoleArn: undefined }, {}, /has no taskRoleArn/],
      ['an answer without credentials', task, {}, /answered without credentials/],
    ])('refuses %s', async (_what, t, answer, message) => {
      const send = jest.fn(async () => answer);
      await expect(stsTaskRoles({ send } as never)(t)).rejects.toThrow(message);
    });

    it('passes STS\'s refusal on', async () => {
      const send = jest.fn(async () => {
        throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
      });
      await expect(stsTaskRoles({ send } as never)(task)).rejects.toThrow(/sts:AssumeRole/);
    });
  });

  it('berthTaskKeys asks the control plane for the task', async () => {
    const taskCredentials = jest.fn(async (_t: { cluster: string; taskId: string }) => ({
      accessKeyId: 'BTX', secretAccessKey: 's', sessionToken: 't', expiration: 1, roleArn: 'r',
    }));
    expect(await berthTaskKeys({ taskCredentials })(task)).toMatchObject({ accessKeyId: 'BTX' });
    expect(taskCredentials).toHaveBeenCalledWith(task);
  });
});
