import { ClientException } from '../domain/errors';
import { type Json, isObject, optInt, optObject, optString, reqString } from '../domain/fields';
import { isTaskStatus, STOP_CODES, TASK_TIMESTAMPS, type ContainerState, type StopCode } from '../domain/task';
import { MissingAuthenticationTokenException } from '../auth/errors';
import { type InstanceIdentityProof, MAX_DOCUMENT_LENGTH, MAX_SIGNATURE_LENGTH } from '../auth/instance-identity';
import type { Caller, Operation } from '../ecs-api/operation';
import { type KnownAssignments, pollAssignments } from '../lifecycle/assignments';
import { ReportRefusedException, registerHost, reportTaskState } from '../lifecycle/reports';
import { reportMetrics } from './report-metrics';
import { IPV4, MAC, type TaskNetwork } from '../domain/task-network';

/** The agent API: how a host's agent talks to the control plane, in the same JSON 1.1 style. */
export const AGENT_TARGET_PREFIX = 'BerthAgent.';

/** How often an agent heartbeats, and the longest a poll is held open (under API Gateway's 29 s). */
export const HEARTBEAT_INTERVAL_SECONDS = 10;
export const MAX_POLL_WAIT_SECONDS = 20;

/** Timestamps and report sequence numbers are epoch milliseconds: beyond 32 bits. */
const EPOCH_MS = { min: 0, max: Number.MAX_SAFE_INTEGER };

/**
 * The host a signed call comes from. After registration every call is signed with the host's
 * own key, so a host can only ever read its own assignments and report on its own tasks.
 */
function callingHost(caller: Caller, body: Json): string {
  const hostId = caller.principal?.principal === 'host' ? caller.principal.hostId : undefined;
  if (!hostId) throw new MissingAuthenticationTokenException();
  const claimed = optString(body, 'hostId');
  if (claimed !== undefined && claimed !== hostId) throw new ReportRefusedException(`Signed as host ${hostId}, not ${claimed}.`);
  return hostId;
}

/**
 * Unsigned the first time, with the launch's bootstrap token (locally) or the instance's signed
 * identity document (on EC2); signed with the host key after.
 */
const RegisterHost: Operation = async (b, body, caller) => {
  const hostId = reqString(body, 'hostId', 'hostId', 128);
  const signedAs = caller.principal ? callingHost(caller, body) : undefined;
  const bootstrapToken = optString(body, 'bootstrapToken', 'bootstrapToken', 256);
  const instanceIdentity = readInstanceIdentity(body);
  if (!signedAs && bootstrapToken === undefined && !instanceIdentity && !b.config.openHostRegistration) throw new MissingAuthenticationTokenException();
  const { host, credentials } = await registerHost(b, {
    hostId,
    cpu: optInt(body, 'cpu', 'cpu', { min: 1 }) ?? 0,
    memory: optInt(body, 'memory', 'memory', { min: 1 }) ?? 0,
  }, { bootstrapToken, instanceIdentity, authenticatedHostId: signedAs });
  return { hostId: host.hostId, status: host.status, heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS, credentials };
};

function readInstanceIdentity(body: Json): InstanceIdentityProof | undefined {
  const o = optObject(body, 'instanceIdentity');
  if (!o) return undefined;
  return {
    document: reqString(o, 'document', 'instanceIdentity.document', MAX_DOCUMENT_LENGTH),
    signature: reqString(o, 'signature', 'instanceIdentity.signature', MAX_SIGNATURE_LENGTH),
  };
}

const Heartbeat: Operation = async (b, body, caller) => {
  await b.store.hosts.heartbeat(callingHost(caller, body), b.now());
  return {};
};

const PollAssignments: Operation = async (b, body, caller) => {
  const known = optObject(body, 'known') ?? {};
  const waitSeconds = optInt(body, 'waitSeconds', 'waitSeconds', { min: 0, max: MAX_POLL_WAIT_SECONDS }) ?? 0;
  const tasks = await pollAssignments(b, callingHost(caller, body), known as KnownAssignments, waitSeconds * 1000);
  return { tasks };
};

function readContainers(body: Json): ContainerState[] | undefined {
  const list = body.containers;
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw new ClientException("Invalid parameter 'containers': expected a list.");
  return list.map((c, i) => {
    if (!isObject(c)) throw new ClientException(`Invalid parameter 'containers[${i}]'.`);
    return c as unknown as ContainerState;
  });
}

/**
 * The task's own address (report field `network`: its namespace's IPv4 and MAC), shown as its
 * ENI attachment. Each container's published ports ride in `containers[].networkBindings`.
 */
function readNetwork(body: Json): TaskNetwork | undefined {
  const n = optObject(body, 'network');
  if (!n) return undefined;
  const privateIPv4Address = reqString(n, 'privateIPv4Address', 'network.privateIPv4Address', 15);
  const macAddress = reqString(n, 'macAddress', 'network.macAddress', 17).toLowerCase();
  if (!IPV4.test(privateIPv4Address)) throw new ClientException("Invalid parameter 'network.privateIPv4Address': not an IPv4 address.");
  if (!MAC.test(macAddress)) throw new ClientException("Invalid parameter 'network.macAddress': not a MAC address.");
  return { privateIPv4Address, macAddress };
}

const ReportTaskState: Operation = async (b, body, caller) => {
  const task = optObject(body, 'task');
  const lastStatus = reqString(body, 'lastStatus');
  if (!task || !isTaskStatus(lastStatus)) throw new ClientException('A report names a task and a valid lastStatus.');
  const ts = optObject(body, 'timestamps') ?? {};
  const timestamps = Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, optInt(ts, k, `timestamps.${k}`, EPOCH_MS)]).filter(([, v]) => v !== undefined));
  const stop = optObject(body, 'stop');
  const stopCode = stop && reqString(stop, 'stopCode', 'stop.stopCode');
  if (stopCode !== undefined && !(STOP_CODES as readonly string[]).includes(stopCode)) throw new ClientException('Invalid stopCode.');
  const r = await reportTaskState(b, callingHost(caller, body), {
    task: { cluster: reqString(task, 'cluster', 'task.cluster'), taskId: reqString(task, 'taskId', 'task.taskId') },
    lastStatus,
    containers: readContainers(body),
    timestamps,
    stop: stop && { stopCode: stopCode as StopCode, stoppedReason: optString(stop, 'stoppedReason', 'stop.stoppedReason', 1024) ?? '' },
    seq: optInt(body, 'seq', 'seq', EPOCH_MS),
    network: readNetwork(body),
  });
  return { applied: r.applied, lastStatus: r.task.lastStatus, desiredStatus: r.task.desiredStatus };
};

const ReportMetrics: Operation = async (b, body, caller) => reportMetrics(b, callingHost(caller, body), body);

export const AGENT_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  RegisterHost,
  Heartbeat,
  PollAssignments,
  ReportTaskState,
  ReportMetrics,
});
