import { type MicroUsd, chargeMicros, splitExactly } from './money';

/** A host's billed life: [start, end) in epoch ms, its capacity, its price in nano-dollars per hour. */
export interface HostSpan {
  start: number;
  end: number;
  cpu: number;
  memory: number;
  nanoPerHour: bigint;
}

/** A task's hold on a host: [start, end) in epoch ms, and what it reserved. */
export interface TaskSpan {
  id: string;
  start: number;
  end: number;
  cpu: number;
  memory: number;
}

/** One stretch of a host's time with the same tasks on it, and who pays for it. */
export interface Segment {
  start: number;
  end: number;
  /** The host's bill for the stretch; the shares and the overhead add up to it exactly. */
  total: MicroUsd;
  shares: Record<string, MicroUsd>;
  /** Host time no task held: idle, warm pool, booting. */
  overhead: MicroUsd;
}

/**
 * A task's weight on a host, over the host's cpu × memory: the larger of its cpu and memory
 * shares, as an exact integer (a share of cpu c/C is c·M over C·M).
 */
export function weightOf(task: { cpu: number; memory: number }, host: { cpu: number; memory: number }): bigint {
  return [BigInt(task.cpu) * BigInt(host.memory), BigInt(task.memory) * BigInt(host.cpu)].reduce((a, b) => (a > b ? a : b));
}

/**
 * Splits a host's bill over its tasks. The host's time is cut where any task arrives or leaves
 * (and at `cuts`, such as hour boundaries); each stretch costs what the host's price comes to
 * over it, and is shared by the tasks on the host then, each by the larger of its cpu and
 * memory shares. What those shares leave is fleet overhead. Where they come to more than the
 * whole host (one task takes most of the cpu, another most of the memory), the host is split
 * in proportion to them and there is no overhead. Tasks are clipped to the host's life.
 * Each stretch costs the difference of the price's cumulative charge since the epoch at its
 * two ends (see hostBillMicros).
 * Everything is in integer micro-dollars, and every stretch's shares and overhead add up to its
 * total, so the tasks' costs plus the overhead equal the host's bill exactly.
 */
export function apportionHost(host: HostSpan, tasks: readonly TaskSpan[], cuts: readonly number[] = []): Segment[] {
  if (!(host.end > host.start)) return [];
  const clipped = tasks
    .map((t) => ({ ...t, start: Math.max(t.start, host.start), end: Math.min(t.end, host.end) }))
    .filter((t) => t.end > t.start);
  const edges = new Set<number>([host.start, host.end]);
  for (const t of clipped) edges.add(t.start).add(t.end);
  for (const c of cuts) if (c > host.start && c < host.end) edges.add(c);
  const times = [...edges].sort((a, b) => a - b);
  const whole = BigInt(host.cpu) * BigInt(host.memory);
  const billTo = (t: number) => chargeMicros(host.nanoPerHour, t);
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < times.length; i++) {
    const start = times[i];
    const end = times[i + 1];
    const total = billTo(end) - billTo(start);
    const on = clipped.filter((t) => t.start <= start && t.end >= end);
    const weights = whole > 0n ? on.map((t) => weightOf(t, host)) : on.map(() => 0n);
    const held = weights.reduce((a, w) => a + w, 0n);
    const shares: Record<string, MicroUsd> = {};
    let overhead = total;
    if (held > 0n && total > 0) {
      const parts = splitExactly(total, [...weights, held >= whole ? 0n : whole - held]);
      on.forEach((t, k) => (shares[t.id] = (shares[t.id] ?? 0) + parts[k]));
      overhead = parts[parts.length - 1];
    } else {
      for (const t of on) shares[t.id] = 0;
    }
    segments.push({ start, end, total, shares, overhead });
  }
  return segments;
}

/**
 * The host's bill over [start, end): what its segments add up to. Charges are cumulative from
 * the epoch, so the bills of [a, b) and [b, c) add up to exactly the bill of [a, c): a report
 * of a day is the sum of reports of its hours.
 */
export const hostBillMicros = (host: Pick<HostSpan, 'start' | 'end' | 'nanoPerHour'>): MicroUsd =>
  host.end > host.start ? chargeMicros(host.nanoPerHour, host.end) - chargeMicros(host.nanoPerHour, host.start) : 0;
