import type { Berth } from '../shared/context';
import { fireDue } from '../shared/schedules/firer';

/**
 * The local mode's schedules: every tick, each enabled schedule whose time has come (by the
 * Berth's clock) runs. Everything it knows is in the store, so a restart picks up where the last
 * run left off; one tick runs at a time.
 */
export class LocalScheduleFirer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** The schedules' clock at the last look for the next due time. */
  private lastLookAt?: number;

  constructor(private readonly b: Berth, private readonly o: { retryBaseMs?: number; now?: () => number; log: (line: string) => void }) {}

  /** One pass now (the tests' and the tick's). */
  tick(): Promise<void> {
    this.running ??= fireDue(this.b, { retryBaseMs: this.o.retryBaseMs, now: this.o.now, log: (l) => this.o.log(JSON.stringify(l)) })
      .then(() => undefined, (e) => this.o.log(`schedules: firing pass failed: ${String(e)}`))
      .finally(() => { this.running = undefined; });
    return this.running;
  }

  /**
   * Looks every `intervalMs` at most, counted from the start of the last look, and sooner when
   * the next due time (the `due` index's first) comes before that: a schedule runs when it is
   * due, not up to a look and a pass later.
   */
  start(intervalMs: number): void {
    const next = (startedAt: number) => {
      if (this.stopped) return;
      void this.untilNextDue(intervalMs).then((untilDue) => {
        if (this.stopped) return;
        const wait = Math.max(0, Math.min(startedAt + intervalMs - Date.now(), untilDue));
        this.timer = setTimeout(() => {
          const at = Date.now();
          void this.tick().finally(() => next(at));
        }, wait);
        this.timer.unref();
      });
    };
    next(Date.now());
  }

  /**
   * Milliseconds of the schedules' clock until the next due time, at most `cap` (also when the
   * store cannot say, and when that clock stands still, as a test's pinned clock does: it would
   * never get there).
   */
  private async untilNextDue(cap: number): Promise<number> {
    const now = (this.o.now ?? this.b.now)();
    const stood = now === this.lastLookAt;
    this.lastLookAt = now;
    if (stood) return cap;
    try {
      const next = await this.b.store.schedules.nextFireAt(now);
      return next === undefined ? cap : Math.min(cap, next - now);
    } catch {
      return cap;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
