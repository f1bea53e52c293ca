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
  const dataDirs = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  rmSync(dirname(file), { recursive: true, force: true });
  if (dataDirs.size === 0) return;
  const left = engineLeftovers([...dataDirs]);
  if (left.length > 0) throw new Error(`the run left ${left.length} engine object(s) behind:\n  ${left.join('\n  ')}`);
};
