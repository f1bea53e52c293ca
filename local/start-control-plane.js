// `npm start`: runs the control plane's bundle (.build/control-plane.js) in this process, built
// again first (local/control-plane-bundle.ts, under tsx) only when a file it was built from
// changed. Plain JavaScript, so a start with nothing changed loads no TypeScript loader at all:
// starting tsx only to find the bundle current, then a second node for the bundle, took seconds
// of a loaded machine's start-up.
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const BUNDLE = join(ROOT, '.build', 'control-plane.js');

/** As local/agent-bundle.ts upToDate: the bundle is newer than every file it was built from. */
function upToDate() {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${BUNDLE}.inputs.json`, 'utf8'));
    return inputs.length > 0 && inputs.every((i) => statSync(join(ROOT, i)).mtimeMs <= built);
  } catch {
    return false;
  }
}

if (!upToDate()) {
  const built = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(__dirname, 'control-plane-bundle.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
require(BUNDLE);
