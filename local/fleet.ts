import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { AGENT_VARIABLES } from '../agent/config';
import { AGENT_STOP } from '../agent/local-thread';
import { variableNames } from '../shared/config/variables';

export interface LocalHostSpec {
  hostId: string;
  cpu: number;
  memory: number;
}

export interface FleetOptions {
  /** The agent, bundled (see agent-bundle.ts). */
  agentScript: string;
  /** Where the agents call the agent API (`ENDPOINT/agent`). */
  endpoint: string;
  /** Where they reach the local AWS services (Logs, Secrets Manager, SSM); `endpoint` when not given. */
  awsEndpoint?: string;
  dockerSocket: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/**
 * What an agent gets of the local mode's own environment: what any process needs, what podman and
 * the Docker client read, and the variables the agent reads (agent/config.ts). Nothing else, so
 * no user key (AWS_SECRET_ACCESS_KEY, BERTH_SECRET_ACCESS_KEY, ...) reaches a host.
 */
export const AGENT_ENVIRONMENT: readonly string[] = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'XDG_RUNTIME_DIR',
  'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF', 'DOCKER_HOST',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'AWS_EC2_METADATA_DISABLED',
  ...variableNames(AGENT_VARIABLES),
];

export function agentEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(AGENT_ENVIRONMENT.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
}

/**
 * The V8 heap of each agent's thread. V8 lets a young generation grow to 16 MiB per semi-space
 * when an isolate allocates briskly, as an agent does with tasks (a log read, an inspect, a report
 * each), and keeps it: capped at 1 MiB (young generation = 3 semi-spaces), an agent with 50 tasks
 * stayed about 5 MiB smaller (measured with `npm run bench:launch`); an idle agent is the same.
 */
export const AGENT_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 3 };

/** An agent gives itself 5 s to tidy as it stops (agent/main.ts); past this it is killed. */
export const AGENT_STOP_GRACE_MS = 10_000;

/** How a local agent ended: its thread's exit code (1 for an uncaught error, as a process). */
export type AgentExit = number;

/**
 * One local host's agent: a worker thread of the local mode's own process, running the same
 * bundle an EC2 host runs as a process. Each agent has its own V8 isolate, heap, event loop and
 * environment, and shares the process's node binary, libuv and thread pool: an idle node
 * process is some 39 MiB of RSS before any code of its own, most of it the binary's pages, which
 * every agent process counted again (an idle agent process was 55.6 MiB, a thread costs about
 * a third of that). On AWS an agent stays one process per EC2 host (agent/main.ts).
 */
export class LocalAgent {
  /** Resolves with the thread's exit code once it has ended, however it ended. */
  readonly exited: Promise<AgentExit>;
  private exitCode: AgentExit | undefined;
  /** The agent's thread id in this process (kept: a thread that has ended has none). */
  readonly threadId: number;

  constructor(readonly hostId: string, private readonly worker: Worker) {
    this.threadId = worker.threadId;
    this.exited = new Promise((resolve) => worker.once('exit', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /**
   * Ends it as a crash would (a process's SIGKILL): its JavaScript stops where it is, nothing of
   * its own runs after, its sockets close; its containers keep running.
   */
  kill(): Promise<AgentExit> {
    if (this.running) void this.worker.terminate();
    return this.exited;
  }

  /**
   * Asks it to stop as SIGTERM asks a process (agent/main.ts): it tidies what it kept ready, then
   * exits. One that has not gone after `graceMs` is killed, as a service manager would.
   */
  stop(graceMs = AGENT_STOP_GRACE_MS): Promise<AgentExit> {
    if (this.running) {
      this.worker.postMessage(AGENT_STOP);
      const timer = setTimeout(() => void this.worker.terminate(), graceMs);
      void this.exited.finally(() => clearTimeout(timer));
    }
    return this.exited;
  }
}

/** One local agent per local host, each in a thread of this process, as each EC2 host runs its own agent. */
export class LocalFleet {
  readonly agents = new Map<string, LocalAgent>();
  /**
   * This local mode among others on the machine: its data directory, which every container and
   * network its hosts make carries (LABELS.instance).
   */
  readonly instance: string;

  constructor(private readonly o: FleetOptions) {
    this.instance = realpathSync(o.dataDir);
  }

  start(host: LocalHostSpec, extraEnv: Record<string, string> = {}): LocalAgent {
    // The agent's environment is its own copy, built from the names it may see: no user key of
    // this process reaches it. No execArgv of this process either (a TypeScript loader, say):
    // the bundle is plain JavaScript. Without --enable-source-maps: the bundle's whole map
    // would stay in every agent's heap.
    const worker = new Worker(resolve(this.o.agentScript), {
      env: {
        ...agentEnvironment(process.env),
        ...agentEnvironment(this.o.env ?? {}),
        BERTH_ENDPOINT: this.o.endpoint,
        // The local endpoint also serves the Secrets Manager, SSM and CloudWatch Logs slices.
        BERTH_AWS_ENDPOINT: this.o.awsEndpoint ?? this.o.endpoint,
        BERTH_HOST_ID: host.hostId,
        BERTH_HOST_CPU: String(host.cpu),
        BERTH_HOST_MEMORY: String(host.memory),
        BERTH_DOCKER_SOCKET: this.o.dockerSocket,
        BERTH_DATA_DIR: this.o.dataDir,
        BERTH_LOCAL_INSTANCE: this.instance,
        ...extraEnv,
      },
      execArgv: [],
      resourceLimits: AGENT_RESOURCE_LIMITS,
      stdout: true,
      stderr: true,
    });
    const agent = new LocalAgent(host.hostId, worker);
    this.o.log?.(`[${host.hostId}] agent started (thread ${agent.threadId})`);
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.o.log?.(line);
    };
    worker.stdout.on('data', forward);
    worker.stderr.on('data', forward);
    // An agent's uncaught error ends its thread (exit code 1), as it ends an agent process; the
    // local mode goes on, and the error is said.
    worker.on('error', (e) => this.o.log?.(`[${host.hostId}] agent ended by an uncaught error: ${e instanceof Error ? e.stack : e}`));
    this.agents.set(host.hostId, agent);
    void agent.exited.then(() => {
      if (this.agents.get(host.hostId) === agent) this.agents.delete(host.hostId);
    });
    return agent;
  }

  /** Kills one agent as a crash would: its containers keep running. */
  async kill(hostId: string): Promise<void> {
    await this.agents.get(hostId)?.kill();
  }

  /** Stops one agent cleanly; its containers are the caller's to keep or remove. */
  async stop(hostId: string): Promise<void> {
    await this.agents.get(hostId)?.stop();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
  }
}
