import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CannotCreateContainerError,
  CannotPullContainerError,
  type ContainerSpec,
  LABELS,
} from '../../agent/runtime/container-runtime';
import { DockerRuntime, EXEC_TIMED_OUT } from '../../agent/runtime/docker-runtime';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService, type PodmanService } from '../../local/podman';

// Every container this run makes carries this label, so afterAll can remove them all.
const RUN_LABEL = 'berth.test-run';
const RUN = randomBytes(4).toString('hex');

let dataDir: string;
let podman: PodmanService;
let runtime: DockerRuntime;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-podman-'));
  const log = () => {};
  podman = await startPodmanService({ dataDir, log });
  await ensureBusyboxImage({ env: podman.env, log });
  runtime = new DockerRuntime({ socketPath: podman.socketPath });
}, 120_000);

afterAll(async () => {
  if (runtime) {
    for (const c of await runtime.list({ [RUN_LABEL]: RUN })) await runtime.remove(c.id);
    for (const n of await engine().listNetworks({ filters: { label: [`${RUN_LABEL}=${RUN}`] } })) await runtime.removeNetwork(n.Name);
  }
  runtime?.close();
  await podman?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

let n = 0;
const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: `berth-test-${RUN}-${++n}`,
  image: BUSYBOX_IMAGE,
  env: [],
  ulimits: [],
  portMappings: [],
  ...over,
  labels: { [RUN_LABEL]: RUN, ...over.labels },
});

async function started(over: Partial<ContainerSpec>): Promise<string> {
  const id = await runtime.create(spec(over));
  await runtime.start(id);
  return id;
}

type Line = { line: string; stream: 'stdout' | 'stderr' };

async function output(id: string): Promise<Line[]> {
  const lines: Line[] = [];
  await runtime.followLogs(id, (line, stream) => lines.push({ line, stream }));
  return lines;
}

/** Resolves once the container prints `text`, so a test acts only after the shell set its traps. */
function printed(id: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    runtime.followLogs(id, (line) => line === text && resolve())
      .then(() => reject(new Error(`container exited without printing ${text}`)), reject);
  });
}

const sh = (script: string) => ['sh', '-c', script];
/**
 * Sets $body to what http://host:port/index.html serves, or to nothing after `attempts` tries
 * (busybox's wget crashes in this image; nc speaks HTTP well enough).
 */
const FETCH = (host: string, port: number, attempts = 50) =>
  `for i in $(seq ${attempts}); do body=$(printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${port} 2>/dev/null | tail -n 1); [ -n "$body" ] && break; sleep 0.1; done`;
const LOOP_FOREVER = 'while true; do sleep 1; done';

describe('DockerRuntime on podman', () => {
  describe('a container that exits', () => {
    it('reports its exit code through wait and inspect, and its output by stream', async () => {
      const id = await started({ command: sh('echo out; echo err >&2; exit 3') });

      const lines = await output(id);
      const exitCode = await runtime.wait(id);
      const state = await runtime.inspect(id);

      expect(exitCode).toBe(3);
      expect(lines).toHaveLength(2);
      expect(lines).toEqual(expect.arrayContaining([{ line: 'out', stream: 'stdout' }, { line: 'err', stream: 'stderr' }]));
      expect(state).toMatchObject({ id, status: 'exited', running: false, exitCode: 3, oomKilled: false });
      expect(state!.startedAt).toEqual(expect.any(Number));
      expect(state!.finishedAt).toEqual(expect.any(Number));
      expect(state!.startedAt!).toBeLessThanOrEqual(state!.finishedAt!);
    });

    it('answers a wait from the engine\'s events, and a wait on an exit no stream saw (an agent restarted meanwhile)', async () => {
      // Prepare: one exits while this runtime follows the events; one exits before the next runtime does.
      const seen = await started({ command: sh('sleep 0.5; exit 4') });
      const before = await started({ command: sh('exit 6') });
      await runtime.wait(before);
      const restarted = new DockerRuntime({ socketPath: podman.socketPath });

      try {
        // Act
        const [seenCode, beforeCode] = await Promise.all([runtime.wait(seen), restarted.wait(before)]);

        // Assess
        expect(seenCode).toBe(4);
        expect(beforeCode).toBe(6);
        await expect(restarted.wait('0'.repeat(64))).rejects.toThrow(/no such container/);
      } finally {
        restarted.close();
      }
    });

    it('answers wait at once for a container that has already exited', async () => {
      const id = await started({ command: sh('exit 5') });
      await runtime.wait(id);

      const startMs = Date.now();
      const exitCode = await runtime.wait(id);

      // Not at once would be the slow look, every 5 s (container-exits.ts); a bound of 1 s also
      // failed an inspect that a loaded machine took over a second to answer.
      expect(exitCode).toBe(5);
      expect(Date.now() - startMs).toBeLessThan(4_000);
    });

    it('delivers every line, the last one without a newline, when followed after the exit', async () => {
      const id = await started({ command: sh("printf 'first\\nsecond\\nlast'") });
      await runtime.wait(id);

      const lines = await output(id);

      expect(lines.map((l) => l.line)).toEqual(['first', 'second', 'last']);
    });

    it('follows from the start when followLogs is called before start', async () => {
      const id = await runtime.create(spec({ command: sh('echo one; sleep 0.3; echo two') }));
      const following = output(id);
      await new Promise((r) => setTimeout(r, 200));

      await runtime.start(id);
      const lines = await following;

      expect(lines.map((l) => l.line)).toEqual(['one', 'two']);
    });

    it('gives each line the time it was read, in order', async () => {
      // Prepare
      const before = Date.now();
      const id = await started({ command: sh('echo early; sleep 0.5; echo late >&2') });

      // Act
      const lines: { line: string; timestampMs?: number }[] = [];
      await runtime.followLogs(id, (line, _stream, timestampMs) => lines.push({ line, timestampMs }));

      // Assess
      expect(lines.map((l) => l.line)).toEqual(['early', 'late']);
      const [early, late] = lines.map((l) => l.timestampMs!);
      expect(early).toBeGreaterThanOrEqual(before);
      expect(late).toBeGreaterThanOrEqual(early);
      expect(late).toBeLessThanOrEqual(Date.now());
    });

    it('delivers all 20,000 lines of a container that prints them and exits at once, each stream in order', async () => {
      // Prepare: podman 4.3 may end a follow before the log of an exited container is all read
      const script = 'i=1; while [ $i -le 10000 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done';
      const id = await runtime.create(spec({ command: sh(script) }));
      const following = output(id);

      // Act
      await runtime.start(id);
      const lines = await following;

      // Assess
      const numbered = Array.from({ length: 10_000 }, (_, i) => i + 1);
      expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(numbered.map((n) => `out ${n}`));
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(numbered.map((n) => `err ${n}`));
    });

    it('has no exit code or times before it starts', async () => {
      const id = await runtime.create(spec({ command: sh('exit 1') }));

      const state = await runtime.inspect(id);

      expect(state).toMatchObject({ status: 'created', running: false, exitCode: undefined, startedAt: undefined, finishedAt: undefined });
    });
  });

  describe('create', () => {
    it('applies command, entryPoint, env, workingDirectory and user', async () => {
      const id = await started({
        entryPoint: ['/bin/sh', '-c'],
        command: ['echo "greeting=$GREETING"; pwd; id -u; env'],
        env: ['GREETING=hello world', 'OTHER=x'],
        workingDirectory: '/tmp',
        user: 'nobody',
      });

      const lines = (await output(id)).map((l) => l.line);

      expect(lines.slice(0, 3)).toEqual(['greeting=hello world', '/tmp', '65534']);
      expect(lines).toEqual(expect.arrayContaining(['GREETING=hello world', 'OTHER=x']));
    });

    it('applies ulimits, and sets nofile and nproc when the spec does not', async () => {
      const withLimits = await started({
        command: sh('echo "$(ulimit -Sn) $(ulimit -Hn) $(ulimit -Su)"'),
        ulimits: [{ name: 'nofile', softLimit: 2048, hardLimit: 4096 }],
      });
      const withDefaults = await runtime.create(spec({ command: sh('exit 0') }));

      const lines = (await output(withLimits)).map((l) => l.line);
      const defaults = await engine().getContainer(withDefaults).inspect();

      // podman names them as the kernel does (RLIMIT_NOFILE), Docker as they were given.
      const named = (defaults.HostConfig.Ulimits ?? []).map((u) => ({ ...u, Name: u.Name!.replace(/^RLIMIT_/, '').toLowerCase() }));

      expect(lines).toEqual(['2048 4096 1024']);
      expect(named).toEqual(expect.arrayContaining([
        { Name: 'nofile', Soft: 1024, Hard: 1024 },
        { Name: 'nproc', Soft: 1024, Hard: 1024 },
      ]));
    });

    it('gives the engine cpu shares and memory limits in its units', async () => {
      const id = await runtime.create(spec({ command: sh('exit 0'), cpuShares: 256, memoryMiB: 64, memoryReservationMiB: 32 }));
      const tiny = await runtime.create(spec({ command: sh('exit 0'), cpuShares: 0 }));

      const { HostConfig } = await engine().getContainer(id).inspect();
      const tinyShares = (await engine().getContainer(tiny).inspect()).HostConfig.CpuShares;

      expect(HostConfig).toMatchObject({ CpuShares: 256, Memory: 64 * 1024 * 1024, MemoryReservation: 32 * 1024 * 1024 });
      expect(tinyShares).toBe(2);
    });

    it('refuses a second container with the same name', async () => {
      const first = spec({ command: sh('exit 0') });
      await runtime.create(first);

      await expect(runtime.create({ ...first })).rejects.toBeInstanceOf(CannotCreateContainerError);
    });

    it('refuses an image that is not there', async () => {
      await expect(runtime.create(spec({ image: 'localhost/does-not-exist:1' }))).rejects.toThrow(CannotCreateContainerError);
    });

    it('publishes portMappings on the host', async () => {
      const hostPort = await freePort();
      const id = await started({
        command: sh('echo hello > /tmp/index.html; echo ready; httpd -f -p 8080 -h /tmp'),
        portMappings: [{ containerPort: 8080, hostPort, protocol: 'tcp' }],
      });
      await printed(id, 'ready');

      const body = await retry(() => fetch(`http://127.0.0.1:${hostPort}/index.html`).then((r) => r.text()));

      expect(body).toBe('hello\n');
      await runtime.remove(id);
    });
  });

  describe('memory', () => {
    // tail keeps a newline-free input whole, so this holds 64 MiB, then exits 0.
    const ALLOCATE_64_MIB = sh('head -c 64m /dev/zero | tail');

    it('kills a container that goes past memoryMiB with exit code 137, and says it was killed for memory', async () => {
      const id = await started({ command: ALLOCATE_64_MIB, memoryMiB: 16 });

      const exitCode = await runtime.wait(id);

      expect(exitCode).toBe(137);
      expect(await runtime.inspect(id)).toMatchObject({ exitCode: 137, oomKilled: true });
    });

    it('does not take a SIGKILL for an OOM kill: a container killed by stop exits 137, not killed for memory', async () => {
      const id = await started({ command: sh(`trap '' TERM; echo ready; ${LOOP_FOREVER}`), memoryMiB: 16 });
      await printed(id, 'ready');

      await runtime.stop(id, 0);

      expect(await runtime.wait(id)).toBe(137);
      expect(await runtime.inspect(id)).toMatchObject({ exitCode: 137, oomKilled: false });
    });

    it('gives the engine the hard limits: memory with no swap beyond it, a cpu quota, a process limit', async () => {
      const id = await runtime.create(spec({ command: sh('true'), memoryMiB: 64, memoryReservationMiB: 32, nanoCpus: 250_000_000, cpuShares: 128, pidsLimit: 50 }));

      const { HostConfig: h } = await engine().getContainer(id).inspect();

      expect(h).toMatchObject({
        Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024, MemoryReservation: 32 * 1024 * 1024, NanoCpus: 250_000_000, CpuShares: 128, PidsLimit: 50,
      });
      await runtime.remove(id);
    });

    it('keeps a container to its process limit: of 60 processes started, those past the limit fail', async () => {
      // A subshell per process, so a failed fork ends the subshell, not the script; the glob counts without forking.
      const SIXTY = sh('for i in $(seq 60); do (sleep 30 &); done 2>/dev/null; set -- /proc/[0-9]*; echo procs=$#');
      const limited = await started({ command: SIXTY, pidsLimit: 40 });
      const unlimited = await started({ command: SIXTY });

      const procs = async (id: string) => Number((await output(id)).find((l) => l.line.startsWith('procs='))?.line.slice('procs='.length));

      expect(await procs(limited)).toBeLessThanOrEqual(40);
      expect(await procs(unlimited)).toBe(61);
    });
  });

  describe('stop', () => {
    it('lets a container that handles SIGTERM exit by itself', async () => {
      const id = await started({ command: sh(`trap 'exit 0' TERM; echo ready; ${LOOP_FOREVER}`) });
      await printed(id, 'ready');

      const startMs = Date.now();
      await runtime.stop(id, 30);
      const elapsedMs = Date.now() - startMs;

      // Half the grace period: a stop that sat it out is told apart from podman's stop on a busy machine.
      expect(await runtime.wait(id)).toBe(0);
      expect(elapsedMs).toBeLessThan(15_000);
    });

    it('kills a container that ignores SIGTERM once the timeout has passed', async () => {
      const id = await started({ command: sh(`trap '' TERM; echo ready; ${LOOP_FOREVER}`) });
      await printed(id, 'ready');

      const startMs = Date.now();
      await runtime.stop(id, 2);
      const elapsedMs = Date.now() - startMs;

      // Past the 2 s given, short of the engine's own default of 10 s; a kill and its cleanup
      // take podman seconds on a busy machine.
      expect(await runtime.wait(id)).toBe(137);
      expect(elapsedMs).toBeGreaterThanOrEqual(1_900);
      expect(elapsedMs).toBeLessThan(9_000);
    });

    it('takes a container whose stop the engine dropped midway for running, and stops it', async () => {
      // Prepare: podman's service dies in a stop's grace period (as with the local mode killed
      // with SIGKILL) and leaves the container 'stopping', its process alive.
      const id = await started({ command: sh(`trap '' TERM; echo ready; ${LOOP_FOREVER}`) });
      await printed(id, 'ready');
      void runtime.stop(id, 60).catch(() => {});
      for (const deadline = Date.now() + 30_000; (await runtime.inspect(id))?.status !== 'stopping'; await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > deadline) throw new Error('the container never became stopping');
      }
      process.kill(Number(readFileSync(join(dataDir, 'podman.pid'), 'utf8')), 'SIGKILL');
      podman = await startPodmanService({ dataDir, log: () => {} });
      runtime = new DockerRuntime({ socketPath: podman.socketPath });

      // Act
      const state = await runtime.inspect(id);
      await runtime.stop(id, 1);

      // Assess
      expect(state).toMatchObject({ status: 'stopping', running: true, exitCode: undefined });
      expect(await runtime.wait(id)).toBe(137);
    }, 60_000);

    it('is fine with a container that has stopped or is gone', async () => {
      const id = await started({ command: sh('exit 0') });
      await runtime.wait(id);

      await runtime.stop(id, 1);
      await runtime.remove(id);
      await runtime.stop(id, 1);
    });
  });

  describe('images', () => {
    it('fails a pull of a missing image fast, with CannotPullContainerError', async () => {
      const startMs = Date.now();

      const pulling = runtime.pull('localhost/does-not-exist:1');

      await expect(pulling).rejects.toBeInstanceOf(CannotPullContainerError);
      await expect(pulling).rejects.toThrow(/does-not-exist/);
      expect(Date.now() - startMs).toBeLessThan(15_000);
    });

    it('gives up on a pull that takes longer than pullTimeoutMs', async () => {
      const impatient = new DockerRuntime({ socketPath: podman.socketPath, pullTimeoutMs: 300 });
      const startMs = Date.now();

      await expect(impatient.pull('localhost/does-not-exist:2')).rejects.toThrow(/timed out/);
      expect(Date.now() - startMs).toBeLessThan(2_000);
    });

    it('knows which images it has', async () => {
      expect(await runtime.hasImage(BUSYBOX_IMAGE)).toBe(true);
      expect(await runtime.hasImage('localhost/does-not-exist:1')).toBe(false);
    });
  });

  describe('list and remove', () => {
    it('finds containers by label, running and exited', async () => {
      const taskId = randomBytes(16).toString('hex');
      const labels = { [LABELS.task]: taskId, [LABELS.container]: 'app' };
      const id = await started({ command: sh(`echo ready; ${LOOP_FOREVER}`), labels });
      await started({ command: sh('exit 0'), labels: { [LABELS.task]: taskId, [LABELS.container]: 'sidecar' } });

      const running = await runtime.list(labels);
      await runtime.stop(id, 0);
      const exited = await runtime.list(labels);
      const bothContainers = await runtime.list({ [LABELS.task]: taskId });
      const otherTask = await runtime.list({ [LABELS.task]: 'not-this-task' });

      expect(running).toEqual([expect.objectContaining({ id, running: true, labels: expect.objectContaining(labels) })]);
      expect(exited).toEqual([expect.objectContaining({ id, running: false, exitCode: 137 })]);
      expect(bothContainers).toHaveLength(2);
      expect(otherTask).toEqual([]);
    });

    it('removes a container, even a running one, and again without complaint', async () => {
      const id = await started({ command: sh(LOOP_FOREVER) });

      await runtime.remove(id);
      const state = await runtime.inspect(id);
      await runtime.remove(id);

      expect(state).toBeUndefined();
    });
  });

  describe('isolation', () => {
    let nets = 0;
    /** A task network of this run, and a namespace owner on it (named as its network), as a task's pause container. */
    async function namespace(portMappings: ContainerSpec['portMappings'] = [], command = sh(LOOP_FOREVER)) {
      const network = `berth-test-${RUN}-net${++nets}`;
      await runtime.createNetwork(network, { [RUN_LABEL]: RUN });
      const owner = await started({ name: network, command, portMappings, network: { ownNamespaceOn: network }, labels: { [LABELS.network]: network } });
      return { network, owner };
    }
    /** Joins the owner's namespace, labelled as a task's container is. */
    const joining = (ns: { network: string; owner: string }): Partial<ContainerSpec> =>
      ({ network: { joinNamespaceOf: ns.owner }, labels: { [LABELS.namespace]: ns.network } });
    const STATUS = sh('grep -E "^(CapEff|NoNewPrivs):" /proc/self/status | tr -d "\\t"; echo "pid1=$(tr "\\0" " " < /proc/1/cmdline)"');
    /** The value of `key=` among a container's lines. */
    const field = (lines: Line[], key: string) => lines.map((l) => l.line).find((l) => l.startsWith(`${key}:`) || l.startsWith(`${key}=`))?.slice(key.length + 1);
    /** What the engine gives a container nobody asked anything for. */
    async function engineDefaultCapEff(): Promise<bigint> {
      const plain = await engine().createContainer({
        Image: BUSYBOX_IMAGE, Cmd: STATUS, Labels: { [RUN_LABEL]: RUN },
        HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }, { Name: 'nproc', Soft: 1024, Hard: 1024 }] },
      });
      await plain.start();
      return BigInt(`0x${field(await output(plain.id), 'CapEff')}`);
    }
    const CAP_NET_ADMIN = 1n << 12n;
    const CAP_CHOWN = 1n << 0n;

    it('runs a container unprivileged: no host network or PID namespace, no new privileges, the engine\'s default capabilities', async () => {
      const defaultCaps = await engineDefaultCapEff();
      const id = await started({ command: STATUS });

      const lines = await output(id);
      const { HostConfig } = await engine().getContainer(id).inspect();

      expect(field(lines, 'NoNewPrivs')).toBe('1');
      expect(BigInt(`0x${field(lines, 'CapEff')}`)).toBe(defaultCaps);
      // PID 1 is the container's own shell, not the host's init.
      expect(field(lines, 'pid1')).toMatch(/^sh -c grep/);
      expect(HostConfig).toMatchObject({ Privileged: false, PublishAllPorts: false });
      expect(HostConfig.NetworkMode).not.toBe('host');
      expect(HostConfig.PidMode ?? '').not.toBe('host');
      expect(HostConfig.CapAdd ?? []).toEqual([]);
      expect(HostConfig.SecurityOpt).toContain('no-new-privileges');
    });

    it('adds the capabilities the spec asks for, and only those, and drops those it drops', async () => {
      const defaultCaps = await engineDefaultCapEff();
      const id = await started({ command: STATUS, capAdd: ['NET_ADMIN'], capDrop: ['CHOWN'] });

      const capEff = BigInt(`0x${field(await output(id), 'CapEff')}`);

      expect(defaultCaps & CAP_NET_ADMIN).toBe(0n);
      expect(defaultCaps & CAP_CHOWN).toBe(CAP_CHOWN);
      expect(capEff).toBe((defaultCaps | CAP_NET_ADMIN) & ~CAP_CHOWN);
    });

    it('lets containers that join an owner\'s namespace reach each other on 127.0.0.1; only the owner publishes, only the mapped port', async () => {
      const hostPort = await freePort();
      const ns = await namespace([{ containerPort: hostPort, hostPort, protocol: 'tcp' }]);
      const { owner } = ns;
      const server = await started({ ...joining(ns), command: sh(`echo shared > /tmp/index.html; httpd -p 8080 -h /tmp; exec httpd -f -p ${hostPort} -h /tmp`) });
      const client = await started({ ...joining(ns), command: sh(`${FETCH('127.0.0.1', 8080)}; echo "got: $body"`) });

      const lines = (await output(client)).map((l) => l.line);
      const published = await retry(() => fetch(`http://127.0.0.1:${hostPort}/index.html`).then((r) => r.text()));
      const [ownerInfo, serverInfo] = await Promise.all([owner, server].map((id) => engine().getContainer(id).inspect()));

      expect(lines).toEqual(['got: shared']);
      expect(published).toBe('shared\n');
      expect(Object.keys(ownerInfo.HostConfig.PortBindings ?? {})).toEqual([`${hostPort}/tcp`]);
      expect(serverInfo.HostConfig.NetworkMode).toBe(`container:${owner}`);
      expect(Object.keys(serverInfo.HostConfig.PortBindings ?? {})).toEqual([]);
    });

    it('refuses ports on a container that joins another\'s namespace', async () => {
      const { owner } = await namespace();

      const creating = runtime.create(spec({ network: { joinNamespaceOf: owner }, portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }] }));

      await expect(creating).rejects.toThrow(/published by the owner/);
    });

    it('keeps task networks apart, also after another one is torn down: a container on one cannot reach a server the host reaches', async () => {
      const a = await namespace([], sh('echo apart > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'));
      const b = await namespace();
      // netavark 1.4 drops its own isolation rule when any network is torn down; Berth's holds.
      const torn = await namespace();
      await runtime.remove(torn.owner);
      await runtime.removeNetwork(torn.network);
      const { NetworkSettings } = await engine().getContainer(a.owner).inspect();
      const ip = NetworkSettings.Networks[a.network].IPAddress;
      const fromHost = await retry(() => fetch(`http://${ip}:8080/index.html`).then((r) => r.text()));

      const probe = await started({ ...joining(b), command: sh(`${FETCH(ip, 8080, 1)}; echo "got: $body"`) });
      const lines = (await output(probe)).map((l) => l.line);

      expect(fromHost).toBe('apart\n');
      expect(lines).toEqual(['got: ']);
    });

    it('removes a namespace owner together with the containers that joined it, which frees its network', async () => {
      const ns = await namespace();
      const joined = [await started({ ...joining(ns), command: sh(LOOP_FOREVER) }), await started({ ...joining(ns), command: sh('exit 0') })];

      await runtime.remove(ns.owner);
      await runtime.removeNetwork(ns.network);

      expect(await Promise.all([ns.owner, ...joined].map((id) => runtime.inspect(id)))).toEqual([undefined, undefined, undefined]);
      await expect(engine().getNetwork(ns.network).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });

    it('makes a task network once, however often it is asked, and removes it once', async () => {
      const network = `berth-test-${RUN}-net${++nets}`;

      await runtime.createNetwork(network, { [RUN_LABEL]: RUN, 'berth.test-net': network });
      await runtime.createNetwork(network, { [RUN_LABEL]: RUN, 'berth.test-net': network });
      const made = await engine().listNetworks({ filters: { name: [network] } });
      const listed = await runtime.listNetworks({ 'berth.test-net': network });
      await runtime.removeNetwork(network);
      await runtime.removeNetwork(network);

      expect(made.filter((n) => n.Name === network)).toHaveLength(1);
      expect(listed).toEqual([network]);
      await expect(engine().getNetwork(network).inspect()).rejects.toMatchObject({ statusCode: 404 });
    });
  });

  describe('exec', () => {
    let id: string;
    beforeAll(async () => {
      id = await started({ command: sh(LOOP_FOREVER) });
    });
    afterAll(() => runtime.remove(id));

    it.each([0, 1, 7])('returns the exit code %i of the command', async (code) => {
      expect(await runtime.exec(id, ['sh', '-c', `exit ${code}`], 30)).toBe(code);
    });

    it('returns 124 for a command that runs past its timeout', async () => {
      const startMs = Date.now();

      const exitCode = await runtime.exec(id, ['sleep', '60'], 1);

      // Long before the command would have ended, with room for a busy machine.
      expect(exitCode).toBe(EXEC_TIMED_OUT);
      expect(Date.now() - startMs).toBeLessThan(20_000);
    });
  });
});

/** The engine itself, to see what it was given where ContainerState does not say. */
const engine = () => new Docker({ socketPath: podman.socketPath });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** httpd prints nothing when it is listening, so the first requests may find no one there (for up to 10 s on a busy machine). */
async function retry<T>(fn: () => Promise<T>, attempts = 100): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
