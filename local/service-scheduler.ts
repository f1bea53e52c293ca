import type { Berth, ServiceTrigger } from '../shared/context';
import { type ServicePassResult, reconcileService } from '../shared/services/apply';
import type { ServiceKey } from '../shared/store';

/**
 * The local mode's service scheduler: a pass for a service when it is woken (an API call, one of
 * its tasks changed state), when it asked to be looked at again (`wakeAt`: backoff, grace
 * period), and for every live service on a timer. At most one pass per service runs at a time;
 * wakes that arrive meanwhile fold into one more pass after it.
 */
export class LocalServiceScheduler implements ServiceTrigger {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private interval?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly b: Berth,
    private readonly log: (line: string) => void,
    private readonly pass: (b: Berth, key: ServiceKey) => Promise<ServicePassResult> = reconcileService,
  ) {}

  wake(cluster: string, serviceName: string): void {
    if (this.stopped) return;
    const id = `${cluster}/${serviceName}`;
    if (this.running.has(id)) {
      this.again.add(id);
      return;
    }
    const run = this.run(id, { cluster, serviceName }).finally(() => {
      this.running.delete(id);
      if (this.again.delete(id)) this.wake(cluster, serviceName);
    });
    this.running.set(id, run);
  }

  private async run(id: string, key: ServiceKey): Promise<void> {
    try {
      const r = await this.pass(this.b, key);
      if (r.wakeAt !== undefined) this.wakeAt(id, key, r.wakeAt);
    } catch (e) {
      this.log(`service ${id}: reconcile pass failed: ${String(e)}`);
    }
  }

  /** One timer per service, the earliest asked for. */
  private wakeAt(id: string, key: ServiceKey, at: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(id));
    const t = setTimeout(() => {
      this.timers.delete(id);
      this.wake(key.cluster, key.serviceName);
    }, Math.max(0, at - this.b.now()));
    t.unref();
    this.timers.set(id, t);
  }

  /** Every live service, once: at start (recovery, from the store alone) and on each tick. */
  async reconcileAll(): Promise<number> {
    const services = await this.b.store.services.listLive();
    for (const s of services) this.wake(s.cluster, s.serviceName);
    await this.idle();
    return services.length;
  }

  /** Resolves once no pass is running or queued. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  start(intervalMs: number): void {
    this.interval = setInterval(() => {
      this.reconcileAll().catch((e) => this.log(`service passes failed: ${String(e)}`));
    }, intervalMs);
    this.interval.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.interval);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.idle();
  }
}
