import { randomBytes, randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { DEFAULT_DYNAMIC_PORT_RANGE, ECS_RESERVED_PORTS, type NetworkBinding, type PortMapping, type Protocol, hostPortKey } from '../shared/domain/ports';
import { type ContainerRuntime, type ContainerState, LABELS, type NamespaceAddress } from './runtime/container-runtime';
import { RELAY_SCRIPT } from './task-endpoint/relay';

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
 * Its address (the pause container's on its network) is the task's own: every task can listen on
 * any port there, so replicas never collide. A host port is published only when the task asks for
 * one (see shared/domain/ports.ts): a fixed one as asked, a dynamic one (hostPort 0) picked here
 * from the host's range, each bound to the host's bind address.
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
  /** Holds the namespace, and relays the task endpoint to the agent (task-endpoint/relay.ts). */
  command: ['sh', '-c', RELAY_SCRIPT],
} as const;

export const DEFAULT_POOL_SIZE = 2;
/**
 * The most namespaces a pool grows to after a burst: as many as the busiest burst of launches it
 * saw lately, up to this many (BERTH_NAMESPACE_BURST_POOL_SIZE).
 */
export const DEFAULT_BURST_POOL_SIZE = 64;
/** How long a pool stays sized for the last burst before it shrinks back to its own size. */
export const BURST_MEMORY_MS = 15 * 60_000;
/**
 * Namespaces made ahead at once. Each one's cost is mostly its pause container's start (the
 * engine setting up its network), which overlaps well with the next one's; more than a few only
 * queue inside the engine.
 */
export const REFILL_CONCURRENCY = 3;

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
  /** The task's own address, when the engine told it. */
  address?: NamespaceAddress;
  /** The host ports published for the task. */
  bindings: NetworkBinding[];
}

/** Where published host ports go: the address they are bound to and the range dynamic ones come from. */
export interface HostPortOptions {
  /** Default 0.0.0.0 (every address, as ECS binds); the local mode binds 127.0.0.1. */
  bindIP?: string;
  /** Default DEFAULT_DYNAMIC_PORT_RANGE, ECS's. */
  range?: { from: number; to: number };
}

export interface TaskNamespacesOptions {
  runtime: ContainerRuntime;
  hostId: string;
  /** The pause container's image and command; DEFAULT_PAUSE unless given. */
  pause?: { image: string; command: readonly string[] };
  /** Namespaces kept ready for tasks that publish no ports; 0 makes each on demand. */
  poolSize?: number;
  /**
   * The most the pool grows to after a burst of launches (to the burst's size, for
   * BURST_MEMORY_MS); DEFAULT_BURST_POOL_SIZE unless given, never below poolSize. A pool of 0
   * never grows.
   */
  burstPoolSize?: number;
  now?: () => number;
  hostPorts?: HostPortOptions;
  log?: (message: string) => void;
}

type Ready = TaskNamespace & { isLost: boolean };

/** Attempts at publishing dynamic ports when one turns out taken between the check and the bind. */
const PUBLISH_ATTEMPTS = 4;

export class TaskNamespaces {
  private readonly ready: Ready[] = [];
  /** Owners of namespaces that a previous agent's tasks still use, by name, for adoption. */
  private readonly found = new Map<string, ContainerState>();
  /** The namespaces being made ahead; a launch that finds none ready claims one of them. */
  private readonly coming: { made: Promise<Ready>; claimed: boolean }[] = [];
  /** Each make ahead under way, until its namespace is ready or removed: close() waits for them. */
  private readonly making = new Set<Promise<void>>();
  /**
   * Launches between taking a namespace and being done with the engine (started, or failed). No
   * namespace is made ahead while there is one: the engine's time is theirs first.
   */
  private launching = 0;
  /**
   * The most launches at once seen within BURST_MEMORY_MS, and when last: the burst the pool is
   * sized for. Launches one after another, each done before the next, are bursts of one.
   */
  private burst = { size: 0, at: 0 };
  private shrinkTimer?: NodeJS.Timeout;
  private closed = false;
  private retryAfter = 0;
  private pauseImage?: Promise<void>;
  /** Host ports this agent's namespaces publish, or that a make in progress is about to. */
  private readonly heldPorts = new Set<string>();

  constructor(private readonly o: TaskNamespacesOptions) {}

  private get poolSize(): number {
    return this.o.poolSize ?? 0;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** How many namespaces to keep ready now: poolSize, or the last burst's size while it is recent. */
  get target(): number {
    if (this.poolSize === 0) return 0;
    const ceiling = Math.max(this.poolSize, this.o.burstPoolSize ?? DEFAULT_BURST_POOL_SIZE);
    const burst = this.now() - this.burst.at <= BURST_MEMORY_MS ? this.burst.size : 0;
    return Math.min(ceiling, Math.max(this.poolSize, burst));
  }

  /** How many are ready now (for tests and the agent's own figures). */
  get readyCount(): number {
    return this.ready.filter((ns) => !ns.isLost).length;
  }

  private noteDemand(): void {
    const now = this.now();
    if (this.launching >= this.burst.size || now - this.burst.at > BURST_MEMORY_MS) this.burst = { size: this.launching, at: now };
  }

  private get pause() {
    return this.o.pause ?? DEFAULT_PAUSE;
  }

  private log(message: string): void {
    this.o.log?.(message);
  }

  /**
   * A namespace for one task: a ready one when the task publishes no ports, else a new one that
   * publishes them (the mappings to publish: see publishedMappings). Whatever a failed attempt
   * made is removed.
   */
  async acquire(portMappings: readonly PortMapping[], extraHosts: readonly string[] = []): Promise<TaskNamespace> {
    this.launching++;
    try {
      return await this.take(portMappings, extraHosts);
    } catch (e) {
      this.launched();
      throw e;
    }
  }

  /**
   * The launch that acquired a namespace is done with the engine: its containers started, or it
   * failed. Making namespaces ahead resumes once no launch is left.
   */
  launched(): void {
    this.launching = Math.max(0, this.launching - 1);
    this.fill();
  }

  private async take(portMappings: readonly PortMapping[], extraHosts: readonly string[]): Promise<TaskNamespace> {
    // /etc/hosts lines (Service Connect's names) are the owner's, set when it is created.
    if (portMappings.length === 0 && extraHosts.length === 0 && this.poolSize > 0) {
      this.noteDemand();
      for (let ns = this.ready.shift(); ns; ns = this.ready.shift()) {
        if (!ns.isLost) return ns;
        void this.release(ns).catch(() => {});
      }
      // None ready, one on its way: part made already, it comes sooner than a new one would.
      for (const coming of this.coming) {
        if (coming.claimed) continue;
        coming.claimed = true;
        const ns = await coming.made.catch(() => undefined);
        if (ns && !ns.isLost) return ns;
        if (ns) void this.release(ns).catch(() => {});
        break;
      }
    }
    return this.make(portMappings, extraHosts);
  }

  /** Removes the namespace: the pause container (and anything still in it), then the network. */
  async release(ns: Pick<TaskNamespace, 'name' | 'network'> & { bindings?: readonly NetworkBinding[] }): Promise<void> {
    await this.o.runtime.remove(ns.name);
    for (const b of ns.bindings ?? []) this.heldPorts.delete(hostPortKey(b.hostPort, b.protocol));
    if (ns.network) await this.o.runtime.removeNetwork(ns.network);
  }

  /**
   * The namespace a previous agent made for a task, found by the name its containers carry:
   * from what sweep() kept, or asked of the engine. One that is gone comes back already lost.
   */
  async adopt(name: string): Promise<TaskNamespace> {
    const owner = this.found.get(name) ?? (await this.o.runtime.inspect(name));
    this.found.delete(name);
    if (!owner) return { name, id: name, network: '', lost: Promise.resolve(), bindings: [] };
    return {
      name, id: owner.id, network: owner.labels[LABELS.network] ?? '',
      lost: owner.running ? this.watch(owner.id) : Promise.resolve(),
      address: owner.address,
      bindings: owner.portBindings ?? [],
    };
  }

  /**
   * At agent start, given every container of this host: keeps the namespaces its tasks'
   * containers name, for adopt(); removes every other of this host's namespaces and networks.
   */
  async sweep(existing: readonly ContainerState[]): Promise<void> {
    const { used, unused } = namespacesInUse(existing);
    for (const o of used) {
      this.found.set(o.name, o);
      for (const b of o.portBindings ?? []) this.heldPorts.add(hostPortKey(b.hostPort, b.protocol));
    }
    const networks = await this.o.runtime.listNetworks({ [LABELS.host]: this.o.hostId });
    await removeUnusedNamespaces(this.o.runtime, existing, networks, (m) => this.log(m));
    if (unused.length > 0) this.log(`removed ${unused.length} network namespace(s) no task uses`);
  }

  /**
   * Keeps `target` namespaces ready, a few made at a time, in the background, and only while no
   * launch is using the engine: called once a launch is done with it (launched()), so the refill
   * never competes with a launch. Ready namespaces beyond the target (a burst long past) go.
   */
  fill(): void {
    if (this.closed) return;
    const target = this.target;
    this.scheduleShrink();
    while (this.ready.length > target) {
      const extra = this.ready.pop()!;
      void this.release(extra).catch(() => {});
    }
    if (this.now() < this.retryAfter) return;
    while (!this.closed && this.launching === 0 && this.coming.length < REFILL_CONCURRENCY &&
      this.ready.length + this.coming.filter((c) => !c.claimed).length < target) {
      this.makeAhead();
    }
  }

  private makeAhead(): void {
    const coming = {
      made: this.make([]).then((ns) => {
        const ready: Ready = { ...ns, isLost: false };
        void ns.lost.then(() => (ready.isLost = true));
        return ready;
      }),
      claimed: false,
    };
    this.coming.push(coming);
    const done: Promise<void> = coming.made.then(async (ready) => {
      // A launch took it on its way.
      if (coming.claimed) return;
      if (this.closed) await this.release(ready).catch(() => {});
      else this.ready.push(ready);
    }, (e: unknown) => {
      this.retryAfter = this.now() + POOL_RETRY_MS;
      this.log(`cannot make a network namespace ahead: ${e instanceof Error ? e.message : String(e)}`);
    }).finally(() => {
      this.coming.splice(this.coming.indexOf(coming), 1);
      this.making.delete(done);
      this.fill();
    });
    this.making.add(done);
  }

  /** A pool grown for a burst shrinks back once the burst is past, even if no launch comes to say so. */
  private scheduleShrink(): void {
    if (this.shrinkTimer || this.closed || this.target <= this.poolSize) return;
    const dueInMs = Math.max(0, this.burst.at + BURST_MEMORY_MS - this.now()) + 1;
    this.shrinkTimer = setTimeout(() => {
      this.shrinkTimer = undefined;
      this.fill();
    }, dueInMs);
    this.shrinkTimer.unref();
  }

  /**
   * Stops making namespaces and removes the ready ones: no task is in them. One being made is
   * removed once made: an agent that exited before that would leave it in the engine.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.shrinkTimer);
    while (this.making.size > 0) await Promise.all([...this.making]);
    await Promise.all(this.ready.splice(0).map((ns) => this.release(ns).catch(() => {})));
  }

  private async make(portMappings: readonly PortMapping[], extraHosts: readonly string[] = []): Promise<TaskNamespace> {
    const avoid = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const bindings = await this.choosePorts(portMappings, avoid);
      try {
        return await this.makeWith(bindings, extraHosts);
      } catch (e) {
        for (const b of bindings) this.heldPorts.delete(hostPortKey(b.hostPort, b.protocol));
        // Something outside took a dynamic port between the check and the engine's bind: pick again.
        const dynamic = portMappings.some((p) => p.hostPort === 0);
        if (!dynamic || attempt >= PUBLISH_ATTEMPTS || !/address already in use/i.test(String(e))) throw e;
        for (const b of bindings) avoid.add(hostPortKey(b.hostPort, b.protocol));
      }
    }
  }

  private async makeWith(bindings: NetworkBinding[], extraHosts: readonly string[]): Promise<TaskNamespace> {
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
        portMappings: bindings.map((b) => ({ containerPort: b.containerPort, hostPort: b.hostPort, protocol: b.protocol, hostIp: b.bindIP })),
        labels: { ...labels, [LABELS.network]: name },
        network: { ownNamespaceOn: name },
        ...(extraHosts.length > 0 ? { extraHosts: [...extraHosts] } : {}),
      });
      await this.o.runtime.start(id);
      const address = (await this.o.runtime.inspect(id))?.address;
      return { name, id, network: name, lost: this.watch(id), address, bindings };
    } catch (e) {
      await this.release({ name, network: name }).catch(() => {});
      throw e;
    }
  }

  /**
   * The host port of each mapping: a fixed one as asked (the scheduler gave the task this host
   * because it is free here), a dynamic one picked from the range, free of this agent's other
   * namespaces' ports, of ECS's reserved ones and of anything else bound on the host. Each is
   * held from the moment it is picked, so two launches at once never pick the same.
   */
  private async choosePorts(mappings: readonly PortMapping[], avoid: ReadonlySet<string>): Promise<NetworkBinding[]> {
    const bindIP = this.o.hostPorts?.bindIP ?? '0.0.0.0';
    const out: NetworkBinding[] = [];
    try {
      for (const m of mappings) {
        const hostPort = m.hostPort > 0 ? m.hostPort : await this.dynamicPort(m.protocol, bindIP, avoid);
        this.heldPorts.add(hostPortKey(hostPort, m.protocol));
        out.push({ bindIP, containerPort: m.containerPort, hostPort, protocol: m.protocol });
      }
      return out;
    } catch (e) {
      for (const b of out) this.heldPorts.delete(hostPortKey(b.hostPort, b.protocol));
      throw e;
    }
  }

  private async dynamicPort(protocol: Protocol, bindIP: string, avoid: ReadonlySet<string>): Promise<number> {
    const { from, to } = this.o.hostPorts?.range ?? DEFAULT_DYNAMIC_PORT_RANGE;
    const size = to - from + 1;
    const start = randomInt(size);
    for (let i = 0; i < size; i++) {
      const port = from + ((start + i) % size);
      const key = hostPortKey(port, protocol);
      if (ECS_RESERVED_PORTS.includes(port) || this.heldPorts.has(key) || avoid.has(key)) continue;
      this.heldPorts.add(key);
      if (await canBind(port, protocol, bindIP)) return port;
      this.heldPorts.delete(key);
    }
    throw new Error(`CannotCreateContainerError: no free host port left in ${from}-${to} on ${bindIP}`);
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

/** Whether nothing on this host listens on the port at that address now. */
function canBind(port: number, protocol: Protocol, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, host, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
