import type { ContainerRuntime, ContainerSpec, ContainerState } from '../../agent/runtime/container-runtime';
import { BURST_MEMORY_MS, REFILL_CONCURRENCY, TaskNamespaces } from '../../agent/task-namespaces';

/**
 * The pool of ready network namespaces, against an engine that only records what it is asked:
 * what a launch takes, what the pool makes ahead and when, how it grows after a burst and shrinks
 * back. (test/integration/task-namespaces.test.ts runs the same class against podman.)
 */

interface Made {
  id: string;
  name: string;
  /** Ends the pause container, as a crash or a kill would. */
  exit: () => void;
}

class RecordingEngine {
  readonly made: Made[] = [];
  readonly networks = new Set<string>();
  readonly removed: string[] = [];
  /** Pause containers whose create has been asked and not yet answered. */
  inFlight = 0;
  maxInFlight = 0;
  /** While set, every create waits for it. */
  gate?: Promise<void>;

  readonly runtime = {
    hasImage: async () => true,
    pull: async () => {},
    createNetwork: async (name: string) => {
      this.networks.add(name);
    },
    removeNetwork: async (name: string) => {
      this.networks.delete(name);
    },
    create: async (spec: ContainerSpec) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await this.gate;
      } finally {
        this.inFlight--;
      }
      let exit!: () => void;
      const exited = new Promise<void>((r) => (exit = r));
      const m: Made = { id: `id-${spec.name}`, name: spec.name, exit };
      this.exited.set(m.id, exited);
      this.made.push(m);
      return m.id;
    },
    start: async () => {},
    inspect: async (id: string): Promise<ContainerState | undefined> =>
      ({ id, name: id, running: true, labels: {}, address: { ipv4Address: '10.0.0.2', macAddress: '02:00:00:00:00:02' } }) as unknown as ContainerState,
    wait: async (id: string) => {
      await this.exited.get(id);
      return 0;
    },
    remove: async (idOrName: string) => {
      this.removed.push(idOrName);
    },
  } as unknown as ContainerRuntime;

  private readonly exited = new Map<string, Promise<void>>();
}

/** Lets every promise that can settle now settle (the pool's makes are chains of them). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

function pool(engine: RecordingEngine, o: { poolSize: number; burstPoolSize?: number; now?: () => number }) {
  return new TaskNamespaces({ runtime: engine.runtime, hostId: 'h1', ...o });
}

describe('TaskNamespaces', () => {
  describe('acquire', () => {
    it('hands a launch a ready namespace without asking the engine for anything', async () => {
      // Prepare
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 2 });
      namespaces.fill();
      await settle();
      const before = engine.made.length;

      // Act
      const ns = await namespaces.acquire([]);

      // Assess
      expect(before).toBe(2);
      expect(engine.made.length).toBe(2);
      expect(engine.made.map((m) => m.name)).toContain(ns.name);
      await namespaces.close();
    });

    it('makes a namespace on the launch\'s path when none is ready or on its way', async () => {
      // Prepare: a pool that has not been filled.
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 2 });

      // Act
      const ns = await namespaces.acquire([]);

      // Assess
      expect(engine.made.map((m) => m.name)).toEqual([ns.name]);
      expect(engine.networks.has(ns.network)).toBe(true);
      await namespaces.close();
    });

    it('never hands out a ready namespace whose pause container exited, and removes it', async () => {
      // Prepare
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 2 });
      namespaces.fill();
      await settle();
      const [dead, alive] = engine.made;
      dead.exit();
      await settle();

      // Act
      const ns = await namespaces.acquire([]);
      await settle();

      // Assess
      expect(ns.name).toBe(alive.name);
      expect(engine.removed).toContain(dead.name);
      expect(engine.networks.has(dead.name)).toBe(false);
      await namespaces.close();
    });
  });

  describe('fill', () => {
    it('makes none ahead while a launch is using the engine, and refills once it is done', async () => {
      // Prepare
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 2 });
      namespaces.fill();
      await settle();
      await namespaces.acquire([]);

      // Act: another launch's end asks for a refill while this one still has the engine.
      namespaces.fill();
      await settle();
      const whileLaunching = engine.made.length;
      namespaces.launched();
      await settle();

      // Assess
      expect(whileLaunching).toBe(2);
      expect(engine.made.length).toBe(3);
      expect(namespaces.readyCount).toBe(2);
      await namespaces.close();
    });

    it('resumes making namespaces ahead after a launch whose acquire failed', async () => {
      // Prepare: the engine refuses the namespace a launch makes on its path.
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 1 });
      const create = engine.runtime.create.bind(engine.runtime);
      let refused = false;
      engine.runtime.create = async (spec) => {
        if (refused) return create(spec);
        refused = true;
        throw new Error('engine down');
      };

      // Act
      await expect(namespaces.acquire([])).rejects.toThrow('engine down');
      await settle();

      // Assess
      expect(namespaces.readyCount).toBe(1);
      await namespaces.close();
    });

    it(`makes at most ${REFILL_CONCURRENCY} at once`, async () => {
      // Prepare
      const engine = new RecordingEngine();
      let open!: () => void;
      engine.gate = new Promise((r) => (open = r));
      const namespaces = pool(engine, { poolSize: 8 });

      // Act
      namespaces.fill();
      await settle();
      const atOnce = engine.inFlight;
      open();
      await settle();

      // Assess
      expect(atOnce).toBe(REFILL_CONCURRENCY);
      expect(engine.maxInFlight).toBe(REFILL_CONCURRENCY);
      expect(namespaces.readyCount).toBe(8);
      await namespaces.close();
    });

    it('grows to the size of a burst after it, no further than burstPoolSize, and shrinks back once the burst is past', async () => {
      // Prepare: eight launches arrive before any is done.
      const engine = new RecordingEngine();
      let now = 1_000_000;
      const namespaces = pool(engine, { poolSize: 2, burstPoolSize: 6, now: () => now });
      for (let i = 0; i < 8; i++) await namespaces.acquire([]);

      // Act
      for (let i = 0; i < 8; i++) namespaces.launched();
      await settle();
      const afterBurst = namespaces.readyCount;
      now += BURST_MEMORY_MS + 1;
      namespaces.fill();
      await settle();

      // Assess
      expect(afterBurst).toBe(6);
      expect(namespaces.readyCount).toBe(2);
      expect(engine.removed).toHaveLength(4);
      await namespaces.close();
    });

    it('counts launches one after another, each done before the next, as bursts of one', async () => {
      // Prepare
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 2 });
      namespaces.fill();
      await settle();

      // Act
      for (let i = 0; i < 10; i++) {
        await namespaces.acquire([]);
        namespaces.launched();
        await settle();
      }

      // Assess
      expect(namespaces.target).toBe(2);
      expect(namespaces.readyCount).toBe(2);
      await namespaces.close();
    });

    it('never grows a pool of 0', async () => {
      // Prepare
      const engine = new RecordingEngine();
      const namespaces = pool(engine, { poolSize: 0 });
      for (let i = 0; i < 5; i++) await namespaces.acquire([]);

      // Act
      for (let i = 0; i < 5; i++) namespaces.launched();
      await settle();

      // Assess
      expect(engine.made).toHaveLength(5);
      expect(namespaces.readyCount).toBe(0);
      await namespaces.close();
    });
  });

  describe('close', () => {
    it('waits for the namespaces being made and removes them with the ready ones', async () => {
      // Prepare
      const engine = new RecordingEngine();
      let open!: () => void;
      engine.gate = new Promise((r) => (open = r));
      const namespaces = pool(engine, { poolSize: 2 });
      namespaces.fill();
      await settle();

      // Act
      const closed = namespaces.close();
      open();
      await closed;

      // Assess
      expect(engine.made).toHaveLength(2);
      expect(engine.networks.size).toBe(0);
      expect(new Set(engine.removed)).toEqual(new Set(engine.made.map((m) => m.name)));
    });
  });
});
