import { build, stop } from 'esbuild';
import { join } from 'node:path';
import { upToDate, withoutBuildSessions, writeInputs } from './agent-bundle';

const ROOT = join(__dirname, '..');
const LOCAL_MAIN = join(__dirname, 'main.ts');
export const CONTROL_PLANE_BUNDLE = join(__dirname, '..', '.build', 'control-plane.js');

/**
 * Bundles the local mode's control plane (local/main.ts) into plain JavaScript for `npm start`,
 * as the agent is: run under tsx, the process carried the TypeScript compiler's loader and every
 * module compiled at start, tens of MiB for as long as it ran. Packages stay in node_modules
 * (dynalite and esbuild have native parts); only the project's own code is bundled. Its source
 * map is a file beside it, for NODE_OPTIONS=--enable-source-maps. Built again only when a file it
 * was built from changed.
 */
export async function bundleControlPlane(outfile = CONTROL_PLANE_BUNDLE): Promise<string> {
  // A start with nothing changed since the last build starts at once: esbuild's build of the
  // control plane took about a second of a loaded machine's start-up.
  const inputsFile = `${outfile}.inputs.json`;
  if (await upToDate(outfile, inputsFile)) return outfile;
  const { metafile } = await build({
    entryPoints: [LOCAL_MAIN],
    outfile,
    absWorkingDir: ROOT,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'linked',
    plugins: [withoutBuildSessions],
    logLevel: 'warning',
  });
  await writeInputs(inputsFile, metafile);
  return outfile;
}

if (require.main === module) {
  bundleControlPlane().then(() => stop(), (e: unknown) => {
    console.error(`berth: cannot build the control plane: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
