import { randomBytes } from 'node:crypto';
import { type ContainerRuntime, type ContainerSpec, type ContainerState, LABELS } from './runtime/container-runtime';

/**
 * Each task's network namespace: a network of its own, isolated from every other task's, and a
 * pause container that holds the namespace for as long as the task runs, so it outlives whichever
 * of the task's containers exits first. The task's containers join it (as an awsvpc task's
 * containers share one ENI) and reach each other on localhost.
 *
 * Making one costs a network, a container and the engine's network setup: more than the task's
 * own create + start. So a few are made ahead, per host, and a launch takes one that is ready.
 * Only a task that publishes no ports can: ports are published by the pause container, and only
 * when it is created. A namespace is never given to a second task, since a task allowed
 * NET_ADMIN could have changed it.
 *
 * What survives an agent restart is in the engine: a task's containers name their namespace in a
 * label. At start the agent keeps the namespaces its tasks' containers name and removes every
 * other of this host's, the ready ones included, then makes new ones.
 */

export const DEFAULT_PAUSE = {
  /**
   * An EC2 host must have this image (ECS's agent likewise loads its pause image at boot); the
   * local mode builds it.
   */
  image: 'localhost/busybox:latest',
  command: ['sleep', 'infinity'],
} as const;

export const DEFAULT_POOL_SIZE = 2;

// Holding a namespace needs no privilege: the engine, not the process, publishes the ports.
const PAUSE_USER = '65534';
/** A pool that failed to make a namespace waits this long before it tries again. */
const POOL_RETRY_MS = 5_000;
const NAME_PREFIX = 'berth-ns-';

export interface TaskNamespace {
  /** The pause container's name, which the task's containers carry (LABELS.namespace). */
  name: string;
  /** The pause container's id, whose namespace the task's containers join. */
  id: string;
  network: string;
  /** Resolves once the pause container has exited or is gone: the task has lost its network. */
  lost: Promise<void>;
}

export interface TaskNamespacesOptions {
  runtime: ContainerRuntime;
  hostId: string;
  /** The pause container's image and command; DEFAULT_PAUSE unless given. */
  pause?: { image: string; command: readonly string[] };
  /** Namespaces kept ready for tasks that publish no ports; 0 makes each on demand. */
  poolSize?: number;
  log?: (message: string) => void;
}

type PortMapping = ContainerSpec['portMappings'][number];
type Ready = TaskNamespace & { isLost: boolean };

export class TaskNamespaces {
  private readonly ready: Ready[] = [];
  /** Owners of namespaces that a previous agent's tasks still use, by name, for adoption. */
  private readonly found = new Map<string, ContainerState>();
  /** The refill under way, if any: close() waits for it, so nothing it makes outlives the agent. */
  private filling?: Promise<void>;
  private closed = false;
  private retryAfter = 0;
  private pauseImage?: Promise<void>;

  constructor(private readonly o: TaskNamespacesOptions) {}

  private get poolSize(): number {
    return this.o.poolSize ?? 0;
  }

  private get pause() {
    return this.o.pause ?? DEFAULT_PAUSE;
  }

  private log(message: string): void {
    this.o.log?.(message);
  }

  /**
   * A namespace for one task: a ready one when the task publishes no ports, else a new one that
   * publishes them. Whatever a failed attempt made is removed.
   */
  async acquire(portMappings: readonly PortMapping[]): Promise<TaskNamespace> {
    if (portMappings.length === 0) {
      for (let ns = this.ready.shift(); ns; ns = this.ready.shift()) {
        if (!ns.isLost) return ns;
        void this.release(ns).catch(() => {});
      }
    }
    return this.make(portMappings);
  }

  /** Removes the namespace: the pause container (and anything still in it), then the network. */
  async release(ns: Pick<TaskNamespace, 'name' | 'network'>): Promise<void> {
    await this.o.runtime.remove(ns.name);
    if (ns.network) await this.o.runtime.removeNetwork(ns.network);
  }

  /**
   * The namespace a previous agent made for a task, found by the name its containers carry:
   * from what sweep() kept, or asked of the engine. One that is gone comes back already lost.
   */
  async adopt(name: string): Promise<TaskNamespace> {
    const owner = this.found.get(name) ?? (await this.o.runtime.inspect(name));
    this.found.delete(name);
    if (!owner) return { name, id: name, network: '', lost: Promise.resolve() };
    return {
      name, id: owner.id, network: owner.labels[LABELS.network] ?? '',
      lost: owner.running ? this.watch(owner.id) : Promise.resolve(),
    };
  }

  /**
   * At agent start, given every container of this host: keeps the namespaces its tasks'
   * containers name, for adopt(); removes every other of this host's namespaces and networks.
   */
  async sweep(existing: readonly ContainerState[]): Promise<void> {
    const { used, unused } = namespacesInUse(existing);
    for (const o of used) this.found.set(o.name, o);
    const networks = await this.o.runtime.listNetworks({ [LABELS.host]: this.o.hostId });
    await removeUnusedNamespaces(this.o.runtime, existing, networks, (m) => this.log(m));
    if (unused.length > 0) this.log(`removed ${unused.length} network namespace(s) no task uses`);
  }

  /**
   * Keeps `poolSize` namespaces ready, one made at a time, in the background. Called once a
   * launch has done its own work with the engine, so the refill does not compete with it.
   */
  fill(): void {
    if (this.filling || this.closed || this.ready.length >= this.poolSize || Date.now() < this.retryAfter) return;
    this.filling = (async () => {
      try {
        while (!this.closed && this.ready.length < this.poolSize) {
          const ns = await this.make([]);
          if (this.closed) {
            await this.release(ns).catch(() => {});
            break;
          }
          const ready: Ready = { ...ns, isLost: false };
          void ns.lost.then(() => (ready.isLost = true));
          this.ready.push(ready);
        }
      } catch (e) {
        this.retryAfter = Date.now() + POOL_RETRY_MS;
        this.log(`cannot make a network namespace ahead: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        this.filling = undefined;
      }
    })();
  }

  /**
   * Stops making namespaces and removes the ready ones: no task is in them. One being made is
   * removed once made: an agent that exited before that would leave it in the engine.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    await Promise.all(this.ready.splice(0).map((ns) => this.release(ns).catch(() => {})));
  }

  private async make(portMappings: readonly PortMapping[]): Promise<TaskNamespace> {
    const name = `${NAME_PREFIX}${randomBytes(8).toString('hex')}`;
    const labels = { [LABELS.host]: this.o.hostId };
    await Promise.all([this.o.runtime.createNetwork(name, labels), this.ensurePauseImage()]);
    try {
      const id = await this.o.runtime.create({
        name,
        image: this.pause.image,
        command: [...this.pause.command],
        env: [],
        user: PAUSE_USER,
        ulimits: [],
        portMappings: [...portMappings],
        labels: { ...labels, [LABELS.network]: name },
        network: { ownNamespaceOn: name },
      });
      await this.o.runtime.start(id);
      return { name, id, network: name, lost: this.watch(id) };
    } catch (e) {
      await this.release({ name, network: name }).catch(() => {});
      throw e;
    }
  }

  private ensurePauseImage(): Promise<void> {
    this.pauseImage ??= (async () => {
      if (!(await this.o.runtime.hasImage(this.pause.image))) await this.o.runtime.pull(this.pause.image);
    })().catch((e: unknown) => {
      this.pauseImage = undefined;
      throw e;
    });
    return this.pauseImage;
  }

  private watch(id: string): Promise<void> {
    return this.o.runtime.wait(id).then(() => undefined, async () => {
      const state = await this.o.runtime.inspect(id).catch(() => undefined);
      // The engine could not be asked, but the namespace is still there: nothing to report.
      if (state?.running) return new Promise<never>(() => {});
    });
  }
}

/** A pause container: it owns a network. */
export const isNamespaceOwner = (c: ContainerState): boolean => c.labels[LABELS.network] !== undefined;

/** Of these containers' namespace owners, those a task's container names, and the rest. */
export function namespacesInUse(existing: readonly ContainerState[]): { used: ContainerState[]; unused: ContainerState[] } {
  const named = new Set(existing.map((c) => c.labels[LABELS.namespace]).filter(Boolean));
  const owners = existing.filter(isNamespaceOwner);
  return { used: owners.filter((o) => named.has(o.name)), unused: owners.filter((o) => !named.has(o.name)) };
}

/**
 * Removes the namespaces no task uses, of these containers, and of these networks every one
 * that no used namespace owns. Returns how many it removed of each kind, together.
 */
export async function removeUnusedNamespaces(
  runtime: ContainerRuntime, existing: readonly ContainerState[], networks: readonly string[], log: (m: string) => void = () => {},
): Promise<number> {
  const { used, unused } = namespacesInUse(existing);
  await Promise.all(unused.map((o) => runtime.remove(o.id).catch((e) => log(`cannot remove unused namespace ${o.name}: ${e}`))));
  const kept = new Set(used.map((o) => o.labels[LABELS.network]));
  const stale = networks.filter((n) => !kept.has(n));
  await Promise.all(stale.map((n) => runtime.removeNetwork(n).catch((e) => log(`cannot remove unused network ${n}: ${e}`))));
  return unused.length + stale.length;
}

/** The ports a task publishes, from its namespace owner: each distinct mapping once. */
export function publishedPorts(mappings: readonly PortMapping[]): PortMapping[] {
  return [...new Map(mappings.map((p) => [`${p.hostPort}:${p.containerPort}/${p.protocol}`, p])).values()];
}
