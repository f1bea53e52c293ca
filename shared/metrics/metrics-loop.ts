import type { MetricDatum } from './metric-datum';
import type { MetricsSink } from './sink';

export interface MetricsLoopOptions {
  intervalMs: number;
  collect: () => Promise<MetricDatum[]>;
  sink: MetricsSink;
  log?: (message: string) => void;
}

export interface MetricsLoop {
  /** One round now: collect and publish. Rounds never overlap. */
  tick(): Promise<void>;
  /** Stops after the round in progress, if any. */
  stop(): Promise<void>;
}

/**
 * Collects and publishes every `intervalMs`, one round at a time: a slow sink delays the next
 * round rather than piling rounds up. A failed round is logged and the loop goes on.
 */
export function startMetricsLoop(o: MetricsLoopOptions): MetricsLoop {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let current: Promise<void> = Promise.resolve();
  let failures = 0;
  const round = async () => {
    try {
      await o.sink.publish(await o.collect());
      failures = 0;
    } catch (e) {
      // Said once, then every tenth time, not to flood a log while an endpoint is away.
      const causes = e instanceof AggregateError ? e.errors.map(String).join('; ') : String(e);
      if (failures++ % 10 === 0) o.log?.(`metrics: ${causes}`);
    }
  };
  const tick = () => {
    current = current.then(round);
    return current;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void tick().finally(schedule), o.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
