import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AGENT_TARGET_PREFIX } from '../shared/agent-wire/constants';
import type { ReportTaskStateRequest } from '../shared/agent-wire/requests';
import { AgentApiError, signedCall } from '../shared/agent-wire/signed-call';
import type { ProxiedEndpoint } from '../shared/haproxy/config';
import type {
  Assignment, GetServiceConnectEndpointsResponse, GetTaskCredentialsResponse, HeartbeatResponse, HostCredentials, KnownAssignments, PollAssignmentsResponse, RegisterHostResponse, ReportMetricsResponse, ReportTaskStateResponse,
} from '../shared/agent-wire/responses';
import type { MetricDatum } from '../shared/metrics/metric-datum';
import type { TaskNetwork } from '../shared/domain/task-network';

export type { HostCredentials } from '../shared/agent-wire/responses';

/** A task report as the agent sends it (the client adds the host's id). */
export type TaskReportBody = Omit<ReportTaskStateRequest, 'hostId'>;

export { AgentApiError } from '../shared/agent-wire/signed-call';

/**
 * The agent's side of the agent API (`POST /agent`, JSON 1.1, `X-Amz-Target: BerthAgent.*`).
 * It registers with the launch's one-time bootstrap token (or, on EC2, the instance's signed
 * identity document), receives the host's own key, keeps it in a root-only file, and signs every
 * later call with it (SigV4), across restarts.
 */
export class AgentClient {
  private credentials?: HostCredentials;

  constructor(
    private readonly endpoint: string,
    readonly hostId: string,
    /** The region of the control plane the host belongs to: its calls are signed for it, as that control plane accepts no other. */
    readonly region: string,
    private readonly identity: {
      bootstrapToken?: string;
      credentialsFile?: string;
      /** Fetches the signed instance identity document (IMDS on EC2): used when no token is given. */
      instanceIdentity?: () => Promise<{ document: string; signature: string }>;
      /** Where other hosts reach this host's published ports (its private IPv4 on EC2). */
      address?: string;
    } = {},
  ) {
    const file = identity.credentialsFile;
    if (file && existsSync(file)) this.credentials = JSON.parse(readFileSync(file, 'utf8'));
  }

  private call<T>(operation: string, body: object, timeoutMs = 30_000): Promise<T> {
    return signedCall<T>({
      url: `${this.endpoint}/agent`, target: `${AGENT_TARGET_PREFIX}${operation}`,
      body: { hostId: this.hostId, ...body }, credentials: this.credentials, region: this.region, timeoutMs,
    });
  }

  async register(cpu: number, memory: number) {
    const bootstrapToken = this.credentials ? undefined : this.identity.bootstrapToken;
    const fetchIdentity = this.credentials || bootstrapToken !== undefined ? undefined : this.identity.instanceIdentity;
    const instanceIdentity = fetchIdentity && (await fetchIdentity());
    const r = await this.call<RegisterHostResponse>(
      'RegisterHost', { cpu, memory, ...this.architecture(), bootstrapToken, instanceIdentity, address: this.identity.address },
    );
    if (r.credentials) {
      this.credentials = r.credentials;
      const file = this.identity.credentialsFile;
      if (file) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, JSON.stringify(r.credentials), { mode: 0o600 });
      }
    }
    return r;
  }

  /**
   * The machine's architecture, on EC2 (where the agent proves itself with the instance's
   * identity). A local host stands in for the instance type the local mode gives it, whatever
   * this machine is: it reports none, so tasks that declare no architecture keep running on it.
   */
  private architecture(): { cpuArchitecture?: 'x86_64' | 'arm64' } {
    if (!this.identity.instanceIdentity) return {};
    return { cpuArchitecture: process.arch === 'arm64' ? 'arm64' : 'x86_64' };
  }

  /** The host's own key, once registered: it also signs the host's calls to the local AWS slices. */
  hostCredentials(): HostCredentials {
    if (!this.credentials) throw new AgentApiError('UnrecognizedClientException', 'The host has not registered yet.', 403);
    return this.credentials;
  }

  heartbeat() {
    return this.call<HeartbeatResponse>('Heartbeat', {});
  }

  /**
   * The host's assignments and their version. With the version of its last answer, the answer
   * has no tasks while that version holds: the agent has them already.
   */
  poll(known: KnownAssignments, waitSeconds: number, version?: number): Promise<PollAssignmentsResponse> {
    return this.call<PollAssignmentsResponse>('PollAssignments', { known, waitSeconds, version }, (waitSeconds + 15) * 1000);
  }

  report(body: TaskReportBody) {
    return this.call<ReportTaskStateResponse>('ReportTaskState', body);
  }

  /** The task role's credentials of one of this host's tasks. */
  taskCredentials(task: { cluster: string; taskId: string }) {
    return this.call<GetTaskCredentialsResponse>('GetTaskCredentials', { task: { cluster: task.cluster, taskId: task.taskId } });
  }

  /** Every Service Connect endpoint, with the publishing services' healthy tasks: what this host's proxy serves. */
  async serviceConnectEndpoints(): Promise<ProxiedEndpoint[]> {
    return (await this.call<GetServiceConnectEndpointsResponse>('GetServiceConnectEndpoints', {})).endpoints;
  }

  /** The host's task samples, for the local mode's `/metrics`. */
  reportMetrics(metrics: MetricDatum[]) {
    return this.call<ReportMetricsResponse>('ReportMetrics', { metrics });
  }
}
