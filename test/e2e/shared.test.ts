import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LocalMode, SHARED_LOCAL_MODE, startLocalMode, stopEveryTask } from '../support/local-mode';

/**
 * One local mode for every suite in test/e2e/shared/: starting one (dynalite, podman's service,
 * the agents) and stopping it costs tens of seconds on a loaded machine, so suites that only run
 * tasks share it. Each module there exports `suite(mode)`, which declares its describe blocks
 * and takes the running local mode from `mode()` in its beforeAll. Suites run one after another,
 * in file name order; after each, every task still running is stopped, so the next starts on
 * an idle fleet. A suite that changes the local mode's settings, counts the whole fleet or
 * cluster, or kills more than it restarts keeps a file (and a local mode) of its own.
 *
 * One suite alone: `npx jest test/e2e/shared.test.ts -t 'Task isolation'`.
 */
const SUITES_DIR = join(__dirname, 'shared');
const suites = readdirSync(SUITES_DIR).filter((f) => f.endsWith('.ts')).sort();

describe('Shared local mode', () => {
  let m: LocalMode;
  beforeAll(async () => {
    m = await startLocalMode(SHARED_LOCAL_MODE);
  }, 180_000);
  afterAll(async () => {
    await m?.close();
  }, 120_000);

  for (const file of suites) {
    describe(file.replace(/\.ts$/, ''), () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { suite } = require(join(SUITES_DIR, file)) as { suite: (mode: () => LocalMode) => void };
      suite(() => m);
      afterAll(() => stopEveryTask(m), 120_000);
    });
  }
});
