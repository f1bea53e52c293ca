import { type AutoscalingOptions, autoscalingPass } from '../shared/autoscaling/controller';
import type { Berth } from '../shared/context';

/**
 * The local mode's Application Auto Scaling: a controller pass every datapoint period, one at a
 * time (a slow pass makes the next one wait, never overlap). Returns what stops it.
 */
export function startLocalAutoscaler(b: Berth, o: AutoscalingOptions, log: (line: string) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running) return;
    running = autoscalingPass(b, o)
      .then(() => undefined, (e) => log(`autoscaling pass failed: ${String(e)}`))
      .finally(() => {
        running = undefined;
      });
  };
  const interval = setInterval(tick, o.periodMs);
  interval.unref();
  return async () => {
    clearInterval(interval);
    await running;
  };
}
