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

  constructor(private readonly b: Berth, private readonly o: { retryBaseMs?: number; now?: () => number; log: (line: string) => void }) {}

  /** One pass now (the tests' and the tick's). */
  tick(): Promise<void> {
    this.running ??= fireDue(this.b, { retryBaseMs: this.o.retryBaseMs, now: this.o.now, log: (l) => this.o.log(JSON.stringify(l)) })
      .then(() => undefined, (e) => this.o.log(`schedules: firing pass failed: ${String(e)}`))
      .finally(() => { this.running = undefined; });
    return this.running;
  }

  start(intervalMs: number): void {
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.tick().finally(next), intervalMs);
      this.timer.unref();
    };
    next();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
