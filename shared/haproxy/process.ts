import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * One HAProxy process in master-worker mode, its files in a directory of its own: started on a
 * configuration, reloaded on a new one without dropping connections (SIGUSR2: old connections
 * finish on the old worker), spoken to through its runtime API socket. The local load balancer
 * runs one for the whole local mode (local/services/elbv2/); an EC2 host's agent runs one as its
 * Service Connect proxy (agent/service-connect-proxy.ts).
 */

const run = promisify(execFile);

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
