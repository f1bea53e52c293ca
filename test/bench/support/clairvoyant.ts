/**
 * A clairvoyant fleet: a REFERENCE for bench:fleet that no real fleet can run. It knows every
 * task's arrival and duration in advance, so it
 * - launches each host just in time (bootSeconds before the task that needs it arrives: no task
 *   ever waits, and no warm pool is kept);
 * - places each task where it extends a host's life least: onto a busy host whose tasks end no
 *   earlier than it does (free), else the one it keeps alive the fewest dollars longer, so hosts
 *   empty together; or onto a host that emptied less than a boot ago (its gap billed), or a new host;
 * - lets a host go the moment it empties, unless a task it knows is coming takes it within a boot.
 *
 * A greedy schedule, not an optimum: its cost is what knowing the future buys with one simple
 * rule, an upper bound on the clairvoyant optimum, not a lower bound on what an online fleet pays.
 * A new host's type: of the one size the variant names (or the smallest larger one that holds the
 * task), the family whose price per binding share of the task is least, so tasks sort themselves
 * onto hosts of their shape. Each variant is one size and one tie-break among equally cheap hosts;
 * the bench prints the cheapest variant.
 */

export interface ClairvoyantType {
  name: string;
  /** Registered capacity: cpu units and MiB. */
  cpu: number;
  memory: number;
  /** USD per second, on-demand and spot. */
  pricePerSecond: number;
  spotPricePerSecond: number;
}

export interface ClairvoyantTask {
  /** Seconds from the trace's start. */
  arrival: number;
  duration: number;
  cpu: number;
  memory: number;
}

export interface ClairvoyantOptions {
  bootSeconds: number;
  /** EC2's minimum billed seconds per host. */
  minimumSeconds: number;
  /** The types it may launch: every size of every family of the trace's architecture. */
  types: readonly ClairvoyantType[];
  /** New hosts are of this size (e.g. 'xlarge'), or the smallest larger one that holds the task. */
  size: string;
  /**
   * Among hosts that cost the same to use: the fullest after placing ('fit'), or the one whose
   * tasks end nearest after it ('end'). 'binpack': a busy host costs nothing to use, however long
   * the task keeps it, so the fullest busy host wins (the real scheduler's rule, with the
   * clairvoyant launches and types).
   */
  tieBreak: 'fit' | 'end' | 'binpack';
}

export interface ClairvoyantResult {
  costUsd: number;
  spotCostUsd: number;
  bootingUsd: number;
  /** Gaps a host was kept empty for a task known to come within a boot. */
  idleUsd: number;
  busyUsd: number;
  minimumExtraUsd: number;
  launched: number;
  packingCpu: number;
  packingMemory: number;
}

/** The sizes in order, as EC2 names them. */
export const SIZES = ['large', 'xlarge', '2xlarge', '4xlarge'] as const;
const sizeOf = (name: string): number => SIZES.indexOf(name.slice(name.indexOf('.') + 1) as (typeof SIZES)[number]);

interface Host {
  type: ClairvoyantType;
  launchedAt: number;
  reservedCpu: number;
  reservedMemory: number;
  count: number;
  /** When its last current task ends. */
  end: number;
  /** When it last emptied (valid while count is 0). */
  emptiedAt: number;
  busySince: number;
  busySeconds: number;
  idleSeconds: number;
  /** When it was let go: its last empty moment, unless a task took it again. */
  closed: boolean;
}

/** A min-heap of task ends. */
class Ends {
  private readonly h: { at: number; host: Host; cpu: number; memory: number }[] = [];
  get size(): number {
    return this.h.length;
  }
  peek(): number {
    return this.h[0].at;
  }
  push(e: { at: number; host: Host; cpu: number; memory: number }): void {
    const h = this.h;
    h.push(e);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  pop(): { at: number; host: Host; cpu: number; memory: number } {
    const h = this.h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l].at < h[m].at) m = l;
        if (r < h.length && h[r].at < h[m].at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
}

/** The type a new host for this task is: the variant's size (or the smallest larger that holds it), the family cheapest per binding share. */
function newHostType(task: ClairvoyantTask, o: ClairvoyantOptions): ClairvoyantType | undefined {
  const wanted = SIZES.indexOf(o.size as (typeof SIZES)[number]);
  let best: ClairvoyantType | undefined;
  let bestKey = [Infinity, Infinity];
  for (const t of o.types) {
    if (task.cpu > t.cpu || task.memory > t.memory) continue;
    const size = sizeOf(t.name);
    const sizeKey = size >= wanted ? size - wanted : 100 + wanted - size;
    const share = t.pricePerSecond * Math.max(task.cpu / t.cpu, task.memory / t.memory);
    if (sizeKey < bestKey[0] || (sizeKey === bestKey[0] && share < bestKey[1])) {
      best = t;
      bestKey = [sizeKey, share];
    }
  }
  return best;
}

export function clairvoyantFleet(tasks: readonly ClairvoyantTask[], o: ClairvoyantOptions): ClairvoyantResult {
  const order = [...tasks].sort((a, b) => a.arrival - b.arrival);
  const hosts: Host[] = [];
  /** Hosts holding tasks, or empty for less than a boot: the ones a task may go to. */
  let open: Host[] = [];
  const ends = new Ends();
  const finish = (until: number): void => {
    while (ends.size > 0 && ends.peek() <= until) {
      const e = ends.pop();
      const h = e.host;
      h.reservedCpu -= e.cpu;
      h.reservedMemory -= e.memory;
      h.count--;
      if (h.count === 0) {
        h.emptiedAt = e.at;
        h.busySeconds += e.at - h.busySince;
      }
    }
  };
  for (const task of order) {
    const a = task.arrival;
    finish(a);
    const e = a + task.duration;
    // Hosts empty for a boot or longer are let go at the moment they emptied.
    open = open.filter((h) => {
      if (h.count > 0 || a - h.emptiedAt < o.bootSeconds) return true;
      h.closed = true;
      return false;
    });
    let best: Host | undefined;
    let bestCost = Infinity;
    let bestTie = Infinity;
    for (const h of open) {
      if (h.reservedCpu + task.cpu > h.type.cpu || h.reservedMemory + task.memory > h.type.memory) continue;
      const cost = h.count > 0
        ? (o.tieBreak === 'binpack' ? 0 : h.type.pricePerSecond * Math.max(0, e - h.end))
        : h.type.pricePerSecond * (a - h.emptiedAt + task.duration);
      const tie = o.tieBreak !== 'end'
        ? 1 - Math.max((h.reservedCpu + task.cpu) / h.type.cpu, (h.reservedMemory + task.memory) / h.type.memory)
        : Math.abs((h.count > 0 ? h.end : a) - e);
      if (cost < bestCost - 1e-12 || (Math.abs(cost - bestCost) <= 1e-12 && tie < bestTie)) {
        best = h;
        bestCost = cost;
        bestTie = tie;
      }
    }
    const type = newHostType(task, o);
    if (!type) throw new Error(`no type holds ${task.cpu} CPU / ${task.memory} MiB`);
    if (!best || (!(o.tieBreak === 'binpack' && best.count > 0) && type.pricePerSecond * (o.bootSeconds + task.duration) < bestCost)) {
      best = {
        type, launchedAt: a - o.bootSeconds, reservedCpu: 0, reservedMemory: 0, count: 0, end: a, emptiedAt: a,
        busySince: a, busySeconds: 0, idleSeconds: 0, closed: false,
      };
      hosts.push(best);
      open.push(best);
    } else if (best.count === 0) {
      best.idleSeconds += a - best.emptiedAt;
    }
    if (best.count === 0) {
      best.busySince = a;
      best.end = e;
    }
    best.reservedCpu += task.cpu;
    best.reservedMemory += task.memory;
    best.count++;
    best.end = Math.max(best.end, e);
    ends.push({ at: e, host: best, cpu: task.cpu, memory: task.memory });
  }
  finish(Infinity);

  let costUsd = 0;
  let spotCostUsd = 0;
  let bootingUsd = 0;
  let idleUsd = 0;
  let busyUsd = 0;
  let minimumExtraUsd = 0;
  let provisionedCpu = 0;
  let provisionedMemory = 0;
  for (const h of hosts) {
    const lived = o.bootSeconds + h.busySeconds + h.idleSeconds;
    const billed = Math.max(o.minimumSeconds, lived);
    costUsd += h.type.pricePerSecond * billed;
    spotCostUsd += h.type.spotPricePerSecond * billed;
    bootingUsd += h.type.pricePerSecond * o.bootSeconds;
    idleUsd += h.type.pricePerSecond * h.idleSeconds;
    busyUsd += h.type.pricePerSecond * h.busySeconds;
    minimumExtraUsd += h.type.pricePerSecond * (billed - lived);
    provisionedCpu += h.type.cpu * lived;
    provisionedMemory += h.type.memory * lived;
  }
  const reservedCpu = order.reduce((s, t) => s + t.cpu * t.duration, 0);
  const reservedMemory = order.reduce((s, t) => s + t.memory * t.duration, 0);
  return {
    costUsd, spotCostUsd, bootingUsd, idleUsd, busyUsd, minimumExtraUsd, launched: hosts.length,
    packingCpu: reservedCpu / provisionedCpu, packingMemory: reservedMemory / provisionedMemory,
  };
}

/** Every variant (each size, each tie-break), the cheapest on-demand first. */
export function clairvoyantVariants(
  tasks: readonly ClairvoyantTask[], o: Omit<ClairvoyantOptions, 'size' | 'tieBreak'>,
): { size: string; tieBreak: ClairvoyantOptions['tieBreak']; result: ClairvoyantResult }[] {
  const out: { size: string; tieBreak: ClairvoyantOptions['tieBreak']; result: ClairvoyantResult }[] = [];
  for (const size of SIZES) {
    for (const tieBreak of ['fit', 'end', 'binpack'] as const) out.push({ size, tieBreak, result: clairvoyantFleet(tasks, { ...o, size, tieBreak }) });
  }
  return out.sort((x, y) => x.result.costUsd - y.result.costUsd);
}
