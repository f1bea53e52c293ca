import { StopTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ContainerState, LABELS } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { TEST_CREDENTIALS, eventually } from '../support/harness';
import { BUSYBOX, type LocalMode, runContainers, startLocalMode, untilStatus } from '../support/local-mode';
import { type LocalProcess, freePort, interrupt, spawnLocalMode } from '../support/local-process';

/**
 * What a local mode leaves in the engine, found by the label that names its data directory:
 * nothing after Ctrl-C, nothing of a host whose agent was killed once the host is written off,
 * nothing an earlier run of the same data directory left once it starts again. Another local
 * mode on the machine, with another data directory, keeps everything of its own throughout.
 */

/** Another local mode, running a task all along, whose containers nobody else may touch. */
let other: LocalMode;
let otherTask: string;
let otherBefore: { containers: ContainerState[]; networks: string[] };
let runtime: DockerRuntime;
let docker: Docker;
let proc: LocalProcess | undefined;

/** eventually(), asking the engine at most twice a second: each look lists and inspects. */
const until = <T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string) =>
  eventually(async () => {
    await new Promise((r) => setTimeout(r, 500));
    return check();
  }, timeoutMs, what);

const instanceOf = (dataDir: string) => ({ [LABELS.instance]: realpathSync(dataDir) });

/**
 * The containers and networks a local mode's hosts made, their networks' subnets, and the
 * engine's iptables rules for those networks, which name each one's subnet.
 */
async function held(dataDir: string): Promise<{ containers: ContainerState[]; networks: string[]; subnets: string[]; rules: string[] }> {
  const containers = await runtime.list(instanceOf(dataDir));
  const networks = await runtime.listNetworks(instanceOf(dataDir));
  const inspected = await Promise.all(networks.map((n) => docker.getNetwork(n).inspect().catch(() => undefined)));
  const subnets = inspected.flatMap((i: Docker.NetworkInspectInfo | undefined) => (i?.IPAM?.Config ?? []).map((c) => c.Subnet ?? '')).filter(Boolean);
  return { containers, networks, subnets, rules: rulesNaming(subnets) };
}

function rulesNaming(subnets: string[]): string[] {
  const all = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n');
  return all.filter((rule) => subnets.some((s) => `${rule} `.includes(` ${s} `)));
}

/** The task volumes a local mode's hosts made. */
const taskVolumes = async (dataDir: string) =>
  (await runtime.listVolumes(instanceOf(dataDir))).filter((v) => v.labels[LABELS.task]).map((v) => v.name);

/**
 * A namespace as an earlier run's host would have left it: a network and its pause container;
 * and a volume of a task of that host.
 */
async function leftover(dataDir: string, name: string): Promise<void> {
  const labels = { ...instanceOf(dataDir), [LABELS.host]: 'local-gone' };
  await runtime.createVolume({ name, labels: { ...labels, [LABELS.task]: name } });
  await runtime.createNetwork(name, labels);
  const id = await runtime.create({
    name, image: BUSYBOX, command: ['sleep', 'infinity'], env: [], ulimits: [], portMappings: [],
    labels: { ...labels, [LABELS.network]: name }, network: { ownNamespaceOn: name },
  });
  await runtime.start(id);
}

beforeAll(async () => {
  other = await startLocalMode();
  runtime = new DockerRuntime({ socketPath: other.local.dockerSocket });
  docker = new Docker({ socketPath: other.local.dockerSocket });
  [otherTask] = await runContainers(other.ecs, [{ name: 'long', command: ['sleep', '600'] }]);
  await untilStatus(other.ecs, otherTask, 'RUNNING', 60_000);
  otherBefore = await held(other.dataDir);
}, 180_000);

afterAll(async () => {
  if (proc) await interrupt(proc);
  await other?.ecs.send(new StopTaskCommand({ task: otherTask })).catch(() => {});
  if (other) await untilStatus(other.ecs, otherTask, 'STOPPED', 60_000).catch(() => {});
  await other?.close();
}, 120_000);

describe('Local mode leftovers', () => {
  it('a start removes what an earlier run of its data directory left, and nothing of another\'s; Ctrl-C leaves nothing', async () => {
    // Prepare: namespaces "left" by an earlier run of this data directory, and by another's.
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-leftovers-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'berth-leftovers-other-'));
    const suffix = Date.now().toString(36);
    await leftover(dataDir, `berth-ns-left-${suffix}`);
    await leftover(elsewhere, `berth-ns-other-${suffix}`);
    const env = {
      BERTH_DATA_DIR: dataDir, BERTH_PORT: String(await freePort()), BERTH_LOCAL_HOSTS: '2',
      BERTH_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, BERTH_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    };

    // Act: start, let both hosts make their ready namespaces (2 each), then Ctrl-C. (A restart
    // of a data directory that a Ctrl-C left is restart.test.ts's.)
    proc = await spawnLocalMode(env, 120_000, { ownGroup: true });
    const running = await until(async () => {
      const h = await held(dataDir);
      const pauses = h.containers.filter((c) => c.running && c.labels[LABELS.network]);
      return pauses.length === 4 && h.networks.length === 4 && h.rules.length > 0 ? h : undefined;
    }, 90_000, 'two hosts with two ready namespaces each');
    await interrupt(proc);
    const output = proc.output.join('');
    proc = undefined;
    const after = await held(dataDir);
    const rulesAfter = rulesNaming(running.subnets);

    // Assess: the earlier run's namespace and task volume went at the start; the ready
    // namespaces, their networks and the engine's iptables rules for them went at Ctrl-C.
    expect(running.containers.map((c) => c.name)).not.toContain(`berth-ns-left-${suffix}`);
    expect(running.networks).not.toContain(`berth-ns-left-${suffix}`);
    expect(await taskVolumes(dataDir)).toEqual([]);
    const left = { containers: after.containers.map((c) => c.name), networks: after.networks, rules: rulesAfter };
    if (left.containers.length + left.networks.length + left.rules.length > 0) console.log(output.slice(-6000));
    expect(left).toEqual({ containers: [], networks: [], rules: [] });
    // Ctrl-C says what it waits for, and when it is done.
    expect(output).toMatch(/berth: stopping 2 agent\(s\): each removes the task namespaces it kept ready[^\n]*\n(.*\n)*berth: stopped\n/);
    // The other data directory's namespace is still there, running.
    const kept = await held(elsewhere);
    expect(kept.containers.map((c) => [c.name, c.running])).toEqual([[`berth-ns-other-${suffix}`, true]]);
    expect(kept.networks).toEqual([`berth-ns-other-${suffix}`]);
    expect(await taskVolumes(elsewhere)).toEqual([`berth-ns-other-${suffix}`]);
    await runtime.removeVolume(`berth-ns-other-${suffix}`);
    for (const c of kept.containers) await runtime.remove(c.id);
    for (const n of kept.networks) await runtime.removeNetwork(n);
  }, 600_000);

  it('a host whose agent was killed takes all its containers and networks with it once written off; a stop leaves nothing', async () => {
    // Prepare
    const m = await startLocalMode({ heartbeatTimeoutSeconds: 3 });
    try {
      const victims = [...m.local.fleet.agents.keys()];
      await until(async () => {
        const h = await held(m.dataDir);
        return victims.every((v) => h.containers.some((c) => c.running && c.labels[LABELS.host] === v)) || undefined;
      }, 90_000, 'each host to have made its ready namespaces');

      // Act: kill every agent, as a crash would; the capacity manager writes their hosts off.
      await Promise.all(victims.map((v) => m.local.fleet.kill(v)));
      const gone = await until(async () => {
        const h = await held(m.dataDir);
        const ofVictims = [...h.containers.map((c) => c.labels[LABELS.host])].filter((host) => victims.includes(host));
        const networksOfVictims = (await Promise.all(victims.map((v) => runtime.listNetworks({ [LABELS.host]: v })))).flat();
        return ofVictims.length === 0 && networksOfVictims.length === 0 ? h : undefined;
      }, 180_000, 'the killed hosts\' containers and networks to go').catch((e) => {
        throw new Error(`${e}\n${m.logs.slice(-40).join('\n')}`);
      });
      // A plain stop, as Ctrl-C makes it (the harness's close() would discard everything).
      await m.local.close();
      const after = await held(m.dataDir);

      // Assess
      expect(gone.containers.every((c) => !victims.includes(c.labels[LABELS.host]))).toBe(true);
      expect({ containers: after.containers.map((c) => c.name), networks: after.networks }).toEqual({ containers: [], networks: [] });
    } finally {
      await m.close();
    }
  }, 300_000);

  it('the other local mode kept its task, its containers and its networks throughout', async () => {
    const now = await held(other.dataDir);
    const task = await untilStatus(other.ecs, otherTask, 'RUNNING', 5_000);

    expect(task.lastStatus).toBe('RUNNING');
    const ids = (s: { containers: ContainerState[] }) => s.containers.filter((c) => c.labels[LABELS.task]).map((c) => c.id).sort();
    expect(ids(otherBefore)).toHaveLength(1);
    expect(ids(now)).toEqual(ids(otherBefore));
    expect(now.containers.filter((c) => c.labels[LABELS.task]).every((c) => c.running)).toBe(true);
    expect(now.networks).toEqual(expect.arrayContaining(otherBefore.networks.filter((n) =>
      otherBefore.containers.some((c) => c.labels[LABELS.task] && c.labels[LABELS.namespace] === n))));
  }, 60_000);
});
