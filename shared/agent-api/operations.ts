import { ClientException } from '../domain/errors';
import { type Json, isObject, optInt, optObject, optString, reqString } from '../domain/fields';
import { isTaskStatus, STOP_CODES, TASK_TIMESTAMPS, type ContainerState, type StopCode } from '../domain/task';
import type { Operation } from '../ecs-api/operation';
import { type KnownAssignments, pollAssignments } from '../lifecycle/assignments';
import { registerHost, reportTaskState } from '../lifecycle/reports';

/** The agent API: how a host's agent talks to the control plane, in the same JSON 1.1 style. */
export const AGENT_TARGET_PREFIX = 'BerthAgent.';

/** How often an agent heartbeats, and the longest a poll is held open (under API Gateway's 29 s). */
export const HEARTBEAT_INTERVAL_SECONDS = 10;
export const MAX_POLL_WAIT_SECONDS = 20;

const RegisterHost: Operation = async (b, body) => {
  const host = await registerHost(b, {
    hostId: reqString(body, 'hostId', 'hostId', 128),
    cpu: optInt(body, 'cpu', 'cpu', { min: 1 }) ?? 0,
    memory: optInt(body, 'memory', 'memory', { min: 1 }) ?? 0,
  });
  return { hostId: host.hostId, status: host.status, heartbeatIntervalSeconds: HEARTBEAT_INTERVAL_SECONDS };
};

const Heartbeat: Operation = async (b, body) => {
  await b.store.hosts.heartbeat(reqString(body, 'hostId'), b.now());
  return {};
};

const PollAssignments: Operation = async (b, body) => {
  const known = optObject(body, 'known') ?? {};
  const waitSeconds = optInt(body, 'waitSeconds', 'waitSeconds', { min: 0, max: MAX_POLL_WAIT_SECONDS }) ?? 0;
  const tasks = await pollAssignments(b, reqString(body, 'hostId'), known as KnownAssignments, waitSeconds * 1000);
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

const ReportTaskState: Operation = async (b, body) => {
  const task = optObject(body, 'task');
  const lastStatus = reqString(body, 'lastStatus');
  if (!task || !isTaskStatus(lastStatus)) throw new ClientException('A report names a task and a valid lastStatus.');
  const ts = optObject(body, 'timestamps') ?? {};
  const timestamps = Object.fromEntries(TASK_TIMESTAMPS.map((k) => [k, optInt(ts, k, `timestamps.${k}`, { min: 0 })]).filter(([, v]) => v !== undefined));
  const stop = optObject(body, 'stop');
  const stopCode = stop && reqString(stop, 'stopCode', 'stop.stopCode');
  if (stopCode !== undefined && !(STOP_CODES as readonly string[]).includes(stopCode)) throw new ClientException('Invalid stopCode.');
  const r = await reportTaskState(b, reqString(body, 'hostId'), {
    task: { cluster: reqString(task, 'cluster', 'task.cluster'), taskId: reqString(task, 'taskId', 'task.taskId') },
    lastStatus,
    containers: readContainers(body),
    timestamps,
    stop: stop && { stopCode: stopCode as StopCode, stoppedReason: optString(stop, 'stoppedReason', 'stop.stoppedReason', 1024) ?? '' },
    seq: optInt(body, 'seq', 'seq', { min: 0 }),
  });
  return { applied: r.applied, lastStatus: r.task.lastStatus, desiredStatus: r.task.desiredStatus };
};

export const AGENT_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  RegisterHost,
  Heartbeat,
  PollAssignments,
  ReportTaskState,
});
