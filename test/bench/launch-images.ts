/**
 * bench:launch, second part (after launch.ts): images from a registry, warm hosts' pre-pull, and
 * what the hard limits cost. Each figure beside a baseline measured in the same run on the same
 * podman:
 *
 * 1. Cold launch: RunTask → RUNNING (DescribeTasks polled every 5 ms) of a ~50 MB image that is
 *    only in the registry (Debian's docker-registry on 127.0.0.1 with TLS and a login, as the e2e
 *    tests start it), beside `podman pull` + create + start of an image of the same size. Each
 *    Berth round runs an image of its own (random content, never run before), so neither a
 *    previous round nor the warm hosts' pre-pull of a run definition leaves its layers behind.
 * 2. Warm launch after pre-pull: a service (desiredCount 0) names a ~50 MB registry image; once
 *    the warm hosts have pre-pulled it, RunTask → RUNNING of it, beside a bare create + start of
 *    the same image (pull behaviour default, so the launch still asks the registry for the tag's
 *    manifest, and no layer).
 * 3. The hard limits: RunTask → RUNNING of a busybox task on a host whose agent bounds tasks
 *    (the default) beside one on a host whose agent runs with BERTH_TASK_LIMITS=false (a bench
 *    knob), alternating, p50 and p99.
 *
 * Exits 1 only when something breaks, never because a figure is slow.
 */
import { CreateServiceCommand, DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ContainerSpec } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { BUSYBOX_IMAGE, REGISTRY_CERTS_DIR } from '../../local/podman';
import { type LocalBerthRuntime, startLocal } from '../../local/runtime';
import { type TestRegistry, run, startTestRegistry } from '../support/registry';
import { assertNothingLeft, privateStorage, removeDataDir, removeEngineObjects, stopPodmanService } from './support/bench-storage';
import { progress } from './support/progress';
import { median, percentile } from './support/stats';
import { formatTable, ms, ratio } from './support/table';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.AWS_EC2_METADATA_DISABLED ??= 'true';

/** BERTH_BENCH_IMAGES_ROUNDS=cold,warm,limits takes fewer rounds, for a quick look on a busy machine. */
const [coldRounds, warmRounds, limitsRounds] = (process.env.BERTH_BENCH_IMAGES_ROUNDS ?? '5,10,20').split(',').map(Number);
const ROUNDS = { cold: coldRounds, warm: warmRounds, limits: limitsRounds } as const;
const IMAGE_MIB = 50;
const POLL_INTERVAL_MS = 5;
const GAP_MS = 300;
const EXECUTION_ROLE = 'arn:aws:iam::000000000000:role/bench-exec';
const LONG_COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];

const sleep = (milliseconds: number) => new Promise((r) => setTimeout(r, milliseconds));

interface Bench {
  local: LocalBerthRuntime;
  registry: TestRegistry;
  ecs: ECSClient;
  runtime: DockerRuntime;
  dataDir: string;
  logs: string[];
  login: string;
  /** Host A bounds its tasks; host B runs with BERTH_TASK_LIMITS=false. */
  limited: string;
  unlimited: string;
}

async function startBench(): Promise<Bench> {
  const registry = await startTestRegistry();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'berth-bench-images-'));
  privateStorage(dataDir);
  mkdirSync(join(dataDir, REGISTRY_CERTS_DIR), { recursive: true });
  copyFileSync(registry.caFile, join(dataDir, REGISTRY_CERTS_DIR, 'bench-registry-ca.pem'));
  const logs: string[] = [];
  const local = await startLocal({ dataDir, port: 0, hosts: 2, hostType: 'c6i.4xlarge', maxHosts: 2, log: (l) => logs.push(l) });
  const ecs = new ECSClient({ endpoint: local.url, region: 'us-east-1', maxAttempts: 1, credentials: local.credentials });
  const [a, b] = await local.berth.store.hosts.list();
  // Host B's agent again, without limits (a bench knob); it keeps its key and its registration.
  const until = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!(await check())) {
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };
  await until('host B to save its key', () => existsSync(join(dataDir, 'hosts', `${b.hostId}.json`)));
  await local.fleet.stop(b.hostId);
  const restartedAt = local.berth.now();
  local.fleet.start({ hostId: b.hostId, cpu: b.cpu, memory: b.memory }, { BERTH_TASK_LIMITS: 'false' });
  await until('host B back', async () => ((await local.berth.store.hosts.get(b.hostId))?.lastHeartbeatAt ?? 0) > restartedAt);
  const sm = new SecretsManagerClient({ endpoint: local.url, region: 'us-east-1', credentials: local.credentials });
  const login = (await sm.send(new CreateSecretCommand({
    Name: 'bench/registry', SecretString: JSON.stringify({ username: registry.username, password: registry.password }),
  }))).ARN!;
  sm.destroy();
  return {
    local, registry, ecs, runtime: new DockerRuntime({ socketPath: local.dockerSocket }), dataDir, logs, login,
    limited: a.hostId, unlimited: b.hostId,
  };
}

/** A ~50 MB image of random content (no layer shared with any other), pushed under `reference` and removed from the host. */
async function pushRandomImage(bench: Bench, reference: string): Promise<string> {
  const env = bench.local.podmanEnv;
  const name = `bench-images-${reference.replace(/[^a-z0-9]/g, '-')}`;
  await run('podman', ['run', '--name', name, BUSYBOX_IMAGE, 'sh', '-c', `head -c ${IMAGE_MIB * 1024 * 1024} /dev/urandom > /blob`], env);
  await run('podman', ['commit', '--quiet', name, `localhost/${name}:latest`], env);
  await run('podman', ['rm', name], env);
  await bench.registry.push(`localhost/${name}:latest`, reference, env);
  await run('podman', ['rmi', `localhost/${name}:latest`], env);
  return `${bench.registry.host}/${reference}`;
}

let families = 0;
async function register(bench: Bench, image: string, login: boolean): Promise<string> {
  const family = `bench-images-${++families}`;
  await bench.ecs.send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
    executionRoleArn: login ? EXECUTION_ROLE : undefined,
    containerDefinitions: [{
      name: 'app', image, essential: true, command: LONG_COMMAND, stopTimeout: 5,
      repositoryCredentials: login ? { credentialsParameter: bench.login } : undefined,
    }],
  }));
  return family;
}

/** RunTask on `hostId` until DescribeTasks shows RUNNING; then stops it and waits for STOPPED (untimed). */
async function launch(bench: Bench, family: string, hostId: string): Promise<number> {
  const t0 = performance.now();
  const r = await bench.ecs.send(new RunTaskCommand({
    taskDefinition: family, placementConstraints: [{ type: 'memberOf', expression: `ec2InstanceId == ${hostId}` }],
  }));
  const arn = r.tasks?.[0]?.taskArn;
  if (!arn) throw new Error(`RunTask of ${family} failed: ${JSON.stringify(r.failures)}`);
  let latency: number | undefined;
  for (const deadline = t0 + 120_000; latency === undefined;) {
    const t = (await bench.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0];
    if (t.lastStatus === 'RUNNING') latency = performance.now() - t0;
    else if (t.lastStatus === 'STOPPED') throw new Error(`task of ${family} stopped: ${t.stoppedReason}`);
    else if (performance.now() > deadline) throw new Error(`task of ${family} not RUNNING in time`);
    else await sleep(POLL_INTERVAL_MS);
  }
  await bench.ecs.send(new StopTaskCommand({ task: arn }));
  for (;;) {
    const t = (await bench.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0];
    if (t.lastStatus === 'STOPPED') break;
    await sleep(100);
  }
  return latency;
}

let bareSerial = 0;

/** Bare create + start of `image` through the agent's own runtime, optionally after `podman pull`; the container is removed after. */
async function bare(bench: Bench, image: string, pull: boolean): Promise<number> {
  const t0 = performance.now();
  if (pull) {
    await run('podman', ['pull', '--quiet', '--creds', `${bench.registry.username}:${bench.registry.password}`, image], bench.local.podmanEnv);
  }
  const spec: ContainerSpec = {
    name: `berth-bench-images-bare-${process.pid}-${++bareSerial}`, image, command: LONG_COMMAND, env: [], ulimits: [], portMappings: [],
    labels: { 'berth.bench': 'launch-images' },
  };
  const id = await bench.runtime.create(spec);
  await bench.runtime.start(id);
  const took = performance.now() - t0;
  await bench.runtime.stop(id, 1).catch(() => {});
  await bench.runtime.remove(id).catch(() => {});
  return took;
}

const rmi = (bench: Bench, image: string) => run('podman', ['rmi', '--force', '--ignore', image], bench.local.podmanEnv);
const exists = (bench: Bench, image: string) => run('podman', ['image', 'exists', image], bench.local.podmanEnv).then(() => true, () => false);

function rows(what: string, figures: number[], baseline: number[], baselineWhat: string): string[][] {
  return (['p50', 'p99'] as const).map((p) => {
    const f = p === 'p50' ? median(figures) : percentile(figures, 99);
    const b = p === 'p50' ? median(baseline) : percentile(baseline, 99);
    return [`${what} ${p} (×${figures.length})`, ms(f), `${ms(b)} ${baselineWhat} ${p} (×${baseline.length})`, ratio(f, b)];
  });
}

async function main(): Promise<void> {
  progress(`bench:launch (images and limits) on ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const bench = await startBench();
  let failed = false;
  try {
    progress(`pushing ${ROUNDS.cold + 2} images of ${IMAGE_MIB} MB of random content to the registry ...`);
    const coldImages: string[] = [];
    for (let i = 0; i < ROUNDS.cold; i++) coldImages.push(await pushRandomImage(bench, `cold:r${i}`));
    const bareImage = await pushRandomImage(bench, 'cold:bare');
    const warmImage = await pushRandomImage(bench, 'warm:v1');

    progress(`cold launch: ${ROUNDS.cold} rounds of podman pull + create + start, then a Berth launch of an image never pulled ...`);
    const cold = { berth: [] as number[], bare: [] as number[] };
    for (let i = 0; i < ROUNDS.cold; i++) {
      await rmi(bench, bareImage);
      await sleep(GAP_MS);
      cold.bare.push(await bare(bench, bareImage, true));
      const family = await register(bench, coldImages[i], true);
      await sleep(GAP_MS);
      cold.berth.push(await launch(bench, family, bench.limited));
      progress(`  round ${i + 1}: bare ${ms(cold.bare[i])}, Berth ${ms(cold.berth[i])}`);
    }

    progress('warm launch: a service (desiredCount 0) names a registry image; waiting for the pre-pull ...');
    const warmFamily = await register(bench, warmImage, true);
    const t = performance.now();
    await bench.ecs.send(new CreateServiceCommand({ serviceName: 'bench-warm', taskDefinition: warmFamily, desiredCount: 0 }));
    while (!(await exists(bench, warmImage)) || !bench.logs.some((l) => l.includes(`pre-pulled ${warmImage}`))) {
      if (performance.now() - t > 120_000) throw new Error('the service image was not pre-pulled in 120 s');
      await sleep(250);
    }
    progress(`  pre-pulled ${ms(performance.now() - t)} after CreateService`);
    const warm = { berth: [] as number[], bare: [] as number[] };
    for (let i = 0; i < ROUNDS.warm; i++) {
      await sleep(GAP_MS);
      warm.bare.push(await bare(bench, warmImage, false));
      await sleep(GAP_MS);
      warm.berth.push(await launch(bench, warmFamily, bench.limited));
    }

    progress(`limits: ${ROUNDS.limits} launches each on the bounded host and on the unbounded one, alternating ...`);
    const busybox = await register(bench, BUSYBOX_IMAGE, false);
    await launch(bench, busybox, bench.limited);
    await launch(bench, busybox, bench.unlimited);
    const limits = { on: [] as number[], off: [] as number[] };
    for (let i = 0; i < ROUNDS.limits; i++) {
      await sleep(GAP_MS);
      limits.on.push(await launch(bench, busybox, bench.limited));
      await sleep(GAP_MS);
      limits.off.push(await launch(bench, busybox, bench.unlimited));
    }

    console.log('\nResults (each figure beside its baseline, measured in this run)\n');
    console.log(formatTable(['measure', 'figure', 'baseline', 'ratio'], [
      ...rows(`cold RunTask → RUNNING, ${IMAGE_MIB} MB from the registry`, cold.berth, cold.bare, 'podman pull + create + start'),
      ...rows('warm RunTask → RUNNING after pre-pull (pull behaviour default)', warm.berth, warm.bare, 'bare create + start'),
      ...rows('RunTask → RUNNING, busybox, hard limits on', limits.on, limits.off, 'limits off (BERTH_TASK_LIMITS=false)'),
    ]));
  } catch (e) {
    failed = true;
    console.error(`!!! FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    console.error(`last lines of the local mode's log:\n  ${bench.logs.slice(-20).join('\n  ')}`);
  } finally {
    progress('cleanup');
    bench.ecs.destroy();
    await bench.local.close({ discard: true }).catch(() => {});
    stopPodmanService(bench.dataDir);
    await bench.registry.close().catch(() => {});
    try {
      removeEngineObjects(bench.dataDir);
      assertNothingLeft([bench.dataDir]);
    } catch (e) {
      failed = true;
      console.error(`cleanup: ${String(e)}`);
    }
    try {
      removeDataDir(bench.dataDir);
    } catch (e) {
      console.error(`cleanup: ${String(e)}`);
    }
  }
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error('bench:launch (images) crashed:', e);
  process.exitCode = 1;
});
