import { type Metafile, type Plugin, build } from 'esbuild';
import { join } from 'node:path';

const AGENT_MAIN = join(__dirname, '..', 'agent', 'main.ts');

/**
 * Bundles the agent into one file with esbuild, as it ships to an EC2 host. An agent then
 * starts in a fraction of a second instead of compiling TypeScript at every boot, which on a
 * small machine booting several hosts at once made the whole fleet stall.
 */
export async function bundleAgent(): Promise<string> {
  return (await buildAgent(join(__dirname, '..', '.build', 'agent.js'))).outfile;
}

/**
 * dockerode's ssh transport requires `ssh2` (and its native `cpu-features`) as it loads, though
 * the agent only speaks to the engine over a unix socket. A host has no node_modules, so the
 * bundle carries a stand-in that refuses ssh instead of a require that would fail at start.
 */
const withoutSsh: Plugin = {
  name: 'without-ssh',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'without-ssh' }));
    b.onLoad({ filter: /.*/, namespace: 'without-ssh' }, () => ({
      contents: "exports.Client = class { constructor() { throw new Error('the Berth agent speaks to the engine over a unix socket, not ssh'); } };",
      loader: 'js',
    }));
  },
};

/** The bundle, and esbuild's metafile: every module it carries is one of its `inputs`. */
export async function buildAgent(outfile: string): Promise<{ outfile: string; metafile: Metafile }> {
  const r = await build({
    entryPoints: [AGENT_MAIN],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    plugins: [withoutSsh],
    metafile: true,
    logLevel: 'warning',
  });
  return { outfile, metafile: r.metafile };
}
