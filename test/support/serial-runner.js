// Jest runs each project's files with that project's runner. This one runs the files that start
// podman, dynalite or the local mode in two lanes (one on a single-core machine; BERTH_TEST_LANES
// overrides): such a file spends most of its time waiting on containers, heartbeats and stop
// timeouts, so two of them share two cores well, and a third would starve the others' agents.
//
// Each file gets a fresh worker process (an idle memory limit of 0 makes jest replace the worker
// after every file), so whatever a file leaves running in-process — a local mode whose teardown
// overran its hook, a storm's queued requests — dies with that process instead of loading every
// file after it. A podman service such a file started runs in a process group of its own and
// outlives the worker; once its worker is gone its parent is init, and this runner ends it.
const { readdirSync, readFileSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { default: TestRunner } = require('jest-runner');

class SerialRunner extends TestRunner {
  constructor(globalConfig, context) {
    super({ ...globalConfig, maxWorkers: lanes(), workerIdleMemoryLimit: 0 }, context);
  }

  async runTests(tests, watcher, options) {
    this.on('test-file-success', endOrphanedPodmanServices);
    this.on('test-file-failure', endOrphanedPodmanServices);
    try {
      return await super.runTests(tests, watcher, { ...options, serial: false });
    } finally {
      endOrphanedPodmanServices();
    }
  }
}

function lanes() {
  const asked = Number(process.env.BERTH_TEST_LANES);
  return Number.isInteger(asked) && asked > 0 ? asked : Math.min(2, availableParallelism());
}

/** `podman system service` processes on a test's data directory whose parent has exited. */
function endOrphanedPodmanServices() {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0] !== 'podman' || cmdline[1] !== 'system' || cmdline[2] !== 'service') continue;
      if (!cmdline.some((arg) => arg.startsWith('unix:///tmp/berth-'))) continue;
      // stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === 1) process.kill(Number(entry), 'SIGTERM');
    } catch {
      // The process ended while we looked.
    }
  }
}

module.exports = SerialRunner;
