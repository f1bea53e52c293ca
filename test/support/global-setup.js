const { mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

// Where this run's local modes list their data directories (test/support/data-dirs.ts), for the
// leftovers check in global-teardown.js. Set before the workers start, so they inherit it.
module.exports = async () => {
  const run = mkdtempSync(join(tmpdir(), 'berth-run-'));
  const file = join(run, 'data-dirs');
  writeFileSync(file, '');
  process.env.BERTH_TEST_DATA_DIRS = file;
  // Scratch directories the workers made (the AWS CLI's home), for global-teardown.js to remove.
  const scratch = join(run, 'scratch-dirs');
  writeFileSync(scratch, '');
  process.env.BERTH_TEST_SCRATCH_DIRS = scratch;
};
