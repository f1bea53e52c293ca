const { readFileSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const { engineLeftovers } = require('./leftovers');

/**
 * After the whole run: every local mode a test started (its data directory, listed by
 * test/support/data-dirs.ts, is its `berth.instance` label) must have taken its containers and
 * networks with it. A test that leaves a task running behind a closed local mode fails the run
 * here, instead of piling containers up on the machine run after run.
 */
module.exports = async () => {
  const file = process.env.BERTH_TEST_DATA_DIRS;
  if (!file) return;
  const listed = (f) => (f ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);
  const dataDirs = new Set(listed(file));
  const scratch = listed(process.env.BERTH_TEST_SCRATCH_DIRS);
  rmSync(dirname(file), { recursive: true, force: true });
  try {
    if (dataDirs.size === 0) return;
    const left = engineLeftovers([...dataDirs]);
    if (left.length > 0) throw new Error(`the run left ${left.length} engine object(s) behind:\n  ${left.join('\n  ')}`);
  } finally {
    // The closed local modes' data and the workers' scratch: nothing reads them after the run.
    for (const dir of [...dataDirs, ...scratch]) rmSync(dir, { recursive: true, force: true });
  }
};
