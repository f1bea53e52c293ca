import { describe, expect, it } from '@jest/globals';
import { ImagePuller, type PullBehavior } from '../../agent/images/image-puller';
import { PRE_PULL_REFRESH_MS, PrePuller } from '../../agent/images/pre-puller';
import { CannotPullContainerError, type ContainerRuntime, type RegistryAuth } from '../../agent/runtime/container-runtime';

const APP = '127.0.0.1:5000/app:v1';
const SIDECAR = '127.0.0.1:5000/sidecar:v1';
const LOGIN: RegistryAuth = { username: 'u', password: 'p', serverAddress: '127.0.0.1:5000' };

/** The engine's image store in memory; `down` makes the registry refuse every pull. */
function anEngine(cachedAtStart: string[] = []) {
  const pulls: { image: string; auth?: RegistryAuth }[] = [];
  const cached = new Set(cachedAtStart);
  const state = { down: false };
  const runtime = {
    hasImage: async (image: string) => cached.has(image),
    pull: async (image: string, auth?: RegistryAuth) => {
      pulls.push({ image, auth });
      if (state.down) throw new CannotPullContainerError(image, 'connection refused');
      cached.add(image);
    },
    imageDigest: async () => undefined,
  } as unknown as ContainerRuntime;
  return { runtime, pulls, state };
}

function aPrePuller(engine: ReturnType<typeof anEngine>, behavior: PullBehavior = 'default') {
  const clock = { now: 1_000_000 };
  const log: string[] = [];
  const images = new ImagePuller({ runtime: engine.runtime, behavior, log: () => {} });
  const logins: string[] = [];
  const prePuller = new PrePuller({
    images, log: (m) => log.push(m), now: () => clock.now,
    loginFor: async (i) => {
      logins.push(i.repositoryCredentials?.credentialsParameter ?? '(none)');
      return i.repositoryCredentials ? LOGIN : undefined;
    },
  });
  return { prePuller, images, clock, log, logins };
}

describe('Warm hosts pre-pull', () => {
  it('pulls each listed image once, with its login, and logs it; a launch of it under once then pulls nothing', async () => {
    // Prepare
    const engine = anEngine();
    const { prePuller, images, log, logins } = aPrePuller(engine, 'once');

    // Act
    await prePuller.offer([{ image: APP, repositoryCredentials: { credentialsParameter: 'registry/login' } }, { image: SIDECAR }]);
    await prePuller.offer([{ image: APP, repositoryCredentials: { credentialsParameter: 'registry/login' } }, { image: SIDECAR }]);
    await images.ensure(APP, async () => LOGIN);

    // Assess
    expect(engine.pulls).toEqual([{ image: APP, auth: LOGIN }, { image: SIDECAR, auth: undefined }]);
    expect(logins).toEqual(['registry/login', '(none)']);
    expect(log).toEqual([expect.stringMatching(`^pre-pulled ${APP} in \\d+ ms`), expect.stringMatching(`^pre-pulled ${SIDECAR} in`)]);
  });

  it.each<[PullBehavior, number]>([['default', 1], ['always', 1], ['once', 1], ['prefer-cached', 0]])(
    'respects the pull behaviour for an image already cached (%s: %i pull)', async (behavior, pulls) => {
      // Prepare
      const engine = anEngine([APP]);
      const { prePuller } = aPrePuller(engine, behavior);

      // Act
      await prePuller.offer([{ image: APP }]);

      // Assess
      expect(engine.pulls).toHaveLength(pulls);
    });

  it('never pulls a localhost/ image or a cached one named by digest', async () => {
    const pinned = `127.0.0.1:5000/app@sha256:${'1'.repeat(64)}`;
    const engine = anEngine([pinned]);
    const { prePuller } = aPrePuller(engine, 'always');
    await prePuller.offer([{ image: 'localhost/busybox:latest' }, { image: pinned }]);
    expect(engine.pulls).toEqual([]);
  });

  it('takes an image up again only after the refresh interval, a failed one too, and logs the failure', async () => {
    // Prepare
    const engine = anEngine();
    const { prePuller, clock, log } = aPrePuller(engine);
    engine.state.down = true;

    // Act
    await prePuller.offer([{ image: APP }]);
    clock.now += PRE_PULL_REFRESH_MS - 1;
    await prePuller.offer(undefined);
    engine.state.down = false;
    clock.now += 1;
    await prePuller.offer(undefined);

    // Assess
    expect(engine.pulls.map((p) => p.image)).toEqual([APP, APP]);
    expect(log[0]).toMatch(/^cannot pre-pull 127\.0\.0\.1:5000\/app:v1: CannotPullContainerError: .*connection refused/);
    expect(log[1]).toMatch(/^pre-pulled /);
  });

  it('drops what the control plane no longer lists', async () => {
    const engine = anEngine();
    const { prePuller, clock } = aPrePuller(engine);
    await prePuller.offer([{ image: APP }]);
    clock.now += PRE_PULL_REFRESH_MS;
    await prePuller.offer([{ image: SIDECAR }]);
    expect(engine.pulls.map((p) => p.image)).toEqual([APP, SIDECAR]);
  });
});
