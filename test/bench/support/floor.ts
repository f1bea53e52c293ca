/**
 * The floor of bench:fleet: what the trace's work costs on hosts perfectly packed at every
 * instant, never idle, never booting. Two lower bounds of it, each under every real fleet's bill.
 *
 * fluidFloor — the first one: the cheapest mix of types whose host-seconds cover the trace's
 * cpu-seconds and memory-seconds, as if cpu and memory were two separate fluids. A linear
 * programme with two constraints, so an optimum uses one type or two (both constraints tight).
 * It lets a compute-family host be full on both resources at once, which no task can make it:
 * c6i and c7g register under 1.9 GiB per vCPU and every Fargate size asks at least 2 GiB per vCPU,
 * so whatever tasks a c host holds, its cpu is never all taken. The fluid floor prices the work as
 * though the c hosts' cpu went to one task and their memory to another.
 *
 * taskFloor — the same floor with a task's cpu and memory on one host, and a task only on a type
 * that can hold it. For any choice of θ_T in [0, 1] per type T, a host of T holding tasks costs
 *
 *   p_T ≥ p_T · max(Σcpu / C_T, Σmemory / M_T) ≥ Σ_tasks p_T · (θ_T · cpu / C_T + (1 − θ_T) · memory / M_T)
 *
 * and each task's term is at least its least over the types that can hold it. Integrated over the
 * run, every real fleet's bill is at least
 *
 *   F(θ) = Σ_shapes taskSeconds · min_T p_T · (θ_T · cpu / C_T + (1 − θ_T) · memory / M_T)
 *
 * for every θ (weak duality: F is the dual of the linear programme that assigns each task shape's
 * task-seconds to types). F is concave; it is raised by ascent from the θ of the fluid floor's
 * optimal prices, where it is already at least the fluid floor (pc per cpu and pm per MiB
 * with pc·C_T + pm·M_T ≤ p_T give θ_T = pc·C_T / p_T, and then every term ≥ pc·cpu + pm·memory).
 * Any θ it stops at is a valid floor; the better the ascent, the tighter.
 */

export interface FloorType {
  /** Registered capacity: cpu units and MiB. */
  cpu: number;
  memory: number;
  /** Price per second in the run's market. */
  pricePerSecond: number;
}

export interface FloorWork {
  cpu: number;
  memory: number;
  /** Seconds it runs. */
  seconds: number;
}

/** The cheapest mix of types covering the cpu-seconds and memory-seconds as two separate fluids. */
export function fluidFloor(work: readonly FloorWork[], types: readonly FloorType[]): number {
  const { cpuSeconds, memorySeconds } = totals(work);
  let best = Infinity;
  for (const a of types) {
    best = Math.min(best, a.pricePerSecond * Math.max(cpuSeconds / a.cpu, memorySeconds / a.memory));
    for (const b of types) {
      const det = a.cpu * b.memory - b.cpu * a.memory;
      if (det === 0) continue;
      const xa = (cpuSeconds * b.memory - b.cpu * memorySeconds) / det;
      const xb = (a.cpu * memorySeconds - cpuSeconds * a.memory) / det;
      if (xa >= 0 && xb >= 0) best = Math.min(best, a.pricePerSecond * xa + b.pricePerSecond * xb);
    }
  }
  return best;
}

/** The fluid floor's optimal prices per cpu-second unit and per MiB-second (its dual), by the vertices of its feasible region. */
function fluidPrices(work: readonly FloorWork[], types: readonly FloorType[]): { pc: number; pm: number } {
  const { cpuSeconds, memorySeconds } = totals(work);
  const feasible = (pc: number, pm: number): boolean => pc >= 0 && pm >= 0 && types.every((t) => pc * t.cpu + pm * t.memory <= t.pricePerSecond * (1 + 1e-12));
  let best = { pc: 0, pm: 0, value: 0 };
  const consider = (pc: number, pm: number): void => {
    const value = pc * cpuSeconds + pm * memorySeconds;
    if (feasible(pc, pm) && value > best.value) best = { pc, pm, value };
  };
  for (const a of types) {
    consider(a.pricePerSecond / a.cpu, 0);
    consider(0, a.pricePerSecond / a.memory);
    for (const b of types) {
      const det = a.cpu * b.memory - b.cpu * a.memory;
      if (det === 0) continue;
      consider((a.pricePerSecond * b.memory - b.pricePerSecond * a.memory) / det, (a.cpu * b.pricePerSecond - b.cpu * a.pricePerSecond) / det);
    }
  }
  return best;
}

/** The floor with each task's cpu and memory on one host of a type that can hold it (see above). */
export function taskFloor(work: readonly FloorWork[], types: readonly FloorType[]): number {
  return taskFloorBounds(work, types).lower;
}

/**
 * What a fleet costs, perfectly packed, when each task shape runs on the type `typeOf` names
 * (its index in `types`): per type, its price times the larger of the cpu and memory its share
 * of the work fills. Any such assignment costs at least the task floor.
 */
export function assignmentCost(work: readonly FloorWork[], types: readonly FloorType[], typeOf: (w: FloorWork) => number): number {
  const cpu = types.map(() => 0);
  const memory = types.map(() => 0);
  for (const w of work) {
    const i = typeOf(w);
    cpu[i] += w.cpu * w.seconds;
    memory[i] += w.memory * w.seconds;
  }
  return types.reduce((sum, t, i) => sum + t.pricePerSecond * Math.max(cpu[i] / t.cpu, memory[i] / t.memory), 0);
}

/**
 * The task floor (lower), and how tight it is: the cost of the assignment its prices point to,
 * each shape on the type of its least term (upper). The true optimum lies between.
 */
export function taskFloorBounds(work: readonly FloorWork[], types: readonly FloorType[]): { lower: number; upper: number } {
  const { lower, upper } = taskFloorDual(work, types);
  return { lower, upper };
}

/**
 * The task floor with its dual: `term(cpu, memory)`, each task's least price per second at the
 * θ found, whose sum over the tasks running at any instant is a lower bound on what the hosts
 * holding them cost per second at that instant (the inequality above, at one instant).
 */
export function taskFloorDual(
  work: readonly FloorWork[], types: readonly FloorType[],
): { lower: number; upper: number; term: (cpu: number, memory: number) => number } {
  // One term per task shape: the dual only sees a shape's task-seconds.
  const shapes = new Map<string, FloorWork>();
  for (const w of work) {
    const key = `${w.cpu}/${w.memory}`;
    const s = shapes.get(key);
    if (s) s.seconds += w.seconds;
    else shapes.set(key, { ...w });
  }
  const rows = [...shapes.values()].map((s) => ({ ...s, holds: types.map((t) => s.cpu <= t.cpu && s.memory <= t.memory) }));
  if (rows.some((r) => !r.holds.some(Boolean))) return { lower: Infinity, upper: Infinity, term: () => Infinity };

  const value = (theta: readonly number[]): number => {
    let sum = 0;
    for (const r of rows) {
      let least = Infinity;
      for (let i = 0; i < types.length; i++) {
        if (!r.holds[i]) continue;
        const t = types[i];
        least = Math.min(least, t.pricePerSecond * ((theta[i] * r.cpu) / t.cpu + ((1 - theta[i]) * r.memory) / t.memory));
      }
      sum += r.seconds * least;
    }
    return sum;
  };

  const { pc, pm } = fluidPrices(work, types);
  const theta = types.map((t) => clamp01((pc * t.cpu) / t.pricePerSecond));
  let best = { theta: [...theta], value: value(theta) };
  // F's min has kinks where the ascent must move several θ at once: ascend a smoothed F (the
  // soft minimum, within temperature τ of the least term, relative to it), each step judged by
  // the exact F. Whichever θ it ends at, F(θ) is a floor; the start is the fluid floor's.
  const slope = types.map(() => 0);
  let lastGain = 0;
  for (let k = 0; k < 3000 && k - lastGain < 400; k++) {
    const tau = Math.max(1e-4, 0.05 * 0.997 ** k);
    slope.fill(0);
    for (const r of rows) {
      const terms = types.map((t, i) => (r.holds[i] ? t.pricePerSecond * ((theta[i] * r.cpu) / t.cpu + ((1 - theta[i]) * r.memory) / t.memory) : Infinity));
      const least = Math.min(...terms);
      const weights = terms.map((a) => (Number.isFinite(a) ? Math.exp(-(a - least) / (tau * least)) : 0));
      const total = weights.reduce((sum, w) => sum + w, 0);
      types.forEach((t, i) => {
        if (weights[i] > 0) slope[i] += (r.seconds * weights[i] * t.pricePerSecond * (r.cpu / t.cpu - r.memory / t.memory)) / total;
      });
    }
    const steepest = Math.max(...slope.map(Math.abs));
    if (steepest === 0) break;
    const step = 0.02 * 0.999 ** k;
    for (let i = 0; i < types.length; i++) theta[i] = clamp01(theta[i] + (step * slope[i]) / steepest);
    const v = value(theta);
    if (v > best.value * (1 + 1e-7)) lastGain = k;
    if (v > best.value) best = { theta: [...theta], value: v };
  }
  const term = (r: FloorWork, i: number): number =>
    types[i].pricePerSecond * ((best.theta[i] * r.cpu) / types[i].cpu + ((1 - best.theta[i]) * r.memory) / types[i].memory);
  const upper = assignmentCost(work, types, (w) => {
    let at = -1;
    for (let i = 0; i < types.length; i++) if (w.cpu <= types[i].cpu && w.memory <= types[i].memory && (at < 0 || term(w, i) < term(w, at))) at = i;
    return at;
  });
  const least = (cpu: number, memory: number): number => {
    let l = Infinity;
    for (let i = 0; i < types.length; i++) if (cpu <= types[i].cpu && memory <= types[i].memory) l = Math.min(l, term({ cpu, memory, seconds: 0 }, i));
    return l;
  };
  return { lower: best.value, upper, term: least };
}

/** A task of the trace as it runs: from `start`, for `seconds`. */
export interface TimedWork extends FloorWork {
  start: number;
}

/**
 * The floor with boots: a lower bound on any fleet that starts each task when it arrives, with
 * hosts that are billed for `bootSeconds` before they can hold anything. Let A(t) be what the
 * booted hosts cost per second at t; A(t) ≥ f(t), the sum of the running tasks' dual terms
 * (taskFloorDual). Every rise of A is a host that booted, billed for its boot before: the bill
 * is at least ∫A dt + bootSeconds × (A's total rise). By levels y, that is ∫ dy of the cost of
 * covering {t : A(t) > y} ⊇ {t : f(t) > y} with intervals, each paying its length and one boot:
 * at least |{f > y}| + bootSeconds + Σ over the gaps between its pieces of min(gap, bootSeconds)
 * (bridge a gap, or boot again). That cost only grows with the set, so over a band of levels
 * [y_k, y_k+1) it is at least the cost at y_k+1: `levels` bands give a bound from below.
 */
export function floorWithBoots(
  work: readonly TimedWork[], types: readonly FloorType[], bootSeconds: number, levels = 400,
): number {
  const { term } = taskFloorDual(work, types);
  const events: { at: number; delta: number }[] = [];
  for (const w of work) {
    const v = term(w.cpu, w.memory);
    events.push({ at: w.start, delta: v }, { at: w.start + w.seconds, delta: -v });
  }
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  // f as steps: value[i] over [at[i], at[i + 1]).
  const at: number[] = [];
  const value: number[] = [];
  let f = 0;
  for (const e of events) {
    f += e.delta;
    if (at.length > 0 && at[at.length - 1] === e.at) value[value.length - 1] = f;
    else {
      at.push(e.at);
      value.push(f);
    }
  }
  const top = Math.max(0, ...value);
  if (!(top > 0)) return 0;
  const dy = top / levels;
  let total = 0;
  for (let k = 1; k <= levels; k++) {
    const y = Math.min(top, k * dy) * (1 - 1e-12);
    let length = 0;
    let cost = 0;
    let lastEnd: number | undefined;
    for (let i = 0; i + 1 < at.length; i++) {
      if (!(value[i] > y)) continue;
      length += at[i + 1] - at[i];
      if (lastEnd === undefined) cost += bootSeconds;
      else if (at[i] > lastEnd) cost += Math.min(at[i] - lastEnd, bootSeconds);
      lastEnd = at[i + 1];
    }
    total += dy * (length + cost);
  }
  return total;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

function totals(work: readonly FloorWork[]): { cpuSeconds: number; memorySeconds: number } {
  let cpuSeconds = 0;
  let memorySeconds = 0;
  for (const w of work) {
    cpuSeconds += w.cpu * w.seconds;
    memorySeconds += w.memory * w.seconds;
  }
  return { cpuSeconds, memorySeconds };
}
