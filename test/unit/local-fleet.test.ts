import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS, LocalFleet } from '../../local/fleet';

describe('LocalFleet', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-local-fleet-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts each agent as a plain node process with the agents\' flags, and the host in its environment', async () => {
    // Prepare: a stand-in agent that says how it was started.
    const agentScript = join(dir, 'agent.js');
    writeFileSync(agentScript, [
      // Short-lived objects in plenty, as an agent with many tasks makes them: the young generation grows as far as it may.
      'let young = []; for (let i = 0; i < 3e6; i++) { young.push({ i }); if (young.length > 5e4) young = []; }',
      'const newSpace = require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;',
      'console.log(JSON.stringify({ flags: process.execArgv, host: process.env.BERTH_HOST_ID, newSpace }));',
    ].join('\n'));
    const lines: string[] = [];
    const fleet = new LocalFleet({ agentScript, endpoint: 'http://127.0.0.1:9', dockerSocket: join(dir, 'none.sock'), dataDir: dir, log: (l) => lines.push(l) });

    // Act
    const child = fleet.start({ hostId: 'h-flags', cpu: 1024, memory: 2048 });
    await new Promise((resolve) => child.once('exit', resolve));

    // Assess: the flags reach node, and V8 honours them (a young generation of two 1 MiB halves at most; 16 MiB each without).
    const said = JSON.parse(lines.join('')) as { flags: string[]; host: string; newSpace: number };
    expect(said.flags).toEqual([...AGENT_NODE_FLAGS]);
    expect(said.host).toBe('h-flags');
    expect(said.newSpace).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
