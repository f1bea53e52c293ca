import { describe, expect, it } from '@jest/globals';
import {
  clusterArn,
  clusterName,
  parseResourceArn,
  parseTaskDefinitionRef,
  taskArn,
  taskDefinitionArn,
  taskIdOf,
} from '../../shared/domain/arns';
import { ClientException, InvalidParameterException } from '../../shared/domain/errors';
import { caught } from '../support/caught';

const PARTITION = { region: 'eu-west-1', accountId: '123456789012' };
const PREFIX = 'arn:aws:ecs:eu-west-1:123456789012';
const TASK_ID = '0123456789abcdef0123456789abcdef';


describe('arns', () => {
  describe('clusterName', () => {
    it.each<[string, string | undefined, string]>([
      ['no reference', undefined, 'default'],
      ['an empty reference', '', 'default'],
      ['a name', 'prod', 'prod'],
      ['a name with hyphens and underscores', 'my-cluster_2', 'my-cluster_2'],
      ['a name of 255 characters', 'c'.repeat(255), 'c'.repeat(255)],
      ['a cluster ARN', `${PREFIX}:cluster/prod`, 'prod'],
      ['a cluster ARN in another partition', 'arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod', 'prod'],
      ['the ARN clusterArn mints', clusterArn(PARTITION, 'staging'), 'staging'],
    ])('reads %s', (_description, ref, expected) => {
      // Act
      const name = clusterName(ref);

      // Assess
      expect(name).toBe(expected);
    });

    it.each<[string, string]>([
      ['a name with a space', 'my cluster'],
      ['a name with a slash', 'a/b'],
      ['a name of 256 characters', 'c'.repeat(256)],
      ['a task ARN', `${PREFIX}:task/prod/${TASK_ID}`],
      ['a task-definition ARN', `${PREFIX}:task-definition/web:1`],
      ['a cluster ARN with a bad name', `${PREFIX}:cluster/bad name`],
      ['a cluster ARN with a nested path', `${PREFIX}:cluster/a/b`],
      ['an ARN of another service', 'arn:aws:s3:eu-west-1:123456789012:cluster/prod'],
    ])('rejects %s with InvalidParameterException', (_description, ref) => {
      // Act
      const error = caught(() => clusterName(ref));

      // Assess
      expect(error).toBeInstanceOf(InvalidParameterException);
    });
  });

  describe('parseTaskDefinitionRef', () => {
    it.each<[string, string, { family: string; revision?: number }]>([
      ['a family', 'web', { family: 'web' }],
      ['family:revision', 'web:3', { family: 'web', revision: 3 }],
      ['a large revision', 'web_api-2:1000000', { family: 'web_api-2', revision: 1_000_000 }],
      ['a full ARN', `${PREFIX}:task-definition/web:7`, { family: 'web', revision: 7 }],
      ['the ARN taskDefinitionArn mints', taskDefinitionArn(PARTITION, 'api', 12), { family: 'api', revision: 12 }],
    ])('reads %s', (_description, ref, expected) => {
      // Act
      const parsed = parseTaskDefinitionRef(ref);

      // Assess
      expect(parsed).toEqual(expected);
    });

    it.each<[string, string]>([
      ['revision 0', 'web:0'],
      ['a revision that is not a number', 'web:abc'],
      ['a negative revision', 'web:-1'],
      ['an empty revision', 'web:'],
      ['a revision beyond a safe integer', 'web:99999999999999999999'],
      ['two revisions', 'web:1:2'],
      ['an empty reference', ''],
      ['a family with bad characters', 'web app'],
      ['a cluster ARN', `${PREFIX}:cluster/prod`],
      ['a task-definition ARN with revision 0', `${PREFIX}:task-definition/web:0`],
    ])('rejects %s with ClientException', (_description, ref) => {
      // Act
      const error = caught(() => parseTaskDefinitionRef(ref));

      // Assess
      expect(error).toBeInstanceOf(ClientException);
    });
  });

  describe('taskIdOf', () => {
    it.each<[string, string, string]>([
      ['an id', TASK_ID, 'prod'],
      ['a task ARN in the cluster', `${PREFIX}:task/prod/${TASK_ID}`, 'prod'],
      ['the ARN taskArn mints', taskArn(PARTITION, 'default', TASK_ID), 'default'],
    ])('reads %s', (_description, ref, cluster) => {
      // Act
      const id = taskIdOf(ref, cluster);

      // Assess
      expect(id).toBe(TASK_ID);
    });

    it.each<[string, string]>([
      ['a task ARN for another cluster', `${PREFIX}:task/staging/${TASK_ID}`],
      ['an id that is too short', TASK_ID.slice(1)],
      ['an id with upper-case hex', TASK_ID.toUpperCase()],
      ['an id that is not hex', 'z'.repeat(32)],
      ['junk', 'not-a-task'],
      ['an empty reference', ''],
      ['a cluster ARN', `${PREFIX}:cluster/prod`],
      ['a task ARN without a cluster', `${PREFIX}:task/${TASK_ID}`],
      ['a task ARN with a bad id', `${PREFIX}:task/prod/xyz`],
    ])('rejects %s with InvalidParameterException', (_description, ref) => {
      // Act
      const error = caught(() => taskIdOf(ref, 'prod'));

      // Assess
      expect(error).toBeInstanceOf(InvalidParameterException);
    });
  });

  describe('parseResourceArn', () => {
    it.each<[string, string, ReturnType<typeof parseResourceArn>]>([
      ['a cluster ARN', `${PREFIX}:cluster/prod`, { kind: 'cluster', cluster: 'prod' }],
      ['a task-definition ARN', `${PREFIX}:task-definition/web:3`, { kind: 'task-definition', family: 'web', revision: 3 }],
      ['a task ARN', `${PREFIX}:task/prod/${TASK_ID}`, { kind: 'task', cluster: 'prod', taskId: TASK_ID }],
      ['a service ARN', `${PREFIX}:service/prod/web`, { kind: 'service', cluster: 'prod', serviceName: 'web' }],
    ])('reads %s', (_description, arn, expected) => {
      // Act
      const ref = parseResourceArn(arn);

      // Assess
      expect(ref).toEqual(expected);
    });

    it.each<[string, string]>([
      ['a bare name', 'prod'],
      ['a family:revision', 'web:3'],
      ['an empty string', ''],
      ['an ARN with a short account id', 'arn:aws:ecs:eu-west-1:1234:cluster/prod'],
      ['an ARN of another service', 'arn:aws:iam::123456789012:role/app'],
      ['a task-definition ARN without revision', `${PREFIX}:task-definition/web`],
      ['a task ARN without a cluster', `${PREFIX}:task/${TASK_ID}`],
      ['a container ARN', `${PREFIX}:container/prod/${TASK_ID}/app`],
      ['a service ARN without a cluster', `${PREFIX}:service/web`],
      ['a cluster ARN with a bad name', `${PREFIX}:cluster/bad name`],
    ])('rejects %s with InvalidParameterException', (_description, arn) => {
      // Act
      const error = caught(() => parseResourceArn(arn));

      // Assess
      expect(error).toBeInstanceOf(InvalidParameterException);
    });
  });
});
