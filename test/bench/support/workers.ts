import { performance } from 'node:perf_hooks';

export interface WorkerRun {
  /** Wall time from the first call to the last completion. */
  elapsedMs: number;
  /** Each call's own duration, in call order. */
  latenciesMs: number[];
}

/**
 * Runs `total` calls of `call(i, worker)` on `workers` concurrent loops that share one
 * counter, so the calls stay spread over the workers however long each one takes.
 */
export async function runWorkers(
  workers: number,
  total: number,
  call: (i: number, worker: number) => Promise<void>,
): Promise<WorkerRun> {
  const latenciesMs = new Array<number>(total);
  let next = 0;
  const loop = async (worker: number): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await call(i, worker);
      latenciesMs[i] = performance.now() - t0;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  return { elapsedMs: performance.now() - t0, latenciesMs };
}
