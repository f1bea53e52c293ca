import { AGENT_TARGET_PREFIX } from '../shared/agent-api/operations';
import type { Assignment, KnownAssignments } from '../shared/lifecycle/assignments';
import type { ContainerState, StopOutcome, TaskStatus, TaskTimestamp } from '../shared/domain/task';

export interface TaskReportBody {
  task: { cluster: string; taskId: string };
  lastStatus: TaskStatus;
  containers: ContainerState[];
  timestamps: Partial<Record<TaskTimestamp, number>>;
  stop?: StopOutcome;
  seq: number;
}

export class AgentApiError extends Error {
  constructor(readonly type: string, message: string, readonly status: number) {
    super(`${type}: ${message}`);
    this.name = 'AgentApiError';
  }
}

/** The agent's side of the agent API (`POST /agent`, JSON 1.1, `X-Amz-Target: BerthAgent.*`). */
export class AgentClient {
  constructor(private readonly endpoint: string, readonly hostId: string) {}

  private async call<T>(operation: string, body: object, timeoutMs = 30_000): Promise<T> {
    const res = await fetch(`${this.endpoint}/agent`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${AGENT_TARGET_PREFIX}${operation}` },
      body: JSON.stringify({ hostId: this.hostId, ...body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const json = (await res.json()) as any;
    if (!res.ok) throw new AgentApiError(json.__type ?? 'Error', json.message ?? res.statusText, res.status);
    return json as T;
  }

  register(cpu: number, memory: number) {
    return this.call<{ hostId: string; heartbeatIntervalSeconds: number }>('RegisterHost', { cpu, memory });
  }

  heartbeat() {
    return this.call<object>('Heartbeat', {});
  }

  async poll(known: KnownAssignments, waitSeconds: number): Promise<Assignment[]> {
    const r = await this.call<{ tasks: Assignment[] }>('PollAssignments', { known, waitSeconds }, (waitSeconds + 15) * 1000);
    return r.tasks;
  }

  report(body: TaskReportBody) {
    return this.call<{ applied: boolean; lastStatus: TaskStatus; desiredStatus: string }>('ReportTaskState', body);
  }
}
