const { execFileSync } = require('node:child_process');
const { readFileSync, readdirSync } = require('node:fs');

/** Whether an engine object's labels name one of `dirs`: its `berth.instance`, or a directory inside one (another region's hosts). */
const labelledWith = (dirs) => (labels) => {
  const instance = labels?.['berth.instance'];
  return instance !== undefined && dirs.some((d) => instance === d || instance.startsWith(`${d}/`));
};

/**
 * The containers and networks the engine still holds that a local mode of one of `dataDirs` made
 * (each labelled `berth.instance` with its data directory), one line each. `env` chooses the
 * engine's storage (a bench's own, by CONTAINERS_STORAGE_CONF).
 */
function engineLeftovers(dataDirs, env = process.env) {
  const ofThese = labelledWith(dataDirs);
  const podman = (args) => JSON.parse(execFileSync('podman', args, { encoding: 'utf8', env }) || '[]');
  const containers = podman(['ps', '-a', '--filter', 'label=berth.instance', '--format', 'json'])
    .filter((c) => ofThese(c.Labels))
    .map((c) => `container ${c.Names?.[0]} (${c.State}) of ${c.Labels['berth.instance']}`);
  const networks = podman(['network', 'ls', '--format', 'json'])
    .filter((n) => ofThese(n.labels))
    .map((n) => `network ${n.name} of ${n.labels['berth.instance']}`);
  return [...containers, ...networks];
}

/**
 * Processes whose command line names one of `dirs`, one line each: what a run started under its
 * directories and left running (conmon, HAProxy, podman's service, an agent).
 */
function processLeftovers(dirs) {
  const left = [];
  const ours = ancestors();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || ours.has(Number(entry))) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (dirs.some((d) => cmdline.includes(d))) left.push(`process ${entry}: ${cmdline.slice(0, 160)}`);
    } catch {
      // exited while we looked
    }
  }
  return left;
}

/** This process and those that started it (a command line that names the directories it checks). */
function ancestors() {
  const pids = new Set();
  for (let pid = process.pid; pid > 1 && !pids.has(pid);) {
    pids.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

module.exports = { engineLeftovers, processLeftovers };
