/**
 * `npm run bench:logs` (second part): what reading running containers' logs costs podman's
 * service, in CPU over 15 s (its /proc ticks), for 10 quiet containers and for 10 that print a
 * line a second. Beside the agent's reads today (DockerRuntime.followLogs: a whole read when a
 * held follow of the log says it grew, at most every 500 ms), in the same run: nothing reading,
 * an inspect and a whole read every 500 ms (the agent's reads before), and held follow streams
 * alone (what the engine's follow costs, were its content usable).
 */
import Docker from 'dockerode';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService } from '../../local/podman';
import { assertNothingLeft, privateStorage, removeDataDir, removeEngineObjects, stopPodmanService } from './support/bench-storage';
import { progress } from './support/progress';
import { formatTable } from './support/table';

const CONTAINERS = 10;
const WINDOW_MS = 15_000;
const SETTLE_MS = 2_000;
const READ_EVERY_MS = 500;
const KINDS = {
  quiet: ['sleep', '600'],
  'a line a second': ['sh', '-c', 'while true; do echo tick; sleep 1; done'],
} as const;
const ULIMITS = [{ Name: 'nofile', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 1024, Hard: 1024 }];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** User and system CPU ticks (1/100 s) the process has used. */
function ticks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

type Reader = (docker: Docker, runtime: DockerRuntime, ids: string[], stopped: () => boolean) => void;

const READERS: [string, Reader][] = [
  ['nothing reads the logs', () => {}],
  ['inspect + whole read every 500 ms (the agent before)', (docker, _, ids, stopped) => ids.forEach(async (id) => {
    while (!stopped()) {
      await docker.getContainer(id).inspect().catch(() => {});
      await docker.getContainer(id).logs({ follow: false, stdout: true, stderr: true }).catch(() => {});
      await sleep(READ_EVERY_MS);
    }
  })],
  ['followLogs (the agent now)', (_, runtime, ids) => ids.forEach((id) => void runtime.followLogs(id, () => {}).catch(() => {}))],
  ['held follow streams alone', (docker, _, ids, stopped) => ids.forEach(async (id) => {
    const s = await docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true }) as unknown as NodeJS.ReadableStream & { destroy(): void };
    s.on('data', () => {});
    while (!stopped()) await sleep(100);
    s.destroy();
  })],
];

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bench-log-reads-'));
  privateStorage(dataDir);
  const service = await startPodmanService({ dataDir, log: () => {} });
  const rows: string[][] = [];
  try {
    await ensureBusyboxImage({ env: service.env, log: () => {} });
    const pid = Number(readFileSync(join(dataDir, 'podman.pid'), 'utf8'));
    const docker = new Docker({ socketPath: service.socketPath });
    const runtime = new DockerRuntime({ socketPath: service.socketPath });
    for (const [kind, command] of Object.entries(KINDS)) {
      for (const [label, read] of READERS) {
        const ids: string[] = [];
        for (let i = 0; i < CONTAINERS; i++) {
          const c = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: [...command], HostConfig: { Ulimits: ULIMITS } });
          await c.start();
          ids.push(c.id);
        }
        let stopped = false;
        read(docker, runtime, ids, () => stopped);
        await sleep(SETTLE_MS);
        const before = ticks(pid);
        await sleep(WINDOW_MS);
        const percent = (100 * (ticks(pid) - before)) / 100 / (WINDOW_MS / 1000);
        progress(`${kind}, ${label}: podman ${percent.toFixed(1)} % of a core`);
        rows.push([`${CONTAINERS} containers, ${kind}`, label, `${percent.toFixed(1)} %`]);
        stopped = true;
        await Promise.all(ids.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => {})));
      }
    }
    runtime.close();
  } finally {
    await service.stop();
    stopPodmanService(dataDir);
    removeEngineObjects(dataDir);
    assertNothingLeft([dataDir]);
    removeDataDir(dataDir);
  }
  console.log(`\npodman service CPU over ${WINDOW_MS / 1000} s while the logs of running containers are read (same run; 100 % is one core)\n`);
  console.log(formatTable(['containers', 'reads', 'podman CPU'], rows));
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});
