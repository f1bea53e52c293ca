const { execFileSync } = require('node:child_process');
const { readFileSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');

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
  // Another region's hosts are labelled with a directory inside the data directory.
  const ofThisRun = (labels) => {
    const instance = labels?.['berth.instance'];
    return instance !== undefined && [...dataDirs].some((d) => instance === d || instance.startsWith(`${d}/`));
  };
  const podman = (args) => JSON.parse(execFileSync('podman', args, { encoding: 'utf8' }) || '[]');
  const containers = podman(['ps', '-a', '--filter', 'label=berth.instance', '--format', 'json'])
    .filter((c) => ofThisRun(c.Labels))
    .map((c) => `container ${c.Names?.[0]} (${c.State}) of ${c.Labels['berth.instance']}`);
  const networks = podman(['network', 'ls', '--format', 'json'])
    .filter((n) => ofThisRun(n.labels))
    .map((n) => `network ${n.name} of ${n.labels['berth.instance']}`);
  const left = [...containers, ...networks];
  if (left.length > 0) throw new Error(`the run left ${left.length} engine object(s) behind:\n  ${left.join('\n  ')}`);
};
