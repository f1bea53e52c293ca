/**
 * Money in exact integers. Amounts are micro-dollars (1e-6 USD), as JavaScript numbers: exact
 * up to 9e15, that is nine billion dollars. Rates are nano-dollars (1e-9 USD) per hour, so that
 * every public list price (at most nine decimals) is an integer. Products of rates and times
 * overflow 2^53, so the arithmetic between them is BigInt.
 */
export type MicroUsd = number;

export const MS_PER_HOUR = 3_600_000;
const NANO_PER_MICRO = 1000n;

/** A price in USD (as a catalog writes it) in nano-dollars; prices finer than that are rounded. */
export function nanoUsd(usd: number): bigint {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`a price is a non-negative number of USD, got ${usd}`);
  return BigInt(Math.round(usd * 1e9));
}

/** numerator / denominator, rounded half up; both non-negative, denominator positive. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
}

/**
 * What a rate (nano-dollars per hour, scaled up by `scale`) comes to over `ms`, in micro-dollars.
 * Over a run of times, charge(t2) − charge(t1) splits a bill into pieces that add up to exactly
 * the whole: each piece is the difference of two rounded cumulative figures.
 */
export function chargeMicros(ratePerHour: bigint, ms: number, scale = 1n): MicroUsd {
  if (ms <= 0) return 0;
  return Number(divRound(ratePerHour * BigInt(Math.round(ms)), scale * BigInt(MS_PER_HOUR) * NANO_PER_MICRO));
}

export const usd = (micros: MicroUsd): number => micros / 1e6;

/** Dollars with six decimals: micro-dollars written exactly. */
export function formatUsd(micros: MicroUsd): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  return `${sign}${Math.floor(abs / 1e6)}.${String(abs % 1e6).padStart(6, '0')}`;
}

/**
 * Splits `total` in proportion to `weights` (non-negative BigInts, not all zero), in integers that
 * add up to exactly `total`: each gets its floor, and the units left over go one each to the
 * largest remainders (ties to the earlier weight), as Hamilton's method does.
 */
export function splitExactly(total: MicroUsd, weights: readonly bigint[]): MicroUsd[] {
  const sum = weights.reduce((a, w) => a + w, 0n);
  if (sum <= 0n) throw new RangeError('splitExactly needs a positive total weight');
  const t = BigInt(total);
  const parts = weights.map((w) => (t * w) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (t * w) % sum }));
  let left = t - parts.reduce((a, p) => a + p, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    parts[i] += 1n;
    left -= 1n;
  }
  return parts.map(Number);
}
