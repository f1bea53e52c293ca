import { describe, expect, it } from '@jest/globals';
import { SecretsUnavailableError, resolveSecrets } from '../../agent/secrets/resolve-secrets';
import { type SecretSource, SecretSourceError } from '../../agent/secrets/secret-source';
import type { ContainerDefinition } from '../../shared/domain/task-definition';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf';

/** The port, over a map: secrets by `id|stage`, parameters by name. */
function source(secrets: Record<string, string>, parameters: Record<string, string>): SecretSource & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async secretString(ref) {
      calls.push(`secret ${ref.secretId}`);
      const v = secrets[`${ref.secretId}|${ref.versionStage ?? 'AWSCURRENT'}`];
      if (v === undefined) throw new SecretSourceError(`failed to fetch secret ${ref.secretId} from secrets manager: ResourceNotFoundException: not found`);
      return v;
    },
    async parameters(refs) {
      calls.push(`parameters ${refs.join(',')}`);
      const found = new Map(refs.filter((r) => r in parameters).map((r) => [r, parameters[r]]));
      return { found, invalid: refs.filter((r) => !(r in parameters)) };
    },
  };
}

const container = (name: string, secrets: { name: string; valueFrom: string }[]) =>
  ({ name, image: 'busybox', essential: true, secrets }) as ContainerDefinition;

describe('resolveSecrets', () => {
  it('gives each container its secrets as environment lines, fetching each secret once', async () => {
    // prepare
    const s = source({ [`${ARN}|AWSCURRENT`]: '{"user":"admin","port":5432}', [`${ARN}|AWSPREVIOUS`]: 'old' }, { '/db/pass': 'p4ss' });
    // act
    const env = await resolveSecrets([
      container('app', [
        { name: 'WHOLE', valueFrom: ARN },
        { name: 'USER', valueFrom: `${ARN}:user::` },
        { name: 'PORT', valueFrom: `${ARN}:port::` },
        { name: 'OLD', valueFrom: `${ARN}::AWSPREVIOUS:` },
      ]),
      container('side', [{ name: 'PASS', valueFrom: '/db/pass' }]),
      container('plain', []),
    ], s);
    // assess
    expect(env.get('app')).toEqual(['WHOLE={"user":"admin","port":5432}', 'USER=admin', 'PORT=5432', 'OLD=old']);
    expect(env.get('side')).toEqual(['PASS=p4ss']);
    expect(env.has('plain')).toBe(false);
    expect(s.calls.filter((c) => c.startsWith('secret')).length).toBe(2);
  });

  it.each([
    ['a missing secret', [{ name: 'X', valueFrom: `${ARN.replace('app', 'nope')}` }], /unable to retrieve secret from asm: failed to fetch secret .*nope.* ResourceNotFoundException/],
    ['an absent JSON key', [{ name: 'X', valueFrom: `${ARN}:nokey::` }], /did not contain json key nokey/],
    ['a JSON key of a secret that is no JSON', [{ name: 'X', valueFrom: `${ARN}::AWSPREVIOUS:` }, { name: 'Y', valueFrom: `${ARN}:k:AWSPREVIOUS:` }], /is not JSON, so it has no json key k/],
    ['a missing parameter', [{ name: 'X', valueFrom: '/missing' }], /unable to retrieve secrets from ssm: invalid parameters: \/missing/],
    ['a valueFrom that names nothing', [{ name: 'X', valueFrom: 'arn:aws:s3:::b' }], /invalid valueFrom/],
  ])('fails the task on %s, in ECS words and without a value', async (_what, secrets, detail) => {
    const s = source({ [`${ARN}|AWSCURRENT`]: '{"user":"sekrit-value"}', [`${ARN}|AWSPREVIOUS`]: 'sekrit-old' }, {});
    const e = await resolveSecrets([container('app', secrets)], s).catch((x) => x);
    expect(e).toBeInstanceOf(SecretsUnavailableError);
    expect(e.message).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: /);
    expect(e.message).toMatch(detail);
    expect(e.message).not.toContain('sekrit');
  });

  it('needs no source when no container has secrets', async () => {
    expect((await resolveSecrets([container('app', [])], undefined)).size).toBe(0);
  });
});
