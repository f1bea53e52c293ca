import { describe, expect, it } from '@jest/globals';
import { ClientException } from '../../shared/domain/errors';
import { ecrRegistry, isLocalOnly, parseImageReference } from '../../shared/domain/image';
import { readRegisterRequest } from '../../shared/domain/task-definition';
import { containerReport } from '../../shared/agent-wire/requests';
import { caught } from '../support/caught';

const withContainer = (container: Record<string, unknown>) => ({
  family: 'web', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  containerDefinitions: [{ name: 'app', ...container }],
});

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:registry/login-AbCdEf';

describe('Container images', () => {
  describe('RegisterTaskDefinition', () => {
    it.each([
      'busybox',
      'localhost/busybox:latest',
      '127.0.0.1:5000/team/app:v1.2_3',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:' + 'a'.repeat(64),
      'registry.example:443/app#build',
      'x'.repeat(255),
    ])('accepts the image %s', (image) => {
      const { spec } = readRegisterRequest(withContainer({ image }));
      expect(spec.containerDefinitions[0].image).toBe(image);
    });

    it.each([
      ['a space', 'busy box', 'Container.image contains invalid characters.'],
      ['a quote', 'app"; rm -rf', 'Container.image contains invalid characters.'],
      ['a non-ASCII letter', 'régistry/app', 'Container.image contains invalid characters.'],
      ['256 characters', 'x'.repeat(256), 'Container.image should be 255 characters or less.'],
      ['only blanks', '   ', 'Container.image should not be blank.'],
    ])('refuses an image with %s, as ECS does', (_, image, message) => {
      const e = caught(() => readRegisterRequest(withContainer({ image })));
      expect(e).toBeInstanceOf(ClientException);
      expect((e as Error).message).toBe(message);
    });

    it.each([SECRET_ARN, 'registry/login'])('takes repositoryCredentials naming a secret by ARN or name (%s)', (credentialsParameter) => {
      const { spec } = readRegisterRequest(withContainer({ image: 'busybox', repositoryCredentials: { credentialsParameter } }));
      expect(spec.containerDefinitions[0].repositoryCredentials).toEqual({ credentialsParameter });
    });

    it.each([
      [{}, /credentialsParameter.*is required/],
      [{ credentialsParameter: 'arn:aws:ssm:us-east-1:123456789012:parameter/login' }, /expected the ARN or name of a Secrets Manager secret/],
      [{ credentialsParameter: 'has space' }, /expected the ARN or name of a Secrets Manager secret/],
      [{ credentialsParameter: 7 }, /credentialsParameter/],
    ])('refuses repositoryCredentials %j, naming the field', (repositoryCredentials, message) => {
      const e = caught(() => readRegisterRequest(withContainer({ image: 'busybox', repositoryCredentials })));
      expect(e).toBeInstanceOf(ClientException);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).toMatch('containerDefinitions[0].repositoryCredentials');
    });
  });

  describe("an agent's report of imageDigest", () => {
    const report = (imageDigest: string) => containerReport.safeParse({ name: 'app', lastStatus: 'RUNNING', imageDigest }).success;

    it.each([`sha256:${'a'.repeat(64)}`, `sha512:${'0'.repeat(128)}`])('takes %s', (digest) => {
      expect(report(digest)).toBe(true);
    });

    it.each(['sha256:short', 'latest', `SHA256:${'a'.repeat(64)}`, `sha256:${'a'.repeat(300)}`])('refuses %s', (digest) => {
      expect(report(digest)).toBe(false);
    });
  });

  describe('parseImageReference', () => {
    it.each([
      ['busybox', { registry: undefined, repository: 'busybox', tag: undefined, digest: undefined }],
      ['library/busybox:1.36', { registry: undefined, repository: 'library/busybox', tag: '1.36', digest: undefined }],
      ['localhost/busybox:latest', { registry: 'localhost', repository: 'localhost/busybox', tag: 'latest', digest: undefined }],
      ['127.0.0.1:5000/a/b:v1', { registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/a/b', tag: 'v1', digest: undefined }],
      ['127.0.0.1:5000/a@sha256:ab', { registry: '127.0.0.1:5000', repository: '127.0.0.1:5000/a', tag: undefined, digest: 'sha256:ab' }],
      ['localhost:5000/a', { registry: 'localhost:5000', repository: 'localhost:5000/a', tag: undefined, digest: undefined }],
    ])('splits %s', (image, parts) => {
      expect(parseImageReference(image)).toEqual(parts);
    });

    it('takes only a port-less localhost/ image for one no registry serves', () => {
      expect(isLocalOnly('localhost/busybox:latest')).toBe(true);
      expect(isLocalOnly('localhost:5000/busybox:latest')).toBe(false);
      expect(isLocalOnly('busybox')).toBe(false);
    });

    it.each([
      ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', { registryId: '123456789012', region: 'eu-west-1' }],
      ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { registryId: '123456789012', region: 'us-gov-west-1' }],
      ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { registryId: '123456789012', region: 'cn-north-1' }],
      ['public.ecr.aws', undefined],
      ['127.0.0.1:5000', undefined],
      [undefined, undefined],
    ])('knows an ECR registry: %s', (registry, expected) => {
      expect(ecrRegistry(registry)).toEqual(expected);
    });
  });
});
