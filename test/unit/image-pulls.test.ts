import { describe, expect, it, jest } from '@jest/globals';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { AwsEcrTokenSource } from '../../agent/images/aws-ecr-token-source';
import { ECR_REFRESH_MARGIN_MS, EcrLogins, type EcrTokenSource } from '../../agent/images/ecr-logins';
import { ImagePuller, PULL_BEHAVIORS, type PullBehavior } from '../../agent/images/image-puller';
import { RegistryLogins } from '../../agent/images/registry-logins';
import { CannotPullContainerError, type ContainerRuntime, type RegistryAuth } from '../../agent/runtime/container-runtime';
import type { SecretSource } from '../../agent/secrets/secret-source';
import { ManualClock } from '../support/manual-clock';

const IMAGE = '127.0.0.1:5000/app:v1';
const DIGEST = `sha256:${'1'.repeat(64)}`;

/** The engine's image store, in memory: a registry that is up or down, and what is cached. */
function anEngine(o: { cached: boolean; registryUp: boolean }) {
  const pulls: { image: string; auth?: RegistryAuth }[] = [];
  const cached = new Set(o.cached ? [IMAGE] : []);
  const runtime = {
    hasImage: async (image: string) => cached.has(image),
    pull: async (image: string, auth?: RegistryAuth) => {
      pulls.push({ image, auth });
      if (!o.registryUp) throw new CannotPullContainerError(image, 'connection refused');
      cached.add(image);
    },
    imageDigest: async (image: string) => (cached.has(image) ? DIGEST : undefined),
  } as unknown as ContainerRuntime;
  return { runtime, pulls };
}

const noLogin = async () => undefined;

describe('Image pulls', () => {
  describe('ImagePuller', () => {
    // [behaviour, cached, registry up] → pulls, outcome
    it.each<[PullBehavior, boolean, boolean, number, 'runs' | 'fails']>([
      ['default', false, true, 1, 'runs'],
      ['default', true, true, 1, 'runs'],
      ['default', true, false, 1, 'runs'],
      ['default', false, false, 1, 'fails'],
      ['always', true, true, 1, 'runs'],
      ['always', true, false, 1, 'fails'],
      ['prefer-cached', true, false, 0, 'runs'],
      ['prefer-cached', false, true, 1, 'runs'],
      ['prefer-cached', false, false, 1, 'fails'],
      ['once', true, true, 1, 'runs'],
      ['once', false, false, 1, 'fails'],
    ])('%s, cached %s, registry up %s: %i pull(s), then %s', async (behavior, cached, registryUp, pulls, outcome) => {
      // Prepare
      const engine = anEngine({ cached, registryUp });
      const puller = new ImagePuller({ runtime: engine.runtime, behavior, log: () => {} });

      // Act
      const result = puller.ensure(IMAGE, noLogin);

      // Assess
      if (outcome === 'runs') await expect(result).resolves.toBe(DIGEST);
      else await expect(result).rejects.toThrow(/CannotPullContainerError: pull image .*connection refused/);
      expect(engine.pulls).toHaveLength(pulls);
    });

    it('pulls under once only the first time this agent runs the image', async () => {
      const engine = anEngine({ cached: true, registryUp: true });
      const puller = new ImagePuller({ runtime: engine.runtime, behavior: 'once', log: () => {} });
      await puller.ensure(IMAGE, noLogin);
      await puller.ensure(IMAGE, noLogin);
      expect(engine.pulls).toHaveLength(1);
    });

    it.each(PULL_BEHAVIORS)('never pulls a cached localhost/ image or one named by digest (%s)', async (behavior) => {
      const engine = anEngine({ cached: true, registryUp: false });
      const runtime = { ...engine.runtime, hasImage: async () => true } as ContainerRuntime;
      const puller = new ImagePuller({ runtime, behavior, log: () => {} });
      await puller.ensure('localhost/busybox:latest', noLogin);
      await puller.ensure(`127.0.0.1:5000/app@${DIGEST}`, noLogin);
      expect(engine.pulls).toHaveLength(0);
    });

    it('reports no digest that is not one (the control plane would refuse the report)', async () => {
      const engine = anEngine({ cached: true, registryUp: true });
      const runtime = { ...engine.runtime, imageDigest: async () => 'sha256:short' } as ContainerRuntime;
      await expect(new ImagePuller({ runtime, behavior: 'prefer-cached', log: () => {} }).ensure(IMAGE, noLogin)).resolves.toBeUndefined();
    });

    it('says in the log that it runs the cached image after a failed pull', async () => {
      const log = jest.fn();
      const engine = anEngine({ cached: true, registryUp: false });
      await new ImagePuller({ runtime: engine.runtime, behavior: 'default', log }).ensure(IMAGE, noLogin);
      expect(log).toHaveBeenCalledWith(expect.stringMatching(/connection refused; running the cached image/));
    });

    it('fails the task when the login cannot be had, cached image or not', async () => {
      const engine = anEngine({ cached: true, registryUp: true });
      const puller = new ImagePuller({ runtime: engine.runtime, behavior: 'default', log: () => {} });
      await expect(puller.ensure(IMAGE, async () => {
        throw new Error('ResourceInitializationError: no secret');
      })).rejects.toThrow('no secret');
      expect(engine.pulls).toHaveLength(0);
    });

    it('pulls with the login it is given', async () => {
      const engine = anEngine({ cached: false, registryUp: true });
      const auth = { username: 'u', password: 'p', serverAddress: '127.0.0.1:5000' };
      await new ImagePuller({ runtime: engine.runtime, behavior: 'always', log: () => {} }).ensure(IMAGE, async () => auth);
      expect(engine.pulls).toEqual([{ image: IMAGE, auth }]);
    });

    it('gets the image on the host without asking its digest, which a launch asks beside the create', async () => {
      // Prepare
      const engine = anEngine({ cached: false, registryUp: true });
      const imageDigest = jest.spyOn(engine.runtime, 'imageDigest');
      const puller = new ImagePuller({ runtime: engine.runtime, behavior: 'default', log: () => {} });

      // Act
      await puller.fetch(IMAGE, noLogin);
      const pulledWithoutDigest = imageDigest.mock.calls.length;
      const digest = await puller.digestOf(IMAGE);

      // Assess
      expect(engine.pulls).toHaveLength(1);
      expect(pulledWithoutDigest).toBe(0);
      expect(digest).toBe(DIGEST);
    });
  });

  describe('ImagePuller, images it has seen', () => {
    it('asks the engine nothing more for a cached image the cache serves, until the image is forgotten', async () => {
      // Prepare
      const engine = anEngine({ cached: true, registryUp: false });
      const hasImage = jest.spyOn(engine.runtime, 'hasImage');
      const imageDigest = jest.spyOn(engine.runtime, 'imageDigest');
      const puller = new ImagePuller({ runtime: engine.runtime, behavior: 'prefer-cached', log: () => {} });

      // Act
      const first = await puller.ensure(IMAGE, noLogin);
      const second = await puller.ensure(IMAGE, noLogin);
      const asksBeforeForget = [hasImage.mock.calls.length, imageDigest.mock.calls.length];
      puller.forget(IMAGE);
      const third = await puller.ensure(IMAGE, noLogin);

      // Assess
      expect([first, second, third]).toEqual([DIGEST, DIGEST, DIGEST]);
      expect(asksBeforeForget).toEqual([1, 1]);
      expect([hasImage.mock.calls.length, imageDigest.mock.calls.length]).toEqual([2, 2]);
      expect(engine.pulls).toHaveLength(0);
    });

    it.each<PullBehavior>(['default', 'always'])('still pulls at every launch under %s, and asks the digest of each pull', async (behavior) => {
      const engine = anEngine({ cached: true, registryUp: true });
      const imageDigest = jest.spyOn(engine.runtime, 'imageDigest');
      const puller = new ImagePuller({ runtime: engine.runtime, behavior, log: () => {} });
      await puller.ensure(IMAGE, noLogin);
      await puller.ensure(IMAGE, noLogin);
      expect(engine.pulls).toHaveLength(2);
      expect(imageDigest).toHaveBeenCalledTimes(2);
    });

    it('asks again for a digest whose ask failed', async () => {
      const engine = anEngine({ cached: true, registryUp: false });
      let fail = true;
      const runtime = {
        ...engine.runtime,
        imageDigest: async () => {
          if (fail) throw new Error('engine busy');
          return DIGEST;
        },
      } as ContainerRuntime;
      const puller = new ImagePuller({ runtime, behavior: 'prefer-cached', log: () => {} });
      await expect(puller.ensure(IMAGE, noLogin)).resolves.toBeUndefined();
      fail = false;
      await expect(puller.ensure(IMAGE, noLogin)).resolves.toBe(DIGEST);
    });
  });

  describe('RegistryLogins', () => {
    const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:login-AbCdEf';
    const secretsWith = (secretString: (id: string) => Promise<string>): SecretSource => ({
      secretString: ({ secretId }) => secretString(secretId),
      parameters: async () => ({ found: new Map(), invalid: [] }),
    });

    it("reads repositoryCredentials' secret and logs in to the image's registry", async () => {
      const logins = new RegistryLogins({ secrets: secretsWith(async (id) => (id === ARN ? '{"username":"berth","password":"s3cret"}' : '')) });
      await expect(logins.loginFor({ image: IMAGE, repositoryCredentials: { credentialsParameter: ARN } }))
        .resolves.toEqual({ username: 'berth', password: 's3cret', serverAddress: '127.0.0.1:5000' });
    });

    it('needs no login for an image without repositoryCredentials outside ECR', async () => {
      await expect(new RegistryLogins({}).loginFor({ image: IMAGE })).resolves.toBeUndefined();
    });

    it.each([
      ['a missing secret', async () => {
        throw new Error('ResourceNotFoundException: no such secret');
      }, /ResourceInitializationError: .*private registry credentials.*no such secret/],
      ['a secret that is not JSON', async () => 'berth:s3cret', /is not JSON/],
      ['a secret without a password', async () => '{"username":"berth"}', /has no string "username" and "password"/],
    ])('fails on %s in ECS words, never showing the value', async (_, secretString, message) => {
      const logins = new RegistryLogins({ secrets: secretsWith(secretString) });
      const e = await logins.loginFor({ image: IMAGE, repositoryCredentials: { credentialsParameter: ARN } }).catch((x: Error) => x);
      expect((e as Error).message).toMatch(message);
      expect((e as Error).message).not.toMatch('s3cret');
    });

    it('logs in to ECR with a token for the registry of the image', async () => {
      const source = { authorizationToken: jest.fn<EcrTokenSource['authorizationToken']>(async () => ({ authorizationToken: Buffer.from('AWS:tok').toString('base64'), expiresAtMs: Date.now() + 3_600_000 })) };
      const logins = new RegistryLogins({ ecr: new EcrLogins(source, Date.now) });
      const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
      await expect(logins.loginFor({ image: `${host}/app:v1` })).resolves.toEqual({ username: 'AWS', password: 'tok', serverAddress: host });
      expect(source.authorizationToken).toHaveBeenCalledWith({ registryId: '123456789012', region: 'eu-west-1' });
    });
  });

  describe('EcrLogins', () => {
    const REGISTRY = { registryId: '123456789012', region: 'eu-west-1' };
    const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const tokenSource = (clock: ManualClock) => {
      let n = 0;
      return {
        authorizationToken: jest.fn<EcrTokenSource['authorizationToken']>(async () => ({
          authorizationToken: Buffer.from(`AWS:token-${++n}`).toString('base64'), expiresAtMs: clock.now() + 12 * 3_600_000,
        })),
      };
    };

    it('keeps a token until shortly before it expires, then fetches a new one', async () => {
      // Prepare
      const clock = new ManualClock();
      const source = tokenSource(clock);
      const logins = new EcrLogins(source, clock.now);

      // Act, assess
      expect((await logins.login(REGISTRY, HOST)).password).toBe('token-1');
      await clock.advance(12 * 3_600_000 - ECR_REFRESH_MARGIN_MS - 1);
      expect((await logins.login(REGISTRY, HOST)).password).toBe('token-1');
      await clock.advance(1);
      expect((await logins.login(REGISTRY, HOST)).password).toBe('token-2');
      expect(source.authorizationToken).toHaveBeenCalledTimes(2);
    });

    it('asks once for launches that log in at the same time', async () => {
      const clock = new ManualClock();
      const source = tokenSource(clock);
      const logins = new EcrLogins(source, clock.now);
      await Promise.all([logins.login(REGISTRY, HOST), logins.login(REGISTRY, HOST), logins.login(REGISTRY, HOST)]);
      expect(source.authorizationToken).toHaveBeenCalledTimes(1);
    });

    it('keeps no failure: the next launch asks again', async () => {
      const clock = new ManualClock();
      const source = tokenSource(clock);
      source.authorizationToken.mockRejectedValueOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
      const logins = new EcrLogins(source, clock.now);
      await expect(logins.login(REGISTRY, HOST)).rejects.toThrow('CannotPullContainerError: unable to get an ECR authorization token: AccessDeniedException: not authorized');
      await expect(logins.login(REGISTRY, HOST)).resolves.toMatchObject({ username: 'AWS' });
    });
  });

  describe('AwsEcrTokenSource', () => {
    type Send = (command: unknown) => Promise<unknown>;
    const ecrWith = (send: jest.Mock<Send>) => {
      const ecr = new ECRClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      ecr.send = send as unknown as ECRClient['send'];
      return ecr;
    };

    it("calls GetAuthorizationToken for the registry, in the registry's Region", async () => {
      // Prepare
      const expiresAt = new Date('2026-12-06T21:00:00Z');
      const send = jest.fn<Send>().mockResolvedValue({ authorizationData: [{ authorizationToken: 'QVdTOnRvaw==', expiresAt, proxyEndpoint: 'https://x' }] });
      const regions: string[] = [];
      const source = new AwsEcrTokenSource({}, (region) => {
        regions.push(region);
        return ecrWith(send);
      });

      // Act
      const token = await source.authorizationToken({ registryId: '123456789012', region: 'eu-west-1' });
      await source.authorizationToken({ registryId: '123456789012', region: 'eu-west-1' });

      // Assess
      expect(token).toEqual({ authorizationToken: 'QVdTOnRvaw==', expiresAtMs: expiresAt.getTime() });
      expect(regions).toEqual(['eu-west-1']);
      const command = send.mock.calls[0][0] as GetAuthorizationTokenCommand;
      expect(command).toBeInstanceOf(GetAuthorizationTokenCommand);
      expect(command.input.registryIds).toEqual(['123456789012']);
    });

    it('fails when ECR returns no authorization data', async () => {
      const source = new AwsEcrTokenSource({}, () => ecrWith(jest.fn<Send>().mockResolvedValue({ authorizationData: [] })));
      await expect(source.authorizationToken({ registryId: '123456789012', region: 'eu-west-1' })).rejects.toThrow(/no authorization data/);
    });
  });
});
