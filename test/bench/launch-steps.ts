/**
 * bench:launch-steps — what each step of an agent's launch costs the engine, alone and ten at a
 * time, on a podman service of its own: the task's network, its pause container (create, start,
 * inspect), the task's container joining it (create, start); beside bare create + starts of the
 * same container on the engine's default network, with and without the task's limits. Then how
 * many task networks podman makes per second at each concurrency. For reading, not asserting.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { type ContainerSpec } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { containerLimits } from '../../agent/task-limits';
import { DEFAULT_PAUSE } from '../../agent/task-namespaces';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService } from '../../local/podman';
import { privateStorage, removeDataDir, removeEngineObjects } from './support/bench-storage';
import { median } from './support/stats';
import { formatTable, ms } from './support/table';

const ROUNDS = 8;
const LONG = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];
const LIMITS = containerLimits([{}], { cpu: 256, memory: 512 })[0];
const HOST = 'bench-steps';

type Times = Record<string, number[]>;
const add = (t: Times, k: string, v: number) => (t[k] ??= []).push(v);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

async function timed<T>(t: Times, k: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await f();
  add(t, k, performance.now() - t0);
  return r;
}

const spec = (extra: Partial<ContainerSpec>): ContainerSpec => ({
  name: `bench-steps-${randomBytes(6).toString('hex')}`, image: BUSYBOX_IMAGE, command: [...LONG], env: [], ulimits: [], portMappings: [], labels: {}, ...extra,
});

async function bare(rt: DockerRuntime, t: Times, limits: boolean, made: string[]): Promise<void> {
  const t0 = performance.now();
  const id = await timed(t, `bare${limits ? '+limits' : ''} create`, () => rt.create(spec(limits ? LIMITS : {})));
  made.push(id);
  await timed(t, `bare${limits ? '+limits' : ''} start`, () => rt.start(id));
  add(t, `bare${limits ? '+limits' : ''} total`, performance.now() - t0);
}

async function task(rt: DockerRuntime, t: Times, made: string[], nets: string[]): Promise<void> {
  const t0 = performance.now();
  const name = `berth-ns-${randomBytes(8).toString('hex')}`;
  await timed(t, 'ns network', () => rt.createNetwork(name, { 'berth.host': HOST }));
  nets.push(name);
  const pause = await timed(t, 'ns pause create', () => rt.create(spec({ name, image: DEFAULT_PAUSE.image, command: [...DEFAULT_PAUSE.command], user: '65534', network: { ownNamespaceOn: name } })));
  made.push(pause);
  await timed(t, 'ns pause start', () => rt.start(pause));
  await timed(t, 'ns pause inspect', () => rt.inspect(pause));
  add(t, 'ns total', performance.now() - t0);
  const t1 = performance.now();
  const id = await timed(t, 'task create (joined, limits)', () => rt.create(spec({ ...LIMITS, network: { joinNamespaceOf: pause } })));
  made.push(id);
  await timed(t, 'task start', () => rt.start(id));
  add(t, 'task total (ns ready)', performance.now() - t1);
  add(t, 'ns + task total', performance.now() - t0);
}

async function clear(rt: DockerRuntime, made: string[], nets: string[]): Promise<void> {
  // Joined containers first, then their namespaces' owners.
  for (const id of made.reverse()) await rt.remove(id).catch(() => {});
  made.length = 0;
  await Promise.all(nets.map((n) => rt.removeNetwork(n).catch(() => {})));
  nets.length = 0;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-steps-'));
  privateStorage(dataDir);
  const podman = await startPodmanService({ dataDir, log: () => {} });
  try {
    await ensureBusyboxImage({ env: podman.env, log: () => {} });
    const rt = new DockerRuntime({ socketPath: podman.socketPath, labels: { 'berth.instance': dataDir } });
    const made: string[] = [];
    const nets: string[] = [];
    for (const concurrency of [1, 10]) {
      const t: Times = {};
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(200);
        await Promise.all(Array.from({ length: concurrency }, () => bare(rt, t, false, made)));
        await sleep(200);
        await Promise.all(Array.from({ length: concurrency }, () => bare(rt, t, true, made)));
        await sleep(200);
        await Promise.all(Array.from({ length: concurrency }, () => task(rt, t, made, nets)));
        await clear(rt, made, nets);
      }
      console.log(`\nconcurrency ${concurrency}, ${ROUNDS} rounds (p50 of each step)`);
      console.log(formatTable(['step', 'p50', 'n'], Object.entries(t).map(([k, v]) => [k, ms(median(v)), String(v.length)])));
    }
    console.log('\nthroughput: 12 task networks alone, and 12 namespaces (network, pause container created and started), at each concurrency');
    const rows: string[][] = [];
    for (const concurrency of [1, 3, 6, 12]) {
      const names = Array.from({ length: 12 }, () => `berth-ns-${randomBytes(8).toString('hex')}`);
      let t0 = performance.now();
      for (let i = 0; i < names.length; i += concurrency) {
        await Promise.all(names.slice(i, i + concurrency).map((n) => rt.createNetwork(n, { 'berth.host': HOST })));
      }
      const networksMs = performance.now() - t0;
      await Promise.all(names.map((n) => rt.removeNetwork(n).catch(() => {})));
      await sleep(200);
      const t: Times = {};
      t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < 12) {
          next++;
          const name = `berth-ns-${randomBytes(8).toString('hex')}`;
          await rt.createNetwork(name, { 'berth.host': HOST });
          nets.push(name);
          const pause = await rt.create(spec({ name, image: DEFAULT_PAUSE.image, command: [...DEFAULT_PAUSE.command], user: '65534', network: { ownNamespaceOn: name } }));
          made.push(pause);
          await timed(t, 'start', () => rt.start(pause));
        }
      }));
      const namespacesMs = performance.now() - t0;
      await clear(rt, made, nets);
      rows.push([String(concurrency), `${(12 / (networksMs / 1000)).toFixed(1)}/s`, `${(12 / (namespacesMs / 1000)).toFixed(1)}/s`, ms(median(t.start))]);
      await sleep(200);
    }
    console.log(formatTable(['concurrency', 'networks', 'namespaces', 'pause start p50'], rows));
    rt.close();
  } finally {
    try {
      removeEngineObjects(dataDir);
    } catch (e) {
      console.error(`cleanup: ${e}`);
    }
    await podman.stop();
    removeDataDir(dataDir);
  }
}

void main();
