import { type Metafile, type Plugin, build } from 'esbuild';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const AGENT_MAIN = join(ROOT, 'agent', 'main.ts');

/**
 * Bundles the agent into one file with esbuild, as it ships to an EC2 host. An agent then
 * starts in a fraction of a second instead of compiling TypeScript at every boot, which on a
 * small machine booting several hosts at once made the whole fleet stall.
 */
export async function bundleAgent(outfile = join(ROOT, '.build', 'agent.js')): Promise<string> {
  const inputsFile = `${outfile}.inputs.json`;
  if (await upToDate(outfile, inputsFile)) return outfile;
  // Built aside and renamed into place: another local mode on this machine may be starting an
  // agent from the bundle this very moment, and must never read half a file.
  const aside = `${outfile}.${process.pid}.${Date.now()}`;
  const { metafile } = await buildAgent(aside);
  // Files only: a plugin's module (`namespace:path`) has nothing on disk to change.
  await writeFile(inputsFile, JSON.stringify(Object.keys(metafile.inputs).filter((i) => !/^[\w-]+:/.test(i))));
  await rename(aside, outfile);
  return outfile;
}

/** The bundle is newer than every file it was built from (paths relative to the repository). */
async function upToDate(outfile: string, inputsFile: string): Promise<boolean> {
  try {
    const built = (await stat(outfile)).mtimeMs;
    const inputs = JSON.parse(await readFile(inputsFile, 'utf8')) as string[];
    const times = await Promise.all(inputs.map(async (i) => (await stat(join(ROOT, i))).mtimeMs));
    return inputs.length > 0 && times.every((t) => t <= built);
  } catch {
    return false;
  }
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
    absWorkingDir: ROOT,
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
