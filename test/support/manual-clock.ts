/**
 * A clock that moves only when the test moves it, with sleeps that wake when it passes their
 * time: give `now` to the Berth context and `sleep` to what waits, and a test steps through
 * minutes of schedule without waiting for any of it.
 */
export class ManualClock {
  private sleepers: { at: number; wake: () => void }[] = [];
  private onSleep: (() => void)[] = [];

  constructor(private t = 1_700_000_000_000) {}

  readonly now = (): number => this.t;

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper = { at: this.t + Math.max(0, ms), wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      }, { once: true });
      for (const f of this.onSleep.splice(0)) f();
    });

  /** How many sleeps are waiting for the clock. */
  get sleeping(): number {
    return this.sleepers.length;
  }

  /** Resolves once something sleeps on this clock (at once if something already does). */
  untilSleeping(): Promise<void> {
    return this.sleepers.length > 0 ? Promise.resolve() : new Promise((r) => this.onSleep.push(r));
  }

  /**
   * Moves the clock forward by `ms`, waking each sleep whose time comes, in order, at its own
   * time, and letting what it wakes run its synchronous part before the clock moves on.
   */
  async advance(ms: number): Promise<void> {
    const until = this.t + ms;
    for (;;) {
      const next = this.sleepers.filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.sleepers = this.sleepers.filter((s) => s !== next);
      this.t = Math.max(this.t, next.at);
      next.wake();
      await new Promise((r) => setImmediate(r));
    }
    this.t = until;
  }
}

/**
 * The wall clock, until a test pins it to a time of its choosing (and releases it): for a part
 * of a running local mode (its schedules) whose time a test sets while everything else keeps
 * real time.
 */
export class PinnableClock {
  private pinned?: number;

  readonly now = (): number => this.pinned ?? Date.now();

  pin(at: number): void {
    this.pinned = at;
  }

  release(): void {
    this.pinned = undefined;
  }
}
