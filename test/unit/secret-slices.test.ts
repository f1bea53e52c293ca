import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ValidationException } from '../../local/services/errors';
import { applyStages } from '../../local/services/secrets-manager/operations';
import { arnMatches, newSecretArn, parseSecretId } from '../../local/services/secrets-manager/secret-arn';
import type { SecretVersion } from '../../local/services/secrets-manager/secret-store';
import { parameterArn, parseParameterRef } from '../../local/services/ssm/parameter-name';
import { caught } from '../support/caught';

const P = { region: 'us-east-1', accountId: '000000000000' };
const version = (...stages: string[]): SecretVersion => ({ sealed: '', kind: 'string', stages, createdAt: 0 });
const stagesOf = (versions: Record<string, SecretVersion>) => Object.fromEntries(Object.entries(versions).map(([id, v]) => [id, v.stages]));

describe('local Secrets Manager', () => {
  describe('applyStages', () => {
    it('gives a new AWSCURRENT version the label, the old current AWSPREVIOUS, and drops the unlabelled', () => {
      const out = applyStages({ a: version('AWSPREVIOUS'), b: version('AWSCURRENT'), c: version() }, 'c', ['AWSCURRENT']);
      expect(stagesOf(out)).toEqual({ b: ['AWSPREVIOUS'], c: ['AWSCURRENT'] });
    });

    it('moves a custom label without touching AWSCURRENT', () => {
      const out = applyStages({ a: version('AWSCURRENT', 'blue'), b: version() }, 'b', ['blue']);
      expect(stagesOf(out)).toEqual({ a: ['AWSCURRENT'], b: ['blue'] });
    });

    it('keeps exactly one AWSCURRENT and at most one AWSPREVIOUS, whatever the puts', () => {
      fc.assert(fc.property(fc.array(fc.subarray(['AWSCURRENT', 'AWSPREVIOUS', 'x'], { minLength: 1 }), { minLength: 1, maxLength: 20 }), (puts) => {
        let versions: Record<string, SecretVersion> = { v0: version('AWSCURRENT') };
        puts.forEach((stages, i) => {
          versions = applyStages({ ...versions, [`v${i + 1}`]: version() }, `v${i + 1}`, stages);
        });
        const all = Object.values(versions).flatMap((v) => v.stages);
        expect(all.filter((s) => s === 'AWSCURRENT').length).toBe(1);
        expect(all.filter((s) => s === 'AWSPREVIOUS').length).toBeLessThanOrEqual(1);
        expect(Object.values(versions).every((v) => v.stages.length > 0)).toBe(true);
      }));
    });
  });

  describe('parseSecretId', () => {
    it('finds a full ARN under its name, and a partial one as given', () => {
      const arn = newSecretArn(P, 'prod/db');
      expect(arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:prod\/db-[A-Za-z0-9]{6}$/);
      expect(parseSecretId(P, arn).names).toContain('prod/db');
      expect(parseSecretId(P, arn.slice(0, -7))).toEqual({ names: ['prod/db'], arn: arn.slice(0, -7), elsewhere: false });
      expect(arnMatches(arn, arn)).toBe(true);
      expect(arnMatches(arn, arn.slice(0, -7))).toBe(true);
      expect(arnMatches(arn, arn.slice(0, -8))).toBe(false);
    });

    it.each(['arn:aws:secretsmanager:us-east-1:000000000000:nosuch', 'arn:aws:ecs:us-east-1:000000000000:secret:x', 'bad name', ''])(
      'refuses %j with ValidationException', (id) => {
        expect(caught(() => parseSecretId(P, id))).toBeInstanceOf(ValidationException);
      },
    );

    it('marks an ARN of another account as elsewhere', () => {
      expect(parseSecretId(P, 'arn:aws:secretsmanager:us-east-1:111111111111:secret:x').elsewhere).toBe(true);
    });
  });
});

describe('local Parameter Store', () => {
  describe('parseParameterRef', () => {
    it.each([
      ['a name', 'db', { candidates: ['db'], elsewhere: false }],
      ['a path', '/prod/db', { candidates: ['/prod/db'], elsewhere: false }],
      ['a name with a version', '/prod/db:3', { candidates: ['/prod/db'], selector: '3', elsewhere: false }],
      ['a path ARN', parameterArn(P, '/prod/db'), { candidates: ['/prod/db'], elsewhere: false }],
      ['a plain name ARN', parameterArn(P, 'db'), { candidates: ['/db', 'db'], elsewhere: false }],
    ])('reads %s', (_what, ref, expected) => {
      expect(parseParameterRef(P, ref)).toEqual(expected);
    });

    it.each(['aws-reserved', 'a/b', 'bad name', 'arn:aws:ssm:us-east-1:000000000000:document/x'])('finds nothing for %j', (ref) => {
      expect(parseParameterRef(P, ref)).toBeUndefined();
    });
  });
});
