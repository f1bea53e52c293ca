import { LABELS, type ContainerRuntime, type ContainerState } from '../../agent/runtime/container-runtime';
import { REMOVE_ROUNDS, removeLocalInstance } from '../../local/local-fleet-provider';

/**
 * What a discarding close and a terminated local host remove, against an engine that holds a few
 * objects and refuses some removals: one refused removal no longer leaves the rest in place.
 */

const INSTANCE = '/tmp/berth-e2e-x';
const labelsOf = (host: string, extra: Record<string, string> = {}) => ({ [LABELS.instance]: INSTANCE, [LABELS.host]: host, ...extra });

class Engine {
  readonly containers = new Map<string, Record<string, string>>();
  readonly networks = new Map<string, Record<string, string>>();
  readonly volumes = new Map<string, Record<string, string>>();
  /** How many more times each object's removal is refused (Infinity: always). */
  readonly refusals = new Map<string, number>();
  readonly asked: string[] = [];

  private refuse(name: string): void {
    this.asked.push(name);
    const left = this.refusals.get(name) ?? 0;
    if (left <= 0) return;
    this.refusals.set(name, left - 1);
    throw new Error(`removing ${name}: container state improper`);
  }

  private static matching(objects: Map<string, Record<string, string>>, labels: Record<string, string>): [string, Record<string, string>][] {
    return [...objects].filter(([, l]) => Object.entries(labels).every(([k, v]) => l[k] === v));
  }

  readonly runtime = {
    list: async (labels: Record<string, string>) =>
      Engine.matching(this.containers, labels).map(([name, l]) => ({ id: name, name, running: true, labels: l }) as unknown as ContainerState),
    remove: async (id: string) => {
      this.refuse(id);
      this.containers.delete(id);
    },
    listNetworks: async (labels: Record<string, string>) => Engine.matching(this.networks, labels).map(([name]) => name),
    removeNetwork: async (name: string) => {
      this.refuse(name);
      this.networks.delete(name);
    },
    listVolumes: async (labels: Record<string, string>) => Engine.matching(this.volumes, labels).map(([name, l]) => ({ name, labels: l })),
    removeVolume: async (name: string) => {
      this.refuse(name);
      this.volumes.delete(name);
    },
  } as unknown as ContainerRuntime;
}

/** Two hosts' worth: a pause container and its network, a task container, a task volume each. */
function twoHosts(): Engine {
  const e = new Engine();
  for (const host of ['h1', 'h2']) {
    e.containers.set(`${host}-ns`, labelsOf(host, { [LABELS.network]: `${host}-net` }));
    e.containers.set(`${host}-task`, labelsOf(host, { [LABELS.task]: `${host}-t` }));
    e.networks.set(`${host}-net`, labelsOf(host));
    e.volumes.set(`${host}-vol`, labelsOf(host, { [LABELS.task]: `${host}-t` }));
  }
  return e;
}

describe('removeLocalInstance', () => {
  it('removes the networks even when a container removal is refused, and that container on the next round', async () => {
    // Prepare: the engine refuses one pause container's removal once (a removal racing its exit).
    const e = twoHosts();
    e.refusals.set('h1-ns', 1);

    // Act
    const removed = await removeLocalInstance(e.runtime, INSTANCE);

    // Assess: everything is gone; the refused container was asked twice, the rest once.
    expect([...e.containers.keys(), ...e.networks.keys(), ...e.volumes.keys()]).toEqual([]);
    expect(removed).toBe(8);
    expect(e.asked.filter((n) => n === 'h1-ns')).toHaveLength(2);
    expect(e.asked.filter((n) => n === 'h1-net')).toHaveLength(1);
  });

  it('says which objects are left after its last round, having removed every other', async () => {
    // Prepare: one network the engine never lets go.
    const e = twoHosts();
    e.refusals.set('h2-net', Infinity);

    // Act
    const outcome = removeLocalInstance(e.runtime, INSTANCE);

    // Assess
    await expect(outcome).rejects.toThrow(/cannot remove 1 engine object\(s\) after 3 tries: network h2-net: removing h2-net/);
    expect(e.asked.filter((n) => n === 'h2-net')).toHaveLength(REMOVE_ROUNDS);
    expect([...e.containers.keys(), ...e.networks.keys(), ...e.volumes.keys()]).toEqual(['h2-net']);
  });

  it('leaves the hosts it is told to keep alone, their networks and volumes included', async () => {
    // Prepare
    const e = twoHosts();

    // Act
    await removeLocalInstance(e.runtime, INSTANCE, new Set(['h2']));

    // Assess
    expect([...e.containers.keys(), ...e.networks.keys(), ...e.volumes.keys()]).toEqual(['h2-ns', 'h2-task', 'h2-net', 'h2-vol']);
  });
});
