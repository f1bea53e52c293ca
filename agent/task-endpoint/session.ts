import type { Assignment } from '../../shared/agent-wire/responses';
import { LABELS, type NamespaceAddress } from '../runtime/container-runtime';
import type { TaskView } from './metadata';
import { type TaskEndpoints, type TaskRoleCredentials, endpointEnvironment, newEndpointSecrets } from './server';

/** What the agent gives each task runner to serve its task's endpoint. */
export interface TaskEndpointAccess {
  endpoints: TaskEndpoints;
  region?: string;
  /** The task role's credentials, from the control plane (locally, Berth keys whose principal is the task). */
  credentials(task: Assignment): Promise<TaskRoleCredentials>;
  /** The engine's stats of one container. */
  stats(runtimeId: string): Promise<object | undefined>;
}

/** Credentials are fetched again once they have less than this left (AWS SDKs refresh 5 minutes before). */
export const REFRESH_BEFORE_EXPIRY_MS = 15 * 60_000;

/**
 * One task's endpoint: its id and token (new, or the ones its containers carry when adopted),
 * the variables and labels its containers get, and its credentials, cached until near expiry.
 */
export class TaskEndpointSession {
  private readonly id: string;
  private readonly token?: string;
  private cached?: Promise<TaskRoleCredentials>;

  constructor(
    private readonly access: TaskEndpointAccess,
    private readonly task: Assignment,
    private readonly o: { adoptedLabels?: Record<string, string>; address?: NamespaceAddress; view: () => Promise<TaskView>; now?: () => number },
  ) {
    const adoptedId = o.adoptedLabels?.[LABELS.endpointId];
    const fresh = newEndpointSecrets();
    this.id = adoptedId ?? fresh.id;
    // Only a task with a role gets credentials, as on ECS.
    this.token = task.taskRoleArn ? (adoptedId ? o.adoptedLabels?.[LABELS.endpointToken] : fresh.token) : undefined;
  }

  environment(container: string): Record<string, string> {
    return endpointEnvironment({ id: this.id, token: this.token }, container, { region: this.access.region, localAwsEndpoint: this.access.endpoints.proxiesAws });
  }

  labels(): Record<string, string> {
    return { [LABELS.endpointId]: this.id, ...(this.token ? { [LABELS.endpointToken]: this.token } : {}) };
  }

  async open(): Promise<void> {
    const a = this.o.address;
    if (!a?.gateway) throw new Error("the task's network has no gateway address to serve it on");
    await this.access.endpoints.open({
      id: this.id, token: this.token, address: a.ipv4Address, gateway: a.gateway,
      view: this.o.view,
      stats: (runtimeId) => this.access.stats(runtimeId),
      credentials: this.token ? () => this.credentials() : undefined,
    });
  }

  close(): Promise<void> {
    return this.access.endpoints.close(this.id);
  }

  private credentials(): Promise<TaskRoleCredentials> {
    const now = (this.o.now ?? Date.now)();
    const fetch = () => {
      const p = this.access.credentials(this.task);
      // A failed fetch is not kept: the next request asks again.
      p.catch(() => {
        if (this.cached === p) this.cached = undefined;
      });
      return p;
    };
    if (!this.cached) {
      this.cached = fetch();
      return this.cached;
    }
    return this.cached.then((c) => {
      if (c.expiration - now > REFRESH_BEFORE_EXPIRY_MS) return c;
      this.cached = fetch();
      return this.cached;
    }, () => (this.cached = fetch()));
  }
}
