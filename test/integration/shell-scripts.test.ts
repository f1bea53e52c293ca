import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentUserData } from '../../shared/cloud/aws/user-data';

const REPO = join(__dirname, '..', '..');
const INIT_DIR = join(REPO, 'localstack', 'init', 'ready.d');

/** shellcheck's findings for one script (an empty list when it passes), at its default severity. */
async function shellcheck(path: string): Promise<string[]> {
  try {
    await promisify(execFile)('shellcheck', ['--format=gcc', path]);
    return [];
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? String(e);
    return out.split('\n').filter(Boolean);
  }
}

/** The shell the project hands to machines it does not run itself passes shellcheck (Debian's package). */
describe('Shell scripts', () => {
  it.each([
    ['an s3:// bundle, with its hash and a bootstrap token', { bundleUrl: 's3://berth-artifacts/agent.js', bundleSha256: 'a'.repeat(64), bootstrapToken: 'tok-123', agentVersion: '1.2.3' }],
    ['an https:// bundle, registering by instance identity', { bundleUrl: 'https://berth-artifacts.example/agent.js?X-Amz-Signature=abc' }],
  ])('the hosts\' user data, rendered with %s', async (_what, options) => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'berth-user-data-')), 'user-data.sh');
    writeFileSync(file, agentUserData({ endpoint: 'https://abc123.execute-api.us-east-1.amazonaws.com', region: 'us-east-1', ...options }));

    // Act + assess
    expect(await shellcheck(file)).toEqual([]);
  });

  it.each(readdirSync(INIT_DIR))('the LocalStack init script %s', async (name) => {
    expect(await shellcheck(join(INIT_DIR, name))).toEqual([]);
  });
});
