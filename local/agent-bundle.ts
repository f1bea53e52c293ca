import { type Metafile, type Plugin, build, stop } from 'esbuild';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const ROOT = join(__dirname, '..');
const AGENT_MAIN = join(ROOT, 'agent', 'main.ts');

/**
 * Bundles the agent into one file with esbuild, as it ships to an EC2 host. An agent then
 * starts in a fraction of a second instead of compiling TypeScript at every boot, which on a
 * small machine booting several hosts at once made the whole fleet stall.
 */
export async function bundleAgent(outfile = join(ROOT, '.build', 'agent.js')): Promise<string> {
  await buildInPlace(outfile, async (aside) => (await buildAgent(aside)).metafile);
  return outfile;
}

/**
 * Builds a bundle with `buildTo` unless it is up to date; its metafile when it was built. Built
 * aside and renamed into place: another local mode (or another test lane) on this machine may be
 * starting from the bundle this very moment, or building it too, and must never read half a
 * file. (Aside in a directory of its own, so the bundle's link to its source map keeps its name.)
 */
export async function buildInPlace(outfile: string, buildTo: (outfile: string) => Promise<Metafile>): Promise<Metafile | undefined> {
  const inputsFile = `${outfile}.inputs.json`;
  if (await upToDate(outfile, inputsFile)) return undefined;
  await mkdir(dirname(outfile), { recursive: true });
  const aside = await mkdtemp(`${outfile}.`);
  building++;
  try {
    const metafile = await buildTo(join(aside, basename(outfile)));
    await writeInputs(inputsFile, metafile);
    await rename(join(aside, `${basename(outfile)}.map`), `${outfile}.map`);
    await rename(join(aside, basename(outfile)), outfile);
    return metafile;
  } finally {
    await rm(aside, { recursive: true, force: true });
    // esbuild's service process (over 200 MiB resident) would otherwise idle beside the control
    // plane for as long as it runs; a later build starts it again.
    // Not waited for: the start never hangs on a service that is slow to go.
    if (--building === 0) void Promise.resolve(stop()).catch(() => {});
  }
}

/** The bundle is newer than every file it was built from (paths relative to the repository). */
export async function upToDate(outfile: string, inputsFile: string): Promise<boolean> {
  try {
    const built = (await stat(outfile)).mtimeMs;
    const inputs = JSON.parse(await readFile(inputsFile, 'utf8')) as string[];
    const times = await Promise.all(inputs.map(async (i) => (await stat(join(ROOT, i))).mtimeMs));
    return inputs.length > 0 && times.every((t) => t <= built);
  } catch {
    return false;
  }
}

/** Records what a bundle was built from, for upToDate. */
export async function writeInputs(inputsFile: string, metafile: Metafile): Promise<void> {
  // Files only: a plugin's module (`namespace:path`) has nothing on disk to change.
  await writeFile(inputsFile, JSON.stringify(Object.keys(metafile.inputs).filter((i) => !/^[\w-]+:/.test(i))));
}

/** Builds under way in this process: esbuild's service stops once none is. */
let building = 0;

/**
 * dockerode's ssh transport requires `ssh2` (and its native `cpu-features`) as it loads, though
 * the agent only speaks to the engine over a unix socket. A host has no node_modules, so the
 * bundle carries a stand-in that refuses ssh instead of a require that would fail at start.
 */
export const withoutSsh: Plugin = {
  name: 'without-ssh',
  setup(b) {
    b.onResolve({ filter: /^ssh2$/ }, () => ({ path: 'ssh2', namespace: 'without-ssh' }));
    b.onLoad({ filter: /.*/, namespace: 'without-ssh' }, () => ({
      contents: "exports.Client = class { constructor() { throw new Error('the Berth agent speaks to the engine over a unix socket, not ssh'); } };",
      loader: 'js',
    }));
  },
};

/**
 * dockerode loads gRPC and protobuf for BuildKit sessions and build output (image builds), which
 * Berth never asks for: megabytes of code parsed and kept in every process that talks to the engine.
 */
export const withoutBuildSessions: Plugin = {
  name: 'without-build-sessions',
  setup(b) {
    b.onResolve({ filter: /^\.\/(session|buildkit)$/ }, (args) =>
      (/[\\/]dockerode[\\/]lib$/.test(args.resolveDir) ? { path: args.path, namespace: 'without-build-sessions' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'without-build-sessions' }, () => ({
      contents: "const refuse = () => { throw new Error('Berth builds no images: no BuildKit'); }; module.exports = refuse; module.exports.parseBuildkitStatus = refuse;",
      loader: 'js',
    }));
  },
};

/**
 * The bundle, and esbuild's metafile: every module it carries is one of its `inputs`. Its source
 * map is a file beside it, read only by a process started with --enable-source-maps: inline, a
 * map several times the code's size stayed in every agent's memory. Its whitespace and syntax
 * are minified (names are kept, for stack traces): node holds the whole text in memory, and
 * the minified text is a third smaller (about 3 MiB less per agent).
 */
export async function buildAgent(outfile: string): Promise<{ outfile: string; metafile: Metafile }> {
  const r = await build({
    entryPoints: [AGENT_MAIN],
    outfile,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [withoutSsh, withoutBuildSessions],
    metafile: true,
    logLevel: 'warning',
  });
  return { outfile, metafile: r.metafile };
}
