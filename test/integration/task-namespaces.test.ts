import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '../../agent/runtime/container-runtime';
import { DockerRuntime } from '../../agent/runtime/docker-runtime';
import { bridgeName } from '../../agent/runtime/task-network-isolation';
import { type TaskNamespace, TaskNamespaces } from '../../agent/task-namespaces';
import { ensureBusyboxImage, startPodmanService, type PodmanService } from '../../local/podman';
import { eventually } from '../support/harness';

/**
 * TaskNamespaces against a real podman: namespaces made ahead and taken by launches, made on
 * demand for a task that publishes ports, swept at an agent's start, removed at its stop.
 */

let dataDir: string;
let podman: PodmanService;
let runtime: DockerRuntime;
let docker: Docker;
// Each test's namespaces belong to a host of its own, so a test sees only what it made.
const hostIds: string[] = [];
const newHost = () => {
  const id = `ns-test-${randomBytes(4).toString('hex')}`;
  hostIds.push(id);
  return id;
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-ns-'));
  const log = () => {};
  podman = await startPodmanService({ dataDir, log });
  await ensureBusyboxImage({ env: podman.env, log });
  runtime = new DockerRuntime({ socketPath: podman.socketPath });
  docker = new Docker({ socketPath: podman.socketPath });
}, 120_000);

afterAll(async () => {
  if (runtime) {
    for (const hostId of hostIds) {
      for (const c of await runtime.list({ [LABELS.host]: hostId })) await runtime.remove(c.id).catch(() => {});
      for (const n of await runtime.listNetworks({ [LABELS.host]: hostId })) await runtime.removeNetwork(n).catch(() => {});
    }
  }
  runtime?.close();
  await podman?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** What the engine holds of a host's namespaces: its pause containers (running or not) and networks. */
async function held(hostId: string): Promise<{ owners: string[]; running: string[]; networks: string[] }> {
  const owners = await runtime.list({ [LABELS.host]: hostId });
  return {
    owners: owners.map((o) => o.name).sort(),
    running: owners.filter((o) => o.running).map((o) => o.name).sort(),
    networks: (await runtime.listNetworks({ [LABELS.host]: hostId })).sort(),
  };
}

/** Waits until the host holds `count` running namespaces, each with its network, and returns them. */
function untilHeld(hostId: string, count: number) {
  return eventually(async () => {
    const h = await held(hostId);
    return h.running.length === count && h.owners.length === count && h.networks.length === count ? h : undefined;
  }, 90_000, `${count} namespaces`).catch(() => held(hostId));
}

describe('TaskNamespaces on podman', () => {
  describe('made ahead', () => {
    it('keeps poolSize namespaces ready, hands one to a task that publishes no ports, then makes another', async () => {
      // Prepare
      const hostId = newHost();
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 2 });
      namespaces.fill();
      const ready = await untilHeld(hostId, 2);

      // Act: a launch takes one, and says when it has started its task.
      const taken = await namespaces.acquire([]);
      const right = await held(hostId);
      namespaces.launched();
      const after = await untilHeld(hostId, 3);

      // Assess: it was one of the ready ones, running on its own network; two are ready again.
      expect(ready.owners).toHaveLength(2);
      expect(ready.owners).toContain(taken.name);
      expect(taken.network).toBe(taken.name);
      expect((await docker.getContainer(taken.id).inspect()).NetworkSettings.Networks).toHaveProperty(taken.network);
      // Nothing was made while the launch had the engine.
      expect(right.owners).toEqual(ready.owners);
      expect(after.owners).toHaveLength(3);
      await namespaces.close();
      await namespaces.release(taken);
    }, 240_000);

    it('gives each namespace a network of its own with no DNS server, on the bridge the isolation rules name', async () => {
      // Prepare
      const hostId = newHost();
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 0 });

      // Act
      const ns = await namespaces.acquire([]);
      const network = await new Promise<{ dns_enabled: boolean; network_interface: string }>((resolve, reject) => {
        docker.modem.dial({ path: `/v4.0.0/libpod/networks/${ns.network}/json`, method: 'GET', statusCodes: { 200: true } },
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data as { dns_enabled: boolean; network_interface: string })));
      });
      namespaces.launched();

      // Assess: no aardvark-dns for a network that holds one container; the bridge is Berth's.
      expect(network).toMatchObject({ dns_enabled: false, network_interface: bridgeName(ns.network) });
      await namespaces.close();
      await namespaces.release(ns);
    }, 120_000);

    it('hands a launch that finds none ready the one being made, and makes the pool\'s next', async () => {
      // Prepare: the pool is making its first namespace.
      const hostId = newHost();
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 1 });
      namespaces.fill();

      // Act
      const taken = await namespaces.acquire([]);
      namespaces.launched();
      const after = await untilHeld(hostId, 2);

      // Assess: one namespace was made for the launch and one is ready again, not two for the launch.
      expect(after.owners).toHaveLength(2);
      expect(after.owners).toContain(taken.name);
      expect(await namespaces.acquire([])).toMatchObject({ name: after.owners.find((o) => o !== taken.name) });
      await namespaces.close();
      await namespaces.release(taken);
    }, 240_000);

    it('makes a new namespace for a task that publishes ports, publishing those', async () => {
      // Prepare
      const hostId = newHost();
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 1 });
      namespaces.fill();
      const ready = await untilHeld(hostId, 1);

      // Act
      const ns = await namespaces.acquire([{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }]);
      const info = await docker.getContainer(ns.id).inspect();

      // Assess
      expect(ready.owners).not.toContain(ns.name);
      expect(Object.keys(info.HostConfig.PortBindings ?? {})).toEqual(['8080/tcp']);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.Config.User).toBe('65534');
      await namespaces.close();
      await namespaces.release(ns);
    }, 240_000);

    it('skips a ready namespace whose pause container died, and removes it', async () => {
      // Prepare
      const hostId = newHost();
      // The pool learns of a death through the engine's wait: note when each wait returns.
      const waited = new Set<string>();
      const wait = runtime.wait.bind(runtime);
      const waits = jest.spyOn(runtime, 'wait').mockImplementation(async (id) => {
        try {
          return await wait(id);
        } finally {
          waited.add(id);
        }
      });
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 1 });
      namespaces.fill();
      const [dead] = (await untilHeld(hostId, 1)).owners;
      const deadId = (await runtime.inspect(dead))!.id;
      await docker.getContainer(dead).kill();
      await eventually(async () => waited.has(dead) || waited.has(deadId), 15_000, 'the pool to see the death');
      waits.mockRestore();

      // Act
      const ns = await namespaces.acquire([]);
      const gone = await eventually(async () => ((await runtime.inspect(dead)) ? undefined : 'gone'), 15_000, 'the dead one to go').catch(() => 'still there');

      // Assess
      expect(ns.name).not.toBe(dead);
      expect((await runtime.inspect(ns.name))?.running).toBe(true);
      expect(gone).toBe('gone');
      await namespaces.close();
      await namespaces.release(ns);
    }, 240_000);

    it('removes its ready namespaces, and their networks, when closed', async () => {
      // Prepare
      const hostId = newHost();
      const namespaces = new TaskNamespaces({ runtime, hostId, poolSize: 2 });
      namespaces.fill();
      await untilHeld(hostId, 2);

      // Act
      await namespaces.close();

      // Assess
      expect(await held(hostId)).toEqual({ owners: [], running: [], networks: [] });
    }, 240_000);
  });

  describe('sweep, as a restarted agent does', () => {
    it('keeps the namespace a task\'s container names for adoption, and removes every other of the host\'s', async () => {
      // Prepare: a previous agent's namespaces — one a task uses, one ready, one whose task is gone —
      // and a network left without its owner.
      const hostId = newHost();
      const before = new TaskNamespaces({ runtime, hostId });
      const used = await before.acquire([]);
      const unused = [await before.acquire([]), await before.acquire([])];
      const app = await runtime.create({
        name: `berth-ns-test-app-${randomBytes(4).toString('hex')}`, image: 'localhost/busybox:latest', command: ['sleep', '600'],
        env: [], ulimits: [], portMappings: [],
        labels: { [LABELS.host]: hostId, [LABELS.task]: 't1', [LABELS.namespace]: used.name },
        network: { joinNamespaceOf: used.id },
      });
      await runtime.start(app);
      const strayNetwork = `berth-ns-stray-${randomBytes(4).toString('hex')}`;
      await runtime.createNetwork(strayNetwork, { [LABELS.host]: hostId });
      const after = new TaskNamespaces({ runtime, hostId });

      // Act
      await after.sweep(await runtime.list({ [LABELS.host]: hostId }));
      const adopted: TaskNamespace = await after.adopt(used.name);
      const h = await held(hostId);

      // Assess
      expect(h.owners).toEqual([used.name, (await runtime.inspect(app))!.name].sort());
      expect(h.networks).toEqual([used.network]);
      for (const ns of unused) expect(await runtime.inspect(ns.name)).toBeUndefined();
      expect(adopted).toMatchObject({ name: used.name, id: used.id, network: used.network });
      // Still there: its loss has not been reported.
      const lostYet = await Promise.race([adopted.lost.then(() => true), new Promise((r) => setTimeout(() => r(false), 200))]);
      expect(lostYet).toBe(false);
      await runtime.remove(app);
      await after.release(adopted);
      expect(await held(hostId)).toEqual({ owners: [], running: [], networks: [] });
    }, 240_000);

    it('hands back a namespace that is gone as already lost', async () => {
      const namespaces = new TaskNamespaces({ runtime, hostId: newHost() });

      const ns = await namespaces.adopt('berth-ns-never-made');
      let lost = false;
      void ns.lost.then(() => (lost = true));
      await eventually(async () => lost, 10_000, 'the namespace reported lost').catch(() => {});

      expect(lost).toBe(true);
    });
  });
});
