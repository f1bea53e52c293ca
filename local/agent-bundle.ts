import { type Metafile, build } from 'esbuild';
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
    // dockerode's ssh transport (never used over a unix socket) carries native addons: left to
    // node_modules, which the bundle's place in the repo's .build/ lets node find.
    external: ['cpu-features', 'ssh2'],
    metafile: true,
    logLevel: 'warning',
  });
  return { outfile, metafile: r.metafile };
}
