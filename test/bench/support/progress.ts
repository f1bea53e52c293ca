import { performance } from 'node:perf_hooks';

const startedAt = performance.now();

/** One progress line, stamped with the seconds since the benchmark started. */
export function progress(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  console.log(`[${seconds}s] ${message}`);
}
