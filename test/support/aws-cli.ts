import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  return new Promise((resolve) => {
    execFile(AWS_CLI, [service, ...args, '--endpoint-url', endpoint, '--region', region, '--output', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH, HOME: home, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1', AWS_EC2_METADATA_DISABLED: 'true',
      },
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({
        code,
        json: stdout.trim() ? JSON.parse(stdout) : undefined,
        stderr,
        errorType: /An error occurred \(([A-Za-z]+)\)/.exec(stderr)?.[1],
      });
    });
  });
}
