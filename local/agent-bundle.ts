import { type Metafile, type Plugin, build, stop } from 'esbuild';
import { join } from 'node:path';

const AGENT_MAIN = join(__dirname, '..', 'agent', 'main.ts');

/**
 * Bundles the agent into one file with esbuild, as it ships to an EC2 host. An agent then
 * starts in a fraction of a second instead of compiling TypeScript at every boot, which on a
 * small machine booting several hosts at once made the whole fleet stall.
 */
export async function bundleAgent(): Promise<string> {
  building++;
  try {
    return (await buildAgent(join(__dirname, '..', '.build', 'agent.js'))).outfile;
  } finally {
    // esbuild's service process (over 200 MiB resident) would otherwise idle beside the control
    // plane for as long as it runs; a later build starts it again.
    // Not waited for: the start never hangs on a service that is slow to go.
    if (--building === 0) void Promise.resolve(stop()).catch(() => {});
  }
}

/** Builds under way in this process: esbuild's service stops once none is. */
let building = 0;

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
 * map several times the code's size stayed in every agent's memory.
 */
export async function buildAgent(outfile: string): Promise<{ outfile: string; metafile: Metafile }> {
  const r = await build({
    entryPoints: [AGENT_MAIN],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    plugins: [withoutSsh, withoutBuildSessions],
    metafile: true,
    logLevel: 'warning',
  });
  return { outfile, metafile: r.metafile };
}
