import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_POLICY_VARIABLES, AGENT_VARIABLES } from '../agent/config';
import type { Credentials } from '../shared/auth/access-keys';
import { DEFAULT_CATALOG } from '../shared/capacity/catalog';
import {
  AWS_REGION_PATTERN, ConfigurationError, type Environment, awsRegion, checked, flag, list, oneOf, readEnvironment, secondsByName, text, wholeNumber,
} from '../shared/config/variables';
import { PRICE_VARIABLES, pricesOf } from '../shared/billing/prices';
import { parseCrashPlan } from './crash-points';
import { LOCAL_DEFAULTS, type LocalOptions } from './runtime';

/**
 * Every variable `npm start` reads. The agent's policy variables are checked here too, so a bad
 * one stops the local mode before any agent starts, and are passed on to the agents.
 */
export const LOCAL_VARIABLES = {
  BERTH_DATA_DIR: text('a directory path', /^\S(.*\S)?$/).default(join(homedir(), '.berth')),
  BERTH_PORT: wholeNumber(0, 65_535).default(LOCAL_DEFAULTS.port),
  BERTH_LOCAL_HOSTS: wholeNumber(0, 100).default(LOCAL_DEFAULTS.hosts),
  BERTH_HOST_TYPE: oneOf(DEFAULT_CATALOG.map((t) => t.name)).default(LOCAL_DEFAULTS.hostType),
  BERTH_MAX_HOSTS: wholeNumber(1, 1000).default(LOCAL_DEFAULTS.maxHosts),
  BERTH_IDLE_TIMEOUT_SECONDS: wholeNumber(0, 604_800).default(LOCAL_DEFAULTS.idleTimeoutSeconds),
  BERTH_MARKET: oneOf(['on-demand', 'spot'] as const).default(LOCAL_DEFAULTS.market),
  BERTH_BOOT_DELAY_MS: wholeNumber(0, 600_000).default(LOCAL_DEFAULTS.bootDelayMs),
  BERTH_METRICS_INTERVAL_MS: wholeNumber(100, 3_600_000).default(LOCAL_DEFAULTS.metricsIntervalMs),
  BERTH_AUTOSCALING_PERIOD_MS: wholeNumber(100, 3_600_000).default(LOCAL_DEFAULTS.autoscalingPeriodMs),
  BERTH_LOG_REQUESTS: flag().default(false),
  BERTH_STATE_TIMEOUT_SECONDS: secondsByName('State=seconds pairs, comma-separated, e.g. AwaitRunning=5,AwaitStopped=3'),
  BERTH_ACCESS_KEY_ID: text('an access key id: 1 to 128 letters and digits', /^[A-Za-z0-9]{1,128}$/),
  BERTH_SECRET_ACCESS_KEY: text('a secret access key: 1 to 128 characters, no spaces', /^\S{1,128}$/),
  BERTH_CRASH_AT: checked('crash points, comma-separated, each POINT or POINT@startedBy (local/crash-points.ts)', (s) => {
    parseCrashPlan(s);
    return s;
  }),
  BERTH_HOST_PORT_BIND_IP: AGENT_VARIABLES.BERTH_HOST_PORT_BIND_IP.default(LOCAL_DEFAULTS.hostPortBindIP),
  BERTH_ALLOW_HOST_PATHS: flag().default(false),
  /** EFS volumes, each file system id a directory of the local mode's (refused unless set). */
  BERTH_LOCAL_EFS: flag().default(false),
  BERTH_HOST_PORT_RANGE: text('a port range FROM-TO within 1-65535, e.g. 49153-65535', /^\d+-\d+$/),
  BERTH_REGION: awsRegion().default(LOCAL_DEFAULTS.region),
  BERTH_REGIONS: list('AWS Regions, comma-separated, e.g. us-east-1,eu-west-1', AWS_REGION_PATTERN),
  BERTH_ACCOUNT_ID: text('a 12-digit AWS account id', /^\d{12}$/).default(LOCAL_DEFAULTS.accountId),
  ...PRICE_VARIABLES,
  ...AGENT_POLICY_VARIABLES,
};

/** What local/main.ts hands to startLocal, from its environment, checked. */
export type LocalConfig = Omit<Partial<LocalOptions>, 'log'> & Pick<LocalOptions, 'dataDir'>;

export function localConfigFromEnvironment(env: Environment): LocalConfig {
  const v = readEnvironment(LOCAL_VARIABLES, env);
  const problems: string[] = [];
  if ((v.BERTH_ACCESS_KEY_ID === undefined) !== (v.BERTH_SECRET_ACCESS_KEY === undefined)) {
    problems.push('BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY: expected both or neither');
  }
  if (v.BERTH_LOCAL_HOSTS > v.BERTH_MAX_HOSTS) {
    problems.push(`BERTH_LOCAL_HOSTS: expected at most BERTH_MAX_HOSTS (${v.BERTH_MAX_HOSTS}), got "${v.BERTH_LOCAL_HOSTS}"`);
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  const credentials: Credentials | undefined = v.BERTH_ACCESS_KEY_ID && v.BERTH_SECRET_ACCESS_KEY
    ? { accessKeyId: v.BERTH_ACCESS_KEY_ID, secretAccessKey: v.BERTH_SECRET_ACCESS_KEY }
    : undefined;
  return {
    dataDir: resolve(v.BERTH_DATA_DIR),
    port: v.BERTH_PORT,
    hosts: v.BERTH_LOCAL_HOSTS,
    hostType: v.BERTH_HOST_TYPE,
    maxHosts: v.BERTH_MAX_HOSTS,
    idleTimeoutSeconds: v.BERTH_IDLE_TIMEOUT_SECONDS,
    market: v.BERTH_MARKET,
    bootDelayMs: v.BERTH_BOOT_DELAY_MS,
    metricsIntervalMs: v.BERTH_METRICS_INTERVAL_MS,
    autoscalingPeriodMs: v.BERTH_AUTOSCALING_PERIOD_MS,
    logRequests: v.BERTH_LOG_REQUESTS,
    timeoutSeconds: v.BERTH_STATE_TIMEOUT_SECONDS,
    credentials,
    crashAt: v.BERTH_CRASH_AT,
    hostPortBindIP: v.BERTH_HOST_PORT_BIND_IP,
    hostPortRange: v.BERTH_HOST_PORT_RANGE,
    config: { allowHostPaths: v.BERTH_ALLOW_HOST_PATHS, efsVolumes: v.BERTH_LOCAL_EFS, prices: pricesOf(v) },
    region: v.BERTH_REGION,
    accountId: v.BERTH_ACCOUNT_ID,
    // The home region is always served.
    regions: v.BERTH_REGIONS?.length ? [...new Set([v.BERTH_REGION, ...v.BERTH_REGIONS])] : 'any',
  };
}
