import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { AWS_INSTANCE_IDENTITY_CERTIFICATES } from '../../shared/auth/aws-identity-certificates';
import { AGENT_VARIABLES, agentConfigFromEnvironment } from '../../agent/config';
import { CAPACITY_VARIABLES, capacityConfigFromEnvironment } from '../../shared/capacity/environment';
import { ConfigurationError, type Environment, type Schema, readEnvironment } from '../../shared/config/variables';
import { LAMBDA_VARIABLES, lambdaConfigFromEnvironment } from '../../shared/environment';
import { LOCAL_VARIABLES, localConfigFromEnvironment } from '../../local/config';

/** [variable, a good value, what it reads as] */
type Good = [string, string, unknown];
/** [variable, a bad value] */
type Bad = [string, string];

const PRICES_FILE = join(mkdtempSync(join(tmpdir(), 'berth-prices-')), 'prices.json');
writeFileSync(PRICES_FILE, JSON.stringify({ takenAt: '2027-01-01' }));
const PRICES_GOOD: Good[] = [
  ['BERTH_PRICES', '{"instances":{"c6i.large":{"onDemand":0.1,"spot":0.04}}}', expect.objectContaining({ source: 'BERTH_PRICES', instances: expect.objectContaining({ 'c6i.large': { onDemand: 0.1, spot: 0.04 } }) })],
  ['BERTH_PRICES_FILE', PRICES_FILE, expect.objectContaining({ takenAt: '2027-01-01' })],
];
const PRICES_BAD: Bad[] = [
  ['BERTH_PRICES', '{"instances":{"c6i.large":{"onDemand":-1,"spot":0}}}'],
  ['BERTH_PRICES_FILE', '/nonexistent/prices.json'],
];

const US_EAST_1 = { 'us-east-1': AWS_INSTANCE_IDENTITY_CERTIFICATES['us-east-1'] };
const PEM = '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----';

const LOCAL_GOOD: Good[] = [
  ['BERTH_DATA_DIR', '/tmp/berth-x', '/tmp/berth-x'],
  ['BERTH_PORT', '0', 0],
  ['BERTH_PORT', '4566', 4566],
  ['BERTH_PORT', '65535', 65535],
  ['BERTH_LOCAL_HOSTS', '0', 0],
  ['BERTH_LOCAL_HOSTS', '3', 3],
  ['BERTH_HOST_TYPE', 'c6i.xlarge', 'c6i.xlarge'],
  ['BERTH_MAX_HOSTS', '1', 1],
  ['BERTH_MAX_HOSTS', '1000', 1000],
  ['BERTH_IDLE_TIMEOUT_SECONDS', '0', 0],
  ['BERTH_IDLE_TIMEOUT_SECONDS', '300', 300],
  ['BERTH_MARKET', 'spot', 'spot'],
  ['BERTH_MARKET', 'on-demand', 'on-demand'],
  ['BERTH_BOOT_DELAY_MS', '2500', 2500],
  ['BERTH_METRICS_INTERVAL_MS', '1000', 1000],
  ['BERTH_AUTOSCALING_PERIOD_MS', '1000', 1000],
  ['BERTH_LOG_REQUESTS', '1', true],
  ['BERTH_LOG_REQUESTS', 'false', false],
  ['BERTH_LOG_REQUESTS', 'YES', true],
  ['BERTH_STATE_TIMEOUT_SECONDS', 'AwaitStopped=2', { AwaitStopped: 2 }],
  ['BERTH_STATE_TIMEOUT_SECONDS', 'AwaitRunning=5, AwaitStopped=3', { AwaitRunning: 5, AwaitStopped: 3 }],
  ['BERTH_ACCESS_KEY_ID', 'AKIDLOCAL', 'AKIDLOCAL'],
  ['BERTH_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'],
  ['BERTH_CRASH_AT', 'place:after', 'place:after'],
  ['BERTH_CRASH_AT', 'place:before@x,release:after', 'place:before@x,release:after'],
  ['BERTH_ALLOWED_CAPABILITIES', 'SYS_PTRACE,cap_net_admin', ['SYS_PTRACE', 'cap_net_admin']],
  ['BERTH_ALLOWED_CAPABILITIES', '', []],
  ['BERTH_PAUSE_IMAGE', 'localhost/busybox:latest', 'localhost/busybox:latest'],
  ['BERTH_NAMESPACE_POOL_SIZE', '0', 0],
  ['BERTH_NAMESPACE_BURST_POOL_SIZE', '0', 0],
  ['BERTH_TASK_PIDS_LIMIT', '64', 64],
  ['BERTH_TASK_LIMITS', 'false', false],
  ['BERTH_IMAGE_PULL_BEHAVIOR', 'prefer-cached', 'prefer-cached'],
  ['BERTH_HOST_PORT_BIND_IP', '0.0.0.0', '0.0.0.0'],
  ['BERTH_HOST_PORT_RANGE', '49153-65535', '49153-65535'],
  ['BERTH_REGION', 'eu-west-1', 'eu-west-1'],
  ['BERTH_REGIONS', 'us-east-1, eu-west-1', ['us-east-1', 'eu-west-1']],
  ['BERTH_ACCOUNT_ID', '123456789012', '123456789012'],
  ['BERTH_METRICS_LOG_GROUP', '/berth/metrics', '/berth/metrics'],
  ['BERTH_METRICS_LOG_GROUP', '', ''],
  ['BERTH_ALLOW_HOST_PATHS', '1', true],
  ['BERTH_ALLOW_HOST_PATHS', 'no', false],
  ['BERTH_LOCAL_EFS', '1', true],
  ...PRICES_GOOD,
];
const LOCAL_BAD: Bad[] = [
  ['BERTH_DATA_DIR', ' leading-space'],
  ['BERTH_PORT', 'x'],
  ['BERTH_PORT', '65536'],
  ['BERTH_PORT', '-1'],
  ['BERTH_PORT', '80.5'],
  ['BERTH_LOCAL_HOSTS', 'two'],
  ['BERTH_LOCAL_HOSTS', '101'],
  ['BERTH_HOST_TYPE', 't2.micro'],
  ['BERTH_MAX_HOSTS', 'x'],
  ['BERTH_MAX_HOSTS', '0'],
  ['BERTH_MAX_HOSTS', '1001'],
  ['BERTH_MAX_HOSTS', '1e3'],
  ['BERTH_IDLE_TIMEOUT_SECONDS', '5m'],
  ['BERTH_MARKET', 'reserved'],
  ['BERTH_BOOT_DELAY_MS', '600001'],
  ['BERTH_METRICS_INTERVAL_MS', '99'],
  ['BERTH_AUTOSCALING_PERIOD_MS', '99'],
  ['BERTH_LOG_REQUESTS', 'maybe'],
  ['BERTH_STATE_TIMEOUT_SECONDS', 'AwaitStopped'],
  ['BERTH_STATE_TIMEOUT_SECONDS', 'AwaitStopped=0'],
  ['BERTH_STATE_TIMEOUT_SECONDS', '=3'],
  ['BERTH_ACCESS_KEY_ID', 'AKID-LOCAL'],
  ['BERTH_SECRET_ACCESS_KEY', 'has space'],
  ['BERTH_CRASH_AT', 'NoSuchPoint'],
  ['BERTH_ALLOWED_CAPABILITIES', 'SYS PTRACE'],
  ['BERTH_PAUSE_IMAGE', 'busy box'],
  ['BERTH_NAMESPACE_POOL_SIZE', '65'],
  ['BERTH_NAMESPACE_BURST_POOL_SIZE', '65'],
  ['BERTH_TASK_PIDS_LIMIT', '63'],
  ['BERTH_TASK_LIMITS', 'off-ish'],
  ['BERTH_IMAGE_PULL_BEHAVIOR', 'never'],
  ['BERTH_HOST_PORT_BIND_IP', 'localhost'],
  ['BERTH_HOST_PORT_RANGE', '1000'],
  ['BERTH_REGION', 'us_east_1'],
  ['BERTH_REGIONS', 'us-east-1,Mars'],
  ['BERTH_ACCOUNT_ID', '12345'],
  ['BERTH_METRICS_LOG_GROUP', 'bad group'],
  ['BERTH_ALLOW_HOST_PATHS', 'sometimes'],
  ['BERTH_LOCAL_EFS', 'efs'],
  ...PRICES_BAD,
];

const AGENT_BASE = { BERTH_ENDPOINT: 'http://127.0.0.1:4566', BERTH_HOST_ID: 'local-1a2b3c4d' };
const AGENT_GOOD: Good[] = [
  ['BERTH_ENDPOINT', 'https://abc.execute-api.us-east-1.amazonaws.com', 'https://abc.execute-api.us-east-1.amazonaws.com'],
  ['BERTH_HOST_ID', 'i-0123456789abcdef0', 'i-0123456789abcdef0'],
  ['BERTH_HOST_CPU', '2048', 2048],
  ['BERTH_HOST_MEMORY', '3840', 3840],
  ['BERTH_DOCKER_SOCKET', '/run/podman/podman.sock', '/run/podman/podman.sock'],
  ['BERTH_DATA_DIR', '/var/lib/berth', '/var/lib/berth'],
  ['BERTH_ALLOWED_CAPABILITIES', 'ALL', ['ALL']],
  ['BERTH_ALLOWED_CAPABILITIES', '', []],
  ['BERTH_PAUSE_IMAGE', 'localhost:5000/pause@sha256:abc', 'localhost:5000/pause@sha256:abc'],
  ['BERTH_NAMESPACE_POOL_SIZE', '4', 4],
  ['BERTH_NAMESPACE_BURST_POOL_SIZE', '32', 32],
  ['BERTH_TASK_PIDS_LIMIT', '4096', 4096],
  ['BERTH_TASK_LIMITS', '1', true],
  ['BERTH_IMAGE_PULL_BEHAVIOR', 'always', 'always'],
  ['BERTH_IMAGE_PULL_BEHAVIOR', 'once', 'once'],
  ['BERTH_HOST_PORT_BIND_IP', '127.0.0.1', '127.0.0.1'],
  ['BERTH_HOST_PORT_RANGE', '30000-30010', { from: 30000, to: 30010 }],
  ['BERTH_LOCAL_INSTANCE', '/root/.berth', '/root/.berth'],
  ['BERTH_HOST_ADDRESS', '10.0.1.23', '10.0.1.23'],
  ['BERTH_SERVICE_CONNECT_PROXY', 'true', true],
  ['BERTH_METRICS_LOG_GROUP', '', ''],
  ['BERTH_BOOTSTRAP_TOKEN', 'aB3_-x', 'aB3_-x'],
  ['BERTH_IMDS_ENDPOINT', 'http://127.0.0.1:9999', 'http://127.0.0.1:9999'],
  ['BERTH_HEARTBEAT_INTERVAL_MS', '1000', 1000],
  ['BERTH_EXIT_WITH_PARENT', '1', true],
  ['BERTH_AWS_ENDPOINT', 'http://127.0.0.1:4566', 'http://127.0.0.1:4566'],
  ['AWS_REGION', 'eu-west-1', 'eu-west-1'],
  ['AWS_DEFAULT_REGION', 'us-gov-west-1', 'us-gov-west-1'],
  ['BERTH_METRICS_INTERVAL_MS', '5000', 5000],
  ['BERTH_METRICS_REPORT', '1', true],
  ['BERTH_METADATA_ADDRESS', '10.89.7.2', '10.89.7.2'],
];
const AGENT_BAD: Bad[] = [
  ['BERTH_METADATA_ADDRESS', 'metadata.internal'],
  ['BERTH_ENDPOINT', 'localhost:4566'],
  ['BERTH_ENDPOINT', 'ftp://127.0.0.1'],
  ['BERTH_HOST_ID', 'host/1'],
  ['BERTH_HOST_CPU', '0'],
  ['BERTH_HOST_MEMORY', 'lots'],
  ['BERTH_DOCKER_SOCKET', 'podman.sock'],
  ['BERTH_DATA_DIR', 'relative/dir'],
  ['BERTH_ALLOWED_CAPABILITIES', 'SYS_PTRACE;rm'],
  ['BERTH_PAUSE_IMAGE', '-image'],
  ['BERTH_NAMESPACE_POOL_SIZE', 'x'],
  ['BERTH_NAMESPACE_BURST_POOL_SIZE', '-1'],
  ['BERTH_TASK_PIDS_LIMIT', 'unlimited'],
  ['BERTH_TASK_LIMITS', 'maybe'],
  ['BERTH_IMAGE_PULL_BEHAVIOR', 'ALWAYS'],
  ['BERTH_HOST_PORT_BIND_IP', '::1'],
  ['BERTH_HOST_PORT_RANGE', '9-2'],
  ['BERTH_LOCAL_INSTANCE', 'relative/dir'],
  ['BERTH_HOST_ADDRESS', 'ip-10-0-1-23'],
  ['BERTH_SERVICE_CONNECT_PROXY', 'sometimes'],
  ['BERTH_METRICS_LOG_GROUP', 'a group'],
  ['BERTH_BOOTSTRAP_TOKEN', 'not base64url!'],
  ['BERTH_IMDS_ENDPOINT', 'not a url'],
  ['BERTH_HEARTBEAT_INTERVAL_MS', '10'],
  ['BERTH_EXIT_WITH_PARENT', 'sometimes'],
  ['BERTH_AWS_ENDPOINT', '127.0.0.1'],
  ['AWS_REGION', 'US-EAST-1'],
  ['AWS_DEFAULT_REGION', 'moon'],
  ['BERTH_METRICS_INTERVAL_MS', 'NaN'],
  ['BERTH_METRICS_REPORT', '2'],
];

const LAMBDA_BASE = {
  AWS_REGION: 'us-east-1',
  BERTH_ACCOUNT_ID: '123456789012',
  BERTH_TABLE_PREFIX: 'berth-dev-',
  BERTH_ACCESS_KEYS_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  BERTH_LAUNCH_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:berth-dev-launch',
  BERTH_STOP_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:berth-dev-stop',
  BERTH_CAPACITY_FUNCTION_NAME: 'berth-dev-capacity',
  BERTH_SERVICES_FUNCTION_NAME: 'berth-dev-services',
};
const LAMBDA_GOOD: Good[] = [
  ...Object.entries(LAMBDA_BASE).map(([k, v]): Good => [k, v, v]),
  ['BERTH_ACCESS_KEYS_KMS_KEY_ARN', 'arn:aws-cn:kms:cn-north-1:123456789012:key/k', 'arn:aws-cn:kms:cn-north-1:123456789012:key/k'],
  ['BERTH_PLACEMENT_TIMEOUT_SECONDS', '60', 60],
  ['BERTH_IMDS_CERTIFICATES', JSON.stringify(US_EAST_1), expect.objectContaining({ certificates: expect.objectContaining(US_EAST_1) })],
  ['BERTH_PLACEMENT_RETRY_SECONDS', '2', 2],
  ['BERTH_METRICS_LOG_GROUP', '/berth/metrics', '/berth/metrics'],
  ['BERTH_ALLOW_HOST_PATHS', 'true', true],
  ['BERTH_ALLOW_HOST_PATHS', '0', false],
  ['BERTH_SCHEDULER_GROUP', 'berth-dev', 'berth-dev'],
  ['BERTH_SCHEDULER_TARGET_ARN', 'arn:aws:lambda:us-east-1:123456789012:function:berth-dev-fireSchedule', 'arn:aws:lambda:us-east-1:123456789012:function:berth-dev-fireSchedule'],
  ['BERTH_SCHEDULER_ROLE_ARN', 'arn:aws:iam::123456789012:role/berth-dev-scheduler', 'arn:aws:iam::123456789012:role/berth-dev-scheduler'],
  ...PRICES_GOOD,
];
const LAMBDA_BAD: Bad[] = [
  ['AWS_REGION', 'nowhere'],
  ['BERTH_ACCOUNT_ID', '12345'],
  ['BERTH_TABLE_PREFIX', 'berth dev'],
  ['BERTH_ACCESS_KEYS_KMS_KEY_ARN', 'alias/berth'],
  ['BERTH_LAUNCH_STATE_MACHINE_ARN', 'arn:aws:lambda:us-east-1:123456789012:function:x'],
  ['BERTH_STOP_STATE_MACHINE_ARN', 'stop'],
  ['BERTH_CAPACITY_FUNCTION_NAME', 'has space'],
  ['BERTH_SERVICES_FUNCTION_NAME', 'has/slash'],
  ['BERTH_PLACEMENT_TIMEOUT_SECONDS', 'x'],
  ['BERTH_PLACEMENT_RETRY_SECONDS', '0'],
  ['BERTH_IMDS_CERTIFICATES', 'not json'],
  ['BERTH_IMDS_CERTIFICATES', JSON.stringify({ 'us-east-1': PEM })],
  ['BERTH_METRICS_LOG_GROUP', 'a b'],
  ['BERTH_ALLOW_HOST_PATHS', '2'],
  ['BERTH_SCHEDULER_GROUP', 'has space'],
  ['BERTH_SCHEDULER_TARGET_ARN', 'arn:aws:states:us-east-1:123456789012:stateMachine:x'],
  ['BERTH_SCHEDULER_ROLE_ARN', 'arn:aws:iam::123:role/x'],
  ...PRICES_BAD,
];

const CAPACITY_BASE = { BERTH_LAUNCH_TEMPLATE_ID: 'lt-0123456789abcdef0', BERTH_SUBNET_IDS: 'subnet-0123456789abcdef0' };
const CAPACITY_GOOD: Good[] = [
  ['BERTH_LAUNCH_TEMPLATE_ID', 'lt-0abc1234', 'lt-0abc1234'],
  ['BERTH_SUBNET_IDS', 'subnet-0123abcd,subnet-4567cdef', ['subnet-0123abcd', 'subnet-4567cdef']],
  ['BERTH_STAGE', 'dev', 'dev'],
  ['BERTH_WARM_POOL_HOSTS', '0', 0],
  ['BERTH_WARM_POOL_TYPE', 'm6i.large', 'm6i.large'],
  ['BERTH_MAX_HOSTS', '200', 200],
  ['BERTH_IDLE_TIMEOUT_SECONDS', '900', 900],
  ['BERTH_MARKET', 'spot', 'spot'],
  ['BERTH_GRAVITON', 'arm64', 'arm64'],
  ['BERTH_CONSOLIDATE_AFTER_SECONDS', '0', 0],
  ['BERTH_CONSOLIDATE_AFTER_SECONDS', '1800', 1800],
];
const CAPACITY_BAD: Bad[] = [
  ['BERTH_LAUNCH_TEMPLATE_ID', 'set-BERTH_LAUNCH_TEMPLATE_ID-at-deploy'],
  ['BERTH_SUBNET_IDS', 'subnet-0123abcd,vpc-1'],
  ['BERTH_STAGE', 'dev stage'],
  ['BERTH_WARM_POOL_HOSTS', '-1'],
  ['BERTH_WARM_POOL_TYPE', 'x1e.32xlarge'],
  ['BERTH_MAX_HOSTS', 'x'],
  ['BERTH_IDLE_TIMEOUT_SECONDS', '1.5'],
  ['BERTH_MARKET', 'SPOT'],
  ['BERTH_GRAVITON', 'any'],
  ['BERTH_CONSOLIDATE_AFTER_SECONDS', '10m'],
];

const SCHEMAS: [string, Schema, Environment, Good[], Bad[]][] = [
  ['local mode', LOCAL_VARIABLES, {}, LOCAL_GOOD, LOCAL_BAD],
  ['agent', AGENT_VARIABLES, AGENT_BASE, AGENT_GOOD, AGENT_BAD],
  ['Lambda functions', LAMBDA_VARIABLES, LAMBDA_BASE, LAMBDA_GOOD, LAMBDA_BAD],
  ['capacity function', CAPACITY_VARIABLES, CAPACITY_BASE, CAPACITY_GOOD, CAPACITY_BAD],
];

/** The one problem a bad value gives, e.g. `BERTH_MAX_HOSTS: expected a whole number from 1 to 1000, got "x"`. */
function problemsOf(schema: Schema, env: Environment): string[] {
  try {
    readEnvironment(schema, env);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigurationError);
    return [...(e as ConfigurationError).problems];
  }
}

describe('configuration', () => {
  describe.each(SCHEMAS)('%s', (_, schema, base, good, bad) => {
    it('has good and bad values tested for every variable it reads', () => {
      const names = Object.keys(schema).sort();
      expect([...new Set(good.map(([n]) => n))].sort()).toEqual(names);
      expect([...new Set(bad.map(([n]) => n))].sort()).toEqual(names);
    });

    it.each(good)('reads %s=%j', (name, value, expected) => {
      expect(readEnvironment(schema, { ...base, [name]: value })[name]).toEqual(expected);
    });

    it.each(bad)('refuses %s=%j, naming the variable and what it accepts', (name, value) => {
      const problems = problemsOf(schema, { ...base, [name]: value });
      const said = `${name}: expected ${schema[name].accepts}, got `;
      // A long value is cut short in the message.
      expect(problems).toEqual([value.length <= 80 ? `${said}${JSON.stringify(value)}` : expect.stringMatching(`^${said.replace(/[()]/g, '\\$&')}"`)]);
    });
  });

  it('says what a number accepts in words', () => {
    expect(problemsOf(LOCAL_VARIABLES, { BERTH_MAX_HOSTS: 'x' })).toEqual(['BERTH_MAX_HOSTS: expected a whole number from 1 to 1000, got "x"']);
  });

  it('names every bad variable at once, and every missing required one', () => {
    expect(problemsOf(AGENT_VARIABLES, { BERTH_HOST_CPU: 'x', BERTH_NAMESPACE_POOL_SIZE: 'y' })).toEqual([
      'BERTH_NAMESPACE_POOL_SIZE: expected a whole number from 0 to 64, got "y"',
      'BERTH_ENDPOINT: is not set; expected an http or https URL',
      'BERTH_HOST_ID: is not set; expected a host id: 1 to 128 letters, digits, dots, dashes or underscores',
      'BERTH_HOST_CPU: expected a whole number from 1 to 1048576, got "x"',
    ]);
  });

  it('takes an empty value for unset, except where empty means something', () => {
    const local = localConfigFromEnvironment({ BERTH_PORT: '', BERTH_MAX_HOSTS: '' });
    expect(local.port).toBe(4566);
    expect(local.maxHosts).toBe(10);
    const agent = agentConfigFromEnvironment({ ...AGENT_BASE, BERTH_ALLOWED_CAPABILITIES: '', BERTH_METRICS_LOG_GROUP: '' });
    expect(agent.allowedCapabilities).toEqual([]);
    expect(agent.metrics.logGroupName).toBeUndefined();
  });

  it('allows host paths only when the operator says so, in the local mode and on AWS alike', () => {
    expect(localConfigFromEnvironment({}).config?.allowHostPaths).toBe(false);
    expect(localConfigFromEnvironment({ BERTH_ALLOW_HOST_PATHS: 'yes' }).config?.allowHostPaths).toBe(true);
    expect(lambdaConfigFromEnvironment(LAMBDA_BASE).berth.allowHostPaths).toBe(false);
    expect(lambdaConfigFromEnvironment({ ...LAMBDA_BASE, BERTH_ALLOW_HOST_PATHS: '1' }).berth.allowHostPaths).toBe(true);
  });

  it('never lets a non-number through as a number (fuzzed)', () => {
    fc.assert(fc.property(fc.string(), (value) => {
      const problems = problemsOf(LOCAL_VARIABLES, { BERTH_MAX_HOSTS: value });
      const n = Number(value.trim());
      const fine = value === '' || (/^\s*\d+\s*$/.test(value) && n >= 1 && n <= 1000);
      expect(problems.length === 0).toBe(fine);
    }));
  });

  describe('localConfigFromEnvironment', () => {
    it('has the defaults README gives', () => {
      expect(localConfigFromEnvironment({})).toMatchObject({
        dataDir: join(homedir(), '.berth'), port: 4566, hosts: 2, hostType: 'c6i.large', maxHosts: 10,
        idleTimeoutSeconds: 300, market: 'on-demand', bootDelayMs: 0, metricsIntervalMs: 10_000, logRequests: false,
        credentials: undefined, timeoutSeconds: undefined, crashAt: undefined,
      });
    });

    it('makes a relative data directory absolute, so the agents find it', () => {
      expect(localConfigFromEnvironment({ BERTH_DATA_DIR: 'data' }).dataDir).toBe(join(process.cwd(), 'data'));
    });

    it.each([
      [{ BERTH_ACCESS_KEY_ID: 'AKID' }, 'BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY: expected both or neither'],
      [{ BERTH_SECRET_ACCESS_KEY: 's' }, 'BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY: expected both or neither'],
      [{ BERTH_LOCAL_HOSTS: '5', BERTH_MAX_HOSTS: '3' }, 'BERTH_LOCAL_HOSTS: expected at most BERTH_MAX_HOSTS (3), got "5"'],
    ])('refuses %j', (env, problem) => {
      expect(() => localConfigFromEnvironment(env)).toThrow(problem);
    });

    it('takes the key given', () => {
      expect(localConfigFromEnvironment({ BERTH_ACCESS_KEY_ID: 'AKID', BERTH_SECRET_ACCESS_KEY: 's' }).credentials)
        .toEqual({ accessKeyId: 'AKID', secretAccessKey: 's' });
    });
  });

  describe('agentConfigFromEnvironment', () => {
    it('derives where the agent keeps its key and logs, and its defaults', () => {
      const c = agentConfigFromEnvironment({ ...AGENT_BASE, BERTH_DATA_DIR: '/d' });
      expect(c).toMatchObject({
        credentialsFile: '/d/hosts/local-1a2b3c4d.json', logDir: '/d/logs', allowedCapabilities: ['SYS_PTRACE'],
        pauseImage: 'localhost/busybox:latest', namespacePoolSize: 2, namespaceBurstPoolSize: 64, imagePullBehavior: 'default', exitWithParent: false,
        aws: { region: 'us-east-1' }, metrics: { intervalMs: 10_000, logGroupName: '/berth/metrics', reportToControlPlane: false },
      });
    });
  });

  describe('lambdaConfigFromEnvironment and capacityConfigFromEnvironment', () => {
    it('read what serverless.yml sets', () => {
      expect(lambdaConfigFromEnvironment(LAMBDA_BASE)).toMatchObject({
        region: 'us-east-1', accountId: '123456789012', metricsLogGroup: '/berth/metrics',
        berth: { placementTimeoutSeconds: 300, placementRetrySeconds: 1, openHostRegistration: false },
      });
      expect(capacityConfigFromEnvironment(CAPACITY_BASE)).toEqual({
        launchTemplateId: 'lt-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'], stage: undefined,
        policy: { warmPoolHosts: 1, warmPoolType: 'c6i.large', maxHosts: 50, idleTimeoutSeconds: 600, market: 'on-demand', graviton: 'off' },
        consolidation: { minHostAgeSeconds: 600, maxDrainingHosts: 1, replaceAtMostShare: 0.9 },
      });
      expect(capacityConfigFromEnvironment({ ...CAPACITY_BASE, BERTH_CONSOLIDATE_AFTER_SECONDS: '0' }).consolidation).toBeUndefined();
    });
  });
});
