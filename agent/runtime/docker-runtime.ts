import Docker from 'dockerode';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  CannotCreateContainerError,
  CannotPullContainerError,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  LABELS,
  SIGKILL_EXIT_CODE,
  type VolumeSpec,
  type RegistryAuth,
} from './container-runtime';
import { kernelKilledForMemory } from './oom-kills';
import { ContainerExits, type Looked } from './container-exits';
import { LogBell } from './log-bell';
import { parseImageReference } from '../../shared/domain/image';
import { ISOLATION_RULE_SET, bridgeName, keepTaskNetworksApart } from './task-network-isolation';

/** The Docker Engine API's socket: BERTH_DOCKER_SOCKET, else DOCKER_HOST when it is unix://, else Docker's default. */
export function defaultDockerSocket(): string {
  if (process.env.BERTH_DOCKER_SOCKET) return process.env.BERTH_DOCKER_SOCKET;
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

export interface DockerRuntimeOptions {
  socketPath?: string;
  /** A pull that has not finished by then fails, so a black-holed registry cannot hang a launch. */
  pullTimeoutMs?: number;
  log?: (message: string) => void;
  /**
   * Put on every container and network this runtime creates, beside the spec's own: the local
   * mode marks what its hosts make with its data directory (LABELS.instance).
   */
  labels?: Record<string, string>;
  /** Whether the kernel killed the container (by id) for memory; default: its log says so (oom-kills.ts). */
  killedForMemory?: (containerId: string) => boolean;
  /** The metadata service's address task networks may not reach; default EC2's (169.254.169.254). */
  metadataAddress?: string;
}

/** Exit code of an exec that ran past its timeout, as coreutils' `timeout` reports it. */
export const EXEC_TIMED_OUT = 124;

// Engines refuse to start containers without these on some hosts (podman on hybrid cgroups).
const DEFAULT_ULIMITS = [
  { name: 'nofile', softLimit: 1024, hardLimit: 1024 },
  { name: 'nproc', softLimit: 1024, hardLimit: 1024 },
];
// Docker's floor for CpuShares; ECS's agent sends 2 for a container with cpu 0.
const MIN_CPU_SHARES = 2;
const MiB = 1024 * 1024;
const CREATED_POLL_MS = 50;
// Kept from escalating through setuid binaries: a task is never more privileged than it starts.
const SECURITY_OPTIONS = ['no-new-privileges'];
// Both engines take the bridge's name from this option; the isolation rule matches it.
const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const REMOVE_ATTEMPTS = 3;
const LIST_ATTEMPTS = 5;
// The oldest libpod API our calls need; podman 4.3 (Debian 12) serves it.
const PODMAN_API = 'v4.0.0';

/** ContainerRuntime over the Docker Engine API (Docker, or podman's compatible service). */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;
  private readonly pullTimeoutMs: number;
  private readonly log: (message: string) => void;
  private readonly metadataAddress?: string;
  private readonly labels: Record<string, string>;
  private readonly killedForMemory: (containerId: string) => boolean;
  /** The kernel's answer per exited container: its log is read once per container, not per inspect. */
  private readonly oomAnswers = new Map<string, boolean>();
  private isolationKept?: Promise<void>;
  /** Whether the engine can cap a container's writable layer; unknown until a task asks. */
  private storageQuota?: boolean;
  /** Whether the engine is podman, asked once. */
  private podman?: Promise<boolean>;
  private readonly socketPath: string;
  /** Exits as the engine's event stream announces them: wait's fast path. */
  private readonly exits: ContainerExits;

  constructor(options: DockerRuntimeOptions = {}) {
    this.socketPath = options.socketPath ?? defaultDockerSocket();
    this.docker = new Docker({ socketPath: this.socketPath });
    this.pullTimeoutMs = options.pullTimeoutMs ?? 60_000;
    this.log = options.log ?? (() => {});
    this.metadataAddress = options.metadataAddress;
    this.labels = options.labels ?? {};
    this.killedForMemory = options.killedForMemory ?? ((id) => kernelKilledForMemory(id));
    this.exits = new ContainerExits({
      open: (since) => this.docker.getEvents({ ...(since === undefined ? {} : { since }), filters: { type: ['container'] } }) as Promise<NodeJS.ReadableStream>,
      look: (ids) => this.exitsOf(ids),
      log: this.log,
    });
  }

  /** Stops following the engine's events; waits still answer, the slow way. */
  close(): void {
    this.exits.close();
  }

  hasImage(image: string): Promise<boolean> {
    return exists(() => this.docker.getImage(image).inspect());
  }

  async pull(image: string, auth?: RegistryAuth): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.pullTimeoutMs);
    const progress = new PullProgress(image, this.log);
    try {
      const authconfig = auth && { username: auth.username, password: auth.password, serveraddress: auth.serverAddress };
      const stream: NodeJS.ReadableStream = await this.docker.pull(image, { abortSignal: abort.signal, authconfig });
      // The engine answers 200 and reports a failed pull inside the progress stream.
      const failure = await new Promise<string | undefined>((resolve, reject) => {
        let error: string | undefined;
        this.docker.modem.followProgress(
          stream,
          (err) => (err ? reject(err) : resolve(error)),
          (event: PullEvent) => {
            error ??= event.errorDetail?.message ?? event.error;
            progress.on(event);
          },
        );
      });
      progress.done(failure);
      if (failure !== undefined) throw new CannotPullContainerError(image, failure);
    } catch (e) {
      if (e instanceof CannotPullContainerError) throw e;
      const detail = abort.signal.aborted ? `timed out after ${this.pullTimeoutMs / 1000} s` : messageOf(e);
      throw new CannotPullContainerError(image, detail);
    } finally {
      clearTimeout(timer);
    }
  }

  async imageDigest(image: string): Promise<string | undefined> {
    const ref = parseImageReference(image);
    if (ref.digest) return ref.digest;
    const info = await this.docker.getImage(image).inspect();
    // Entries are `repository@sha256:...`. Docker lists the digest each repository served; podman
    // lists every digest the image has under every name, the one pulled last coming last.
    const digests = (info.RepoDigests ?? []).map((d) => ({ repository: d.slice(0, d.lastIndexOf('@')), digest: d.slice(d.lastIndexOf('@') + 1) }));
    return digests.filter((d) => d.repository === ref.repository).pop()?.digest;
  }

  async create(spec: ContainerSpec): Promise<string> {
    if (spec.network && 'joinNamespaceOf' in spec.network && spec.portMappings.length > 0) {
      throw new CannotCreateContainerError(spec.name, 'ports are published by the owner of the network namespace it joins');
    }
    const withLabels = { ...spec, labels: { ...spec.labels, ...this.labels } };
    const capped = spec.storageSizeGiB !== undefined && this.storageQuota !== false;
    // Said for every container it concerns, not only the first: a task's log line names its own.
    if (spec.storageSizeGiB !== undefined && this.storageQuota === false) {
      this.log(`${spec.name}: ephemeralStorage of ${spec.storageSizeGiB} GiB is not enforced: this engine cannot cap a container's writable layer`);
    }
    try {
      const container = await this.docker.createContainer(createOptions(withLabels, capped));
      if (capped) this.storageQuota = true;
      return container.id;
    } catch (e) {
      // An engine whose storage has no project quotas refuses every cap: known once, logged once.
      if (!capped || !STORAGE_QUOTA_REFUSED.test(messageOf(e))) throw new CannotCreateContainerError(spec.name, messageOf(e));
      this.storageQuota = false;
      this.log(`the engine cannot cap a container's writable layer (${messageOf(e)}): ephemeralStorage is not enforced on this host`);
      return this.create(spec);
    }
  }

  /**
   * Resolves when the engine answers the start: the task's RUNNING is reported from that answer,
   * not from the engine's start event, which podman (4.3, reading its events from a file) sends
   * 10 to 180 ms after the answer (measured: 12 starts, the event later every time).
   */
  async start(id: string): Promise<void> {
    // Following the engine's events before the start, so even an exit at once is announced.
    await this.exits.watch();
    try {
      await this.docker.getContainer(id).start();
    } catch (e) {
      if (statusOf(e) === 304) return; // already running
      // podman 4.3 reads the started process's cgroup after starting it: a container that exits
      // at once fails the start ("read /proc/PID/cgroup: no such process") although it ran.
      if (/no such process/.test(messageOf(e)) && (await this.hasStarted(id))) return;
      throw new CannotCreateContainerError(id, messageOf(e));
    }
  }

  private async hasStarted(id: string): Promise<boolean> {
    const info = await this.docker.getContainer(id).inspect().catch(() => undefined);
    const state = info?.State;
    return state !== undefined && (state.Running || ((state.Status === 'exited' || state.Status === 'stopped') && !state.StartedAt.startsWith('0001-')));
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (e) {
      if (isGone(e)) return undefined;
      throw e;
    }
    const s = info.State;
    // podman leaves a container 'stopping', Running false, when the service dies during a stop's
    // grace period (the local mode crashing takes it down). Its process lives on: taken for
    // exited, a restarted agent would wait on it forever rather than stop it again.
    const running = s.Running || s.Status === 'stopping';
    const startedAt = epochMs(s.StartedAt);
    // podman stamps StartedAt when runc's start returns but FinishedAt from the process's real
    // exit, so a container that exits at once can finish a few ms before it "started".
    const finishedAt = startedAt === undefined ? epochMs(s.FinishedAt) : maxDefined(epochMs(s.FinishedAt), startedAt);
    const exitCode = !running && finishedAt !== undefined ? s.ExitCode : undefined;
    return {
      ...networkOf(info),
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      labels: info.Config.Labels ?? {},
      // podman says `stopped` between the exit and its cleanup of the container: Docker's `exited`.
      status: s.Status === 'stopped' ? 'exited' : s.Status,
      running,
      exitCode,
      oomKilled: s.OOMKilled || (exitCode === SIGKILL_EXIT_CODE && this.oomAnswer(info.Id)),
      startedAt,
      finishedAt,
      error: s.Error || undefined,
      ...(running && s.Pid > 0 ? { pid: s.Pid } : {}),
    };
  }

  private oomAnswer(id: string): boolean {
    let answer = this.oomAnswers.get(id);
    if (answer === undefined) {
      answer = this.killedForMemory(id);
      this.oomAnswers.set(id, answer);
    }
    return answer;
  }

  /**
   * The engine's exit event, or its wait call, whichever answers first: podman answers the wait
   * only when it next looks at the container, hundreds of ms after the exit. The wait call alone
   * still answers an exit the event stream missed.
   */
  wait(id: string): Promise<number> {
    return this.exits.wait(id);
  }

  /** Of these containers, those that have exited, with their codes, and those gone: one list, an inspect per exit. */
  private async exitsOf(ids: readonly string[]): Promise<Map<string, Looked>> {
    const listed = new Map((await this.listContainers({ id: [...ids] })).map((c) => [c.Id, c.State]));
    const out = new Map<string, Looked>();
    await Promise.all(ids.map(async (id) => {
      const state = listed.get(id);
      if (state === 'running' || state === 'created' || state === 'paused' || state === 'stopping') return;
      const info = await this.inspect(id);
      if (!info) out.set(id, 'gone');
      else if (info.exitCode !== undefined) out.set(id, { exitCode: info.exitCode });
    }));
    return out;
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: timeoutSeconds });
    } catch (e) {
      if (statusOf(e) === 304 || isGone(e)) return;
      throw e;
    }
  }

  async remove(id: string): Promise<void> {
    this.oomAnswers.delete(id);
    this.exits.forget(id);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.docker.getContainer(id).remove({ force: true, v: true });
        return;
      } catch (e) {
        if (isGone(e)) return;
        // podman refuses to remove a namespace owner while others share it; Docker does not.
        if (!/dependent containers/i.test(messageOf(e)) || attempt >= REMOVE_ATTEMPTS) throw e;
        const owner = await this.docker.getContainer(id).inspect().catch(() => undefined);
        if (owner) await this.removeDependents(owner);
      }
    }
  }

  /** Removes the containers that joined the owner's network namespace, found by their label. */
  private async removeDependents(owner: Docker.ContainerInspectInfo): Promise<void> {
    const candidates = await this.listContainers({ label: [`${LABELS.namespace}=${owner.Name.replace(/^\//, '')}`] });
    // Another caller may be removing one at the same time: the owner's next attempt tells.
    await Promise.all(candidates.map((c) => this.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<void> {
    // Before the first task network exists; once per process, and tried again after a failure.
    this.isolationKept ??= keepTaskNetworksApart(undefined, { ...ISOLATION_RULE_SET, metadataAddress: this.metadataAddress }).then((outcome) => {
      if (outcome === 'not root') {
        this.log('not root: cannot keep task networks apart through iptables; run the agent as root to keep tasks apart');
      }
    }, (e: unknown) => {
      this.isolationKept = undefined;
      throw e;
    });
    try {
      await this.isolationKept;
    } catch (e) {
      // No network without the rule that keeps it apart from the others.
      throw new CannotCreateContainerError(name, `cannot keep task networks apart: ${messageOf(e)}`);
    }
    const podman = await this.isPodman();
    const create = () => (podman
      // Without a DNS server of its own: the network holds one container (the task's pause), so
      // there is no name on it to resolve, and the task resolves through the host's resolvers, as
      // a Fargate task through its VPC's. The Docker API cannot ask this of podman, which gives
      // every network it makes there aardvark-dns: a process of some 11 MiB beside the service,
      // reloading every network's file at each container's start and stop, and a file per network
      // that a crashed engine leaves behind for good.
      ? this.dial('POST', `/${PODMAN_API}/libpod/networks/create`, {
        name, driver: 'bridge', labels: { ...labels, ...this.labels }, dns_enabled: false, network_interface: bridgeName(name),
      })
      : this.docker.createNetwork({
        Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { ...labels, ...this.labels },
        Options: { [BRIDGE_NAME_OPTION]: bridgeName(name) },
      }));
    try {
      // Podman lists the host's interfaces to pick a free subnet; a bridge removed meanwhile (another
      // task's network going) fails that listing once: the next try lists again.
      await create().catch((e: unknown) => {
        if (/no such network interface/i.test(messageOf(e))) return create();
        throw e;
      });
    } catch (e) {
      // A retried launch made it already (Docker answers 409, podman 500).
      if (statusOf(e) === 409 || /already exists/i.test(messageOf(e))) return;
      throw new CannotCreateContainerError(name, `cannot create the task's network: ${messageOf(e)}`);
    }
  }

  async listNetworks(labels: Record<string, string>): Promise<string[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
    // Podman's Docker-compatible list works out every network's containers, inspecting each
    // container in turn: seconds with a few dozen networks, a minute on a busy host. Its own
    // list answers the same question in milliseconds.
    if (await this.isPodman()) {
      const found = await this.dial<{ name: string }[]>('GET', `/${PODMAN_API}/libpod/networks/json`, { filters: JSON.stringify(filters) });
      return found.map((n) => n.name);
    }
    const found = await this.docker.listNetworks({ filters });
    return found.map((n) => n.Name);
  }

  /**
   * Podman answers /_ping with its own API version in a header; Docker does not. /_ping rather
   * than /version: podman works out /version's and /info's package versions by running dpkg-query
   * six times, a third of a second of CPU at every agent's start.
   */
  private isPodman(): Promise<boolean> {
    this.podman ??= new Promise<boolean>((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: '/_ping', method: 'GET' }, (res) => {
        res.resume();
        resolve(res.headers['libpod-api-version'] !== undefined);
      });
      req.on('error', reject);
      req.end();
    }).catch((e: unknown) => {
      this.podman = undefined;
      throw e;
    });
    return this.podman;
  }

  /** A call the Docker API has none for: a GET with `options` as its query, or a POST with them as its JSON body. */
  private dial<T>(method: 'GET' | 'POST', path: string, options: object): Promise<T> {
    return new Promise((resolve, reject) => {
      // The modem adds a query only to a path that ends in '?'.
      this.docker.modem.dial({ path: method === 'GET' ? `${path}?` : path, method, options, statusCodes: { 200: true, 201: true } }, (err: unknown, data: unknown) =>
        err ? reject(err) : resolve(data as T));
    });
  }

  async removeNetwork(name: string): Promise<void> {
    try {
      await this.docker.getNetwork(name).remove();
    } catch (e) {
      if (statusOf(e) === 404 || /no such network|network not found/i.test(messageOf(e))) return;
      throw e;
    }
  }

  async createVolume(spec: VolumeSpec): Promise<void> {
    try {
      await this.docker.createVolume({ Name: spec.name, Driver: 'local', DriverOpts: spec.driverOpts ?? {}, Labels: { ...spec.labels, ...this.labels } });
    } catch (e) {
      // Docker answers an existing volume's create with it; podman with 409 or 500.
      if (statusOf(e) === 409 || /already exists/i.test(messageOf(e))) return;
      throw new CannotCreateContainerError(spec.name, `cannot create the volume: ${messageOf(e)}`);
    }
  }

  hasVolume(name: string): Promise<boolean> {
    return exists(() => this.docker.getVolume(name).inspect());
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove({ force: true });
    } catch (e) {
      if (statusOf(e) === 404 || /no such volume|no volume with name/i.test(messageOf(e))) return;
      throw e;
    }
  }

  async listVolumes(labels: Record<string, string>): Promise<{ name: string; labels: Record<string, string> }[]> {
    const found = await this.docker.listVolumes({ filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
    return (found.Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async exec(id: string, command: string[], timeoutSeconds: number): Promise<number> {
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutSeconds * 1000);
    try {
      const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, abortSignal: abort.signal });
      const stream: NodeJS.ReadableStream = await exec.start({ abortSignal: abort.signal });
      await drain(stream, abort.signal);
      // The output can end a moment before the engine records the exit code.
      for (;;) {
        const info = await exec.inspect({ abortSignal: abort.signal });
        if (!info.Running && info.ExitCode !== null) return info.ExitCode;
        await sleep(20);
      }
    } catch (e) {
      if (timedOut) return EXEC_TIMED_OUT;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async list(labels: Record<string, string>): Promise<ContainerState[]> {
    const found = await this.listContainers({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
    // The list omits exit codes and times; a container removed meanwhile drops out.
    const states = await Promise.all(found.map((c) => this.inspect(c.Id)));
    return states.filter((s): s is ContainerState => s !== undefined);
  }

  /**
   * podman fails a whole list (500, "container not known") when a container it lists is removed
   * meanwhile, which with namespaces made and removed beside launches happens: asked again.
   */
  private async listContainers(filters: Record<string, string[]>): Promise<Docker.ContainerInfo[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.docker.listContainers({ all: true, filters });
      } catch (e) {
        const message = messageOf(e);
        if (!/container not known|no such container/i.test(message) || attempt >= LIST_ATTEMPTS) throw e;
        // A container whose removal podman's service was killed in the middle of stays
        // "Removing" with its storage gone, and fails every later list until it is forced out.
        const broken = /getting container from store "([0-9a-f]{64})"/.exec(message)?.[1];
        if (broken && attempt > 1) {
          this.log(`forcing out container ${broken.slice(0, 12)}, left half-removed in the engine's store`);
          await this.docker.getContainer(broken).remove({ force: true }).catch(() => {});
        }
      }
    }
  }

  async followLogs(id: string, onLine: (line: string, stream: 'stdout' | 'stderr', timestampMs?: number) => void): Promise<void> {
    // podman ends a follow at once, with nothing, for a container that has not started yet.
    for (let state = await this.inspect(id); state?.status === 'created'; state = await this.inspect(id)) {
      await sleep(CREATED_POLL_MS);
    }
    // podman (4.3) garbles and cuts short a follow of a fast writer, so the log is read whole,
    // without follow, and each read delivers the lines past those already delivered. A line
    // without its newline yet waits for the next read, or for the exit. Lines are stamped as they
    // are read: podman's own timestamps have whole seconds only. A read comes when a held follow
    // of the log says it has grown (LogBell), at most every LOG_POLL_MS, and at the exit, which
    // comes from the container's wait (the engine's exit event), not from an inspect per read.
    const delivered = { stdout: 0, stderr: 0 };
    let over = false;
    const exited = this.wait(id).then(() => true, () => true).then(() => (over = true));
    // Opened once the container has outlived its first read: a follow open while a container
    // exits holds up podman's handling of the exit (a container that exits at once was seen to
    // exit 90 ms later, and its output was done 280 ms later, with one).
    let bell: LogBell | undefined;
    try {
      for (let reads = 0; ; reads++) {
        if (reads === 1 && !over) bell = new LogBell(this.docker.getContainer(id).logs({ follow: true, stdout: true, stderr: true, tail: 0 }) as unknown as Promise<NodeJS.ReadableStream>);
        // Known before the read, so the read after the exit has every line.
        const done = over;
        const readAt = Date.now();
        bell?.reset();
        const all = await this.docker.getContainer(id).logs({ follow: false, stdout: true, stderr: true }) as unknown as Buffer;
        const lines: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
        const out = new LineSplitter((line) => lines.stdout.push(line));
        const err = new LineSplitter((line) => lines.stderr.push(line));
        for (const frame of frames(all)) (frame.stream === STDERR_FRAME ? err : out).feed(frame.payload);
        if (done) {
          out.flush();
          err.flush();
        }
        for (const from of ['stdout', 'stderr'] as const) {
          for (const line of lines[from].slice(delivered[from])) onLine(line, from, Date.now());
          delivered[from] = Math.max(delivered[from], lines[from].length);
        }
        if (done) return;
        const next = (bell ? bell.rung(LOG_QUIET_READ_MS) : Promise.resolve()).then(() => sleep(Math.max(0, LOG_POLL_MS - (Date.now() - readAt))));
        await Promise.race([next, exited]);
      }
    } finally {
      bell?.close();
    }
  }
}

interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** How often a pull's byte counts are logged at most; each layer's steps are logged as they come. */
const PULL_PROGRESS_LOG_MS = 2_000;

/**
 * A pull's progress in the agent's log, as the ECS agent logs it: each layer's steps (pulling,
 * downloaded, extracted) and, every few seconds, the bytes so far.
 */
class PullProgress {
  private readonly startedAt = Date.now();
  private readonly bytes = new Map<string, { current: number; total: number }>();
  private lastBytesLog = this.startedAt;

  constructor(private readonly image: string, private readonly log: (message: string) => void) {
    log(`pulling ${image}`);
  }

  on(event: PullEvent): void {
    if (event.error || !event.status) return;
    const { current, total } = event.progressDetail ?? {};
    if (event.id && current !== undefined && total !== undefined) {
      this.bytes.set(event.id, { current, total });
      const now = Date.now();
      if (now - this.lastBytesLog < PULL_PROGRESS_LOG_MS) return;
      this.lastBytesLog = now;
      const sum = [...this.bytes.values()].reduce((s, b) => ({ current: s.current + b.current, total: s.total + b.total }), { current: 0, total: 0 });
      this.log(`pulling ${this.image}: ${mib(sum.current)} of ${mib(sum.total)} MiB`);
      return;
    }
    this.log(`pulling ${this.image}: ${event.id ? `${event.id}: ` : ''}${event.status}`);
  }

  done(failure: string | undefined): void {
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    this.log(failure === undefined ? `pulled ${this.image} in ${seconds} s` : `pull of ${this.image} failed after ${seconds} s: ${failure}`);
  }
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

/** How often the log of a running container is read for new lines at most. */
const LOG_POLL_MS = 500;
/** How long a log whose follow says nothing waits for a read all the same (a follow podman left hanging). */
const LOG_QUIET_READ_MS = 5_000;


/** The stream type byte of Docker's multiplexed log frames. */
const STDERR_FRAME = 2;

/** Docker's multiplexed stream, read whole: an 8-byte header (stream type, size) per frame. */
function* frames(buffer: Buffer): Generator<{ stream: number; payload: Buffer }> {
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    yield { stream: buffer[at], payload: buffer.subarray(at + 8, at + 8 + size) };
    at += 8 + size;
  }
}

/** What Docker and podman say when asked for a storage size their storage cannot enforce. */
const STORAGE_QUOTA_REFUSED = /quota|storage-opt|storage opt/i;

function createOptions(spec: ContainerSpec, storageCapped = false): Docker.ContainerCreateOptions {
  const ulimits = [...spec.ulimits, ...DEFAULT_ULIMITS.filter((d) => !spec.ulimits.some((u) => u.name === d.name))];
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  for (const p of spec.portMappings) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposedPorts[key] = {};
    // Host port 0 asks for a dynamic port, as in ECS bridge mode.
    (portBindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : '' });
  }
  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.command,
    Entrypoint: spec.entryPoint,
    Env: spec.env,
    WorkingDir: spec.workingDirectory,
    User: spec.user,
    Labels: spec.labels,
    Tty: false,
    OpenStdin: false,
    ExposedPorts: spec.portMappings.length > 0 ? exposedPorts : undefined,
    HostConfig: {
      // Never 'host' (nor a host PID namespace, which stays the engine's private default).
      NetworkMode: networkMode(spec),
      ExtraHosts: spec.extraHosts?.length ? spec.extraHosts : undefined,
      Privileged: false,
      // Only the ports the task maps, never every port the image EXPOSEs.
      PublishAllPorts: false,
      // The engine's default capabilities, plus what the task asked for and the host allows.
      CapAdd: spec.capAdd?.length ? spec.capAdd : undefined,
      CapDrop: spec.capDrop?.length ? spec.capDrop : undefined,
      SecurityOpt: SECURITY_OPTIONS,
      CpuShares: spec.cpuShares === undefined ? undefined : Math.max(MIN_CPU_SHARES, spec.cpuShares),
      NanoCpus: spec.nanoCpus,
      PidsLimit: spec.pidsLimit,
      Memory: spec.memoryMiB === undefined ? undefined : spec.memoryMiB * MiB,
      // No swap beyond the hard limit, as on Fargate: past it the container is OOM-killed.
      MemorySwap: spec.memoryMiB === undefined ? undefined : spec.memoryMiB * MiB,
      MemoryReservation: spec.memoryReservationMiB === undefined ? undefined : spec.memoryReservationMiB * MiB,
      Ulimits: ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit })),
      PortBindings: spec.portMappings.length > 0 ? portBindings : undefined,
      Binds: spec.mounts?.length ? spec.mounts.map((m) => `${m.source}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`) : undefined,
      VolumesFrom: spec.volumesFrom?.length ? spec.volumesFrom.map((f) => `${f.container}:${f.readOnly ? 'ro' : 'rw'}`) : undefined,
      ReadonlyRootfs: spec.readonlyRootfs || undefined,
      StorageOpt: storageCapped ? { size: `${spec.storageSizeGiB}G` } : undefined,
    },
  };
}

/** The container's address on its (first) network and the host ports it publishes, when it has either. */
function networkOf(info: Docker.ContainerInspectInfo): Pick<ContainerState, 'address' | 'portBindings'> {
  const out: Pick<ContainerState, 'address' | 'portBindings'> = {};
  const net = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress);
  if (net) {
    out.address = { ipv4Address: net.IPAddress, macAddress: net.MacAddress.toLowerCase() };
    if (net.IPPrefixLen) out.address.prefixLength = net.IPPrefixLen;
    if (net.Gateway) out.address.gateway = net.Gateway;
  }
  const bindings = Object.entries(info.HostConfig?.PortBindings ?? {}).flatMap(([key, list]) => {
    const [port, protocol] = key.split('/');
    return ((list ?? []) as { HostIp?: string; HostPort?: string }[]).map((b) => ({
      bindIP: b.HostIp || '0.0.0.0', containerPort: Number(port), hostPort: Number(b.HostPort), protocol: protocol === 'udp' ? 'udp' as const : 'tcp' as const,
    }));
  });
  if (bindings.length > 0) out.portBindings = bindings;
  return out;
}

function networkMode(spec: ContainerSpec): string | undefined {
  if (!spec.network) return undefined;
  return 'joinNamespaceOf' in spec.network ? `container:${spec.network.joinNamespaceOf}` : spec.network.ownNamespaceOn;
}

/**
 * Splits a byte stream into lines; a partial line waits for its newline or flush(). Writes are
 * handled synchronously, so every line written is delivered by the time the source ends.
 */
class LineSplitter extends Writable {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.feed(chunk);
    callback();
  }

  /** Takes a chunk at once, outside the stream machinery. */
  feed(chunk: Buffer): void {
    this.push(this.decoder.write(chunk));
  }

  /** Delivers a last line that had no newline. */
  flush(): void {
    this.push(this.decoder.end());
    if (this.partial !== '') this.onLine(this.partial);
    this.partial = '';
  }

  private push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.onLine(line);
  }
}

/** Docker writes "0001-01-01T00:00:00Z" for a time that has not happened. */
function epochMs(time: string | undefined): number | undefined {
  if (!time || time.startsWith('0001-')) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) || ms <= 0 ? undefined : ms;
}

function maxDefined(time: number | undefined, floor: number): number | undefined {
  return time === undefined ? undefined : Math.max(time, floor);
}

/** Whether the engine knows what `inspect` looks at: 404 is no; any other failure is thrown. */
async function exists(inspect: () => Promise<unknown>): Promise<boolean> {
  try {
    await inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

function statusOf(e: unknown): number | undefined {
  return (e as { statusCode?: number } | undefined)?.statusCode;
}

function messageOf(e: unknown): string {
  const json = (e as { json?: { message?: string } | string } | undefined)?.json;
  if (typeof json === 'object' && json?.message) return json.message;
  if (typeof json === 'string' && json.trim()) return json.trim();
  return e instanceof Error ? e.message : String(e);
}

function isGone(e: unknown): boolean {
  return statusOf(e) === 404 || /no such container/i.test(messageOf(e));
}

function drain(stream: NodeJS.ReadableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    stream.on('data', () => {});
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
