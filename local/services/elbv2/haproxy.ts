import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Elbv2State, HealthCheckSettings, TargetGroupRecord, TargetRecord } from './store';

/**
 * The local load balancer is a real HAProxy (Debian's), one process in master-worker mode for
 * the whole local mode. Listeners and target groups are its frontends and backends, written
 * into its configuration (a change reloads it without dropping connections); targets come and
 * go through its runtime API (`add server`, `set server ... state drain`, `del server`) and are
 * written into the configuration too, so a reload keeps them.
 */

const run = promisify(execFile);

/** HAProxy's names for ELBv2's resources: the last part of the ARN is unique. */
export const backendName = (targetGroupArn: string) => `tg-${targetGroupArn.split('/').pop()}`;
export const frontendName = (listenerArn: string) => `listener-${listenerArn.split('/').pop()}`;
export const serviceConnectFrontendName = (targetGroupArn: string) => `sc-${targetGroupArn.split('/').pop()}`;
export const serverName = (t: Pick<TargetRecord, 'id' | 'port'>) => `${t.id}:${t.port}`;

/** ELBv2's success codes (`200`, `200-299`, `200,202`) as HAProxy's status regex. */
export function statusRegex(httpCode: string): string {
  const codes = new Set<number>();
  for (const part of httpCode.split(',')) {
    const [from, to] = part.trim().split('-').map(Number);
    for (let c = from; c <= (to ?? from); c++) codes.add(c);
  }
  return `^(${[...codes].join('|')})$`;
}

/**
 * What `check` means on one server line: the target group's interval and thresholds. `timeScale`
 * shortens the interval (and timeout) locally, so tests need not wait out ELBv2's 5 s minimum.
 */
export function checkOptions(hc: HealthCheckSettings, timeScale = 1): string {
  if (!hc.enabled) return '';
  const port = hc.port === 'traffic-port' ? '' : ` port ${hc.port}`;
  return `check inter ${Math.max(1, Math.round(hc.intervalSeconds * 1000 * timeScale))} rise ${hc.healthyThresholdCount} fall ${hc.unhealthyThresholdCount}${port}`;
}

/**
 * The check's timeout, shortened like the interval but never below a second (or the group's own
 * timeout, if that is shorter): a busy machine answers a health check in more than a fifth of
 * a second, and a target that answers late is not unhealthy.
 */
function checkTimeoutMs(hc: HealthCheckSettings, timeScale: number): number {
  const ms = hc.timeoutSeconds * 1000;
  return Math.max(Math.min(ms, 1000), Math.round(ms * timeScale));
}

function backend(tg: TargetGroupRecord, now: number, timeScale: number): string[] {
  const hc = tg.healthCheck;
  const lines = [
    `backend ${backendName(tg.arn)}`,
    '  balance roundrobin',
    // A connection refused is safe to try on another target: the request never reached one.
    '  option redispatch',
    '  retries 2',
    '  retry-on conn-failure empty-response',
  ];
  // A Service Connect endpoint relays TCP, whatever the protocol; its check is a connect.
  if (tg.serviceConnect) lines.push('  mode tcp');
  if (hc.enabled && !tg.serviceConnect) {
    lines.push('  option httpchk', `  http-check send meth GET uri ${hc.path}`, `  http-check expect rstatus ${statusRegex(hc.httpCode)}`,
      `  timeout check ${checkTimeoutMs(hc, timeScale)}ms`);
  }
  for (const t of tg.targets) {
    if (t.drainingUntil !== undefined && t.drainingUntil <= now) continue;
    const drain = t.drainingUntil !== undefined ? ' weight 0' : '';
    lines.push(`  server ${serverName(t)} ${t.id}:${t.port} ${checkOptions(hc, timeScale)}${drain}`);
  }
  return lines;
}

/** The whole configuration for a state: one frontend per listener, one backend per target group. */
export function renderConfig(state: Elbv2State, socketPath: string, now: number, timeScale = 1): string {
  const lines = [
    'global',
    '  master-worker',
    `  stats socket ${socketPath} mode 600 level admin expose-fd listeners`,
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout http-keep-alive 5s',
    // HAProxy will not run without a proxy; this one serves nothing.
    'backend berth-idle',
  ];
  for (const l of state.listeners) {
    lines.push(`frontend ${frontendName(l.arn)}`, `  bind 127.0.0.1:${l.port}`, `  default_backend ${backendName(l.targetGroupArn)}`);
  }
  for (const tg of state.targetGroups) {
    if (!tg.serviceConnect) continue;
    lines.push(`frontend ${serviceConnectFrontendName(tg.arn)}`, '  mode tcp', `  bind 127.0.0.1:${tg.serviceConnect.proxyPort}`, `  default_backend ${backendName(tg.arn)}`);
  }
  for (const tg of state.targetGroups) lines.push(...backend(tg, now, timeScale));
  return `${lines.join('\n')}\n`;
}

/** One row of `show stat`, by HAProxy's column names. */
export type StatRow = Record<string, string>;

export function parseStat(csv: string): StatRow[] {
  const [head, ...rows] = csv.trim().split('\n');
  const names = head.replace(/^# /, '').split(',');
  return rows.filter((r) => r.length > 0).map((r) => Object.fromEntries(r.split(',').map((v, i) => [names[i], v])));
}

export class HAProxy {
  private process?: ChildProcess;
  readonly socketPath: string;
  private readonly configPath: string;
  private readonly pidPath: string;

  constructor(private readonly dir: string, private readonly log: (line: string) => void) {
    this.socketPath = join(dir, 'haproxy.sock');
    this.configPath = join(dir, 'haproxy.cfg');
    this.pidPath = join(dir, 'haproxy.pid');
  }

  async start(config: string): Promise<void> {
    this.stopLeftover();
    await this.check(config);
    writeFileSync(this.configPath, config);
    const out = openSync(join(this.dir, 'haproxy.log'), 'a');
    const p = spawn('haproxy', ['-W', '-db', '-f', this.configPath], { stdio: ['ignore', out, out] });
    this.process = p;
    writeFileSync(this.pidPath, String(p.pid));
    p.on('exit', (code, signal) => {
      if (this.process === p) this.log(`HAProxy exited (${signal ?? code}); see ${join(this.dir, 'haproxy.log')}`);
    });
    await this.until(async () => (await this.workerPid()) !== undefined, 'HAProxy to answer on its socket');
  }

  /** A HAProxy an earlier run of this data directory left (killed before it could stop it). */
  private stopLeftover(): void {
    if (!existsSync(this.pidPath)) return;
    const pid = Number(readFileSync(this.pidPath, 'utf8'));
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.configPath)) process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }

  private async check(config: string): Promise<void> {
    const candidate = `${this.configPath}.new`;
    writeFileSync(candidate, config);
    try {
      await run('haproxy', ['-c', '-q', '-f', candidate]);
    } catch (e) {
      throw new Error(`HAProxy refuses the configuration: ${(e as { stderr?: string }).stderr ?? e}`);
    }
  }

  /** Writes the configuration and, when asked, has the master start a worker on it (old connections finish on the old one). */
  async apply(config: string, reload: boolean): Promise<void> {
    if (!reload) {
      writeFileSync(`${this.configPath}.new`, config);
      renameSync(`${this.configPath}.new`, this.configPath);
      return;
    }
    await this.check(config);
    renameSync(`${this.configPath}.new`, this.configPath);
    const before = await this.workerPid();
    this.process?.kill('SIGUSR2');
    await this.until(async () => {
      const now = await this.workerPid();
      return now !== undefined && now !== before;
    }, 'HAProxy to reload');
  }

  private async workerPid(): Promise<string | undefined> {
    try {
      return /^Pid: (\d+)/m.exec(await this.command('show info'))?.[1];
    } catch {
      return undefined;
    }
  }

  private async until(ok: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** One runtime API command; the answer as HAProxy gives it. */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = createConnection(this.socketPath);
      let out = '';
      c.setEncoding('utf8');
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
      c.on('error', reject);
      // A socket caught in a reload (the old worker letting go of it) must not hold a caller forever.
      c.setTimeout(5000, () => c.destroy(new Error(`HAProxy did not answer '${line}'`)));
      c.write(`${line}\n`);
    });
  }

  async stat(): Promise<StatRow[]> {
    return parseStat(await this.command('show stat'));
  }

  async stop(): Promise<void> {
    const p = this.process;
    this.process = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      // Workers finishing slow connections get a few seconds, then the whole process group goes.
      const force = setTimeout(() => p.kill('SIGKILL'), 5000);
      p.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      p.kill('SIGTERM');
    });
  }
}
