import { MAX_POLL_WAIT_SECONDS, WAKE_FALLBACK_POLL_SECONDS } from '../shared/agent-wire/constants';
import type { Assignment, KnownAssignments } from '../shared/agent-wire/responses';
import type { AwsClientConfig } from './aws';
import type { AgentClient } from './client';
import type { HostWake } from './host-wake';
import { type ContainerRuntime, type ContainerState, LABELS } from './runtime/container-runtime';
import { type HostPortOptions, TaskNamespaces, isNamespaceOwner } from './task-namespaces';
import { TaskRunner } from './task-runner';
import type { TaskEndpointAccess } from './task-endpoint/session';
import { removeTaskVolumes } from './task-volumes';
import type { EfsMounts } from './efs/efs-mounts';
import { AwsEcrTokenSource } from './images/aws-ecr-token-source';
import { ImagePuller, type PullBehavior } from './images/image-puller';
import { ExecutionAccesses } from './execution-access';
import type { ExecutionRoles } from './identity/execution-roles';
import { PrePuller } from './images/pre-puller';

export interface AgentOptions {
  client: AgentClient;
  runtime: ContainerRuntime;
  /** Registered capacity: cpu units and MiB. */
  cpu: number;
  memory: number;
  logDir?: string;
  /** For the AWS SDK clients the agent uses: Secrets Manager, SSM, CloudWatch Logs. */
  aws?: AwsClientConfig;
  heartbeatIntervalMs?: number;
  log?: (message: string) => void;
  /** The operator's capability policy (see capability-policy.ts); its default unless given. */
  allowedCapabilities?: readonly string[];
  /** Network namespaces kept ready for tasks (see task-namespaces.ts), and their pause container. */
  namespacePoolSize?: number;
  /** What that pool grows to, at most, after a burst of launches. */
  namespaceBurstPoolSize?: number;
  pause?: { image: string; command: readonly string[] };
  /** Where published host ports are bound, and the range dynamic ones (hostPort 0) come from. */
  hostPorts?: HostPortOptions;
  /** The operator's limit on a task's processes (see task-limits.ts); its default unless given. */
  taskPidsLimit?: number;
  /** False only to measure what the limits cost (BERTH_TASK_LIMITS, a bench knob). */
  taskLimits?: boolean;
  /** The task metadata endpoint and task role credentials (task-endpoint/); none unless given. */
  endpoint?: TaskEndpointAccess;
  /** The operator's ECS_IMAGE_PULL_BEHAVIOR; `default` unless given. */
  imagePullBehavior?: PullBehavior;
  /** On AWS: task execution roles, assumed from the host's role (see execution-access.ts). */
  executionRoles?: ExecutionRoles;
  /** How this host mounts EFS volumes (efs/); tasks with one fail to start without it. */
  efs?: EfsMounts;
  /** Clock for cached registry logins. */
  now?: () => number;
  /**
   * The host's wake queue (host-wake.ts): when the control plane names one, the agent waits on
   * it between polls instead of in a long poll, and polls at least every `wakeFallbackPollMs`
   * (WAKE_FALLBACK_POLL_SECONDS by default) so that a wake lost on the way costs a delay only.
   */
  wake?: HostWake;
  wakeFallbackPollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The host agent: registers the host's capacity, heartbeats, long-polls for its assignments and
 * runs each task with a TaskRunner. On start it adopts the containers a previous agent process
 * left running, so a restart neither orphans a container nor starts one twice.
 */
export class Agent {
  private readonly runners = new Map<string, TaskRunner>();
  /** Tasks whose runner finished: never started again, whatever a stale poll says. */
  private readonly finished = new Set<string>();
  private orphans = new Map<string, ContainerState[]>();
  /** Task volumes a previous agent process left are looked at once, with the first assignments. */
  private volumesSwept = false;
  private running = false;
  private heartbeat?: NodeJS.Timeout;
  /** Ends a wait on the wake queue when the agent stops. */
  private readonly stopping = new AbortController();
  /** The wake queue failed at the last try: said once, not at every poll while it lasts. */
  private wakeFailing = false;
  private readonly namespaces: TaskNamespaces;
  /** Shared by every task: `once` remembers what this agent pulled. */
  private readonly images: ImagePuller;
  /** Secrets, registry logins and log sinks, by execution role; ECR logins are cached per role. */
  private readonly access: ExecutionAccesses;
  /** Pulls the images the control plane lists before any task here needs them. */
  private readonly prePuller: PrePuller;

  constructor(private readonly o: AgentOptions) {
    this.images = new ImagePuller({ runtime: o.runtime, behavior: o.imagePullBehavior ?? 'default', log: (m) => this.log(m) });
    this.access = new ExecutionAccesses({
      aws: o.aws,
      roles: o.executionRoles,
      // ECR only on AWS: the local endpoint serves no ECR.
      ecrTokens: o.aws && !o.aws.endpoint ? (aws) => new AwsEcrTokenSource(aws) : undefined,
      now: o.now ?? Date.now,
    });
    this.prePuller = new PrePuller({
      images: this.images,
      loginFor: (i) => this.access.for(i).logins.loginFor(i),
      log: (m) => this.log(m),
      now: o.now ?? Date.now,
    });
    this.namespaces = new TaskNamespaces({
      runtime: o.runtime, hostId: o.client.hostId, pause: o.pause, poolSize: o.namespacePoolSize, burstPoolSize: o.namespaceBurstPoolSize, hostPorts: o.hostPorts, log: o.log,
    });
  }

  private log(message: string) {
    this.o.log?.(message);
  }

  async start(): Promise<void> {
    this.running = true;
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await this.o.client.register(this.o.cpu, this.o.memory);
        this.heartbeat = setInterval(() => {
          this.o.client.heartbeat().then((h) => void this.prePuller.offer(h.prePull), (e) => this.log(`heartbeat failed: ${e}`));
        }, this.o.heartbeatIntervalMs ?? r.heartbeatIntervalSeconds * 1000);
        void this.prePuller.offer(r.prePull);
        break;
      } catch (e) {
        if (!this.running) return;
        if (attempt % 10 === 0) this.log(`waiting for the control plane: ${e}`);
        await sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
    // Containers from a previous agent process, by task: adopted when their task is assigned.
    const all = await this.o.runtime.list({ [LABELS.host]: this.o.client.hostId });
    // Namespaces its tasks still use are kept for them; the rest go, and fresh ones are made.
    await this.namespaces.sweep(all).catch((e) => this.log(`cannot sweep unused network namespaces: ${e}`));
    this.namespaces.fill();
    const existing = all.filter((c) => !isNamespaceOwner(c));
    for (const c of existing) {
      const taskId = c.labels[LABELS.task];
      this.orphans.set(taskId, [...(this.orphans.get(taskId) ?? []), c]);
    }
    this.log(`registered ${this.o.cpu} CPU / ${this.o.memory} MiB; found ${existing.length} container(s) to adopt`);
    void this.pollLoop();
  }

  private known(): KnownAssignments {
    const known: KnownAssignments = {};
    for (const [taskId, r] of this.runners) known[taskId] = r.task.desiredStatus;
    return known;
  }

  private async pollLoop(): Promise<void> {
    let first = true;
    // The host's version of the last answer reconciled: while it holds, a poll reads no task.
    let version: number | undefined;
    // The wake queue to wait on between polls; none: the poll itself waits, in the control plane.
    let queueUrl: string | undefined;
    while (this.running) {
      try {
        const r = await this.o.client.poll(first ? {} : this.known(), first || queueUrl ? 0 : MAX_POLL_WAIT_SECONDS, version);
        first = false;
        if (this.running && r.tasks) {
          // Until this reconcile is through, the next poll must send the host's work again.
          version = undefined;
          await this.reconcile(r.tasks);
          version = r.version;
        }
        queueUrl = this.o.wake ? r.wakeQueueUrl : undefined;
        // A queue it cannot wait on (not made yet: the control plane makes it when a poll waits there): the next poll waits.
        if (queueUrl && !(await this.waitForWake(queueUrl))) queueUrl = undefined;
      } catch (e) {
        if (!this.running) return;
        this.log(`poll failed: ${e}`);
        await sleep(1000);
      }
    }
  }

  /** Waits on the wake queue until a wake comes or the fallback poll is due; false when it cannot wait there. */
  private async waitForWake(queueUrl: string): Promise<boolean> {
    const until = Date.now() + (this.o.wakeFallbackPollMs ?? WAKE_FALLBACK_POLL_SECONDS * 1000);
    for (;;) {
      const seconds = Math.min(MAX_POLL_WAIT_SECONDS, Math.floor((until - Date.now()) / 1000));
      if (!this.running || seconds < 1) return true;
      try {
        const woken = await this.o.wake!.wait(queueUrl, seconds, this.stopping.signal);
        this.wakeFailing = false;
        if (woken) return true;
      } catch (e) {
        if (!this.running) return true;
        if (!this.wakeFailing) this.log(`waiting on the wake queue failed, polling the control plane instead: ${e}`);
        this.wakeFailing = true;
        return false;
      }
    }
  }

  /** Brings this host in line with its assignments. */
  private async reconcile(tasks: Assignment[]): Promise<void> {
    const assigned = new Set(tasks.map((t) => t.taskId));
    for (const task of tasks) {
      const runner = this.runners.get(task.taskId);
      if (runner) {
        runner.task.desiredStatus = task.desiredStatus;
        if (task.desiredStatus === 'STOPPED') runner.requestStop();
        continue;
      }
      if (this.finished.has(task.taskId)) continue;
      this.startRunner(task);
    }
    // Containers of tasks no longer assigned here (stopped while this agent was away).
    for (const [taskId, containers] of this.orphans) {
      if (assigned.has(taskId)) continue;
      this.orphans.delete(taskId);
      this.log(`removing ${containers.length} container(s) of task ${taskId}, which is no longer assigned here`);
      await Promise.all(containers.map(async (c) => {
        await this.o.runtime.stop(c.id, 10).catch(() => {});
        await this.o.runtime.remove(c.id).catch(() => {});
      }));
      const namespace = containers.map((c) => c.labels[LABELS.namespace]).find(Boolean);
      if (namespace) await this.namespaces.release(await this.namespaces.adopt(namespace)).catch(() => {});
    }
    // Volumes of tasks no longer assigned here, whose containers went above, or which a previous
    // agent made before it was killed and before any container was.
    if (!this.volumesSwept) {
      this.volumesSwept = true;
      await removeTaskVolumes(this.o.runtime, { [LABELS.host]: this.o.client.hostId }, (v) => assigned.has(v[LABELS.task]))
        .then((n) => n > 0 && this.log(`removed ${n} volume(s) of tasks no longer assigned here`))
        .catch((e) => this.log(`cannot remove the volumes of tasks no longer assigned here: ${e}`));
      await this.o.efs?.sweep((taskId) => assigned.has(taskId))
        .then((n) => n > 0 && this.log(`unmounted ${n} EFS volume(s) of tasks no longer assigned here`))
        .catch((e) => this.log(`cannot unmount the EFS volumes of tasks no longer assigned here: ${e}`));
    }
  }

  private startRunner(task: Assignment): void {
    const runner = new TaskRunner({ ...task }, {
      hostId: this.o.client.hostId,
      runtime: this.o.runtime,
      report: (body) => this.o.client.report(body),
      logDir: this.o.logDir,
      ...this.access.for(task),
      log: this.o.log,
      allowedCapabilities: this.o.allowedCapabilities,
      namespaces: this.namespaces,
      taskPidsLimit: this.o.taskPidsLimit,
      taskLimits: this.o.taskLimits,
      endpoint: this.o.endpoint,
      images: this.images,
      efs: this.o.efs,
    });
    this.runners.set(task.taskId, runner);
    const adopted = this.orphans.get(task.taskId);
    this.orphans.delete(task.taskId);
    if (task.desiredStatus === 'STOPPED') runner.requestStop();
    const run = adopted ? runner.adopt(adopted) : runner.launch();
    void run.catch((e) => this.log(`task ${task.taskId}: ${e}`)).finally(() => {
      this.runners.delete(task.taskId);
      this.finished.add(task.taskId);
    });
  }

  /** The tasks this agent runs now, for the metrics sampler. */
  tasks(): Assignment[] {
    return [...this.runners.values()].map((r) => r.task);
  }

  /**
   * Stops polling and heartbeating; containers keep running for the next agent to adopt. The
   * namespaces kept ready go: no task is in them.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.heartbeat);
    this.stopping.abort();
    this.o.wake?.destroy();
    this.prePuller.stop();
    await this.namespaces.close();
    await this.o.endpoint?.endpoints.closeAll();
  }
}
