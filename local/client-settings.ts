import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Credentials } from '../shared/auth/access-keys';
import { awsRegion, pick, readEnvironment, url } from '../shared/config/variables';
import { LOCAL_VARIABLES } from './config';

export interface ClientSettings {
  endpoint: string;
  dataDir: string;
  /**
   * The region calls are signed for: the local mode's home one (BERTH_REGION), or for a deployed
   * stack (BERTH_ENDPOINT) its region, AWS_REGION's when set.
   */
  region: string;
  /** Undefined when neither the environment nor the data directory holds a key. */
  credentials?: Credentials;
}

/**
 * Where a command run beside `npm start` (`npm run demo`, `npm run keys`) finds Berth and a key:
 * BERTH_ENDPOINT (a deployed stack's too), else the local port; AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, else the key `npm start` saved in its data directory. A bad variable
 * ends the command with its name and what it accepts.
 */
export function clientSettings(command: string, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  // We run Node 20 on purpose (see README); the SDK's notice about Node 22 only adds noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let v;
  try {
    v = readEnvironment({ ...pick(LOCAL_VARIABLES, 'BERTH_PORT', 'BERTH_DATA_DIR', 'BERTH_REGION'), BERTH_ENDPOINT: url(), AWS_REGION: awsRegion() }, env);
  } catch (e) {
    console.error(`${command}: bad configuration:\n${e instanceof Error ? e.message : e}`);
    process.exit(2);
  }
  const saved = join(v.BERTH_DATA_DIR, 'credentials.json');
  const credentials = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
    : existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) as Credentials : undefined;
  return { endpoint: (v.BERTH_ENDPOINT ?? `http://127.0.0.1:${v.BERTH_PORT}`).replace(/\/+$/, ''), dataDir: v.BERTH_DATA_DIR, region: (v.BERTH_ENDPOINT ? v.AWS_REGION : undefined) ?? v.BERTH_REGION, credentials };
}
