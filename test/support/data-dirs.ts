import { appendFileSync, realpathSync } from 'node:fs';

/** Adds a directory to the run's list named by `variable` (global-setup.js makes each list). */
function list(variable: 'BERTH_TEST_DATA_DIRS' | 'BERTH_TEST_SCRATCH_DIRS', dir: string): void {
  const file = process.env[variable];
  if (file) appendFileSync(file, `${dir}\n`);
}

/**
 * Lists a local mode's data directory for the run's leftovers check (global-teardown.js), which
 * fails the run if anything labelled with it is still in the engine at the end.
 */
export function registerDataDir(dataDir: string): void {
  list('BERTH_TEST_DATA_DIRS', realpathSync(dataDir));
}

/** Lists a scratch directory of a test worker (one that outlives its test file) for removal after the run. */
export function registerScratchDir(dir: string): void {
  list('BERTH_TEST_SCRATCH_DIRS', dir);
}
