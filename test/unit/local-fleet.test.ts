import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { LocalFleet } from '../../local/fleet';

describe('LocalFleet', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-local-fleet-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The stand-in's one JSON line, among the fleet's own. */
  const said0 = (lines: string[]) => JSON.parse(lines.find((l) => l.startsWith('{'))!);
  const fleetOf = (agentScript: string, lines: string[]) =>
    new LocalFleet({ agentScript, endpoint: 'http://127.0.0.1:9', dockerSocket: join(dir, 'none.sock'), dataDir: dir, log: (l) => lines.push(l) });

  it('starts each agent in a thread of its own, with the host and no user key in its environment, and a small young generation', async () => {
    // Prepare: a stand-in agent that says how it was started; a user key in this process's environment.
    const agentScript = join(dir, 'says.js');
    writeFileSync(agentScript, [
      // Short-lived objects in plenty, as an agent with many tasks makes them: the young generation grows as far as it may.
      'let young = []; for (let i = 0; i < 3e6; i++) { young.push({ i }); if (young.length > 5e4) young = []; }',
      'const newSpace = require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;',
      'const { threadId } = require("node:worker_threads");',
      'console.log(JSON.stringify({ flags: process.execArgv, env: process.env, newSpace, threadId }));',
    ].join('\n'));
    const lines: string[] = [];
    const fleet = fleetOf(agentScript, lines);
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    process.env.AWS_SECRET_ACCESS_KEY = secret;

    // Act
    let agent;
    try {
      agent = fleet.start({ hostId: 'h-flags', cpu: 1024, memory: 2048 });
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
    const code = await agent.exited;

    // Assess: a thread of this process with no flags of its own (no loader); its young generation
    // of 1 MiB semi-spaces at most (16 MiB each without); its environment its own, without the key.
    expect(lines).toContain(`[h-flags] agent started (thread ${said0(lines).threadId})`);
    const said = said0(lines) as { flags: string[]; env: Record<string, string>; newSpace: number; threadId: number };
    expect(code).toBe(0);
    expect(said.threadId).not.toBe(threadId);
    expect(said.flags).toEqual([]);
    expect(said.env.BERTH_HOST_ID).toBe('h-flags');
    expect(said.env.BERTH_ENDPOINT).toBe('http://127.0.0.1:9');
    expect(JSON.stringify(said.env)).not.toContain(secret);
    expect(said.env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(said.newSpace).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(fleet.agents.has('h-flags')).toBe(false);
  });

  it('kills an agent abruptly (nothing of its own runs after) and stops one by asking it, as SIGKILL and SIGTERM do a process', async () => {
    // Prepare: a stand-in that never ends by itself, says when it stops, and would say if its exit handlers ran.
    const agentScript = join(dir, 'waits.js');
    writeFileSync(agentScript, [
      'const { parentPort } = require("node:worker_threads");',
      'process.on("exit", () => console.log(`${process.env.BERTH_HOST_ID} exit handler`));',
      'parentPort.on("message", (m) => { console.log(`${process.env.BERTH_HOST_ID} asked: ${m}`); process.exit(0); });',
      'setInterval(() => {}, 1 << 30);',
      'console.log(`${process.env.BERTH_HOST_ID} up`);',
    ].join('\n'));
    const lines: string[] = [];
    const fleet = fleetOf(agentScript, lines);
    const killed = fleet.start({ hostId: 'h-killed', cpu: 1024, memory: 2048 });
    const stopped = fleet.start({ hostId: 'h-stopped', cpu: 1024, memory: 2048 });
    while (!(lines.includes('h-killed up') && lines.includes('h-stopped up'))) await new Promise((r) => setTimeout(r, 10));

    // Act
    await fleet.kill('h-killed');
    await fleet.stop('h-stopped');

    // Assess
    expect(killed.running).toBe(false);
    expect(stopped.running).toBe(false);
    expect(lines.filter((l) => l.startsWith('h-killed'))).toEqual(['h-killed up']);
    expect(lines.filter((l) => l.startsWith('[h-killed]'))).toEqual([`[h-killed] agent started (thread ${killed.threadId})`]);
    expect(lines).toContain('h-stopped asked: berth-agent:stop');
    expect(await stopped.exited).toBe(0);
    expect(fleet.agents.size).toBe(0);
  });

  it('kills an agent that does not stop within the grace it was given', async () => {
    // Prepare: a stand-in deaf to the stop message.
    const agentScript = join(dir, 'deaf.js');
    writeFileSync(agentScript, 'setInterval(() => {}, 1 << 30);\nconsole.log("up");\n');
    const lines: string[] = [];
    const agent = fleetOf(agentScript, lines).start({ hostId: 'h-deaf', cpu: 1024, memory: 2048 });
    while (!lines.includes('up')) await new Promise((r) => setTimeout(r, 10));

    // Act
    await agent.stop(50);

    // Assess: ended by the fleet, not by itself (a terminated thread's exit code is 1).
    expect(agent.running).toBe(false);
    expect(await agent.exited).toBe(1);
  });
});
