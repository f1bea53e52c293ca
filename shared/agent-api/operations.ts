import { MissingAuthenticationTokenException } from '../auth/errors';
import type { Berth } from '../context';
import type { Caller, Operation } from '../aws-protocol/operation';
import { pollAssignments } from '../lifecycle/assignments';
import { ReportRefusedException, registerHost, reportTaskState } from '../lifecycle/reports';
import { AGENT_REQUESTS, type AgentOperation, type AgentRequest } from '../agent-wire/requests';
import { HEARTBEAT_INTERVAL_SECONDS } from '../agent-wire/constants';
import { parseRequest } from './parse';
import { reportMetrics } from './report-metrics';
import { issueTaskCredentials } from '../auth/task-credentials';
import { prePullImages } from '../lifecycle/pre-pull';
import { proxiedEndpoints } from '../services/service-connect-proxy';

export { AGENT_TARGET_PREFIX, HEARTBEAT_INTERVAL_SECONDS, MAX_POLL_WAIT_SECONDS } from '../agent-wire/constants';

/**
 * The host a signed call comes from. After registration every call is signed with the host's
 * own key, so a host can only ever read its own assignments and report on its own tasks.
 */
function callingHost(caller: Caller, body: { hostId?: string }): string {
  const hostId = caller.principal?.principal === 'host' ? caller.principal.hostId : undefined;
  if (!hostId) throw new MissingAuthenticationTokenException();
  const claimed = body.hostId;
  if (claimed !== undefined && claimed !== hostId) throw new ReportRefusedException(`Signed as host ${hostId}, not ${claimed}.`);
  return hostId;
}

/** An operation whose body is parsed by its schema first: bad input is refused before anything runs. */
const agentOperation = <O extends AgentOperation>(
  name: O, run: (b: Berth, body: AgentRequest<O>, caller: Caller) => Promise<object>,
): Operation => (b, body, caller) => {
  // Only RegisterHost may come unsigned; an unsigned call learns nothing of the body's rules.
  if (name !== 'RegisterHost') callingHost(caller, {});
  return run(b, parseRequest(AGENT_REQUESTS[name], body) as AgentRequest<O>, caller);
};

/**
 * Unsigned the first time, with the launch's bootstrap token (locally) or the instance's signed
 * identity document (on EC2); signed with the host key after.
 */
const RegisterHost = agentOperation('RegisterHost', async (b, body, caller) => {
  const signedAs = caller.principal ? callingHost(caller, body) : undefined;
  const { bootstrapToken, instanceIdentity } = body;
  if (!signedAs && bootstrapToken === undefined && !instanceIdentity && !b.config.openHostRegistration) throw new MissingAuthenticationTokenException();
  const { host, credentials } = await registerHost(b, {
    hostId: body.hostId, cpu: body.cpu ?? 0, memory: body.memory ?? 0, ...(body.cpuArchitecture ? { cpuArchitecture: body.cpuArchitecture } : {}),
    ...(body.address ? { address: body.address } : {}),
  }, { bootstrapToken, instanceIdentity, authenticatedHostId: signedAs });
  // Without its queue the agent's polls wait in the control plane, which makes the queue then.
  await b.notifier.prepare?.(host.hostId).catch(() => undefined);
  return { hostId: host.hostId, status: host.status, heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS, credentials, prePull: await prePullFor(b) };
});

/** The images warm hosts pull ahead of tasks; a failure to work them out costs only the pre-pull. */
const prePullFor = (b: Berth) => prePullImages(b).catch(() => undefined);

const Heartbeat = agentOperation('Heartbeat', async (b, body, caller) => {
  const hostId = callingHost(caller, body);
  if (!(await b.store.hosts.heartbeat(hostId, b.now()))) {
    throw new ReportRefusedException(`Host ${hostId} is not live: it was written off or terminated.`);
  }
  return { prePull: await prePullFor(b) };
});

const PollAssignments = agentOperation('PollAssignments', async (b, body, caller) => {
  const hostId = callingHost(caller, body);
  const answer = await pollAssignments(b, hostId, body.known ?? {}, (body.waitSeconds ?? 0) * 1000, body.version);
  return { ...answer, wakeQueueUrl: b.notifier.wakeQueueUrl?.(hostId) };
});

const ReportTaskState = agentOperation('ReportTaskState', async (b, body, caller) => {
  const r = await reportTaskState(b, callingHost(caller, body), {
    task: body.task,
    lastStatus: body.lastStatus,
    containers: body.containers,
    timestamps: body.timestamps ?? {},
    stop: body.stop && { stopCode: body.stop.stopCode, stoppedReason: body.stop.stoppedReason ?? '' },
    seq: body.seq,
    network: body.network,
  });
  return { applied: r.applied, lastStatus: r.task.lastStatus, desiredStatus: r.task.desiredStatus };
});

const ReportMetrics = agentOperation('ReportMetrics', async (b, body, caller) => reportMetrics(b, callingHost(caller, body), body.metrics));

const GetTaskCredentials = agentOperation('GetTaskCredentials', async (b, body, caller) =>
  issueTaskCredentials(b, callingHost(caller, body), body.task));

const GetServiceConnectEndpoints = agentOperation('GetServiceConnectEndpoints', async (b, body, caller) => {
  return { endpoints: await proxiedEndpoints(b, callingHost(caller, body)) };
});

export const AGENT_OPERATIONS: Readonly<Record<AgentOperation, Operation>> = Object.freeze({
  RegisterHost,
  Heartbeat,
  PollAssignments,
  ReportTaskState,
  ReportMetrics,
  GetTaskCredentials,
  GetServiceConnectEndpoints,
});
