import { build, stop } from 'esbuild';
import { join } from 'node:path';
import { withoutBuildSessions } from './agent-bundle';

const LOCAL_MAIN = join(__dirname, 'main.ts');
export const CONTROL_PLANE_BUNDLE = join(__dirname, '..', '.build', 'control-plane.js');

/**
 * Bundles the local mode's control plane (local/main.ts) into plain JavaScript for `npm start`,
 * as the agent is: run under tsx, the process carried the TypeScript compiler's loader and every
 * module compiled at start, tens of MiB for as long as it ran. Packages stay in node_modules
 * (dynalite and esbuild have native parts); only the project's own code is bundled. Its source
 * map is a file beside it, for NODE_OPTIONS=--enable-source-maps.
 */
export async function bundleControlPlane(outfile = CONTROL_PLANE_BUNDLE): Promise<string> {
  await build({
    entryPoints: [LOCAL_MAIN],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: 'linked',
    plugins: [withoutBuildSessions],
    logLevel: 'warning',
  });
  return outfile;
}

if (require.main === module) {
  bundleControlPlane().then(() => stop(), (e: unknown) => {
    console.error(`berth: cannot build the control plane: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
