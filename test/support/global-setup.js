const { mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

// Where this run's local modes list their data directories (test/support/data-dirs.ts), for the
// leftovers check in global-teardown.js. Set before the workers start, so they inherit it.
module.exports = async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'berth-run-')), 'data-dirs');
  writeFileSync(file, '');
  process.env.BERTH_TEST_DATA_DIRS = file;
};
