import Docker from 'dockerode';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ISOLATION_JUMP, countJumps, iptables, keepNetavarkIsolation } from '../../agent/runtime/netavark-isolation';
import { startPodmanService, type PodmanService } from '../../local/podman';

/**
 * The iptables jump that keeps podman's task networks apart (netavark 1.4 drops its own). Needs
 * root, as the agent and CI run; without it, the function says so and touches nothing.
 */

let dataDir: string;
let podman: PodmanService;
let docker: Docker;
const isRoot = process.getuid?.() === 0;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-netavark-'));
  podman = await startPodmanService({ dataDir, log: () => {} });
  docker = new Docker({ socketPath: podman.socketPath });
}, 120_000);

afterAll(async () => {
  await podman?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('keepNetavarkIsolation', () => {
  it('adds the jump once, however often and however concurrently it runs', async () => {
    expect(isRoot).toBe(true);
    while (await iptables(['-D', ...ISOLATION_JUMP]));

    const outcomes = await Promise.all([keepNetavarkIsolation(docker), keepNetavarkIsolation(docker), keepNetavarkIsolation(docker)]);
    const again = await keepNetavarkIsolation(docker);

    expect(outcomes).toEqual(['kept', 'kept', 'kept']);
    expect(again).toBe('kept');
    expect(await countJumps()).toBe(1);
  }, 120_000);

  it('puts the jump back when it has gone', async () => {
    // Prepare: as if something had flushed it.
    while (await iptables(['-D', ...ISOLATION_JUMP]));

    // Act
    const outcome = await keepNetavarkIsolation(docker);

    // Assess
    expect(outcome).toBe('kept');
    expect(await countJumps()).toBe(1);
  }, 120_000);

  it('says it is not root, and leaves iptables alone, when it is not', async () => {
    // Prepare
    while (await iptables(['-D', ...ISOLATION_JUMP]));

    // Act
    const outcome = await keepNetavarkIsolation(docker, 1000);
    const jumps = await countJumps();
    await keepNetavarkIsolation(docker);

    // Assess
    expect(outcome).toBe('not root');
    expect(jumps).toBe(0);
  }, 120_000);
});
