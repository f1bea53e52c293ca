import { type ChildProcess, spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { AGENT_VARIABLES } from '../agent/config';
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
 * Node's flags for every agent. V8 lets its young generation grow to 16 MiB per semi-space when a
 * process allocates briskly, as an agent does with tasks (a log read, an inspect, a report each),
 * and keeps it: capped at 1 MiB, an agent with 50 tasks stayed about 5 MiB smaller (measured with
 * `npm run bench:launch`); an idle agent, whose young generation never grows, is the same.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/** One agent process per local host, as each EC2 host runs its own. */
export class LocalFleet {
  readonly agents = new Map<string, ChildProcess>();
  /**
   * This local mode among others on the machine: its data directory, which every container and
   * network its hosts make carries (LABELS.instance).
   */
  readonly instance: string;

  constructor(private readonly o: FleetOptions) {
    this.instance = realpathSync(o.dataDir);
  }

  start(host: LocalHostSpec, extraEnv: Record<string, string> = {}): ChildProcess {
    // One plain node process, so a signal reaches the agent itself. Without --enable-source-maps:
    // Node would hold the bundle's whole map in every agent (NODE_OPTIONS can still ask for it).
    const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, this.o.agentScript], {
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
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.o.log?.(line);
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    this.agents.set(host.hostId, child);
    child.once('exit', () => {
      if (this.agents.get(host.hostId) === child) this.agents.delete(host.hostId);
    });
    return child;
  }

  /** Kills one agent as a crash would (SIGKILL): its containers keep running. */
  kill(hostId: string): Promise<void> {
    return this.signal(hostId, 'SIGKILL');
  }

  private signal(hostId: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.agents.get(hostId);
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Stops one agent cleanly; its containers are the caller's to keep or remove. */
  stop(hostId: string): Promise<void> {
    return this.signal(hostId, 'SIGTERM');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((id) => this.signal(id, 'SIGTERM')));
  }
}
