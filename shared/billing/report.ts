import type { Market } from '../capacity/types';
import { apportionHost } from './apportion';
import { fargateBilledSeconds, fargateChargeMicros, fargateRatePerHour1024, fargateRates, fargateSizeFor } from './fargate';
import { type MicroUsd, nanoUsd } from './money';
import { type PriceCatalog, hostHourlyPrice } from './prices';
import { type Dimension, type HostUsage, type TaskUsage, dimensionOf } from './usage';

export const HOUR_MS = 3_600_000;

export interface CostReportInput {
  tasks: readonly TaskUsage[];
  hosts: readonly HostUsage[];
  prices: PriceCatalog;
  /** The period, [from, to) in epoch ms. */
  from: number;
  to: number;
  /** What a running task or host is billed to. */
  now: number;
  groupBy: readonly Dimension[];
  /** The chart's time step (default an hour). */
  bucketMs?: number;
}

export interface TaskCost {
  cluster: string;
  taskId: string;
  family: string;
  service?: string;
  startedBy?: string;
  hostId?: string;
  instanceType?: string;
  market?: Market;
  cpu: number;
  memory: number;
  running: boolean;
  /** When the meter wrote its usage record; absent while it runs, or in the moment between its stop and its record. */
  recordedAt?: number;
  group: string;
  /** The Fargate size that holds it, or why none does. */
  fargateSize?: { cpu: number; memory: number };
  fargateUnavailable?: string;
  /** The Fargate market priced: spot where it ran on spot, unless Fargate Spot cannot run it. */
  fargateMarket?: Market;
  /** Seconds Fargate bills in all, minimum included (to now while it runs). */
  fargateBilledSeconds: number;
  fargatePriceMicroUsd: MicroUsd;
  berthCostMicroUsd: MicroUsd;
}

export interface Amounts {
  berthCostMicroUsd: MicroUsd;
  fargatePriceMicroUsd: MicroUsd;
  /** Fargate's price less Berth's cost, over the tasks Fargate could have run. */
  savingMicroUsd: MicroUsd;
}

export interface GroupCost extends Amounts {
  group: string;
  key: Record<string, string>;
  tasks: number;
}

export interface CostReport {
  period: { from: string; to: string };
  prices: { region: string; takenAt: string; source: string };
  groupBy: string[];
  totals: Amounts & {
    tasks: number;
    /** Host time no task held: idle, warm pool, booting. */
    overheadMicroUsd: MicroUsd;
    /** What the hosts cost over the period: Berth's cost plus the overhead, exactly. */
    fleetBillMicroUsd: MicroUsd;
    /** Tasks Fargate could not have run (GPUs, sizes past its largest). */
    notOnFargate: number;
  };
  groups: GroupCost[];
  tasks: TaskCost[];
  /** Cost over time per group: the chart. */
  series: { bucketMs: number; buckets: { start: string; groups: Record<string, { berth: MicroUsd; fargate: MicroUsd }>; overhead: MicroUsd }[] };
  /** Hosts the catalog has no price for: their time is counted at zero. */
  unpricedHosts: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The task's time on Berth: from its placement to its stop (or now). */
const heldFrom = (u: TaskUsage): number | undefined => u.placedAt ?? u.pullStartedAt ?? u.startedAt;

/**
 * A cost report over a period: each task's Fargate price (its smallest Fargate size, per
 * second from pullStartedAt to stoppedAt with a minute's minimum) and its Berth cost (its share
 * of its host's bill while it held room there), grouped by the dimensions asked for, with the
 * fleet's overhead apart, and both per time bucket for a chart. Pure: the caller reads the
 * records and the clock.
 */
export function costReport(input: CostReportInput): CostReport {
  const { prices, from, to, now } = input;
  const bucketMs = input.bucketMs ?? HOUR_MS;
  const bucketOf = (t: number) => Math.floor(t / bucketMs) * bucketMs;
  const edges: number[] = [];
  for (let t = bucketOf(from) + bucketMs; t < to; t += bucketMs) edges.push(t);
  const buckets = new Map<number, { groups: Map<string, { berth: number; fargate: number }>; overhead: number }>();
  for (const start of [bucketOf(from), ...edges]) if (start < to) buckets.set(start, { groups: new Map(), overhead: 0 });
  const cell = (t: number, group: string) => {
    const b = buckets.get(bucketOf(t))!;
    let c = b.groups.get(group);
    if (!c) b.groups.set(group, (c = { berth: 0, fargate: 0 }));
    return c;
  };

  const groupOf = (u: TaskUsage) => input.groupBy.map((d) => dimensionOf(u, d)).join(' / ') || 'all';
  const costs = new Map<string, TaskCost>();
  const usages = new Map<string, TaskUsage>();
  const byHost = new Map<string, TaskUsage[]>();
  const idOf = (u: TaskUsage) => `${u.cluster}/${u.taskId}`;
  for (const u of input.tasks) {
    const start = heldFrom(u);
    const end = u.stoppedAt ?? now;
    // Only what touches the period: a task that held nothing and pulled nothing costs nothing.
    if (start === undefined || start >= to || end < from) continue;
    const group = groupOf(u);
    const c: TaskCost = {
      cluster: u.cluster, taskId: u.taskId, family: u.family, service: u.service, startedBy: u.startedBy, hostId: u.hostId,
      instanceType: u.instanceType, market: u.market, cpu: u.cpu, memory: u.memory, running: u.stoppedAt === undefined, group,
      fargateBilledSeconds: 0, fargatePriceMicroUsd: 0, berthCostMicroUsd: 0,
    };
    if (u.recordedAt !== undefined) c.recordedAt = u.recordedAt;
    const fit = fargateSizeFor(u);
    if (!fit.fits) c.fargateUnavailable = fit.reason;
    else {
      c.fargateSize = { cpu: fit.cpu, memory: fit.memory };
      const { rates, market } = fargateRates(prices, u.architecture ?? 'x86_64', u.market ?? 'on-demand');
      c.fargateMarket = market;
      if (u.pullStartedAt !== undefined) {
        const p = u.pullStartedAt;
        c.fargateBilledSeconds = fargateBilledSeconds(p, end);
        const rate = fargateRatePerHour1024(fit, rates, prices.fargate.ephemeralStorageGbHour, u.ephemeralStorageGiB);
        // The billed seconds' charge (the minimum included) spread evenly over the task's run,
        // from its pull to its stop (or now): a report of its period sees all of it.
        const total = fargateChargeMicros(rate, c.fargateBilledSeconds * 1000);
        const span = end - p;
        const chargedBy = (t: number) => (span <= 0 ? (t >= p ? total : 0) : Math.round((total * Math.min(Math.max(t - p, 0), span)) / span));
        const lo = Math.max(from, p);
        const hi = Math.min(to, Math.max(end, p + 1));
        const cuts = hi > lo ? [lo, ...edges.filter((e) => e > lo && e < hi), hi] : [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          const part = (span <= 0 && i === 0 ? chargedBy(cuts[i]) : 0) + chargedBy(cuts[i + 1]) - chargedBy(cuts[i]);
          c.fargatePriceMicroUsd += part;
          if (part) cell(cuts[i], group).fargate += part;
        }
      }
    }
    costs.set(idOf(u), c);
    usages.set(idOf(u), u);
    if (u.hostId !== undefined) {
      const list = byHost.get(u.hostId) ?? [];
      list.push(u);
      byHost.set(u.hostId, list);
    }
  }

  let overhead = 0;
  let fleet = 0;
  const unpricedHosts: string[] = [];
  for (const h of input.hosts) {
    const start = Math.max(h.launchedAt, from);
    const end = Math.min(h.endedAt ?? now, to);
    if (end <= start) continue;
    const hourly = hostHourlyPrice(prices, h.instanceType, h.market);
    if (hourly === undefined) unpricedHosts.push(h.hostId);
    const tasks = (byHost.get(h.hostId) ?? []).map((u) => ({ id: idOf(u), start: heldFrom(u)!, end: u.stoppedAt ?? now, cpu: u.cpu, memory: u.memory }));
    for (const s of apportionHost({ start, end, cpu: h.cpu, memory: h.memory, nanoPerHour: nanoUsd(hourly ?? 0) }, tasks, edges)) {
      fleet += s.total;
      overhead += s.overhead;
      buckets.get(bucketOf(s.start))!.overhead += s.overhead;
      for (const [id, micros] of Object.entries(s.shares)) {
        const c = costs.get(id)!;
        c.berthCostMicroUsd += micros;
        if (micros) cell(s.start, c.group).berth += micros;
      }
    }
  }

  const groups = new Map<string, GroupCost>();
  const totals = { tasks: 0, berthCostMicroUsd: 0, fargatePriceMicroUsd: 0, savingMicroUsd: 0, notOnFargate: 0 };
  for (const [id, c] of costs) {
    const u = usages.get(id)!;
    let g = groups.get(c.group);
    if (!g) {
      g = { group: c.group, key: Object.fromEntries(input.groupBy.map((d) => [d, dimensionOf(u, d)])), tasks: 0, berthCostMicroUsd: 0, fargatePriceMicroUsd: 0, savingMicroUsd: 0 };
      groups.set(c.group, g);
    }
    const saving = c.fargateSize ? c.fargatePriceMicroUsd - c.berthCostMicroUsd : 0;
    for (const a of [g, totals]) {
      a.tasks++;
      a.berthCostMicroUsd += c.berthCostMicroUsd;
      a.fargatePriceMicroUsd += c.fargatePriceMicroUsd;
      a.savingMicroUsd += saving;
    }
    if (!c.fargateSize) totals.notOnFargate++;
  }

  return {
    period: { from: iso(from), to: iso(to) },
    prices: { region: prices.region, takenAt: prices.takenAt, source: prices.source },
    groupBy: [...input.groupBy],
    totals: { ...totals, overheadMicroUsd: overhead, fleetBillMicroUsd: fleet },
    groups: [...groups.values()].sort((a, b) => b.berthCostMicroUsd - a.berthCostMicroUsd || (a.group < b.group ? -1 : 1)),
    tasks: [...costs.values()],
    series: {
      bucketMs,
      buckets: [...buckets].map(([start, b]) => ({ start: iso(start), groups: Object.fromEntries(b.groups), overhead: b.overhead })),
    },
    unpricedHosts,
  };
}
