import { appendFileSync, realpathSync } from 'node:fs';

/**
 * Lists a local mode's data directory for the run's leftovers check (global-teardown.js), which
 * fails the run if anything labelled with it is still in the engine at the end.
 */
export function registerDataDir(dataDir: string): void {
  const file = process.env.BERTH_TEST_DATA_DIRS;
  if (file) appendFileSync(file, `${realpathSync(dataDir)}\n`);
}

/** Lists a scratch directory of a test worker (one that outlives its test file) for removal after the run. */
export function registerScratchDir(dir: string): void {
  const file = process.env.BERTH_TEST_SCRATCH_DIRS;
  if (file) appendFileSync(file, `${dir}\n`);
}
