import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { InvalidValueFromError, parseValueFrom } from '../../shared/domain/value-from';
import { caught } from '../support/caught';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
const VERSION = '3f1b6a52-9c1e-4b7a-8a44-0d5f3e6c2b19';

describe('valueFrom', () => {
  describe('parseValueFrom', () => {
    it.each([
      ['a whole secret', ARN, { source: 'secretsmanager', secretId: ARN }],
      ['a partial ARN', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db', { source: 'secretsmanager', secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db' }],
      ['a JSON key', `${ARN}:password::`, { source: 'secretsmanager', secretId: ARN, jsonKey: 'password' }],
      ['a JSON key without the empty suffixes', `${ARN}:password`, { source: 'secretsmanager', secretId: ARN, jsonKey: 'password' }],
      ['a version stage', `${ARN}::AWSPREVIOUS:`, { source: 'secretsmanager', secretId: ARN, versionStage: 'AWSPREVIOUS' }],
      ['a version id', `${ARN}:::${VERSION}`, { source: 'secretsmanager', secretId: ARN, versionId: VERSION }],
      ['all three', `${ARN}:user:AWSCURRENT:${VERSION}`, { source: 'secretsmanager', secretId: ARN, jsonKey: 'user', versionStage: 'AWSCURRENT', versionId: VERSION }],
      ['all three empty', `${ARN}:::`, { source: 'secretsmanager', secretId: ARN }],
      ['a parameter name', 'db_password', { source: 'ssm', name: 'db_password' }],
      ['a parameter path', '/prod/db/password', { source: 'ssm', name: '/prod/db/password' }],
      ['a parameter ARN', 'arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password', { source: 'ssm', name: 'arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password' }],
    ])('reads %s', (_what, valueFrom, expected) => {
      expect(parseValueFrom(valueFrom)).toEqual(expected);
    });

    it.each([
      ['an ARN of another service', 'arn:aws:s3:::bucket/key'],
      ['a Secrets Manager ARN without a name', 'arn:aws:secretsmanager:us-east-1:123456789012:secret'],
      ['a Secrets Manager ARN of another resource', 'arn:aws:secretsmanager:us-east-1:123456789012:rotation:x'],
      ['too many suffixes', `${ARN}:a:b:${VERSION}:extra`],
      ['a version id that is not one', `${ARN}:::v1`],
      ['a short account', 'arn:aws:secretsmanager:us-east-1:1234:secret:x'],
      ['an SSM ARN that is no parameter', 'arn:aws:ssm:us-east-1:123456789012:document/x'],
      ['a name with spaces', 'my secret'],
      ['an empty string', ''],
    ])('refuses %s', (_what, valueFrom) => {
      const e = caught(() => parseValueFrom(valueFrom));
      expect(e).toBeInstanceOf(InvalidValueFromError);
    });

    it('throws nothing but InvalidValueFromError, whatever the input', () => {
      fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom(ARN, `${ARN}:`, 'arn:aws:ssm:us-east-1:123456789012:parameter').chain((p) => fc.string().map((s) => p + s))), (s) => {
        const e = caught(() => parseValueFrom(s));
        expect(e === undefined || e instanceof InvalidValueFromError).toBe(true);
      }));
    });

    it('gives back the secret id and the suffixes it was built from', () => {
      const part = fc.stringMatching(/^[A-Za-z0-9_.-]{0,12}$/);
      fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9/_+=.@!-]{1,40}$/), part, part, (name, jsonKey, versionStage) => {
        const secretId = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;
        const r = parseValueFrom(`${secretId}:${jsonKey}:${versionStage}:`);
        expect(r).toEqual({ source: 'secretsmanager', secretId, jsonKey: jsonKey || undefined, versionStage: versionStage || undefined, versionId: undefined });
      }));
    });
  });
});
