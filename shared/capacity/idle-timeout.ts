/**
 * The idle timeout from the arrival pattern, as a disk's spin-down timeout is chosen from its
 * idle periods (the ski-rental problem). An idle host beyond the warm pool costs its price for
 * every second it is kept; letting it go costs a relaunch when work comes back: the new host is
 * billed through its boot before it can hold anything. Of every timeout τ up to the operator's,
 * the one chosen is the cheapest over the gaps observed between moments the fleet needed fresh
 * room (demand-history.ts), each gap g costing
 *
 *   min(g, τ) seconds of an idle host, plus relaunchSeconds when g > τ (it was let go first).
 *
 * Steady arrivals, whose gaps are shorter than a boot, keep their hosts through them; bursts
 * every twenty minutes let hosts go soon after a burst instead of keeping them idle for a
 * timeout and relaunching them anyway. The time since the last demand counts as one more gap, so
 * a lull that runs longer than the gaps seen so far shortens the timeout at once. With fewer than
 * `minGaps` gaps there is no pattern yet: the operator's timeout holds. Pure.
 *
 * Where the moments hosts went idle are known, the gaps are what those hosts waited: from each
 * such moment to the demand that would have taken the host. Hosts go idle when work ends, which
 * under bursts is between them, so their wait is the time to the next burst, however close
 * together the arrivals within a burst came.
 */

/** Most ranks worked out one by one; hosts further back in line take the last one's timeout. */
export const MAX_IDLE_RANKS = 32;

/**
 * The timeouts of several idle hosts at once, by their place in line: the host of rank r is the
 * one the r-th next demand would take (the warm pool's hosts are ahead of the others), so its gap
 * is the time from one demand to the r-th after it. A later place never keeps a host longer than
 * an earlier one. `count` timeouts, for ranks firstRank, firstRank + 1, …
 */
export function idleTimeoutsByRank(o: {
  arrivals: readonly number[];
  now: number;
  relaunchSeconds: number;
  maxSeconds: number;
  firstRank: number;
  count: number;
  minGaps?: number;
  /**
   * Epoch ms at which hosts became idle (DemandHistory.idleStarts). With enough of them, a gap is
   * measured from the moment a host went idle to the demand that would have taken it, rather than
   * from one demand to the next: what an idle host really waits (see idleGaps).
   */
  idleStarts?: readonly number[];
}): number[] {
  const max = Math.max(0, o.maxSeconds);
  const at = [...o.arrivals].filter((t) => t <= o.now).sort((a, b) => a - b);
  const starts = o.idleStarts ? [...o.idleStarts].filter((t) => t <= o.now).sort((a, b) => a - b) : [];
  const out: number[] = [];
  let previous = max;
  for (let k = 0; k < o.count; k++) {
    if (k >= MAX_IDLE_RANKS) {
      out.push(previous);
      continue;
    }
    const rank = Math.max(1, o.firstRank + k);
    const fromIdle = idleGaps(at, starts, o.now, rank, max);
    const gaps = fromIdle.length >= (o.minGaps ?? 3) ? fromIdle : rankGaps(at, o.now, rank);
    const tau = gaps.length < (o.minGaps ?? 3) ? max : cheapestTimeout(gaps, Math.max(0, o.relaunchSeconds), max);
    previous = Math.min(previous, tau);
    out.push(previous);
  }
  return out;
}

/** Seconds from each sorted arrival to the rank-th after it, and from the rank-th last one to now. */
function rankGaps(at: readonly number[], now: number, rank: number): number[] {
  const gaps: number[] = [];
  for (let i = 0; i + rank < at.length; i++) gaps.push((at[i + rank] - at[i]) / 1000);
  if (at.length >= rank) gaps.push((now - at[at.length - rank]) / 1000);
  return gaps;
}

/**
 * Seconds from each moment a host went idle to the rank-th demand after it. Demand-to-demand gaps
 * describe idle hosts only when hosts go idle just as demand comes, which steady arrivals do and
 * bursts do not: a host freed between two bursts waits for the next burst, not for the next
 * arrival within one. A moment whose rank-th demand has not come yet counts only once it has
 * waited longer than the longest timeout, when every τ up to it costs the same τ + relaunch;
 * before that its outcome is unknown, and it is left out.
 */
function idleGaps(at: readonly number[], starts: readonly number[], now: number, rank: number, maxSeconds: number): number[] {
  const gaps: number[] = [];
  let j = 0;
  for (const s of starts) {
    // The first demand strictly after s: `at` and `starts` are sorted, so j only moves forward.
    while (j < at.length && at[j] <= s) j++;
    const k = j + rank - 1;
    if (k < at.length) gaps.push((at[k] - s) / 1000);
    else if ((now - s) / 1000 > maxSeconds) gaps.push((now - s) / 1000);
  }
  return gaps;
}

/** What the gaps cost with timeout τ, in host-seconds. */
export function timeoutCost(gaps: readonly number[], tau: number, relaunchSeconds: number): number {
  let cost = 0;
  for (const g of gaps) cost += g > tau ? tau + relaunchSeconds : g;
  return cost;
}

/**
 * The τ in [0, max] of least cost. Between two gap lengths the cost only grows with τ, so the
 * optimum is 0, a gap's length or max; of equal costs the longest timeout wins (fewer relaunches,
 * fewer tasks waiting a boot). O(n log n).
 */
function cheapestTimeout(gaps: readonly number[], relaunchSeconds: number, max: number): number {
  const sorted = [...gaps].sort((a, b) => a - b);
  const n = sorted.length;
  // cost(τ) = Σ_{g ≤ τ} g + (#g > τ)(τ + relaunch), from a running prefix sum.
  let best = { tau: 0, cost: Infinity };
  let prefix = 0;
  let i = 0;
  const consider = (tau: number): void => {
    while (i < n && sorted[i] <= tau) prefix += sorted[i++];
    const cost = prefix + (n - i) * (tau + relaunchSeconds);
    const slack = 1e-9 * Math.max(1, cost);
    if (cost < best.cost - slack || (cost <= best.cost + slack && tau > best.tau)) best = { tau, cost };
  };
  consider(0);
  for (const g of sorted) if (g <= max) consider(g);
  consider(max);
  return best.tau;
}
