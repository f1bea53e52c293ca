/**
 * Container exits as the engine announces them on its event stream (Docker's `die`, podman's
 * `died`): an exit is seen the moment the engine knows it, and waiting costs the engine nothing.
 * A held wait call is not free: podman answers one by polling the container's state in its
 * service, a few per cent of a core per container for as long as it runs.
 *
 * The stream is the fast path, not the only one: whoever waits is also answered by a slow look at
 * the engine (one list for every container still waited on, every few seconds, once as each wait
 * begins and once whenever the stream is opened again), so an exit the stream missed — dropped
 * while it reconnected, or sent while no agent was running — costs time, never the exit.
 */

/** One event as the Docker Engine API's `/events` stream sends it (Docker and podman alike). */
export interface EngineEvent {
  time?: number;
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** What a slow look found of a container waited on: its exit code, or that it is gone. */
export type Looked = { exitCode: number } | 'gone';

export interface ContainerExitsOptions {
  /**
   * Opens the engine's event stream of containers, replaying from `sinceSeconds` (epoch) when
   * given; it may end or fail at any time.
   */
  open: (sinceSeconds?: number) => Promise<NodeJS.ReadableStream>;
  /** Those of these containers that have exited (with their codes) or are gone; the rest run on. */
  look: (ids: readonly string[]) => Promise<Map<string, Looked>>;
  /** How often the containers still waited on are looked at. */
  lookIntervalMs?: number;
  /** How long after a failed or ended stream it is opened again. */
  reopenDelayMs?: number;
  log?: (message: string) => void;
}

/** Exits remembered for a wait that has not begun yet (a container that exits as it starts). */
const RECENT_EXITS = 512;
const DEFAULT_REOPEN_DELAY_MS = 1_000;
const DEFAULT_LOOK_INTERVAL_MS = 5_000;

/** The exit code an exit event carries, or undefined when it is not a container's exit. */
export function exitOf(event: EngineEvent): { id: string; exitCode: number } | undefined {
  const action = event.Action ?? event.status;
  if ((event.Type ?? 'container') !== 'container' || (action !== 'die' && action !== 'died')) return undefined;
  const id = event.Actor?.ID ?? event.id;
  const code = Number(event.Actor?.Attributes?.exitCode ?? event.Actor?.Attributes?.containerExitCode);
  if (!id || !Number.isInteger(code)) return undefined;
  return { id, exitCode: code };
}

/** A container no longer in the engine: what a wait on it rejects with. */
/** Calls `onLine` with each non-empty line of an engine's event stream (JSON, one event a line), as it arrives. */
export function onEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer | string) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line) onLine(line);
    }
  });
}

export class ContainerGoneError extends Error {
  constructor(id: string) {
    super(`no such container: ${id}`);
    this.name = 'ContainerGoneError';
  }
}

interface Waiter {
  resolve: (code: number) => void;
  reject: (e: Error) => void;
}

export class ContainerExits {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly recent = new Map<string, number>();
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };
  private opening?: Promise<void>;
  private closed = false;
  private reopenTimer?: NodeJS.Timeout;
  private lookTimer?: NodeJS.Timeout;
  /** When the last event was sent (epoch seconds): a reopened stream replays from there. */
  private lastEventSeconds?: number;
  /** Said once per outage, not at every attempt. */
  private failing = false;

  constructor(private readonly o: ContainerExitsOptions) {}

  /**
   * Opens the stream if it is not open; resolves once it is (or has failed: the slow look covers
   * that). Opened before a container starts, it sees even an exit at once.
   */
  watch(): Promise<void> {
    if (this.closed || this.stream) return Promise.resolve();
    const reopened = this.lastEventSeconds !== undefined;
    // An exit sent while the stream was down is replayed (once more is harmless).
    this.opening ??= this.o.open(this.lastEventSeconds).then((stream) => {
      if (this.closed) {
        (stream as { destroy?: () => void }).destroy?.();
        return;
      }
      this.stream = stream;
      this.failing = false;
      // Only waits keep a process alive, not the stream they are answered from.
      (stream as { socket?: { unref?: () => void } }).socket?.unref?.();
      this.lastEventSeconds ??= Math.floor(Date.now() / 1000);
      onEachLine(stream, (line) => this.onLine(line));
      const ended = () => this.reopen(stream);
      stream.once('end', ended);
      stream.once('close', ended);
      stream.once('error', ended);
      // What the stream may have missed while it was down.
      if (reopened) void this.lookAt([...this.waiters.keys()]);
    }, (e: unknown) => {
      if (!this.failing) this.o.log?.(`cannot follow the engine's events, exits are seen by looking every few seconds: ${e instanceof Error ? e.message : String(e)}`);
      this.failing = true;
      this.scheduleReopen();
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /**
   * Resolves with the container's exit code once it has exited (at once if it has already);
   * rejects with ContainerGoneError when it is not, or no longer, in the engine.
   */
  wait(id: string): Promise<number> {
    const known = this.recent.get(id);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise<number>((resolve, reject) => {
      let set = this.waiters.get(id);
      if (!set) this.waiters.set(id, (set = new Set()));
      set.add({ resolve, reject });
      this.scheduleLook();
      // Once the stream is open, one look: an exit before it opened is not announced.
      void this.watch().then(() => this.lookAt([id]));
    });
  }

  /** Forgets a container (removed): an exit remembered for it goes. */
  forget(id: string): void {
    this.recent.delete(id);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    clearTimeout(this.lookTimer);
    this.stream?.destroy?.();
    this.stream = undefined;
  }

  private onLine(line: string): void {
    let event: EngineEvent;
    try {
      event = JSON.parse(line) as EngineEvent;
    } catch {
      return;
    }
    if (typeof event.time === 'number') this.lastEventSeconds = event.time;
    const exit = exitOf(event);
    if (!exit) return;
    this.recent.delete(exit.id);
    this.recent.set(exit.id, exit.exitCode);
    if (this.recent.size > RECENT_EXITS) this.recent.delete(this.recent.keys().next().value!);
    this.settle(exit.id, (w) => w.resolve(exit.exitCode));
  }

  private settle(id: string, how: (w: Waiter) => void): void {
    const set = this.waiters.get(id);
    this.waiters.delete(id);
    for (const w of set ?? []) how(w);
  }

  /** The slow path: asks the engine about these containers, settles those that exited or went. */
  private async lookAt(ids: readonly string[]): Promise<void> {
    const waited = ids.filter((id) => this.waiters.has(id));
    if (waited.length === 0 || this.closed) return;
    let found: Map<string, Looked>;
    try {
      found = await this.o.look(waited);
    } catch {
      return; // the next look, or the stream, answers
    }
    for (const [id, looked] of found) {
      if (looked === 'gone') this.settle(id, (w) => w.reject(new ContainerGoneError(id)));
      else this.settle(id, (w) => w.resolve(looked.exitCode));
    }
  }

  /** Looks at every container still waited on every lookIntervalMs, while any is. */
  private scheduleLook(): void {
    if (this.closed || this.lookTimer) return;
    this.lookTimer = setTimeout(() => {
      this.lookTimer = undefined;
      void this.lookAt([...this.waiters.keys()]).finally(() => {
        if (this.waiters.size > 0) this.scheduleLook();
      });
    }, this.o.lookIntervalMs ?? DEFAULT_LOOK_INTERVAL_MS);
    this.lookTimer.unref?.();
  }

  private reopen(stream: NodeJS.ReadableStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.closed || this.reopenTimer) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      // Only while someone waits; otherwise the next wait or start opens it.
      if (this.waiters.size > 0) void this.watch();
    }, this.o.reopenDelayMs ?? DEFAULT_REOPEN_DELAY_MS);
    this.reopenTimer.unref?.();
  }
}
