import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildAgent, bundleAgent } from '../../local/agent-bundle';

/** Code that runs only in the control plane: none of it may ship to a host inside the agent. */
const SERVER_MODULES = [
  'shared/lifecycle/', 'shared/store/', 'shared/ecs-api/', 'shared/capacity/', 'shared/agent-api/',
  'shared/auth/', 'shared/scheduler/', 'shared/workflows/', 'shared/cloud/', 'local/', 'functions/',
];

const serverModulesIn = (inputs: Record<string, unknown>) =>
  Object.keys(inputs).filter((path) => SERVER_MODULES.some((m) => path.startsWith(m)));

/** The bundle's inputs reached from agent/main.ts by static imports and requires: those run as it loads. */
function loadedAtStart(inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>): string[] {
  const reached = new Set(['agent/main.ts']);
  for (const path of reached) {
    for (const i of inputs[path]?.imports ?? []) if (i.kind !== 'dynamic-import' && !i.external) reached.add(i.path);
  }
  return [...reached];
}

describe('the agent bundle', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-agent-bundle-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carries the agent and the wire module, and no server module', async () => {
    // Act
    const { metafile } = await buildAgent(join(dir, 'agent.js'));

    // Assess
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['agent/main.ts', 'agent/client.ts', 'shared/agent-wire/constants.ts']));
    expect(serverModulesIn(metafile.inputs)).toEqual([]);
  });

  it('carries no zod: an agent checks its configuration without it (zod cost each agent about 10 MiB)', async () => {
    // Act
    const { metafile } = await buildAgent(join(dir, 'agent.js'));

    // Assess
    expect(Object.keys(metafile.inputs).filter((path) => path.includes('node_modules/zod/'))).toEqual([]);
  });

  it('runs no AWS SDK code at start: SDK clients load when a task first needs one, and the agent signs its own calls', async () => {
    // Act
    const { metafile } = await buildAgent(join(dir, 'agent.js'));

    // Assess: what agent/main.ts reaches through static imports runs as the bundle loads.
    expect(loadedAtStart(metafile.inputs).filter((path) => /node_modules\/@(aws-sdk|smithy)\//.test(path))).toEqual([]);
    // ... and the SDK is there for the tasks that need it.
    expect(Object.keys(metafile.inputs).some((path) => path.includes('node_modules/@aws-sdk/client-secrets-manager/'))).toBe(true);
  });

  it('is built once for every local mode that starts, and again when a file it was built from changes', async () => {
    // Prepare: a bundle, and a file of the repository's that (as the test pretends) it was built from.
    const outfile = join(dir, 'cached', 'agent.js');
    await bundleAgent(outfile);
    const builtAt = statSync(outfile).mtimeMs;
    const input = join(dir, 'input.ts');
    writeFileSync(input, '');
    utimesSync(input, new Date(builtAt - 60_000), new Date(builtAt - 60_000));
    const inputs = JSON.parse(readFileSync(`${outfile}.inputs.json`, 'utf8')) as string[];
    writeFileSync(`${outfile}.inputs.json`, JSON.stringify([...inputs, relative(process.cwd(), input)]));

    // Act and assess: nothing changed, nothing built; the input changes, the bundle is new.
    expect(await bundleAgent(outfile)).toBe(outfile);
    expect(statSync(outfile).mtimeMs).toBe(builtAt);
    utimesSync(input, new Date(builtAt + 60_000), new Date(builtAt + 60_000));
    await bundleAgent(outfile);
    expect(statSync(outfile).mtimeMs).toBeGreaterThan(builtAt);
  });

  it('loads on a machine with Node alone (no node_modules), as on a host', async () => {
    // Prepare: the bundle alone, in a directory with no node_modules above it.
    const { outfile } = await buildAgent(join(dir, 'agent.js'));

    // Act: it loads every module, then stops at its configuration, which is not given.
    const ran = spawnSync(process.execPath, [outfile], { cwd: dir, env: { PATH: process.env.PATH }, encoding: 'utf8' });

    // Assess
    expect(ran.stderr).not.toContain('Cannot find module');
    expect(ran.stderr).toContain('berth-agent: bad configuration');
    expect(ran.status).toBe(2);
  });

  it('would be caught carrying one: the server side of the agent API pulls them in', async () => {
    // Act: what the agent bundled when it took its constants from the agent API's operations.
    const r = await build({
      entryPoints: ['shared/agent-api/operations.ts'], bundle: true, platform: 'node', write: false, metafile: true,
      external: ['cpu-features', 'ssh2'], logLevel: 'silent',
    });

    // Assess
    expect(serverModulesIn(r.metafile.inputs)).toEqual(expect.arrayContaining(['shared/lifecycle/reports.ts', 'shared/lifecycle/stop.ts']));
  });
});
