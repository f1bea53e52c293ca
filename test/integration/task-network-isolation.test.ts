import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ContainerSpec, LABELS } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import {
  BRIDGE_PREFIX, ISOLATION_CHAIN, type IsolationRuleSet, chainRules, countJumps, iptables, jumpOf, keepTaskNetworksApart,
} from '../../agent/runtime/task-network-isolation';
import { type TaskNamespace, TaskNamespaces } from '../../agent/task-namespaces';
import { BUSYBOX_IMAGE, ensureBusyboxImage, startPodmanService, type PodmanService } from '../../local/podman';
import { eventually } from '../support/harness';

/**
 * The rule set that keeps task networks apart: Berth's own chain in the mangle table, in place
 * before the first task network, whatever the engine adds or drops as networks come and go.
 * Needs root, as the agent and CI run. Probes run only between namespaces made here.
 */

let dataDir: string;
let podman: PodmanService;
let runtime: DockerRuntime;
const HOST = `isolation-test-${randomBytes(4).toString('hex')}`;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-isolation-'));
  const log = () => {};
  podman = await startPodmanService({ dataDir, log });
  await ensureBusyboxImage({ env: podman.env, log });
  runtime = new DockerRuntime({ socketPath: podman.socketPath });
}, 120_000);

afterAll(async () => {
  if (runtime) {
    for (const c of await runtime.list({ [LABELS.host]: HOST })) await runtime.remove(c.id).catch(() => {});
    for (const n of await runtime.listNetworks({ [LABELS.host]: HOST })) await runtime.removeNetwork(n).catch(() => {});
  }
  await podman?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

/** A rule set of the tests' own, for what would open a window in the real one if done to it. */
const SCRATCH: IsolationRuleSet = { chain: `BERTH-ISOLATION-T${randomBytes(2).toString('hex')}`, bridgePrefix: 'bzisotest' };

async function removeScratch(): Promise<void> {
  while (await iptables(['-t', 'mangle', '-D', ...jumpOf(SCRATCH.chain)]));
  await iptables(['-t', 'mangle', '-F', SCRATCH.chain]);
  await iptables(['-t', 'mangle', '-X', SCRATCH.chain]);
}

describe('keepTaskNetworksApart', () => {
  afterAll(removeScratch);

  it('puts one jump and its two drop rules (between task networks, to the instance metadata service) in place, however often and however concurrently it runs', async () => {
    expect(isRoot).toBe(true);

    const outcomes = await Promise.all(Array.from({ length: 5 }, () => keepTaskNetworksApart()));
    const again = await keepTaskNetworksApart();

    expect(outcomes).toEqual(['kept', 'kept', 'kept', 'kept', 'kept']);
    expect(again).toBe('kept');
    expect(await countJumps()).toBe(1);
    expect(await chainRules()).toEqual([
      `-A ${ISOLATION_CHAIN} -i ${BRIDGE_PREFIX}+ -o ${BRIDGE_PREFIX}+ -m comment --comment "berth: no traffic between task networks" -j DROP`,
      `-A ${ISOLATION_CHAIN} -d 169.254.169.254/32 -i ${BRIDGE_PREFIX}+ -m comment --comment "berth: tasks never reach the instance metadata service" -j DROP`,
    ]);
  }, 60_000);

  it('leaves exactly one jump when agents that start together all find none', async () => {
    // Prepare: the chain in place, its jump gone, as on a host where several agents start at once.
    await keepTaskNetworksApart(0, SCRATCH);
    while (await iptables(['-t', 'mangle', '-D', ...jumpOf(SCRATCH.chain)]));

    // Act
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => keepTaskNetworksApart(0, SCRATCH)));

    // Assess
    expect(outcomes.every((o) => o === 'kept')).toBe(true);
    expect(await countJumps(SCRATCH.chain)).toBe(1);
  }, 60_000);

  it('puts back what was removed, and leaves one copy of what was doubled', async () => {
    // Prepare: a chain emptied, its jump gone; then a chain with its jump twice.
    await keepTaskNetworksApart(0, SCRATCH);
    await iptables(['-t', 'mangle', '-F', SCRATCH.chain]);
    await iptables(['-t', 'mangle', '-D', ...jumpOf(SCRATCH.chain)]);

    // Act
    const restored = await keepTaskNetworksApart(0, SCRATCH);
    const [jumpsRestored, rulesRestored] = [await countJumps(SCRATCH.chain), await chainRules(SCRATCH.chain)];
    await iptables(['-t', 'mangle', '-I', 'FORWARD', '1', '-j', SCRATCH.chain]);
    await keepTaskNetworksApart(0, SCRATCH);

    // Assess
    expect(restored).toBe('kept');
    expect(jumpsRestored).toBe(1);
    expect(rulesRestored).toHaveLength(2);
    expect(await countJumps(SCRATCH.chain)).toBe(1);
  }, 60_000);

  it('says it is not root, and leaves iptables alone, when it is not', async () => {
    await removeScratch();

    const outcome = await keepTaskNetworksApart(1000, SCRATCH);

    expect(outcome).toBe('not root');
    expect(await countJumps(SCRATCH.chain)).toBe(0);
    expect(await chainRules(SCRATCH.chain)).toEqual([]);
  }, 60_000);
});

describe('task networks on podman', () => {
  const namespaces = new TaskNamespaces({ get runtime() { return runtime; }, hostId: HOST, poolSize: 0 });
  let n = 0;
  /** A container of a task: it joins the task's namespace, as the agent's task containers do. */
  async function inTask(ns: TaskNamespace, script: string): Promise<string> {
    const spec: ContainerSpec = {
      name: `berth-isolation-test-${HOST}-${++n}`, image: BUSYBOX_IMAGE, command: ['sh', '-c', script],
      env: [], ulimits: [], portMappings: [],
      labels: { [LABELS.host]: HOST, [LABELS.namespace]: ns.name },
      network: { joinNamespaceOf: ns.id },
    };
    const id = await runtime.create(spec);
    await runtime.start(id);
    return id;
  }
  const addressOf = async (ns: TaskNamespace) =>
    (await new Docker({ socketPath: podman.socketPath }).getContainer(ns.id).inspect()).NetworkSettings.Networks[ns.network].IPAddress;
  /** One HTTP GET of index.html with nc: the body's last line, or nothing. */
  const GET = (host: string, port: number) => `$(printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 1 ${host} ${port} 2>/dev/null | tail -n 1)`;
  const dropped = () => {
    const line = execFileSync('iptables', ['-w', '-t', 'mangle', '-L', ISOLATION_CHAIN, '-v', '-x', '-n'], { encoding: 'utf8' })
      .split('\n').find((l) => l.includes('DROP'));
    return Number(line?.trim().split(/\s+/)[0] ?? 0);
  };

  it('keeps two task networks apart while ten others are made and torn down at once: not one probe gets through', async () => {
    // Prepare: a server in task A, reachable from the host; task B probes it from 6 loops at
    // once, and its own server on its loopback, until told to stop.
    const [a, b] = [await namespaces.acquire([]), await namespaces.acquire([])];
    await inTask(a, 'mkdir -p /tmp/w && echo apart > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w');
    const ip = await addressOf(a);
    const fromHost = () => fetch(`http://${ip}:8080/index.html`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
    expect(await eventually(() => fromHost().catch(() => undefined), 30_000, 'the host to reach task A')).toBe('apart\n');
    const droppedBefore = dropped();
    const loop = `while [ ! -e /tmp/stop ]; do echo "probe remote=${GET(ip, 8080)} local=${GET('127.0.0.1', 8081)}"; done`;
    const probe = await inTask(b, `mkdir -p /tmp/w && echo local > /tmp/w/index.html && httpd -p 127.0.0.1:8081 -h /tmp/w
      for i in 1 2 3 4 5 6; do (${loop}) & done; wait`);
    const lines: string[] = [];
    const following = runtime.followLogs(probe, (line) => lines.push(line));
    await eventually(async () => lines.some((l) => l.endsWith('local=local')) || undefined, 30_000, 'the probes to run');
    const probesBefore = lines.length;

    // Act: ten namespaces made and torn down at once, twice over, while the probes run
    // and the host keeps fetching from task A.
    const hostFetches: string[] = [];
    let churning = true;
    const hostLoop = (async () => {
      while (churning) hostFetches.push(await fromHost().catch((e) => `failed: ${e}`));
    })();
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let round = 0; round < 2; round++) await namespaces.release(await namespaces.acquire([]));
    }));
    churning = false;
    await hostLoop;
    const probesDuring = lines.length - probesBefore;
    await runtime.exec(probe, ['touch', '/tmp/stop'], 10);
    await following;

    // Assess: the probes ran throughout, each reaching its own loopback and never task A; the
    // drops were this rule set's; the host reached task A every time.
    const probes = lines.filter((l) => l.startsWith('probe '));
    expect(probesDuring).toBeGreaterThanOrEqual(12);
    expect(probes.filter((l) => !l.startsWith('probe remote= '))).toEqual([]);
    expect(probes.filter((l) => !l.endsWith(' local=local'))).toEqual([]);
    expect(dropped() - droppedBefore).toBeGreaterThanOrEqual(probes.length);
    expect(hostFetches.length).toBeGreaterThan(0);
    expect(hostFetches.filter((f) => f !== 'apart\n')).toEqual([]);
    await namespaces.release(a);
    await namespaces.release(b);
  }, 300_000);

  it('keeps tasks from the metadata service wherever the rule points: a stand-in of the test\'s own answers a task before the rule, never after', async () => {
    // Prepare: a stand-in for the metadata service in a network namespace of the test's own,
    // routed from the host as EC2's is (not a task network, nor the engine's), and a task that
    // asks it once per container.
    const tag = randomBytes(3).toString('hex');
    const [ns, hostSide, nsSide, net] = [`berthmd${tag}`, `bmdh${tag}`, `bmdn${tag}`, `10.254.${randomBytes(1)[0]}`];
    const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', ns);
    ip('addr', 'add', `${net}.1/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    for (const args of [['addr', 'add', `${net}.2/30`, 'dev', nsSide], ['link', 'set', nsSide, 'up'], ['link', 'set', 'lo', 'up'], ['route', 'add', 'default', 'via', `${net}.1`]]) {
      ip('netns', 'exec', ns, 'ip', ...args);
    }
    const www = mkdtempSync(join(tmpdir(), 'berth-md-'));
    writeFileSync(join(www, 'index.html'), 'metadata\n');
    const server = spawn('ip', ['netns', 'exec', ns, 'busybox', 'httpd', '-f', '-p', '80', '-h', www], { stdio: 'ignore' });
    const address = `${net}.2`;
    const task = await namespaces.acquire([]);
    const ask = async () => {
      const lines: string[] = [];
      const id = await inTask(task, `echo "got=${GET(address, 80)}"`);
      await runtime.followLogs(id, (line) => lines.push(line));
      await runtime.remove(id);
      return lines.find((l) => l.startsWith('got='));
    };
    const rules: IsolationRuleSet = { chain: `BERTH-ISOLATION-M${randomBytes(2).toString('hex')}`, bridgePrefix: BRIDGE_PREFIX, metadataAddress: address };
    try {
      const before = await eventually(async () => ((await ask()) === 'got=metadata' ? 'got=metadata' : undefined), 30_000, 'the task to reach the stand-in');

      // Act: the rule set, pointed at the stand-in (a chain of the test's own, beside the real one).
      const outcome = await keepTaskNetworksApart(0, rules);
      const after = await ask();

      // Assess
      expect(before).toBe('got=metadata');
      expect(outcome).toBe('kept');
      expect(after).toBe('got=');
      expect((await chainRules(rules.chain))[1]).toContain(`-d ${address}/32 -i ${BRIDGE_PREFIX}+`);
    } finally {
      while (await iptables(['-t', 'mangle', '-D', ...jumpOf(rules.chain)]));
      await iptables(['-t', 'mangle', '-F', rules.chain]);
      await iptables(['-t', 'mangle', '-X', rules.chain]);
      await namespaces.release(task);
      server.kill();
      ip('netns', 'del', ns);
      rmSync(www, { recursive: true, force: true });
    }
  }, 120_000);

  it('names each task network\'s bridge after the rule\'s prefix', async () => {
    const ns = await namespaces.acquire([]);

    const bridge = execFileSync('podman', ['network', 'inspect', ns.network, '--format', '{{.NetworkInterface}}'], { env: podman.env, encoding: 'utf8' }).trim();
    await namespaces.release(ns);

    expect(bridge).toMatch(new RegExp(`^${BRIDGE_PREFIX}[0-9a-f]{10}$`));
  }, 60_000);
});
