import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Assignment } from '../shared/agent-wire/responses';
import type { ContainerState as ReportedContainer, StopOutcome, TaskStatus, TaskTimestamp } from '../shared/domain/task';
import { type ContainerDefinition, DEFAULT_STOP_TIMEOUT_SECONDS } from '../shared/domain/task-definition';
import type { TaskReportBody } from './client';
import { type HealthState, STARTING, afterProbe, probeCommand } from './health-check';
import { type SecretEnvironment, resolveSecrets } from './secrets/resolve-secrets';
import type { SecretSource } from './secrets/secret-source';
import { type LogSinks, TaskLogs } from './logs/task-logs';
import { DEFAULT_ALLOWED_CAPABILITIES, capabilitiesAdded, capabilitiesDropped, checkCapabilities } from './capability-policy';
import { type ContainerRuntime, type ContainerSpec, type ContainerState, LABELS, SIGKILL_EXIT_CODE, containerName } from './runtime/container-runtime';
import { type TaskNamespace, TaskNamespaces } from './task-namespaces';
import type { TaskView } from './task-endpoint/metadata';
import { ImagePuller } from './images/image-puller';
import { RegistryLogins } from './images/registry-logins';
import { publishedMappings } from '../shared/domain/ports';
import { type ContainerLimits, containerLimits } from './task-limits';
import { RESERVED_LABEL_PREFIX, clusterArnOfTask, ecsContainerLabels } from '../shared/domain/docker-labels';
import { type TaskEndpointAccess, TaskEndpointSession } from './task-endpoint/session';
import { volumesFromOrder } from '../shared/domain/volumes';
import { TaskVolumes } from './task-volumes';
import type { EfsMounts } from './efs/efs-mounts';
import { ServiceConnectRelays, hostsEntries, natRules, writeNatRules } from './service-connect';

/** How long a container may wait for a dependency's condition (ECS's startTimeout). */
const DEPENDENCY_TIMEOUT_MS = 3 * 60_000;

const NAMESPACE_LOST = "The task's network namespace went away: its pause container exited";

export interface TaskRunnerOptions {
  hostId: string;
  runtime: ContainerRuntime;
  report: (body: TaskReportBody) => Promise<unknown>;
  /** Container output goes to `${logDir}/${taskId}/${container}.log`. */
  logDir?: string;
  /** Where container `secrets` are read from at launch. */
  secrets?: SecretSource;
  /** Where awslogs containers' output is shipped instead (CloudWatch Logs). */
  logSinks?: LogSinks;
  now?: () => number;
  log?: (message: string) => void;
  /**
   * The operator's policy: Linux capabilities a task may add (ECS's
   * linuxParameters.capabilities.add), without the CAP_ prefix; 'ALL' allows any. Default
   * DEFAULT_ALLOWED_CAPABILITIES.
   */
  allowedCapabilities?: readonly string[];
  /** Where the task's network namespace comes from; one made on demand unless given. */
  namespaces?: TaskNamespaces;
  /** The operator's limit on a task's processes, shared by its containers (task-limits.ts). */
  taskPidsLimit?: number;
  /** False: no cpu, memory or process limits at all (BERTH_TASK_LIMITS=false, only to measure their cost). */
  taskLimits?: boolean;
  /** The task metadata endpoint and the task role's credentials (task-endpoint/); none unless given. */
  endpoint?: TaskEndpointAccess;
  /** How images are pulled (the operator's pull behaviour) and with which logins; `default` and `secrets` unless given. */
  images?: ImagePuller;
  logins?: RegistryLogins;
  /** How this host mounts EFS volumes (efs/); a task with one fails to start without it. */
  efs?: EfsMounts;
  /** Where the host's Service Connect proxy listens (service-connect.ts); 127.0.0.1 unless given. */
  serviceConnectProxyHost?: string;
}

interface Running {
  def: ContainerDefinition;
  /** Its part of the task's cpu, memory and processes. */
  limits: ContainerLimits;
  id?: string;
  status: 'PENDING' | 'RUNNING' | 'STOPPED';
  /** The digest of the image it runs, once pulled. */
  imageDigest?: string;
  exitCode?: number;
  reason?: string;
  /** Its healthCheck's answer so far (only a container with one has it). */
  health?: HealthState;
  exited?: Promise<number>;
  logsDone?: Promise<void>;
}

class TaskStopped extends Error {}

/** What a create of a container whose image is not on the host fails with: Docker's words, and podman's. */
const IMAGE_MISSING = /no such image|image not known/i;

/** Sequence numbers that grow across agent restarts, so a restarted agent's reports are newest. */
let lastSeq = 0;
const nextSeq = () => (lastSeq = Math.max(lastSeq + 1, Date.now()));

/** ECS's containers[].reason for a container the kernel killed for memory. */
export const OUT_OF_MEMORY_REASON = 'OutOfMemoryError: Container killed due to memory usage';

/**
 * Runs one task's containers on this host and reports each state change: pull, create, start
 * in dependsOn order, watch, stop (SIGTERM, stopTimeout, SIGKILL), report exit codes, remove.
 */
export class TaskRunner {
  private readonly containers: Running[];
  /** The task's network namespace; its pause container is never reported, as ECS never reports its own. */
  private ns?: TaskNamespace;
  private relays?: ServiceConnectRelays;
  private readonly namespaces: TaskNamespaces;
  private readonly timestamps: Partial<Record<TaskTimestamp, number>> = {};
  /** Resolved secrets, by container: in memory only, never reported or logged. */
  private secretEnv: SecretEnvironment = new Map();
  private stopRequested?: StopOutcome | 'desired';
  private stopping = false;
  private status: TaskStatus = 'PENDING';
  private wakeStop: () => void = () => {};
  private readonly stopSignal = new Promise<void>((r) => (this.wakeStop = r));
  readonly done: Promise<void>;
  private resolveDone!: () => void;
  private readonly logs: TaskLogs;
  private endpoint?: TaskEndpointSession;
  private readonly volumes: TaskVolumes;
  /** The images' digests, asked beside the containers' create and start (see pull). */
  private digests: Promise<void> = Promise.resolve();
  private readonly images: ImagePuller;
  private readonly logins: RegistryLogins;
  /** Between taking a namespace and being done with the engine: the pool makes none ahead meanwhile. */
  private launching = false;

  constructor(readonly task: Assignment, private readonly o: TaskRunnerOptions) {
    const limits = o.taskLimits === false
      ? task.containers.map(() => ({}))
      : containerLimits(task.containers, { cpu: task.cpu, memory: task.memory }, o.taskPidsLimit);
    this.containers = task.containers.map((def, i) => ({ def, limits: limits[i], status: 'PENDING' }));
    this.logs = new TaskLogs(task.taskId, o.logSinks, { log: (m) => this.log(m) });
    this.namespaces = o.namespaces ?? new TaskNamespaces({ runtime: o.runtime, hostId: o.hostId, log: o.log });
    this.volumes = new TaskVolumes({ runtime: o.runtime, taskId: task.taskId, cluster: task.cluster, hostId: o.hostId, volumes: task.volumes, efs: o.efs });
    this.status = task.lastStatus;
    this.done = new Promise((r) => (this.resolveDone = r));
    this.images = o.images ?? new ImagePuller({ runtime: o.runtime, behavior: 'default', log: (m) => this.log(m) });
    this.logins = o.logins ?? new RegistryLogins({ secrets: o.secrets });
  }

  private now() {
    return (this.o.now ?? Date.now)();
  }

  private log(message: string) {
    this.o.log?.(`task ${this.task.taskId}: ${message}`);
  }

  private reported(): ReportedContainer[] {
    return this.containers.map((c) => ({
      name: c.def.name,
      image: c.def.image,
      imageDigest: c.imageDigest,
      essential: c.def.essential,
      cpu: c.def.cpu,
      memory: c.def.memory,
      memoryReservation: c.def.memoryReservation,
      lastStatus: c.status,
      exitCode: c.exitCode,
      reason: c.reason,
      runtimeId: c.id,
      networkBindings: this.bindingsOf(c.def),
      healthStatus: c.health?.status,
    }));
  }

  /** The host ports published for the container's own mappings; undefined when none. */
  private bindingsOf(def: ContainerDefinition): ReportedContainer['networkBindings'] {
    const mine = (this.ns?.bindings ?? []).filter((b) =>
      def.portMappings?.some((p) => p.containerPort === b.containerPort && p.protocol === b.protocol));
    return mine.length > 0 ? mine : undefined;
  }

  /** The task's own address, once its namespace has one. */
  private network(): TaskReportBody['network'] {
    const a = this.ns?.address;
    return a && { privateIPv4Address: a.ipv4Address, macAddress: a.macAddress };
  }

  private async report(lastStatus: TaskStatus, stop?: StopOutcome): Promise<void> {
    this.status = lastStatus;
    await this.send(lastStatus, stop);
  }

  /**
   * A container's health changed: reported at once, as a report of its own at the task's
   * current status (its newer seq orders it; it never moves the status). Before RUNNING the
   * change rides with the RUNNING report; once the task is stopping, with the stop's reports.
   */
  private reportHealth(): void {
    if (this.status !== 'RUNNING' || this.stopping) return;
    this.send('RUNNING').catch((e) => this.log(`cannot report health: ${e}`));
  }

  private async send(lastStatus: TaskStatus, stop?: StopOutcome): Promise<void> {
    const body: TaskReportBody = {
      task: { cluster: this.task.cluster, taskId: this.task.taskId },
      lastStatus, containers: this.reported(), timestamps: { ...this.timestamps }, stop, seq: nextSeq(), network: this.network(),
    };
    // A report that cannot reach the control plane is retried: it is the only record of the change.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.report(body);
        return;
      } catch (e) {
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Asks the task to stop (StopTask, or the control plane no longer wants it). */
  requestStop(): void {
    if (this.stopRequested) return;
    this.stopRequested = 'desired';
    this.wakeStop();
  }

  private checkStop(): void {
    if (this.stopRequested) throw new TaskStopped();
  }

  private spec({ def: c, limits }: Running, ns: TaskNamespace): ContainerSpec {
    return {
      name: containerName(this.task.taskId, c.name),
      image: c.image,
      command: c.command,
      entryPoint: c.entryPoint,
      env: [
        // The definition's own variables win over ECS's (ECS_CONTAINER_METADATA_URI_V4, AWS_REGION, ...).
        ...Object.entries(this.endpoint?.environment(c.name) ?? {})
          .filter(([name]) => !c.environment?.some((e) => e.name === name) && !c.secrets?.some((e) => e.name === name))
          .map(([name, value]) => `${name}=${value}`),
        ...(c.environment ?? []).map((e) => `${e.name}=${e.value}`), ...(this.secretEnv.get(c.name) ?? []),
      ],
      workingDirectory: c.workingDirectory,
      user: c.user,
      ...limits,
      ulimits: c.ulimits ?? [],
      // Published by the namespace owner.
      portMappings: [],
      labels: {
        ...c.dockerLabels,
        ...ecsContainerLabels(this.task, c.name),
        ...this.endpoint?.labels(),
        [LABELS.task]: this.task.taskId,
        [LABELS.cluster]: this.task.cluster,
        [LABELS.container]: c.name,
        [LABELS.host]: this.o.hostId,
        [LABELS.namespace]: ns.name,
      },
      network: { joinNamespaceOf: ns.id },
      capAdd: capabilitiesAdded(c),
      capDrop: capabilitiesDropped(c),
      ...this.volumes.mountsOf(c),
      storageSizeGiB: this.task.ephemeralStorageGiB,
    };
  }

  /** Launches the task from nothing. */
  async launch(): Promise<void> {
    try {
      checkCapabilities(this.task.containers, this.o.allowedCapabilities ?? DEFAULT_ALLOWED_CAPABILITIES);
      // As on Fargate, secrets come first: a task whose secrets are unavailable creates nothing.
      this.secretEnv = await resolveSecrets(this.task.containers, this.o.secrets);
      // The namespace is made (or taken ready) while the images are checked and pulled, and the
      // task's log streams and volumes, which need neither, are made.
      const acquiring = this.namespaces.acquire(
        publishedMappings(this.task.networkMode, this.containers.flatMap((c) => c.def.portMappings ?? [])), hostsEntries(this.task.serviceConnect ?? []),
      ).then((ns) => {
        this.ns = ns;
        this.launching = true;
      });
      const preparing = (async () => {
        await this.logs.open(this.task.containers);
        await this.volumes.prepare();
      })();
      const settled = await Promise.allSettled([this.pull(), acquiring, preparing]);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      await this.connectServices(true);
      // The endpoint is opened while the containers are created (they need only its id and
      // token), and is serving before any of them starts.
      const settledCreate = await Promise.allSettled([this.openEndpoint(), this.createAll()]);
      for (const s of settledCreate) if (s.status === 'rejected') throw s.reason;
      await this.startAll();
      this.timestamps.startedAt = this.now();
      await this.digests;
      await this.report('RUNNING');
      // Off the launch's path: the namespace this launch took is made again once it is reported.
      this.doneLaunching();
      await this.watch();
    } catch (e) {
      await this.fail(e);
    } finally {
      await this.cleanup();
    }
  }

  /**
   * Takes over containers a previous agent process started. A container missing from the
   * engine vanished while no agent watched: it is reported STOPPED with that reason.
   */
  async adopt(existing: ContainerState[]): Promise<void> {
    // The previous agent died (locally, with the control plane) after creating the containers
    // but before starting any: nothing has run, so launching afresh starts nothing twice.
    if (existing.every((s) => !s.running && s.startedAt === undefined)) {
      this.log(`relaunching: ${existing.length} container(s) were created but never started`);
      await Promise.all(existing.map((s) => this.o.runtime.remove(s.id).catch(() => {})));
      return this.launch();
    }
    try {
      // A task already running keeps running: its output goes to files if its log stream cannot be opened.
      await this.logs.open(this.task.containers).catch((e) => this.log(`awslogs: ${e}`));
      // A task from before namespaces were per task names none: it runs on as it is.
      const namespace = existing.map((s) => s.labels[LABELS.namespace]).find(Boolean);
      if (namespace) this.ns = await this.namespaces.adopt(namespace);
      // The rules live on in the namespace; the relays died with the previous agent.
      await this.connectServices(false).catch((e) => this.log(`cannot relay Service Connect again: ${e}`));
      await this.openEndpoint(existing[0]?.labels).catch((e) => this.log(`cannot serve the task endpoint again: ${e}`));
      const byName = new Map(existing.map((s) => [s.labels[LABELS.container], s]));
      for (const c of this.containers) {
        const s = byName.get(c.def.name);
        if (!s) {
          c.status = 'STOPPED';
          c.reason = 'Container vanished while the agent was not running';
          continue;
        }
        c.id = s.id;
        if (!s.running && s.startedAt === undefined) {
          // Others started, this one not: the previous agent died partway through the start order.
          throw new Error('Task failed to start: the agent restarted while launching it');
        }
        c.exited = this.o.runtime.wait(s.id);
        if (s.running) {
          c.status = 'RUNNING';
          this.follow(c, true);
          void this.healthLoop(c, s.startedAt ?? this.now());
        } else if (s.startedAt !== undefined) {
          c.status = 'STOPPED';
          c.exitCode = s.exitCode;
          if (s.oomKilled) c.reason = OUT_OF_MEMORY_REASON;
        }
      }
      this.log(`adopted ${existing.length} container(s)${this.ns ? ' and their network namespace' : ''}`);
      const vanished = this.containers.find((c) => c.status === 'STOPPED' && c.def.essential);
      if (vanished) {
        await this.stopAll(vanished.reason ?? 'Essential container in task exited', 'EssentialContainerExited');
        return;
      }
      if (this.status !== 'RUNNING') {
        this.timestamps.startedAt = this.now();
        await this.report('RUNNING');
      }
      await this.watch();
    } catch (e) {
      await this.fail(e);
    } finally {
      await this.cleanup();
    }
  }

  /** Gets each image onto the host; their digests are asked meanwhile, into `digests`, for the RUNNING report. */
  private async pull(): Promise<void> {
    this.timestamps.pullStartedAt = this.now();
    const digests: Promise<void>[] = [];
    for (const image of new Set(this.containers.map((c) => c.def.image))) {
      this.checkStop();
      const using = this.containers.filter((c) => c.def.image === image);
      await this.fetch(using[0].def);
      digests.push(this.images.digestOf(image).then((digest) => {
        for (const c of using) c.imageDigest = digest;
      }));
    }
    this.digests = Promise.all(digests).then(() => {});
    this.timestamps.pullStoppedAt = this.now();
  }

  /** Gets the container's image onto the host, as the pull behaviour says. */
  private fetch(def: ContainerDefinition): Promise<void> {
    return this.images.fetch(def.image, () => this.logins.loginFor(def));
  }

  /**
   * The task's containers, in its network namespace: all at once, unless one takes another's
   * volumes, which then come first.
   */
  private async createAll(): Promise<void> {
    const create = async (c: Running) => {
      this.checkStop();
      try {
        c.id = await this.o.runtime.create(this.spec(c, this.ns!));
      } catch (e) {
        if (!IMAGE_MISSING.test(e instanceof Error ? e.message : String(e))) throw e;
        // The image left the host since this agent last saw it there: fetched again, once.
        this.images.forget(c.def.image);
        await this.fetch(c.def);
        this.checkStop();
        c.id = await this.o.runtime.create(this.spec(c, this.ns!));
      }
    };
    if (!this.containers.some((c) => c.def.volumesFrom?.length)) {
      const created = await Promise.allSettled(this.containers.map(create));
      for (const r of created) if (r.status === 'rejected') throw r.reason;
      return;
    }
    for (const c of volumesFromOrder(this.containers.map((r) => ({ ...r.def, r }))).map((d) => d.r)) await create(c);
  }

  private byName(name: string): Running {
    return this.containers.find((c) => c.def.name === name)!;
  }

  /** Starts each container once its dependencies meet their conditions. */
  private async startAll(): Promise<void> {
    const started = new Map<string, Promise<void>>();
    const startOne = (c: Running): Promise<void> => {
      let p = started.get(c.def.name);
      if (!p) {
        p = (async () => {
          for (const d of c.def.dependsOn ?? []) {
            const dep = this.byName(d.containerName);
            await startOne(dep);
            await this.awaitCondition(c, dep, d.condition);
          }
          this.checkStop();
          await this.o.runtime.start(c.id!);
          c.status = 'RUNNING';
          this.follow(c, false);
          c.exited = this.o.runtime.wait(c.id!);
          void this.healthLoop(c, this.now());
        })();
        started.set(c.def.name, p);
      }
      return p;
    };
    await Promise.all(this.containers.map(startOne));
  }

  private async awaitCondition(c: Running, dep: Running, condition: string): Promise<void> {
    const timeoutMs = c.def.startTimeout === undefined ? DEPENDENCY_TIMEOUT_MS : c.def.startTimeout * 1000;
    const deadline = this.now() + timeoutMs;
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
    const stop = this.stopSignal.then(() => 'stop' as const);
    if (condition === 'START') return;
    if (condition === 'COMPLETE' || condition === 'SUCCESS') {
      const r = await Promise.race([dep.exited!.then((code) => ({ code })), timeout, stop]);
      if (r === 'stop') throw new TaskStopped();
      if (r === 'timeout') throw new Error(`Dependency '${dep.def.name}' of '${c.def.name}' did not ${condition} in time`);
      if (condition === 'SUCCESS' && r.code !== 0) {
        throw new Error(`Dependency '${dep.def.name}' of '${c.def.name}' exited with ${r.code}, not SUCCESS`);
      }
      return;
    }
    // HEALTHY
    while (dep.health?.status !== 'HEALTHY') {
      this.checkStop();
      if (dep.status === 'STOPPED') throw new Error(`Dependency '${dep.def.name}' of '${c.def.name}' stopped before it was HEALTHY`);
      if (this.now() > deadline) throw new Error(`Dependency '${dep.def.name}' of '${c.def.name}' did not become HEALTHY in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Runs the container's healthCheck (see health-check.ts) until the container stops or the
   * task stops, and reports each change of its answer. An UNHEALTHY container keeps running, as
   * in ECS: only a service's scheduler replaces an unhealthy task.
   */
  private async healthLoop(c: Running, startedAt: number): Promise<void> {
    const check = c.def.healthCheck;
    if (!check) return;
    const command = probeCommand(check);
    const ended = Promise.race([this.stopSignal, c.exited]).then(() => true, () => true);
    c.health = STARTING;
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<false>((r) => (timer = setTimeout(() => r(false), check.interval * 1000).unref()));
      const over = await Promise.race([tick, ended]);
      clearTimeout(timer);
      if (over || c.status !== 'RUNNING' || this.stopping) return;
      const code = await this.o.runtime.exec(c.id!, command, check.timeout).catch(() => 1);
      if (c.status !== 'RUNNING' || this.stopping) return;
      const before = c.health.status;
      c.health = afterProbe(c.health, check, code === 0, this.now() - startedAt);
      if (c.health.status !== before) {
        this.log(`container ${c.def.name} is ${c.health.status}`);
        this.reportHealth();
      }
    }
  }

  private follow(c: Running, adopted: boolean): void {
    const ship = this.logs.lineHandler(c.def.name);
    if (ship) {
      c.logsDone = this.o.runtime.followLogs(c.id!, ship).catch(() => {});
      return;
    }
    const dir = this.o.logDir && join(this.o.logDir, this.task.taskId);
    if (dir) mkdirSync(dir, { recursive: true });
    const file = dir && join(dir, `${c.def.name}.log`);
    // An adopted container's output is followed from its start again: skip what is written.
    let skip = adopted && file && existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0;
    c.logsDone = this.o.runtime.followLogs(c.id!, (line) => {
      if (skip > 0) {
        skip--;
        return;
      }
      if (file) appendFileSync(file, `${line}\n`);
    }).catch(() => {});
  }

  /** Waits until an essential container exits or a stop is requested, then stops the task. */
  private async watch(): Promise<void> {
    const exits = this.containers.map(async (c) => {
      const code = await c.exited!;
      c.status = 'STOPPED';
      c.exitCode = code;
      // Only a SIGKILL can be the OOM killer's: only then is the engine asked why.
      if (code === SIGKILL_EXIT_CODE && (await this.o.runtime.inspect(c.id!).catch(() => undefined))?.oomKilled) c.reason ??= OUT_OF_MEMORY_REASON;
      return c;
    });
    const essentialExit = Promise.race(
      exits.map((p) => p.then((c) => (c.def.essential ? c : new Promise<never>(() => {})))),
    );
    const namespaceLost = (this.ns?.lost ?? new Promise<never>(() => {})).then(() => 'namespace lost' as const);
    const first = await Promise.race([essentialExit, this.stopSignal.then(() => undefined), namespaceLost]);
    if (first === 'namespace lost') {
      this.log(NAMESPACE_LOST);
      await this.stopAll(NAMESPACE_LOST, 'EssentialContainerExited');
    } else if (first) {
      this.log(`essential container ${first.def.name} exited with ${first.exitCode}`);
      await this.stopAll('Essential container in task exited', 'EssentialContainerExited');
    } else {
      await this.stopAll('Task stopped', 'UserInitiated');
    }
  }

  /** SIGTERM every running container, SIGKILL after its stopTimeout, then report STOPPED. */
  private async stopAll(reason: string, stopCode: StopOutcome['stopCode']): Promise<void> {
    this.stopping = true;
    this.timestamps.stoppingAt ??= this.now();
    // STOPPING is reported while the containers stop and their output drains, not before: an
    // exit's STOPPED then follows it by what the stop costs, not by a report's round trip more.
    // STOPPED is sent only once STOPPING has landed, so the task never skips it.
    const stoppingReported = this.status === 'RUNNING' ? this.report('STOPPING') : Promise.resolve();
    const [reported, stopped] = await Promise.allSettled([stoppingReported, Promise.all(this.containers.map(async (c) => {
      if (!c.id) return;
      if (c.status === 'RUNNING') {
        await this.o.runtime.stop(c.id, c.def.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS);
      }
      const code = c.exited ? await c.exited : undefined;
      c.status = 'STOPPED';
      c.exitCode ??= code;
      await c.logsDone;
      await this.logs.close(c.def.name);
    }))]);
    if (reported.status === 'rejected') throw reported.reason;
    if (stopped.status === 'rejected') throw stopped.reason;
    this.timestamps.executionStoppedAt = this.now();
    this.timestamps.stoppedAt = this.now();
    // The control plane keeps the first stop cause: a StopTask's reason wins over ours.
    await this.report('STOPPED', { stopCode, stoppedReason: reason });
  }

  /** A launch that failed: the task ends STOPPED, TaskFailedToStart, with the error's words. */
  private async fail(e: unknown): Promise<void> {
    if (this.status === 'STOPPED') return;
    const stoppedByUser = e instanceof TaskStopped;
    const reason = stoppedByUser ? 'Task stopped before it started' : e instanceof Error ? e.message : String(e);
    if (!stoppedByUser) this.log(`failed: ${reason}`);
    for (const c of this.containers) {
      if (c.status !== 'STOPPED') {
        c.status = 'STOPPED';
        c.reason ??= stoppedByUser ? undefined : reason;
      }
    }
    this.stopping = true;
    await Promise.all(this.containers.map(async (c) => {
      if (!c.id) return;
      await this.o.runtime.stop(c.id, c.def.stopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS).catch(() => {});
      const state = await this.o.runtime.inspect(c.id).catch(() => undefined);
      if (state?.startedAt !== undefined) c.exitCode ??= state.exitCode;
      await c.logsDone;
      await this.logs.close(c.def.name);
    }));
    const now = this.now();
    this.timestamps.stoppingAt ??= now;
    this.timestamps.executionStoppedAt = now;
    this.timestamps.stoppedAt = now;
    await this.report('STOPPED', { stopCode: stoppedByUser ? 'UserInitiated' : 'TaskFailedToStart', stoppedReason: reason });
  }

  /**
   * Serves the task's endpoint on its network's gateway (task-endpoint/), with the id and token
   * its containers carry when adopted, new ones otherwise. A task with a role cannot run without
   * it; one without loses only its metadata.
   */
  private async openEndpoint(adoptedLabels?: Record<string, string>): Promise<void> {
    const access = this.o.endpoint;
    if (!access) return;
    this.endpoint = new TaskEndpointSession(access, this.task, {
      adoptedLabels,
      address: this.ns?.address,
      view: () => this.view(),
    });
    try {
      await this.endpoint.open();
    } catch (e) {
      if (this.task.taskRoleArn) throw new Error(`ResourceInitializationError: cannot serve the task role's credentials: ${e instanceof Error ? e.message : e}`);
      this.log(`no task metadata endpoint: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** What the task metadata endpoint shows: the task as this runner knows it, its containers as the engine does. */
  private async view(): Promise<TaskView> {
    const states = await Promise.all(this.containers.map((c) => (c.id ? this.o.runtime.inspect(c.id).catch(() => undefined) : undefined)));
    return {
      clusterArn: clusterArnOfTask(this.task.taskArn),
      taskArn: this.task.taskArn,
      family: this.task.family,
      revision: this.task.revision,
      desiredStatus: this.task.desiredStatus,
      lastStatus: this.status,
      cpu: this.task.cpu,
      memory: this.task.memory,
      pullStartedAt: this.timestamps.pullStartedAt,
      pullStoppedAt: this.timestamps.pullStoppedAt,
      availabilityZone: this.task.availabilityZone,
      networkMode: this.task.networkMode ?? 'awsvpc',
      address: this.ns?.address,
      containers: this.containers.map((c, i) => {
        const state = states[i];
        const lc = c.def.logConfiguration;
        return {
          name: c.def.name,
          runtimeId: c.id,
          runtimeName: containerName(this.task.taskId, c.def.name),
          image: c.def.image,
          labels: Object.fromEntries(Object.entries(state?.labels ?? {}).filter(([k]) => !k.startsWith(RESERVED_LABEL_PREFIX))),
          status: c.status,
          exitCode: c.exitCode,
          cpu: c.def.cpu,
          memory: c.def.memory,
          startedAt: state?.startedAt,
          finishedAt: state?.finishedAt,
          logDriver: lc?.logDriver,
          logOptions: lc?.options,
        };
      }),
    };
  }

  /**
   * Service Connect (service-connect.ts): the names the namespace's /etc/hosts holds lead, through
   * NAT rules in the namespace, to the agent's relays on the gateway, and on to the host's proxy.
   */
  private async connectServices(writeRules: boolean): Promise<void> {
    const routes = this.task.serviceConnect ?? [];
    if (routes.length === 0 || !this.ns) return;
    const gateway = this.ns.address?.gateway;
    const address = this.ns.address?.ipv4Address;
    if (!gateway || !address) throw new Error('ResourceInitializationError: Service Connect needs the task\'s address and gateway, which the engine did not tell');
    if (writeRules) {
      const pid = (await this.o.runtime.inspect(this.ns.id))?.pid;
      if (pid === undefined) throw new Error('ResourceInitializationError: the task\'s network namespace is gone');
      await writeNatRules(pid, natRules(routes, gateway));
    }
    this.relays = new ServiceConnectRelays(this.o.serviceConnectProxyHost);
    await this.relays.open(gateway, address, routes);
  }

  private doneLaunching(): void {
    this.launching = false;
    this.namespaces.launched();
  }

  /** The task's containers, then its volumes and namespace owner, then its network: each must go before the next can. */
  private async cleanup(): Promise<void> {
    await this.endpoint?.close();
    await this.relays?.close();
    await Promise.all(this.containers.map((c) => (c.id ? this.o.runtime.remove(c.id).catch(() => {}) : undefined)));
    await this.volumes.remove().catch((e) => this.log(`cannot remove the task's volumes: ${e}`));
    if (this.ns) await this.namespaces.release(this.ns).catch((e) => this.log(`cannot remove network namespace ${this.ns?.name}: ${e}`));
    if (this.launching) this.doneLaunching();
    else this.namespaces.fill();
    this.resolveDone();
  }
}
