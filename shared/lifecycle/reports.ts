import { createHash } from 'node:crypto';
import { type Credentials, issueAccessKey } from '../auth/access-keys';
import { DEFAULT_INSTANCE_IDENTITY, type InstanceIdentityProof, checkInstanceIdentity, verifyInstanceIdentity } from '../auth/instance-identity';
import type { Berth } from '../context';
import { DEFAULT_CLUSTER } from '../domain/arns';
import { ClientException, ResourceNotFoundException } from '../domain/errors';
import type { ContainerReport } from '../agent-wire/requests';
import { type ContainerState, type TaskStatus, statusRank } from '../domain/task';
import { dropUndefined } from '../domain/task-definition';
import { HostNotLaunchedException } from '../store/host-store';
import type { HostRecord, HostRegistration, StatusChange, TaskRecord } from '../store';
import { wakeDaemonServices, wakeServiceOf } from './service-wake';
import { wakeTasksWaitingForRoom } from './capacity-wake';
import { settleTaskCallback } from '../batch/task-callbacks';
import { startStopWorkflow } from './stop';
import type { TaskRef } from './task-ref';
import { noteTask, seenTask } from './seen-tasks';

export const hashBootstrapToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * A host's agent registers its capacity, proving it was launched by Berth with the launch's
 * one-time bootstrap token, on EC2 with its signed instance identity document, or (registering
 * again) with a request signed by its host key. The first registration returns the host's own
 * credentials. Tests stand hosts up through here with open registration.
 */
export async function registerHost(
  b: Berth,
  host: HostRegistration,
  proof: { bootstrapToken?: string; instanceIdentity?: InstanceIdentityProof; authenticatedHostId?: string } = {},
): Promise<{ host: HostRecord; credentials?: Credentials }> {
  if (!Number.isSafeInteger(host.cpu) || host.cpu <= 0 || !Number.isSafeInteger(host.memory) || host.memory <= 0) {
    throw new ClientException('A host must register a positive cpu and memory.');
  }
  let instanceId: string | undefined;
  if (proof.instanceIdentity) {
    // Everything is checked before anything is written: a refused document changes nothing.
    const trust = b.config.instanceIdentity ?? DEFAULT_INSTANCE_IDENTITY;
    const document = verifyInstanceIdentity(proof.instanceIdentity, trust);
    checkInstanceIdentity(document, { ...b.partition, hostId: host.hostId, now: b.now(), maxDocumentAgeSeconds: trust.maxDocumentAgeSeconds });
    instanceId = document.instanceId;
  }
  const record = await b.store.hosts.register(host, b.now(), {
    instanceId,
    tokenHash: proof.bootstrapToken === undefined ? undefined : hashBootstrapToken(proof.bootstrapToken),
    authenticatedHostId: proof.authenticatedHostId,
    open: b.config.openHostRegistration,
  });
  await ensureDefaultCluster(b);
  // A host that proved itself with its key already has one.
  const credentials = proof.authenticatedHostId === undefined ? await issueAccessKey(b, 'host', host.hostId) : undefined;
  // Recorded on the host, so that writing it off revokes the key; a host written off meanwhile gets none.
  if (credentials && !(await b.store.hosts.recordKey(host.hostId, credentials.accessKeyId))) {
    await b.store.accessKeys.revoke(credentials.accessKeyId);
    throw new HostNotLaunchedException(host.hostId, (await b.store.hosts.get(host.hostId))?.status);
  }
  if (host.address !== undefined && record.address !== host.address) await b.store.hosts.setAddress(host.hostId, host.address);
  await wakeDaemonServices(b);
  // Room was added: launches waiting for it place again now instead of at their backoff's end.
  await wakeTasksWaitingForRoom(b);
  return { host: record, credentials };
}

/**
 * As the ECS agent does, a host joins the `default` cluster and creates it when there is none
 * yet, so ListContainerInstances answers from the first host on, not only after the first
 * RunTask. A default cluster the user deleted stays deleted.
 */
async function ensureDefaultCluster(b: Berth): Promise<void> {
  if (!(await b.store.clusters.get(DEFAULT_CLUSTER))) await b.store.clusters.create(DEFAULT_CLUSTER, [], b.now());
}

export class ReportRefusedException extends ClientException {
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedException';
  }
}

export interface TaskReport extends Omit<StatusChange, 'containers'> {
  task: TaskRef;
  containers?: ContainerReport[];
}

/**
 * The task's containers with what the agent observed of each: its status, exit code, reason,
 * runtime id, image digest and health. What the definition fixed (name, image, sizes, whether it has a health
 * check) stays as the task's record has it, whatever the report says, and a container the task
 * does not have is refused. A report without a health answer keeps the last one (an agent that
 * restarted has none until its first check), and a container without a check has none.
 */
function observedContainers(task: Pick<TaskRecord, 'taskId' | 'containers'>, reported: ContainerReport[]): ContainerState[] {
  const byName = new Map(reported.map((c) => [c.name, c]));
  for (const name of byName.keys()) {
    if (!task.containers.some((c) => c.name === name)) {
      throw new ClientException(`Invalid parameter 'containers': task ${task.taskId} has no container '${name}'.`);
    }
  }
  return task.containers.map((c) => {
    const r = byName.get(c.name);
    if (!r) return c;
    const healthStatus = c.hasHealthCheck ? r.healthStatus ?? c.healthStatus : undefined;
    return dropUndefined({
      ...c, lastStatus: r.lastStatus, exitCode: r.exitCode, reason: r.reason, runtimeId: r.runtimeId, imageDigest: r.imageDigest ?? c.imageDigest, networkBindings: r.networkBindings, healthStatus,
    });
  });
}

/**
 * An agent's report of a task's state. Applied only when it moves the task forward (a health
 * change is a report at the same status with a newer seq); then the workflow waiting on that
 * state is released, and a STOPPED task's stop workflow frees its room.
 */
export async function reportTaskState(b: Berth, hostId: string, report: TaskReport): Promise<{ applied: boolean; task: TaskRecord }> {
  // The task as this process last saw it (its agent's work read, its last report applied): the
  // report is merged onto that and written at once, a read less on every launch's and stop's
  // path. The write holds only while the task is this host's and its containers are still those;
  // otherwise (a stale note, a late or refused report) the report goes the way of one unseen.
  const seen = seenTask(b, report.task);
  if (seen && seen.hostId === hostId) {
    const containers = report.containers && observedContainers(seen, report.containers);
    const applied = await b.store.tasks.advance(report.task, { ...report, containers }, { hostId, containersVersion: seen.containersVersion ?? 0 });
    if (applied) return settleReport(b, applied, report, true);
  }
  const current = await b.store.tasks.get(report.task);
  if (!current) throw new ResourceNotFoundException(`Task ${report.task.taskId} not found.`);
  if (current.hostId !== hostId) {
    throw new ReportRefusedException(`Host ${hostId} does not run task ${report.task.taskId}.`);
  }
  const containers = report.containers && observedContainers(current, report.containers);
  const applied = await b.store.tasks.advance(report.task, { ...report, containers });
  return settleReport(b, applied ?? (await b.store.tasks.get(report.task))!, report, applied !== undefined);
}

async function settleReport(b: Berth, task: TaskRecord, report: TaskReport, applied: boolean): Promise<{ applied: boolean; task: TaskRecord }> {
  noteTask(b, task);
  await releaseWaits(b, task, report.lastStatus);
  if (applied) wakeServiceOf(b, task);
  return { applied, task };
}

/** Ends the workflow waits this state satisfies. Repeats are harmless: spent tokens are ignored. */
async function releaseWaits(b: Berth, task: TaskRecord, reported: TaskStatus): Promise<void> {
  if (statusRank(task.lastStatus) >= statusRank('RUNNING') && task.launchToken) {
    await b.workflows.succeed(task.launchToken, { lastStatus: task.lastStatus });
  }
  if (task.lastStatus === 'STOPPED' && statusRank(reported) >= statusRank('STOPPED')) {
    if (task.stopToken) await b.workflows.succeed(task.stopToken, { lastStatus: 'STOPPED' });
    await settleTaskCallback(b, task);
    await startStopWorkflow(b, task);
  }
}
