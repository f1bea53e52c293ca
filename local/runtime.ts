import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerRuntime } from '../agent/runtime/docker-runtime';
import { type Credentials, adoptAccessKey, issueAccessKey } from '../shared/auth/access-keys';
import { createAgentApiHandler, createOperatorApiHandler } from '../shared/agent-api/handler';
import { DEFAULT_CATALOG } from '../shared/capacity/catalog';
import { CapacityManager, DEFAULT_BOOT_TIMEOUT_SECONDS, DEFAULT_HEARTBEAT_TIMEOUT_SECONDS } from '../shared/capacity/manager';
import type { Market } from '../shared/capacity/types';
import { dropUndefined } from '../shared/domain/task-definition';
import { ECS_RESERVED_PORTS, parsePortRange } from '../shared/domain/ports';
import type { BerthConfig } from '../shared/context';
import { createApiHandler } from '../shared/ecs-api/handler';
import { createAutoscalingHandler } from '../shared/autoscaling/handler';
import { TaskSampleWindow } from '../shared/autoscaling/metrics';
import { FanOutSink } from '../shared/metrics/sink';
import { startLocalAutoscaler } from './autoscaler';
import { TARGET_PREFIX as AUTOSCALING_TARGET_PREFIX } from '../shared/autoscaling/operations';
import { recoverInFlight } from '../shared/lifecycle/recovery';
import type { LocalHostNotifier } from '../shared/cloud/local/local-host-notifier';
import { LOCAL_PARTITION, type LocalBerth, localBerth } from './berth';
import { type Dynalite, createTables, documentClientFor, startDynalite } from './dynalite';
import { bundleAgent } from './agent-bundle';
import { LocalFleet } from './fleet';
import { launchCheckpoint } from './crash-points';
import { startTtlSweep } from './ttl-sweep';
import { LocalFleetProvider } from './local-fleet-provider';
import { localMetrics } from './metrics';
import { ensureLocalPackages } from './packages';
import { ensureBusyboxImage, startPodmanService } from './podman';
import { endOrphanedConmons } from './orphaned-conmons';
import { type ObservedReport, observeReports } from './report-observer';
import { LocalRegions, regionDataDir, regionTablePrefix, regionTables, regionsWithTables } from './regions';
import { type Routes, byTarget, serve } from './server';
import { localServiceHandlers } from './services';
import { LocalRequestCounts } from './services/elbv2/request-counts';
import { startLocalElbv2 } from './services/elbv2';
import { startLocalSqs } from './services/sqs';
import { SQS_TARGET_PREFIX } from './services/sqs/json';
import type { LocalLoadBalancer } from './services/elbv2/balancer';
import { LocalServiceScheduler } from './service-scheduler';
import { LocalScheduleFirer } from './schedule-firer';
import { createSchedulerApiHandler } from '../shared/schedules/handler';
import { LocalKeySealer } from '../shared/cloud/local/local-key-sealer';
import { SealingKeyMismatchError } from '../shared/auth/key-sealer';
import { type ServedRegions, ownRegionOnly } from '../shared/auth/regions';

/** The access-keys table's sealing key, in the data directory. */
export const ACCESS_KEYS_KEY_FILE = 'access-keys.key';

/** How a close's log line begins when it could not remove what the hosts made (a test's close fails on it). */
export const CANNOT_REMOVE = 'cannot remove what the hosts made';

export interface LocalOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** The warm pool: how many idle hosts (agent processes) to keep, and of which instance type. */
  hosts: number;
  hostType: string;
  /** The capacity manager's policy and pace. */
  maxHosts: number;
  idleTimeoutSeconds: number;
  market: Market;
  capacityIntervalMs: number;
  /** How often every service is reconciled even if nothing woke it. */
  serviceIntervalMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutSeconds: number;
  /** Imitates EC2's boot time for launched hosts. */
  bootDelayMs: number;
  config?: Partial<BerthConfig>;
  /** TimeoutSeconds per workflow Task state, instead of the ASL's. */
  timeoutSeconds?: Record<string, number>;
  log: (line: string) => void;
  logRequests?: boolean;
  /** The API key to accept; without one, the key saved in the data directory (made at first start). */
  credentials?: Credentials;
  /** How often agents sample their tasks and the control plane counts its own (`GET /metrics`, EMF). */
  metricsIntervalMs: number;
  /** The address agents bind published host ports to (default 127.0.0.1), and their dynamic range (FROM-TO). */
  hostPortBindIP: string;
  hostPortRange?: string;
  /**
   * Agent settings (BERTH_* names the agents read) over the process's own: for tests that need
   * one fixed, such as a namespace pool that never grows, whatever the environment says.
   */
  agentSettings?: Record<string, string>;
  /** Sees every agent report and its outcome: for tests that check a run's history. */
  onReport?: (report: ObservedReport) => void;
  /** Crash points to die at (BERTH_CRASH_AT; see crash-points.ts). */
  crashAt?: string;
  /** How often due schedules are looked for, and a failed schedule's first retry delay. */
  scheduleIntervalMs: number;
  scheduleRetryBaseMs?: number;
  /** The clock schedules are made and fire by, the Scheduler API's (tests move it); else the Berth's. */
  scheduleClock?: () => number;
  /** The local load balancer's health checks run this much faster than target groups say (tests). */
  healthCheckTimeScale?: number;
  /** Application Auto Scaling's datapoint period (AWS: one minute), and how often its controller runs. */
  autoscalingPeriodMs: number;
  /** The region the local mode starts with, and the account every ARN carries. */
  region: string;
  accountId: string;
  /** The regions the endpoint serves (others are refused as AWS refuses them): any, or these. */
  regions: ServedRegions;
}

export const LOCAL_DEFAULTS = {
  port: 4566,
  hosts: 2,
  hostType: 'c6i.large',
  maxHosts: 10,
  idleTimeoutSeconds: 300,
  market: 'on-demand' as Market,
  capacityIntervalMs: 5000,
  serviceIntervalMs: 5000,
  heartbeatIntervalMs: 10_000,
  heartbeatTimeoutSeconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
  bootDelayMs: 0,
  metricsIntervalMs: 10_000,
  hostPortBindIP: '127.0.0.1',
  scheduleIntervalMs: 1000,
  autoscalingPeriodMs: 60_000,
  region: LOCAL_PARTITION.region,
  accountId: LOCAL_PARTITION.accountId,
  regions: 'any' as ServedRegions,
} satisfies Partial<LocalOptions>;

/** One region's control plane and its fleet. */
export interface RegionalStack {
  region: string;
  berth: LocalBerth;
  fleet: LocalFleet;
  provider: LocalFleetProvider;
  capacity: CapacityManager;
  services: LocalServiceScheduler;
  schedules: LocalScheduleFirer;
}

/** The home region's stack, and what the whole local mode shares. */
export interface LocalBerthRuntime extends Omit<RegionalStack, 'region'> {
  url: string;
  /** The access key users sign their requests with. */
  credentials: Credentials;
  /** Every region the endpoint serves: the home one above, the others started at their first call. */
  regions: LocalRegions<RegionalStack>;
  /** The local ELBv2's engine (HAProxy); `requestCounts()` gives each target group's requests. */
  loadBalancer: LocalLoadBalancer;
  dockerSocket: string;
  podmanEnv: NodeJS.ProcessEnv;
  /**
   * Stops Berth. Running tasks' containers stay for the agents to adopt at the next start, unless
   * `discard` says this data directory will not start again: then they go too.
   */
  close(options?: { discard?: boolean }): Promise<void>;
}

/**
 * The whole of Berth on one machine: dynalite (on disk), the ECS and agent APIs on one
 * endpoint, the lifecycle workflows, podman's Docker-compatible API and a fleet of agents.
 */
export async function startLocal(options: Partial<LocalOptions> & Pick<LocalOptions, 'dataDir' | 'log'>): Promise<LocalBerthRuntime> {
  const o: LocalOptions = { ...LOCAL_DEFAULTS, ...dropUndefined(options) };
  // Everything started so far, stopped in reverse: by close(), or at once if starting fails.
  const started: (() => unknown)[] = [];
  const closing: Closing = { discard: false, endWaits: [] };
  const stopAll = async (options: { discard?: boolean } = {}) => {
    closing.discard = options.discard ?? false;
    for (const stop of started.splice(0).reverse()) await stop();
  };
  try {
    return await startAll(o, started, stopAll, closing);
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}

/**
 * What a close must know before its steps run: whether the data directory is discarded, and what
 * ends the long waits (agents' polls) that would otherwise hold the endpoint's close.
 */
interface Closing {
  discard: boolean;
  endWaits: (() => void)[];
}

async function startAll(
  o: LocalOptions, started: (() => unknown)[], stopAll: (options?: { discard?: boolean }) => Promise<void>, closing: Closing,
): Promise<LocalBerthRuntime> {
  mkdirSync(join(o.dataDir, 'dynamodb'), { recursive: true });
  parsePortRange(o.hostPortRange); // a bad range fails here, not in every agent
  await ensureLocalPackages(o.log);

  // The engine and the agents' bundle need nothing of the control plane: they are made ready
  // while it starts, and waited for only when the first agent starts. Registered at once, so a
  // start that fails anywhere stops the service too.
  o.log('starting podman\'s Docker-compatible API service');
  const podmanStarting = startPodmanService({ dataDir: o.dataDir, log: o.log });
  started.push(async () => (await podmanStarting.catch(() => undefined))?.stop());
  const engineReady = podmanStarting.then(async (podman) => {
    await ensureBusyboxImage({ env: podman.env, log: o.log });
    return podman;
  });
  const agentScript = bundleAgent();
  // Each is awaited below; until then a failure must not count as unhandled.
  engineReady.catch(() => {});
  agentScript.catch(() => {});

  o.log(`starting DynamoDB (dynalite), data in ${join(o.dataDir, 'dynamodb')}`);
  const dynamo: Dynalite = await startDynalite({ path: join(o.dataDir, 'dynamodb') });
  // Last: every part that uses it has stopped by then, its work in flight ended.
  started.push(async () => {
    const { lateRequests } = await dynamo.close();
    if (lateRequests > 0) o.log(`DynamoDB (dynalite) still had ${lateRequests} request(s) to answer as it closed: something that uses it was not stopped first`);
  });
  await createTables(dynamo.endpoint, undefined, o.log);

  const accessKeysKeyFile = join(o.dataDir, ACCESS_KEYS_KEY_FILE);
  // Beside the table it protects, so keys issued before a restart still open after it.
  const keySealer = LocalKeySealer.fromKeyFile(accessKeysKeyFile);
  const { berth, services } = await startRegionalControlPlane(o, started, closing, dynamo.endpoint, o.region, keySealer);
  if (!(await berth.store.accessKeys.sealerOpensStored())) throw new SealingKeyMismatchError(accessKeysKeyFile, 'access keys');
  const requestLog = o.logRequests ? (l: object) => o.log(JSON.stringify(l)) : () => {};
  // Started at their first call (or now, below, when an earlier run left their tables).
  let startRegion: (region: string) => Promise<RegionalStack> = () => Promise.reject(new Error('the local mode is still starting'));
  const regions = new LocalRegions<RegionalStack>(o.region, berth, o.regions, (region) => startRegion(region));
  const ecs = createApiHandler(regions.berthFor, { log: requestLog });
  const slices = await localServiceHandlers(berth, {
    dataDir: o.dataDir, dynamoEndpoint: dynamo.endpoint, log: requestLog, berthFor: regions.berthFor,
    berths: async () => [berth, ...(await Promise.all(regions.started().map((r) => regions.stack(r)))).map((s) => s.berth)],
  });
  started.push(() => slices.close());
  // Each region's load balancer is its Berth's loadBalancing and serviceConnect.
  const elbv2 = await startLocalElbv2(berth, {
    dataDir: o.dataDir, dynamoEndpoint: dynamo.endpoint, log: requestLog, say: o.log, healthCheckTimeScale: o.healthCheckTimeScale, berthFor: regions.berthFor,
  });
  started.push(() => elbv2.close());
  // Queue URLs start with the endpoint's URL, known once it listens (below).
  let endpointUrl = '';
  const sqs = await startLocalSqs(berth, { dynamoEndpoint: dynamo.endpoint, log: requestLog, endpoint: () => endpointUrl, berthFor: regions.berthFor });
  berth.deadLetters = sqs.deadLettersOf(berth);
  const metrics = localMetrics({ intervalMs: o.metricsIntervalMs, costExportDir: join(o.dataDir, 'cost-exports') });
  // The agents' task samples also feed Application Auto Scaling's ECSServiceAverage* metrics.
  const taskSamples = new TaskSampleWindow(() => berth.now());
  berth.metrics = new FanOutSink(metrics.inRegion(o.region), taskSamples);
  // Schedules are made and fired by one clock, so a test that moves it sees them due when it says.
  const scheduleClock = o.scheduleClock;
  const scheduler = createSchedulerApiHandler(async (scope) => {
    const b = await regions.berthFor(scope);
    return scheduleClock ? { ...b, now: scheduleClock } : b;
  }, { log: requestLog });
  const routes: Routes = {
    'GET /metrics': metrics.handler,
    'ANY /schedules': scheduler,
    'ANY /schedules/*': scheduler,
    'ANY /schedule-groups': scheduler,
    'ANY /schedule-groups/*': scheduler,
    'POST /': byTarget({
      ...slices.handlers, [AUTOSCALING_TARGET_PREFIX]: createAutoscalingHandler(regions.berthFor, { log: requestLog }), [SQS_TARGET_PREFIX]: sqs.jsonHandler,
    }, ecs,
      { elasticloadbalancing: elbv2.handler, sqs: sqs.handler }),
    // Each region's agents sign for their region (BERTH_REGION's, AWS_REGION on the host), as on AWS.
    'POST /agent': observeReports(createAgentApiHandler(ownRegionOnly(() => berth), { log: requestLog }), o.onReport),
    'POST /operator': createOperatorApiHandler(regions.berthFor, { log: requestLog }),
  };
  const server = await serve(routes, o.port);
  // Once the requests being answered have ended, none of them uses the store any more; the long
  // polls among them answer at once.
  started.push(async () => {
    for (const end of closing.endWaits) end();
    sqs.stop();
    await server.close();
  });
  endpointUrl = server.url;
  // No task may take the endpoint's own port from it.
  berth.config.reservedHostPorts = [...(berth.config.reservedHostPorts ?? ECS_RESERVED_PORTS), Number(new URL(server.url).port)];

  const credentials = await localCredentials(berth, o);
  started.push(metrics.start({ berth, url: server.url, credentials, log: o.log }));

  const podman = await engineReady;
  const agents = { agentScript: await agentScript, url: server.url, podmanEnv: podman.env, dockerSocket: podman.socketPath };
  const { fleet, provider, capacity } = await startRegionalFleet(o, started, { berth, services }, agents, closing);
  // Another region: its control plane, its agents' own route (`POST /regions/REGION/agent`, as
  // each region has its endpoint), then its fleet, with no warm pool until it has work.
  startRegion = async (region) => {
    o.log(`starting region ${region}`);
    const control = await startRegionalControlPlane(o, started, closing, dynamo.endpoint, region, keySealer, berth);
    await slices.inRegion(control.berth);
    control.berth.deadLetters = sqs.deadLettersOf(control.berth);
    routes[`POST ${REGION_PATH}/${region}/agent`] = observeReports(createAgentApiHandler(ownRegionOnly(() => control.berth), { log: requestLog }), o.onReport);
    // Its agents' task samples feed its own Application Auto Scaling, and `/metrics` under its region's label.
    const samples = new TaskSampleWindow(() => control.berth.now());
    control.berth.metrics = new FanOutSink(metrics.inRegion(region), samples);
    started.push(metrics.start({ berth: control.berth, url: server.url, credentials, log: o.log, billing: false }));
    const balancer = await elbv2.balancerIn(control.berth);
    const fleet = await startRegionalFleet(o, started, control, agents, closing);
    const requestCounts = new LocalRequestCounts(balancer, () => control.berth.now());
    return { region, ...control, ...fleet, schedules: startRegionalControllers(o, started, control.berth, samples, requestCounts) };
  };
  for (const region of await regionsWithTables(dynamo.endpoint, o.region)) await regions.stack(region);
  // ALBRequestCountPerTarget: the local listener's counts (HAProxy's), per healthy target.
  const schedules = startRegionalControllers(o, started, berth, taskSamples, new LocalRequestCounts(elbv2.balancer, () => berth.now()));
  await waitForActiveHosts(berth, o.hosts, 60_000);

  return {
    url: server.url,
    credentials,
    berth,
    fleet,
    provider,
    capacity,
    services,
    schedules,
    regions,
    loadBalancer: elbv2.balancer,
    dockerSocket: podman.socketPath,
    podmanEnv: podman.env,
    close: stopAll,
  };
}

/** Where another region's agents call: `POST /regions/REGION/agent`. */
const REGION_PATH = '/regions';

/**
 * A region's control plane: its tables, lifecycle workflows and service scheduler, its own
 * in-flight work resumed. The home region's is made before the API listens (recovery frees a
 * crash's stray reservations, safe only while nothing places); another region's shares the home
 * region's configuration.
 */
async function startRegionalControlPlane(
  o: LocalOptions, started: (() => unknown)[], closing: Closing, dynamoEndpoint: string, region: string, keySealer: LocalKeySealer, home?: LocalBerth,
): Promise<{ berth: LocalBerth; services: LocalServiceScheduler }> {
  if (region !== o.region) await createTables(dynamoEndpoint, regionTablePrefix(region, o.region), o.log);
  const berth = localBerth({
    dynamoEndpoint,
    tables: regionTables(region, o.region),
    partition: { region, accountId: o.accountId },
    keySealer,
    // No EFS locally unless asked for: the issue's contract, and what a user without AWS expects.
    config: home?.config ?? { efsVolumes: false, ...o.config },
    crashAt: region === o.region ? o.crashAt : undefined,
    workflows: {
      onError: (w, name, e) => o.log(`${region}: ${w} workflow ${name} failed: ${String(e)}`),
      timeoutSeconds: o.timeoutSeconds,
    },
  });
  // Executions are abandoned (the store holds their progress), once their running steps end.
  started.push(() => berth.workflows.close());
  closing.endWaits.push(() => (berth.notifier as LocalHostNotifier).close());
  // dynalite has no TTL: STOPPED tasks and spent client tokens go as DynamoDB's TTL removes them on AWS.
  // The sweep scans those tables, every 10 minutes: no per-task path's cost.
  started.push(startTtlSweep(documentClientFor(dynamoEndpoint), regionTables(region, o.region), berth.now, o.log));
  const recovered = await recoverInFlight(berth);
  if (recovered.launches + recovered.stops + recovered.released > 0) {
    o.log(`${region}: resumed ${recovered.launches} launch(es) and ${recovered.stops} stop(s) from the store; released ${recovered.released} stray reservation(s)`);
  }
  // Wakes from the API and from task reports reach the scheduler from the first request on.
  const services = new LocalServiceScheduler(berth, o.log);
  berth.services = services;
  started.push(() => services.stop());
  return { berth, services };
}

/**
 * A region's fleet: its agents (another region's in a data directory of their own, so neither
 * fleet takes the other's containers for leftovers), its capacity manager, and its services'
 * first passes. Only the home region keeps a warm pool.
 */
async function startRegionalFleet(
  o: LocalOptions,
  started: (() => unknown)[],
  { berth, services }: { berth: LocalBerth; services: LocalServiceScheduler },
  agents: { agentScript: string; url: string; podmanEnv: NodeJS.ProcessEnv; dockerSocket: string },
  closing: Closing,
): Promise<{ fleet: LocalFleet; provider: LocalFleetProvider; capacity: CapacityManager }> {
  const region = berth.partition.region;
  const home = region === o.region;
  const dataDir = regionDataDir(o.dataDir, region, o.region);
  mkdirSync(dataDir, { recursive: true });
  const fleet = new LocalFleet({
    agentScript: agents.agentScript,
    endpoint: home ? agents.url : `${agents.url}${REGION_PATH}/${region}`,
    awsEndpoint: agents.url,
    dockerSocket: agents.dockerSocket,
    dataDir,
    env: { ...agents.podmanEnv, AWS_REGION: region, BERTH_HEARTBEAT_INTERVAL_MS: String(o.heartbeatIntervalMs),
      BERTH_METRICS_INTERVAL_MS: String(o.metricsIntervalMs), BERTH_METRICS_REPORT: '1',
      BERTH_HOST_PORT_BIND_IP: o.hostPortBindIP, ...(o.hostPortRange ? { BERTH_HOST_PORT_RANGE: o.hostPortRange } : {}), ...o.agentSettings },
    log: o.log,
  });
  const provider = new LocalFleetProvider(fleet, DEFAULT_CATALOG, new DockerRuntime({ socketPath: agents.dockerSocket }), o.bootDelayMs, berth.now);
  // The agents, then what they kept ready and had no time to remove, or everything when the data
  // directory is discarded (after provider.close, so no host boots meanwhile).
  started.push(async () => {
    // The longest step of a stop (the engine removes one namespace at a time): say what it waits for.
    const agents = [...fleet.agents.values()].filter((a) => a.running).length;
    if (agents > 0) o.log(`stopping ${agents} agent(s): each removes the task namespaces it kept ready; running tasks' containers keep running for the next start`);
    await fleet.stopAll();
    await (closing.discard ? provider.discardAll() : provider.removeUnused())
      .catch((e) => o.log(`${CANNOT_REMOVE}: ${e}`));
    endOrphanedConmons(o.log);
  });
  started.push(() => provider.close());
  const { resumed, removed } = await provider.resume(await berth.store.hosts.list());
  if (removed > 0) o.log(`removed ${removed} container(s), network(s) and task volume(s) an earlier run of ${dataDir} left`);
  endOrphanedConmons(o.log);
  if (resumed > 0) o.log(`${region}: resumed the agents of ${resumed} host(s) from the store`);

  const warmPoolHosts = home ? o.hosts : 0;
  const capacity = new CapacityManager(berth, {
    provider,
    catalog: DEFAULT_CATALOG,
    policy: { warmPoolHosts, warmPoolType: o.hostType, maxHosts: o.maxHosts, idleTimeoutSeconds: o.idleTimeoutSeconds, market: o.market },
    heartbeatTimeoutSeconds: o.heartbeatTimeoutSeconds,
    bootTimeoutSeconds: DEFAULT_BOOT_TIMEOUT_SECONDS,
    watchingSince: berth.now(),
    ...(berth.crashHook ? { checkpoint: launchCheckpoint(berth.crashHook) } : {}),
  }, o.log);
  berth.capacity = capacity;
  o.log(`${region}: keeping a warm pool of ${warmPoolHosts} × ${o.hostType} host(s), at most ${o.maxHosts}`);
  capacity.start(o.capacityIntervalMs);
  started.push(() => capacity.stop());
  // Services recover from the store alone: a pass for each live one, then one every interval.
  const live = await services.reconcileAll();
  if (live > 0) o.log(`${region}: reconciled ${live} service(s) from the store`);
  services.start(o.serviceIntervalMs);
  return { fleet, provider, capacity };
}

/**
 * A region's schedules and Application Auto Scaling, each over that region's store: schedules
 * due while Berth was down run now, once each (their due times are in the store).
 */
function startRegionalControllers(
  o: LocalOptions, started: (() => unknown)[], berth: LocalBerth, taskSamples: TaskSampleWindow, requestCounts?: LocalRequestCounts,
): LocalScheduleFirer {
  const region = berth.partition.region;
  const schedules = new LocalScheduleFirer(berth, { retryBaseMs: o.scheduleRetryBaseMs, now: o.scheduleClock, log: (l) => o.log(`${region}: ${l}`) });
  schedules.start(o.scheduleIntervalMs);
  started.push(() => schedules.stop());
  started.push(startLocalAutoscaler(berth, {
    metrics: taskSamples,
    requestCounts,
    periodMs: o.autoscalingPeriodMs,
    // A sample lasts a few sampling rounds: datapoints may come more often than samples.
    sampleMaxAgeMs: Math.max(3 * o.metricsIntervalMs, 2 * o.autoscalingPeriodMs),
  }, (l) => o.log(`${region}: ${l}`)));
  return schedules;
}

/** The local mode is ready once the warm pool's agents have registered. */
async function waitForActiveHosts(berth: LocalBerth, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE').length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} host(s) registered within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The local mode's API key: the one given, else the one saved in the data directory at first
 * start (mode 0600), else a new one, saved there. It is the machine's operator's key, so it
 * may also make the operator calls (`POST /operator`) that AWS itself makes.
 */
async function localCredentials(berth: LocalBerth, o: LocalOptions): Promise<Credentials> {
  if (o.credentials) {
    await adoptAccessKey(berth, o.credentials, 'operator');
    return o.credentials;
  }
  const file = join(o.dataDir, 'credentials.json');
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Credentials;
    await adoptAccessKey(berth, saved, 'operator');
    return saved;
  }
  const issued = await issueAccessKey(berth, 'operator');
  writeFileSync(file, JSON.stringify(issued), { mode: 0o600 });
  o.log(`created an access key for this machine, saved in ${file}`);
  return issued;
}
