const { spawnSync } = require('node:child_process');
const { mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  installTestPackages();
  // Where this run's local modes list their data directories (test/support/data-dirs.ts), for the
  // leftovers check in global-teardown.js. Set before the workers start, so they inherit it.
  const run = mkdtempSync(join(tmpdir(), 'berth-run-'));
  const file = join(run, 'data-dirs');
  writeFileSync(file, '');
  process.env.BERTH_TEST_DATA_DIRS = file;
  // Scratch directories the workers made (the AWS CLI's home), for global-teardown.js to remove.
  const scratch = join(run, 'scratch-dirs');
  writeFileSync(scratch, '');
  process.env.BERTH_TEST_SCRATCH_DIRS = scratch;
};

/**
 * The apt packages the suite needs (test/support/test-packages.ts), installed when missing as
 * `npm start` installs its own: a fresh machine's `npm ci && npm test` needs nothing else. Its
 * progress goes to stderr, so `--json` on stdout stays JSON; a machine where it may not install
 * stops the run here with the command to type, rather than failing test by test.
 */
function installTestPackages() {
  const root = join(__dirname, '..', '..');
  const run = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(__dirname, 'test-packages.ts')], {
    cwd: root, stdio: ['ignore', process.stderr, process.stderr],
  });
  if (run.status !== 0) throw new Error(`the test suite's packages are missing (${run.error?.message ?? `exit ${run.status}`}); see the lines above`);
}
