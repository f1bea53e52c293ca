import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsCli } from '../support/aws-cli';
import { type LocalProcess, NPM_START, freePort, spawnLocalMode, stopGently } from '../support/local-process';

const ROOT = join(__dirname, '..', '..');

/** `npm start`'s program, run until it exits by itself. */
function runToExit(env: Record<string, string>, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, NPM_START, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The pids of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command may hold spaces and parentheses: the ppid is the second field after the last ')'.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

const environOf = (pid: number): Record<string, string> => Object.fromEntries(
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

/**
 * `npm start` as a new user meets it: a bad variable stops it before anything starts; a fresh
 * start answers the README's container-instance commands; its agents are threads of its own; and a
 * replaced key file stops the next start, naming the file.
 */
describe('npm start', () => {
  it('stops at a bad variable, naming it and what it accepts, before starting anything', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-badvar-'));

    // Act
    const { code, output } = await runToExit({ BERTH_DATA_DIR: dataDir, BERTH_MAX_HOSTS: 'x', BERTH_PORT: '70000' });

    // Assess
    expect(code).not.toBe(0);
    expect(output).toContain('BERTH_MAX_HOSTS: expected a whole number from 1 to 1000, got "x"');
    expect(output).toContain('BERTH_PORT: expected a whole number from 0 to 65535, got "70000"');
    expect(output).not.toContain('starting');
    // Nothing was started: not even the data directory has been written to.
    expect(readdirSync(dataDir)).toEqual([]);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  describe('on a fresh data directory', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-fresh-'));
    const userKey = { accessKeyId: 'AKIDSTARTUP', secretAccessKey: `berth-user-secret-${randomBytes(8).toString('hex')}` };
    const awsSecret = `aws-user-secret-${randomBytes(8).toString('hex')}`;
    let env: Record<string, string>;
    let proc: LocalProcess | undefined;
    let url: string;

    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      env = {
        BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port), BERTH_LOCAL_HOSTS: '2',
        BERTH_ACCESS_KEY_ID: userKey.accessKeyId, BERTH_SECRET_ACCESS_KEY: userKey.secretAccessKey,
        // What a user's shell often holds: it must not reach the hosts either.
        AWS_ACCESS_KEY_ID: 'AKIDUSERSHELL', AWS_SECRET_ACCESS_KEY: awsSecret, AWS_SESSION_TOKEN: awsSecret,
      };
      proc = await spawnLocalMode(env);
    }, 180_000);

    afterAll(async () => {
      if (proc) await stopGently(proc);
      rmSync(dataDir, { recursive: true, force: true });
    });

    it("answers the README's list-container-instances and describe-container-instances with the warm pool's hosts", async () => {
      // Act: before any RunTask, with the AWS CLI v2.
      const listed = await awsCli(url, 'ecs', ['list-container-instances'], userKey);
      const arns: string[] = listed.json?.containerInstanceArns ?? [];
      const described = await awsCli(url, 'ecs', ['describe-container-instances', '--container-instances', ...arns], userKey);

      // Assess
      expect([listed.code, listed.errorType, listed.stderr]).toEqual([0, undefined, '']);
      expect(arns).toHaveLength(2);
      for (const arn of arns) expect(arn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:container-instance\/default\/local-[0-9a-f]{8}$/);
      expect(described.code).toBe(0);
      expect(described.json.failures).toEqual([]);
      expect(described.json.containerInstances.map((c: { status: string }) => c.status)).toEqual(['ACTIVE', 'ACTIVE']);
      const clusters = await awsCli(url, 'ecs', ['describe-clusters'], userKey);
      expect(clusters.json.clusters.map((c: { clusterName: string; status: string }) => [c.clusterName, c.status])).toEqual([['default', 'ACTIVE']]);
    }, 120_000);

    it('runs its agents as threads of its own process, not as processes', () => {
      // Act: the local mode's child processes (podman's service, and whatever else it started).
      const children = childrenOf(proc!.child.pid!);

      // Assess: none is an agent (each would carry its host id); the two hosts are there all the
      // same (the test above). That no user key reaches an agent's own environment is
      // test/unit/local-fleet.test.ts's to show.
      // (A short-lived child, gone between the listing and the read, is no agent either.)
      const isAgent = (pid: number) => {
        try {
          return environOf(pid).BERTH_HOST_ID !== undefined;
        } catch {
          return false;
        }
      };
      expect(children.length).toBeGreaterThan(0);
      expect(children.filter(isAgent)).toEqual([]);
    });

    it('refuses the next start on a replaced access-keys.key, naming the file', async () => {
      // Prepare: stop, then put another key in the key file's place.
      await stopGently(proc!);
      proc = undefined;
      const keyFile = join(dataDir, 'access-keys.key');
      rmSync(keyFile);
      writeFileSync(keyFile, randomBytes(32), { mode: 0o600 });

      // Act
      const { code, output } = await runToExit(env);

      // Assess
      expect(code).not.toBe(0);
      expect(output).toContain(`berth: failed to start: ${keyFile} does not open the access keys sealed in this data directory`);
    }, 180_000);
  });
});

