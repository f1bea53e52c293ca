import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { LoadBalancing, Target, TargetHealth } from '../../../shared/cloud/load-balancing';
import type { Partition } from '../../../shared/domain/arns';
import { invalidTarget, targetGroupNotFound } from './errors';
import { HAProxy, type StatRow } from '../../../shared/haproxy/process';
import { backendName, checkOptions, renderConfig, serverName } from './haproxy';
import type { Elbv2Record, Elbv2State, Elbv2Store, TargetGroupRecord } from './store';

/** ELBv2's default deregistration delay. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;
export const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * The local ELBv2's engine: the state in dynalite, HAProxy doing the balancing. All changes go
 * one at a time (one local mode, one process), each written to the store and to HAProxy.
 * It is also the services' LoadBalancing port locally, so a service's tasks join target groups
 * exactly as `aws elbv2 register-targets` would put them there.
 */
export class LocalLoadBalancer implements LoadBalancing {
  private state: Elbv2State = { loadBalancers: [], targetGroups: [], listeners: [] };
  private chain: Promise<unknown> = Promise.resolve();
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;
  /**
   * Each target's count of UP→DOWN transitions (`chkdown`) once it was registered: HAProxy
   * counts the forced first DOWN as one. Past it, a DOWN target has been UP since. A reload
   * starts HAProxy's counters afresh (its servers UP), and these with them.
   */
  private readonly downsAtRegistration = new Map<string, number>();
  /**
   * Targets seen healthy since they were registered: DOWN after that is `unhealthy` whatever
   * HAProxy's counters say (a name re-registered while it drained keeps its old counters).
   */
  private readonly seenHealthy = new Set<string>();
  readonly haproxy: HAProxy;

  constructor(
    private readonly store: Elbv2Store,
    dir: string,
    readonly partition: Partition,
    readonly now: () => number,
    private readonly log: (line: string) => void,
    /** Health checks run this much faster than their target groups say (1: as said); for tests. */
    private readonly healthCheckTimeScale = 1,
  ) {
    mkdirSync(dir, { recursive: true });
    this.haproxy = new HAProxy(dir, log);
  }

  async start(): Promise<void> {
    this.state = await this.store.load();
    await this.haproxy.start(this.config());
    await this.exclusive(() => this.sweep());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweepTimer);
    // The change in flight may finish, but not hold the local mode's stop.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.chain.catch(() => {}), new Promise((r) => { timer = setTimeout(r, 5000).unref(); })]);
    clearTimeout(timer);
    await this.haproxy.stop();
  }

  /** A read of the state; callers must not change it. */
  get view(): Elbv2State {
    return this.state;
  }

  newArn(resource: string): string {
    return `arn:aws:elasticloadbalancing:${this.partition.region}:${this.partition.accountId}:${resource}/${randomBytes(8).toString('hex')}`;
  }

  private config(): string {
    return renderConfig(this.state, this.haproxy.socketPath, this.now(), this.healthCheckTimeScale);
  }

  /** Runs one change at a time: each sees the state the last one left. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  /**
   * Stores a change to listeners or target groups and reloads HAProxy with it (a reload restarts
   * its checks and counters, so a change HAProxy does not see, such as an attribute, does not).
   */
  async changeStructure(next: Elbv2State, writes: { put?: Elbv2Record[]; remove?: string[] }, reload = true): Promise<void> {
    const before = this.state;
    this.state = next;
    try {
      await this.haproxy.apply(this.config(), reload);
      if (reload) this.downsAtRegistration.clear();
    } catch (e) {
      this.state = before;
      throw e;
    }
    for (const r of writes.put ?? []) await this.store.put(r);
    for (const arn of writes.remove ?? []) await this.store.delete(arn);
  }

  targetGroup(arn: string): TargetGroupRecord {
    const tg = this.state.targetGroups.find((t) => t.arn === arn);
    if (!tg) throw targetGroupNotFound();
    return tg;
  }

  private async saveTargets(tg: TargetGroupRecord, targets: TargetGroupRecord['targets']): Promise<void> {
    const next = { ...tg, targets };
    this.state = { ...this.state, targetGroups: this.state.targetGroups.map((t) => (t.arn === tg.arn ? next : t)) };
    await this.store.put(next);
    // The file follows, so a later reload keeps these targets; the runtime API already has them.
    await this.haproxy.apply(this.config(), false);
  }

  private async runtime(line: string, ok: RegExp): Promise<void> {
    const answer = (await this.haproxy.command(line)).trim();
    if (!ok.test(answer)) throw new Error(`HAProxy refused '${line}': ${answer}`);
  }

  /** RegisterTargets: new targets start checked and DOWN (ELBv2's `initial`), a draining one comes back. */
  register(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    return this.exclusive(async () => {
      const tg = this.targetGroup(targetGroupArn);
      for (const t of targets) if (!IPV4.test(t.id)) throw invalidTarget(`The IP address '${t.id}' is not a valid IPv4 address`);
      const kept = [...tg.targets];
      for (const t of targets) {
        const be = backendName(tg.arn);
        const name = `${be}/${serverName(t)}`;
        const i = kept.findIndex((k) => k.id === t.id && k.port === t.port);
        if (i >= 0 && kept[i].drainingUntil === undefined) continue;
        this.seenHealthy.delete(name);
        if (i >= 0) {
          await this.runtime(`set server ${name} state ready`, /^$/);
          await this.runtime(`set server ${name} weight 1`, /^$/);
          kept[i] = { id: t.id, port: t.port, registeredAt: this.now() };
          continue;
        }
        await this.runtime(`add server ${name} ${t.id}:${t.port} ${checkOptions(tg.healthCheck, this.healthCheckTimeScale)}`, /New server registered/);
        if (tg.healthCheck.enabled) await this.runtime(`enable health ${name}`, /^$/);
        await this.runtime(`enable server ${name}`, /^$/);
        if (tg.healthCheck.enabled) {
          // Not in service before its first checks pass, as ELBv2's `initial`. Leaving maintenance
          // puts a checked server UP, whatever its health was set to, until its checks fail `fall`
          // times in a row (about a second here): so it is set down once enabled, before any check
          // could pass, and its down transitions so far are HAProxy's doing, not failed checks.
          await this.runtime(`set server ${name} health down`, /^$/);
          const row = (await this.haproxy.stat()).find((r) => r.pxname === be && r.svname === serverName(t));
          this.downsAtRegistration.set(name, Number(row?.chkdown || 0));
        }
        kept.push({ id: t.id, port: t.port, registeredAt: this.now() });
      }
      await this.saveTargets(tg, kept);
    });
  }

  /** DeregisterTargets: no new requests; in-flight ones have the deregistration delay to finish. */
  deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    return this.exclusive(async () => {
      const tg = this.targetGroup(targetGroupArn);
      const delayMs = Number(tg.attributes[DEREGISTRATION_DELAY] ?? DEFAULT_DEREGISTRATION_DELAY_SECONDS) * 1000;
      const kept = [...tg.targets];
      const at = (t: Target) => kept.findIndex((k) => k.id === t.id && k.port === t.port);
      const unknown = targets.find((t) => at(t) < 0);
      if (unknown) throw invalidTarget(`The following targets are not registered in target group '${tg.arn}': '${serverName(unknown)}'`);
      try {
        for (const t of targets) {
          const i = at(t);
          if (kept[i].drainingUntil !== undefined) continue;
          await this.runtime(`set server ${backendName(tg.arn)}/${serverName(t)} state drain`, /^$/);
          kept[i] = { ...kept[i], drainingUntil: this.now() + delayMs };
        }
      } finally {
        // What HAProxy already drains, the state says (and the sweep lets go of once drained),
        // even when a later target's command failed.
        await this.saveTargets(tg, kept);
        await this.sweep();
      }
    });
  }

  /** Targets past their deregistration delay leave HAProxy and the group; the next sweep is timed. */
  private async sweep(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.sweepTimer);
    const now = this.now();
    for (const tg of this.state.targetGroups) {
      const done = tg.targets.filter((t) => t.drainingUntil !== undefined && t.drainingUntil <= now);
      if (done.length === 0) continue;
      for (const t of done) await this.removeServer(tg, t);
      await this.saveTargets(tg, tg.targets.filter((t) => !done.includes(t)));
    }
    const next = Math.min(...this.state.targetGroups.flatMap((tg) => tg.targets.map((t) => t.drainingUntil ?? Infinity)));
    if (Number.isFinite(next)) {
      this.sweepTimer = setTimeout(() => void this.exclusive(() => this.sweep()).catch((e) => this.log(`load balancer: ${e}`)), Math.max(0, next - now));
      this.sweepTimer.unref();
    }
  }

  private async removeServer(tg: TargetGroupRecord, t: Target): Promise<void> {
    const name = `${backendName(tg.arn)}/${serverName(t)}`;
    await this.haproxy.command(`set server ${name} state maint`);
    await this.haproxy.command(`shutdown sessions server ${name}`);
    // Connections may take a moment to close; a server left behind in maintenance goes with the next reload.
    for (let i = 0; i < 20; i++) {
      const answer = await this.haproxy.command(`del server ${name}`);
      if (/deleted|No such server/i.test(answer)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * DescribeTargetHealth, from what HAProxy's checks say now. It waits for a change on its way:
   * HAProxy and the state agree only between changes (a server HAProxy already drains, read
   * beside a state that does not say so yet, would look like one failing its checks).
   */
  health(targetGroupArn: string): Promise<TargetHealth[] | undefined> {
    return this.exclusive(async () => {
      const tg = this.state.targetGroups.find((t) => t.arn === targetGroupArn);
      if (!tg) return undefined;
      const be = backendName(tg.arn);
      const rows = new Map((await this.haproxy.stat()).filter((r) => r.pxname === be).map((r) => [r.svname, r]));
      const inUse = tg.serviceConnect !== undefined || this.state.listeners.some((l) => l.targetGroupArn === tg.arn);
      return tg.targets.map((t) => {
        const name = `${be}/${serverName(t)}`;
        const h = targetHealth(tg, t, rows.get(serverName(t)), inUse, this.seenHealthy.has(name) ? -1 : this.downsAtRegistration.get(name) ?? 0);
        if (h.state === 'healthy') this.seenHealthy.add(name);
        return h;
      });
    });
  }

  /**
   * How many requests each target group's listeners have sent it since HAProxy started (its
   * backend's `req_tot`): what Application Auto Scaling's ALBRequestCountPerTarget counts locally.
   */
  async requestCounts(): Promise<Map<string, number>> {
    const rows = await this.haproxy.stat();
    const counts = new Map<string, number>();
    for (const tg of this.state.targetGroups) {
      const row = rows.find((r) => r.pxname === backendName(tg.arn) && r.svname === 'BACKEND');
      counts.set(tg.arn, Number(row?.req_tot || 0));
    }
    return counts;
  }
}

/** One target's ELBv2 state from its HAProxy server row. */
export function targetHealth(
  tg: TargetGroupRecord, t: TargetGroupRecord['targets'][number], row: StatRow | undefined, inUse: boolean, downsAtRegistration: number,
): TargetHealth {
  const target = { id: t.id, port: t.port };
  if (t.drainingUntil !== undefined) {
    return { target, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
  }
  if (!inUse) {
    return { target, state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' };
  }
  if (!row) return { target, state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' };
  if (!tg.healthCheck.enabled) return { target, state: 'unavailable', reason: 'Target.HealthCheckDisabled', description: 'Health checks are disabled' };
  const status = row.status ?? '';
  if (status.startsWith('UP')) return { target, state: 'healthy' };
  // Never UP since it was registered (no UP→DOWN transition yet): still ELBv2's initial checks.
  if (Number(row.chkdown || 0) <= downsAtRegistration) return { target, state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' };
  if (row.check_status === 'L7STS') {
    return { target, state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${row.check_code}]` };
  }
  if (/TOUT/.test(row.check_status ?? '')) return { target, state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' };
  return { target, state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
}
