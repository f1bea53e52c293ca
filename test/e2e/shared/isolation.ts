import { RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskReportBody } from '../../../agent/client';
import { LABELS } from '../../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../../agent/runtime/docker-runtime';
import { TaskRunner } from '../../../agent/task-runner';
import type { ContainerDefinition } from '../../../shared/domain/task-definition';
import { eventually } from '../../support/harness';
import { BUSYBOX, type LocalMode, containerLog, describe1, runContainers, untilStatus } from '../../support/local-mode';
import { freePort } from '../../support/local-process';

/**
 * Task isolation with real containers: a task's containers share one network namespace (as
 * awsvpc tasks share an ENI), no other task reaches into it, only mapped ports are published,
 * nothing runs privileged, and a capability is added only when the task asks and the host's
 * policy (BERTH_ALLOWED_CAPABILITIES, default SYS_PTRACE) allows it.
 */

/**
 * Sets $body to what http://host:port/index.html serves, or to nothing after `attempts` tries
 * (busybox's wget crashes in this image; nc speaks HTTP well enough).
 */
const FETCH = (host: string, port: number, attempts = 100) =>
  `for i in $(seq ${attempts}); do body=$(printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${host} ${port} 2>/dev/null | tail -n 1); [ -n "$body" ] && break; sleep 0.1; done`;
const PRINT_IP = `echo "ip=$(ip -4 addr show eth0 | awk '/inet / { split($2, a, "/"); print a[1] }')"`;
const PRINT_PRIVILEGES = 'grep -E "^(CapEff|NoNewPrivs):" /proc/self/status | tr -d "\\t"; echo "pid1=$(tr "\\0" " " < /proc/1/cmdline)"';
const SERVED = 'hello-from-server';
// A shell as PID 1 ignores SIGTERM unless it traps it.
const STOP_ON_TERM = "trap 'exit 0' TERM";

const taskIdOf = (arn: string) => arn.split('/').pop()!;
/** The value after `key=` or `key:` in a container's output. */
const field = (lines: string[], key: string) => lines.find((l) => l.startsWith(`${key}=`) || l.startsWith(`${key}:`))?.slice(key.length + 1);

const CAP_NET_ADMIN = 1n << 12n;
const CAP_SYS_PTRACE = 1n << 19n;
const CAP_SYS_ADMIN = 1n << 21n;
const CAP_CHOWN = 1n << 0n;
/** The namespaces each host keeps ready (the agent's default). */
const POOL_SIZE = 2;
const HOSTS = 2;

// One of the suites test/e2e/shared.test.ts runs on its shared local mode (not indented, to keep
// its history readable as a move).
export function suite(mode: () => LocalMode): void {
describe('Task isolation', () => {
  let m: LocalMode;
  let docker: Docker;
  let runtime: DockerRuntime;
  beforeAll(() => {
    m = mode();
    docker = new Docker({ socketPath: m.local.dockerSocket });
    runtime = new DockerRuntime({ socketPath: m.local.dockerSocket });
  });

  /**
   * The engine's containers: podman fails a whole list when one of them is removed meanwhile
   * (500, "container not known"), so it is asked again.
   */
  async function listContainers(label: string): Promise<Docker.ContainerInfo[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await docker.listContainers({ all: true, filters: { label: [label] } });
      } catch (e) {
        if (!/container not known/.test(String(e)) || attempt >= 10) throw e;
      }
    }
  }

  /** The engine's view of every container of the task, by its container-name label. */
  async function engineContainers(taskArn: string): Promise<Record<string, Docker.ContainerInspectInfo>> {
    const found = await listContainers(`${LABELS.task}=${taskIdOf(taskArn)}`);
    // One removed since the list was made drops out.
    const infos = await Promise.all(found.map((c) => docker.getContainer(c.Id).inspect().catch(() => undefined)));
    return Object.fromEntries(infos.filter((i) => i !== undefined).map((i) => [i.Config.Labels[LABELS.container], i]));
  }

  /** The namespace owner (pause container) a task's containers name, or undefined when it is gone. */
  const owner = (name: string) => docker.getContainer(name).inspect().catch(() => undefined);
  const networkExists = (name: string) => docker.getNetwork(name).inspect().then(() => true, () => false);

  /** Namespace owners and networks of the fleet's hosts: each host's ready ones plus one per running task. */
  async function fleetNamespaces(): Promise<{ owners: number; networks: number }> {
    const hosts = [...m.local.fleet.agents.keys()];
    const owners = (await listContainers(LABELS.network))
      .filter((c) => hosts.includes(c.Labels[LABELS.host]));
    const networks = (await Promise.all(hosts.map((h) => runtime.listNetworks({ [LABELS.host]: h })))).flat();
    return { owners: owners.length, networks: networks.length };
  }
  /** Waits until the fleet holds only its ready namespaces and those of `running` tasks. */
  const settledNamespaces = (running: number) => {
    const expected = { owners: HOSTS * POOL_SIZE + running, networks: HOSTS * POOL_SIZE + running };
    return eventually(async () => {
      const now = await fleetNamespaces();
      return now.owners === expected.owners && now.networks === expected.networks ? now : undefined;
    }, 90_000, 'the namespaces to settle').catch(() => fleetNamespaces());
  };

  describe('a task of two containers', () => {
    /** `server` serves on 8080 (unmapped) and on `port` (mapped); `client` fetches from 127.0.0.1:8080. */
    let arn: string;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      [arn] = await runContainers(m.ecs, [
        {
          name: 'server', essential: true, portMappings: [{ containerPort: port, hostPort: port }], stopTimeout: 2,
          command: ['sh', '-c', `${STOP_ON_TERM}; ${PRINT_IP}; ${PRINT_PRIVILEGES}; echo ${SERVED} > /tmp/index.html; httpd -p 8080 -h /tmp; httpd -f -p ${port} -h /tmp & wait`],
        },
        { name: 'client', essential: false, stopTimeout: 2, command: ['sh', '-c', `${STOP_ON_TERM}; ${FETCH('127.0.0.1', 8080)}; echo "got: $body"; sleep 3600 & wait`] },
      // bridge mode, so that the mapped port is published on the host (awsvpc publishes none).
      ], { networkMode: 'bridge' });
      await untilStatus(m.ecs, arn, 'RUNNING', 120_000);
    }, 300_000);

    it('gives a task\'s containers one network namespace: client reaches server on 127.0.0.1:8080', async () => {
      const got = await eventually(async () => containerLog(m.dataDir, arn, 'client').find((l) => l.startsWith('got: ')), 20_000, 'the client to fetch');

      expect(got).toBe(`got: ${SERVED}`);
    });

    it('keeps another task out: it cannot reach the server at the address the host reaches it at', async () => {
      // Prepare: the server's own address, checked from the host.
      const ip = await eventually(async () => field(containerLog(m.dataDir, arn, 'server'), 'ip'), 10_000, 'the server\'s address');
      const fromHost = await eventually(() => fetch(`http://${ip}:8080/index.html`).then((r) => r.text()).catch(() => undefined), 10_000, 'the server');

      // Act
      const [probe] = await runContainers(m.ecs, [{ name: 'probe', command: ['sh', '-c', `${FETCH(ip!, 8080, 2)}; echo "got: $body"`] }]);
      const t = await untilStatus(m.ecs, probe, 'STOPPED', 120_000);

      // Assess
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(fromHost).toBe(`${SERVED}\n`);
      expect(t.containers![0].exitCode).toBe(0);
      expect(containerLog(m.dataDir, probe, 'probe')).toEqual(['got: ']);
    }, 300_000);

    it('publishes only the mapped port, from the namespace owner, which is never reported as a container', async () => {
      const containers = await engineContainers(arn);
      const namespace = containers.server.Config.Labels[LABELS.namespace];
      const pause = (await owner(namespace))!;
      const served = await eventually(() => fetch(`http://127.0.0.1:${port}/index.html`).then((r) => r.text()).catch(() => undefined), 10_000, 'the published port');
      const t = await describe1(m.ecs, arn);

      expect(Object.keys(containers).sort()).toEqual(['client', 'server']);
      expect(containers.client.Config.Labels[LABELS.namespace]).toBe(namespace);
      expect(Object.keys(pause.NetworkSettings.Networks)).toEqual([pause.Config.Labels[LABELS.network]]);
      expect(Object.keys(pause.HostConfig.PortBindings ?? {})).toEqual([`${port}/tcp`]);
      expect(pause.HostConfig.PublishAllPorts).toBe(false);
      for (const name of ['server', 'client']) {
        expect(containers[name].HostConfig.NetworkMode).toBe(`container:${pause.Id}`);
        expect(Object.keys(containers[name].HostConfig.PortBindings ?? {})).toEqual([]);
      }
      expect(served).toBe(`${SERVED}\n`);
      expect(t.containers!.map((c) => c.name).sort()).toEqual(['client', 'server']);
    });

    it('runs every container unprivileged, with no host network or PID namespace and no added capabilities', async () => {
      const containers = await engineContainers(arn);
      const pause = (await owner(containers.server.Config.Labels[LABELS.namespace]))!;
      const output = containerLog(m.dataDir, arn, 'server');

      for (const info of [...Object.values(containers), pause]) {
        expect(info.HostConfig.Privileged).toBe(false);
        expect(info.HostConfig.NetworkMode).not.toBe('host');
        expect(info.HostConfig.PidMode ?? '').not.toBe('host');
        expect(info.HostConfig.CapAdd ?? []).toEqual([]);
        expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      }
      // From inside: no new privileges, and PID 1 is the container's own shell, not the host's init.
      expect(field(output, 'NoNewPrivs')).toBe('1');
      expect(field(output, 'pid1')).toMatch(/^sh -c /);
      // Neither of two a privileged container has; the engine gives them to no one by default.
      expect(BigInt(`0x${field(output, 'CapEff')}`) & (CAP_NET_ADMIN | CAP_SYS_ADMIN | CAP_SYS_PTRACE)).toBe(0n);
      // One the engine does give, which a task may drop (see below).
      expect(BigInt(`0x${field(output, 'CapEff')}`) & CAP_CHOWN).toBe(CAP_CHOWN);
    });

    it('keeps the namespace through an agent restart, then removes the task\'s containers, pause container and network', async () => {
      // Prepare
      const before = await engineContainers(arn);
      const namespace = before.server.Config.Labels[LABELS.namespace];
      const pauseBefore = (await owner(namespace))!;
      const task = await m.local.berth.store.tasks.get({ cluster: 'default', taskId: taskIdOf(arn) });
      const host = (await m.local.berth.store.hosts.get(task!.hostId!))!;

      // Act: SIGKILL the agent, start it again, let it adopt the task, then stop the task.
      await m.local.fleet.kill(host.hostId);
      m.local.fleet.start({ hostId: host.hostId, cpu: host.cpu, memory: host.memory });
      await eventually(async () => m.logs.some((l) => l.includes(`task ${taskIdOf(arn)}: adopted 2 container(s) and their network namespace`)), 90_000, 'the adoption');
      const after = await engineContainers(arn);
      const pauseAfter = await owner(namespace);
      const served = await eventually(() => fetch(`http://127.0.0.1:${port}/index.html`).then((r) => r.text()).catch(() => undefined), 10_000, 'the published port');
      await m.ecs.send(new StopTaskCommand({ task: arn, reason: 'isolation test' }));
      const stopped = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);
      const gone = await eventually(async () => (Object.keys(await engineContainers(arn)).length === 0 && !(await owner(namespace)) ? 'gone' : undefined), 60_000, 'the containers to go').catch(() => 'still there');
      // The network goes right after its owner.
      const network = await eventually(async () => ((await networkExists(namespace)) ? undefined : 'gone'), 30_000, 'the network to go').catch(() => 'still there');
      // The killed agent's ready namespaces were removed by the new one, which made its own.
      const settled = await settledNamespaces(0);

      // Assess: the same containers, the namespace still serving, then nothing left.
      expect(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.Id]))).toEqual(Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.Id])));
      expect(pauseAfter?.Id).toBe(pauseBefore.Id);
      expect(pauseAfter?.State.Running).toBe(true);
      expect(served).toBe(`${SERVED}\n`);
      expect(stopped.stopCode).toBe('UserInitiated');
      expect(gone).toBe('gone');
      expect(network).toBe('gone');
      expect(settled).toEqual({ owners: HOSTS * POOL_SIZE, networks: HOSTS * POOL_SIZE });
    }, 300_000);
  });

  describe('namespaces made ahead', () => {
    it('gives each task a namespace of its own, never one another task used, and removes it with the task', async () => {
      // Prepare: two tasks that publish no ports, so each takes a ready namespace.
      const command = ['sh', '-c', `${STOP_ON_TERM}; sleep 3600 & wait`];
      const [first] = await runContainers(m.ecs, [{ name: 'app', stopTimeout: 2, command }]);
      await untilStatus(m.ecs, first, 'RUNNING', 120_000);
      const firstNamespace = (await engineContainers(first)).app.Config.Labels[LABELS.namespace];

      // Act
      await m.ecs.send(new StopTaskCommand({ task: first }));
      await untilStatus(m.ecs, first, 'STOPPED', 120_000);
      const [second] = await runContainers(m.ecs, [{ name: 'app', stopTimeout: 2, command }]);
      await untilStatus(m.ecs, second, 'RUNNING', 120_000);
      const secondNamespace = (await engineContainers(second)).app.Config.Labels[LABELS.namespace];
      const firstOwner = await eventually(async () => ((await owner(firstNamespace)) ? undefined : 'gone'), 60_000, 'the first namespace to go').catch(() => 'still there');
      await m.ecs.send(new StopTaskCommand({ task: second }));
      await untilStatus(m.ecs, second, 'STOPPED', 120_000);
      const settled = await settledNamespaces(0);

      // Assess
      expect(firstNamespace).toMatch(/^berth-ns-/);
      expect(secondNamespace).toMatch(/^berth-ns-/);
      expect(secondNamespace).not.toBe(firstNamespace);
      expect(firstOwner).toBe('gone');
      expect(await networkExists(firstNamespace)).toBe(false);
      expect(settled).toEqual({ owners: HOSTS * POOL_SIZE, networks: HOSTS * POOL_SIZE });
    }, 300_000);
  });

  describe('a task that goes wrong', () => {
    it('stops a task whose pause container dies: its containers have lost their network', async () => {
      const [arn] = await runContainers(m.ecs, [{ name: 'app', stopTimeout: 2, command: ['sh', '-c', `${STOP_ON_TERM}; sleep 3600 & wait`] }]);
      await untilStatus(m.ecs, arn, 'RUNNING', 120_000);
      const namespace = (await engineContainers(arn)).app.Config.Labels[LABELS.namespace];

      await docker.getContainer(namespace).kill();
      const t = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);
      const leftBehind = async () => ({
        containers: Object.keys(await engineContainers(arn)), owner: (await owner(namespace)) !== undefined, network: await networkExists(namespace),
      });
      const nothing = { containers: [], owner: false, network: false };
      const left = await eventually(async () => {
        const l = await leftBehind();
        return l.containers.length === 0 && !l.owner && !l.network ? l : undefined;
      }, 60_000, 'the task to be cleaned up').catch(() => leftBehind());

      expect(t.stopCode).toBe('EssentialContainerExited');
      expect(t.stoppedReason).toMatch(/network namespace/);
      expect(left).toEqual(nothing);
    }, 300_000);

    it('leaves no container, pause container or network behind when a task fails to start', async () => {
      const [arn] = await runContainers(m.ecs, [{ name: 'app', user: 'nosuchuser', command: ['true'] }]);

      const t = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);
      const containers = await eventually(async () => ((await engineContainers(arn)).app ? undefined : 'none'), 60_000, 'the task to be cleaned up').catch(() => 'some');
      const settled = await settledNamespaces(0);

      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(containers).toBe('none');
      expect(settled).toEqual({ owners: HOSTS * POOL_SIZE, networks: HOSTS * POOL_SIZE });
    }, 300_000);
  });

  describe('capabilities through the API, under the default policy (SYS_PTRACE)', () => {
    /** Registers an EC2 definition (Fargate's own check would refuse NET_ADMIN before any agent sees it) and runs it. */
    async function runAsking(add: string[]): Promise<string> {
      const family = `caps-${add.join('-').toLowerCase()}-${Date.now()}`;
      await m.ecs.send(new RegisterTaskDefinitionCommand({
        family, requiresCompatibilities: ['EC2'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{
          name: 'app', image: BUSYBOX, essential: true, command: ['sh', '-c', PRINT_PRIVILEGES],
          linuxParameters: { capabilities: { add, drop: ['CHOWN'] } },
        }],
      }));
      const r = await m.ecs.send(new RunTaskCommand({ taskDefinition: family }));
      return r.tasks![0].taskArn!;
    }

    it('adds SYS_PTRACE when a task asks for it, and drops what it drops', async () => {
      const arn = await runAsking(['SYS_PTRACE']);

      const t = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);
      const capEff = BigInt(`0x${field(containerLog(m.dataDir, arn, 'app'), 'CapEff')}`);

      expect(t.containers![0].exitCode).toBe(0);
      expect(capEff & CAP_SYS_PTRACE).toBe(CAP_SYS_PTRACE);
      expect(capEff & (CAP_CHOWN | CAP_NET_ADMIN | CAP_SYS_ADMIN)).toBe(0n);
    }, 300_000);

    it('refuses NET_ADMIN, which the policy does not allow: TaskFailedToStart, with the reason, and no container', async () => {
      const arn = await runAsking(['NET_ADMIN']);

      const t = await untilStatus(m.ecs, arn, 'STOPPED', 120_000);

      expect(t.stopCode).toBe('TaskFailedToStart');
      expect(t.stoppedReason).toMatch(/'app' asks for Linux capabilities NET_ADMIN .*BERTH_ALLOWED_CAPABILITIES: SYS_PTRACE/);
      expect(t.containers![0].exitCode).toBeUndefined();
      expect(await engineContainers(arn)).toEqual({});
      expect(m.logs.some((l) => l.includes(`task ${taskIdOf(arn)}: pulling`))).toBe(false);
    }, 300_000);
  });

  // Policies other than the local mode's: a TaskRunner of its own, with the local mode's engine
  // and a host id no agent has.
  describe('the capability policy', () => {
    let logDir: string;
    const hostId = `isolation-${randomBytes(4).toString('hex')}`;
    beforeAll(() => {
      logDir = mkdtempSync(join(tmpdir(), 'berth-caps-'));
    });
    afterAll(() => {
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    });

    /** Runs one task asking for NET_ADMIN (ECS's linuxParameters) to its end, under the given policy. */
    async function run(allowedCapabilities: string[]) {
      const taskId = randomBytes(16).toString('hex');
      const app = {
        name: 'app', image: BUSYBOX, essential: true, command: ['sh', '-c', 'grep "^CapEff:" /proc/self/status | tr -d "\\t"'],
        linuxParameters: { capabilities: { add: ['NET_ADMIN'] } },
      } as ContainerDefinition;
      const reports: TaskReportBody[] = [];
      const runtime = new DockerRuntime({ socketPath: m.local.dockerSocket });
      // What the engine was asked to make, counted without polling it.
      const networks = jest.spyOn(runtime, 'createNetwork');
      const containers = jest.spyOn(runtime, 'create');
      const runner = new TaskRunner({
        cluster: 'default', taskId, taskArn: `arn:aws:ecs:us-east-1:000000000000:task/default/${taskId}`, family: 'app', revision: 1,
        desiredStatus: 'RUNNING', lastStatus: 'PENDING', createdAt: Date.now(), cpu: 256, memory: 512, containers: [app],
      }, { hostId, runtime, report: async (b) => void reports.push(b), logDir, allowedCapabilities });
      await runner.launch();
      const logFile = join(logDir, taskId, 'app.log');
      const output = (() => {
        try {
          return readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
        } catch {
          return [];
        }
      })();
      const left = [...(await runtime.list({ [LABELS.host]: hostId })).map((c) => c.name), ...(await runtime.listNetworks({ [LABELS.host]: hostId }))];
      return { reports, output, created: [...networks.mock.calls.map(([name]) => name), ...containers.mock.calls.map(([spec]) => spec.name)], left };
    }

    it('refuses a task asking for a capability the policy does not allow: TaskFailedToStart, nothing created', async () => {
      const { reports, created, left } = await run([]);

      expect(reports.map((r) => r.lastStatus)).toEqual(['STOPPED']);
      expect(reports[0].stop).toEqual({
        stopCode: 'TaskFailedToStart',
        stoppedReason: expect.stringMatching(/'app' asks for Linux capabilities NET_ADMIN .*does not allow \(BERTH_ALLOWED_CAPABILITIES: none\)/),
      });
      expect(created).toEqual([]);
      expect(left).toEqual([]);
    }, 300_000);

    it('adds a capability the policy allows (CAP_ prefix and case aside), and leaves nothing behind', async () => {
      const { reports, output, left } = await run(['cap_net_admin']);
      const capEff = BigInt(`0x${field(output, 'CapEff')}`);

      expect(reports.map((r) => r.lastStatus)).toEqual(['RUNNING', 'STOPPING', 'STOPPED']);
      expect(reports.at(-1)!.stop?.stopCode).toBe('EssentialContainerExited');
      expect(capEff & CAP_NET_ADMIN).toBe(CAP_NET_ADMIN);
      expect(left).toEqual([]);
    }, 300_000);
  });
});
}
