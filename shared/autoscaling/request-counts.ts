/**
 * Requests in a window from a load balancer's running totals (HAProxy's `req_tot`, which a reload
 * starts afresh): each reading is kept with its time, and a window's count is the total at its
 * end less the last reading at or before its start. Pure; the local load balancer feeds it.
 */
export class RequestCounter {
  private readonly readings = new Map<string, { at: number; total: number }[]>();

  constructor(private readonly keepMs = 3_600_000) {}

  /** A running total read at `at`; one lower than the last means the counter started afresh. */
  record(key: string, at: number, total: number): void {
    const list = this.readings.get(key) ?? [];
    const last = list[list.length - 1];
    // After a restart of the counter, what came before counts as nothing from here on.
    if (last && total < last.total) for (const r of list) r.total = 0;
    list.push({ at, total });
    while (list.length > 2 && list[1].at < at - this.keepMs) list.shift();
    this.readings.set(key, list);
  }

  /**
   * Requests between the last reading at the window's start and the latest one at its end;
   * undefined without both. Readings come once a period, a little early or late: one within the
   * first half of the window counts as at its start.
   */
  countBetween(key: string, fromMs: number, toMs: number): number | undefined {
    const list = this.readings.get(key) ?? [];
    const start = [...list].reverse().find((r) => r.at <= fromMs + (toMs - fromMs) / 2);
    const end = [...list].reverse().find((r) => r.at <= toMs);
    if (!start || !end || end.at <= start.at) return undefined;
    return Math.max(0, end.total - start.total);
  }
}

/** ALBRequestCountPerTarget's ResourceLabel (`app/LB/ID/targetgroup/TG/ID`): the target group's ARN suffix, or undefined. */
export function targetGroupOfLabel(label: string): { loadBalancer: string; targetGroup: string } | undefined {
  const m = /^(app\/[^/]+\/[^/]+)\/(targetgroup\/[^/]+\/[^/]+)$/.exec(label);
  return m ? { loadBalancer: m[1], targetGroup: m[2] } : undefined;
}
