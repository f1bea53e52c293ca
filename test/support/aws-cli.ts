import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerScratchDir } from './data-dirs';

/** Debian's AWS CLI v2; a v1 shim may come first on PATH, so it is called by its full path. */
export const AWS_CLI = '/usr/bin/aws';

export interface CliResult {
  code: number;
  json: any;
  stderr: string;
  /** The error type the CLI printed, e.g. ClusterNotFoundException. */
  errorType?: string;
}

const home = mkdtempSync(join(tmpdir(), 'berth-cli-'));
registerScratchDir(home);

/** Runs `aws ecs ...` against the endpoint, with throwaway credentials and no pager. */
export function awsEcs(endpoint: string, args: string[]): Promise<CliResult> {
  return awsCli(endpoint, 'ecs', args);
}

/** Runs `aws logs ...` against the endpoint's local CloudWatch Logs slice. */
export function awsLogs(endpoint: string, args: string[]): Promise<CliResult> {
  return awsCli(endpoint, 'logs', args);
}

/** Runs `aws SERVICE ...` against the endpoint (ECS or a local slice), signed with `credentials` for `region`, with no pager. */
export function awsCli(
  endpoint: string,
  service: string,
  args: string[],
  credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  region = 'us-east-1',
): Promise<CliResult> {
  return runCli([service, ...args, '--endpoint-url', endpoint, '--region', region, '--output', 'json'], {
    PATH: process.env.PATH ?? '', HOME: home, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1', AWS_EC2_METADATA_DISABLED: 'true',
  }).then(({ code, stdout, stderr }) => ({
    code,
    json: stdout.trim() ? JSON.parse(stdout) : undefined,
    stderr,
    errorType: /An error occurred \(([A-Za-z]+)\)/.exec(stderr)?.[1],
  }));
}

/**
 * The CLI's interpreter starts once per test process: aws-cli-server.py imports the CLI, then runs
 * each call in a forked child through the same main() /usr/bin/aws runs. A call costs about a
 * fifth of the CPU of a fresh `aws` process, which spent most of its second importing itself.
 */
/** The server's socket, once it answers. */
let server: Promise<string> | undefined;
let calls = 0;

function cliServer(): Promise<string> {
  server ??= new Promise((resolve, reject) => {
    const socket = join(home, 'server.sock');
    // The interpreter /usr/bin/aws names in its first line.
    const python = readFileSync(AWS_CLI, 'utf8').split('\n')[0].replace(/^#!\s*/, '').split(' ');
    const child = spawn(python[0], [...python.slice(1), join(__dirname, 'aws-cli-server.py'), socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.once('data', () => resolve(socket));
    child.once('exit', (code) => reject(new Error(`the AWS CLI server exited (${code}): ${stderr}`)));
    // It serves this test process only, and ends with it.
    child.unref();
    (child.stdout as unknown as { unref(): void }).unref();
    (child.stderr as unknown as { unref(): void }).unref();
    process.once('exit', () => child.kill());
  });
  return server;
}

async function runCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const socket = await cliServer();
  const out = join(home, `call-${++calls}`);
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const conn = connect(socket);
      let answer = '';
      conn.on('data', (c) => (answer += c.toString()));
      conn.on('error', reject);
      conn.on('end', () => (answer.trim() ? resolve(Number(answer.trim())) : reject(new Error(`no exit code from the AWS CLI for ${argv.slice(0, 2).join(' ')}`))));
      conn.end(`${JSON.stringify({ argv, env, cwd: process.cwd(), stdout: `${out}.out`, stderr: `${out}.err` })}\n`);
    });
    return { code, stdout: readFileSync(`${out}.out`, 'utf8'), stderr: readFileSync(`${out}.err`, 'utf8') };
  } finally {
    for (const f of [`${out}.out`, `${out}.err`]) rmSync(f, { force: true });
  }
}
