import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalMode, SHARED_LOCAL_MODE, startLocalMode, stopEveryTask } from './local-mode';

const SUITES_DIR = join(__dirname, '..', 'e2e', 'shared');

/**
 * The shared suites the second local mode runs (test/e2e/shared-b.test.ts), chosen so the two
 * files take about as long (the heaviest: batch, isolation, logs); every other module, new ones
 * included, runs in the first (test/e2e/shared.test.ts). The serial runner's two lanes then run
 * the two side by side.
 */
export const SECOND_LOCAL_MODE_SUITES: readonly string[] = ['batch', 'cost', 'isolation', 'limits', 'logs', 'task-endpoint', 'volumes'];

/** The modules of test/e2e/shared/ (without `.ts`), in file name order. */
export const sharedSuiteNames = (): string[] =>
  readdirSync(SUITES_DIR).filter((f) => f.endsWith('.ts')).sort().map((f) => f.replace(/\.ts$/, ''));

/**
 * One local mode for the given suites of test/e2e/shared/: starting one (dynalite, podman's
 * service, the agents) and stopping it costs tens of seconds on a loaded machine, so suites that
 * only run tasks share it. Each module exports `suite(mode)`, which declares its describe blocks
 * and takes the running local mode from `mode()` in its beforeAll. Suites run one after another,
 * in file name order; after each, every task still running is stopped, so the next starts on an
 * idle fleet. A suite that changes the local mode's settings, counts the whole fleet or cluster,
 * or kills more than it restarts keeps a file (and a local mode) of its own.
 */
export function sharedLocalModeSuites(names: readonly string[]): void {
  describe('Shared local mode', () => {
    let m: LocalMode;
    beforeAll(async () => {
      m = await startLocalMode(SHARED_LOCAL_MODE);
    }, 180_000);
    afterAll(async () => {
      await m?.close();
    }, 120_000);

    for (const name of names) {
      describe(name, () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { suite } = require(join(SUITES_DIR, `${name}.ts`)) as { suite: (mode: () => LocalMode) => void };
        suite(() => m);
        afterAll(() => stopEveryTask(m), 120_000);
      });
    }
  });
}
