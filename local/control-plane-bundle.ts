import { type Metafile, type Plugin, build } from 'esbuild';
import { join } from 'node:path';
import { buildInPlace, withoutBuildSessions, withoutSsh } from './agent-bundle';

const ROOT = join(__dirname, '..');
const LOCAL_MAIN = join(__dirname, 'main.ts');
export const CONTROL_PLANE_BUNDLE = join(__dirname, '..', '.build', 'control-plane.js');

/**
 * Packages bundled with the project's code, with everything they load, so that the agent
 * bundle's stand-ins apply: dockerode from node_modules loads ssh2 (whose WebAssembly crypto
 * allocates a 16 MiB heap, mostly never touched) and gRPC for BuildKit, none of which Berth uses:
 * about 2.5 MiB of an idle control plane's RSS (`npm start`, measured).
 */
const BUNDLED_PACKAGES = ['dockerode'];

/**
 * Bundles the local mode's control plane (local/main.ts) into plain JavaScript for `npm start`,
 * as the agent is: run under tsx, the process carried the TypeScript compiler's loader and every
 * module compiled at start, tens of MiB for as long as it ran. Packages stay in node_modules
 * (dynalite and esbuild have native parts), but for BUNDLED_PACKAGES. Its source map is a file
 * beside it, for NODE_OPTIONS=--enable-source-maps. Built again only when a file it was built
 * from changed; `metafile` is there when it was built.
 */
export async function bundleControlPlane(
  outfile: string = CONTROL_PLANE_BUNDLE, entryPoint: string = LOCAL_MAIN,
): Promise<{ outfile: string; metafile?: Metafile }> {
  // A start with nothing changed since the last build starts at once: esbuild's build of the
  // control plane took about a second of a loaded machine's start-up.
  const metafile = await buildInPlace(outfile, async (aside) => (await build({
    entryPoints: [entryPoint],
    outfile: aside,
    absWorkingDir: ROOT,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    plugins: [withoutSsh, withoutBuildSessions, externalPackagesBut(BUNDLED_PACKAGES)],
    logLevel: 'warning',
  })).metafile);
  return { outfile, metafile };
}

/**
 * esbuild's `packages: 'external'`, but for `bundled`: a package the project's code imports stays
 * in node_modules unless it is one of those; what a bundled package imports is bundled too.
 */
function externalPackagesBut(bundled: readonly string[]): Plugin {
  return {
    name: 'external-packages-but',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point' || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        return bundled.includes(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}

// `tsx local/control-plane-bundle.ts [ENTRY OUTFILE]`: another program that runs the control
// plane in its own process (bench:launch) is built the same way, to be measured as npm start runs.
if (require.main === module) {
  const [entryPoint, outfile] = process.argv.slice(2);
  bundleControlPlane(outfile, entryPoint).catch((e: unknown) => {
    console.error(`berth: cannot build the control plane: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
