// Jest runs each project's files with that project's runner. This one runs them one at a time
// in the main process, as --runInBand does, while the unit project's run in parallel workers:
// files that start podman, dynalite or the local mode must not compete for this machine's cores.
const { default: TestRunner } = require('jest-runner');

class SerialRunner extends TestRunner {
  runTests(tests, watcher, options) {
    return super.runTests(tests, watcher, { ...options, serial: true });
  }
}

module.exports = SerialRunner;
