import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HostStatus, HostView, Plan } from '../scheduler/placement';
import type { Market } from '../capacity/types';
import { ClientException } from '../domain/errors';
import { isConditionFailure } from './client';
import { scanAll } from './scan';
import { UpdateExpression } from './update-expression';

export interface Reservation {
  cpu: number;
  memory: number;
  cluster: string;
  /** The fixed host ports it holds (hostPortKey keys), when it holds any. */
  ports?: string[];
}

/** A host's item: its capacity and, by task id, everything reserved on it. */
export interface HostRecord extends HostView {
  reservations: Record<string, Reservation>;
  /** The instance type and market it was launched as; absent for hosts that joined on their own. */
  instanceType?: string;
  /** The EC2 instance it runs on, recorded at launch. */
  instanceId?: string;
  market?: Market;
  launchedAt?: number;
  registeredAt?: number;
  lastHeartbeatAt: number;
  /** When a task last arrived or left: an empty host has been idle since then. */
  lastTaskAt?: number;
  version: number;
}

/** A host the capacity manager launched, before its agent registers. */
export interface LaunchRecord {
  hostId: string;
  instanceType: string;
  market: Market;
  cpu: number;
  memory: number;
  /** SHA-256 of the one-time token the launch gave the host's agent; consumed at registration. */
  bootstrapTokenHash?: string;
  /** The EC2 instance the launch started: its agent may register with that instance's signed identity document. */
  instanceId?: string;
}

/** What a registering agent proves about itself. */
export interface RegistrationProof {
  /** SHA-256 of the bootstrap token it presented. */
  tokenHash?: string;
  /** The EC2 instance its verified instance identity document names. */
  instanceId?: string;
  /** The host its signed request's key belongs to: an agent that registered before. */
  authenticatedHostId?: string;
  /** Tests and hand-run fleets: any host may join. */
  open?: boolean;
}

/** A machine no launch of ours accounts for, or one already written off, tried to register. */
export class HostNotLaunchedException extends ClientException {
  constructor(readonly hostId: string, status?: string) {
    super(status ? `Host ${hostId} is ${status} and cannot register again.` : `Host ${hostId} was not launched by Berth.`);
    this.name = 'AccessDeniedException';
  }
}

/** A host's sums right after a reservation. */
export type Reserved = Pick<HostView, 'reservedCpu' | 'reservedMemory' | 'taskCount' | 'reservedPorts'>;

/** DynamoDB keeps the host's taken ports as a string set, which the document client reads as a Set. */
const portList = (v: unknown): string[] | undefined => (v instanceof Set ? [...v] : Array.isArray(v) ? v : undefined);
const withPortList = <T extends HostView>(h: T): T => (h.reservedPorts === undefined ? h : { ...h, reservedPorts: portList(h.reservedPorts) });

export interface HostRegistration {
  hostId: string;
  cpu: number;
  memory: number;
}

export class HostStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** Records a host the capacity manager launched: LAUNCHING until its agent registers. */
  async launching(host: LaunchRecord, now: number): Promise<void> {
    const record: HostRecord = {
      ...host, status: 'LAUNCHING', reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      reservations: {}, launchedAt: now, lastHeartbeatAt: now, lastTaskAt: now, version: 1,
    };
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(hostId)',
      }));
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  /**
   * An agent registers its host. Only a host Berth launched may join, by presenting the launch's
   * one-time bootstrap token (or, on EC2, the instance id of its verified identity document):
   * LAUNCHING becomes ACTIVE at its launched capacity and the token is spent. An agent that
   * registered before (its request signed with its host key) re-registers an ACTIVE or DRAINING
   * host and keeps what it holds. With `open`, any host may join.
   */
  async register(host: HostRegistration, now: number, proof: RegistrationProof = {}): Promise<HostRecord> {
    if (proof.authenticatedHostId !== undefined || proof.open) {
      if (proof.authenticatedHostId !== undefined && proof.authenticatedHostId !== host.hostId) {
        throw new HostNotLaunchedException(host.hostId);
      }
      const existing = await this.get(host.hostId);
      if (existing && (existing.status === 'ACTIVE' || existing.status === 'DRAINING')) {
        await this.heartbeat(host.hostId, now);
        return (await this.get(host.hostId))!;
      }
    }
    if (proof.tokenHash !== undefined || proof.instanceId !== undefined || proof.open) {
      const u = new UpdateExpression().set({ status: 'ACTIVE', registeredAt: now, lastHeartbeatAt: now }).add('version', 1).remove('bootstrapTokenHash');
      // Only the first registration of a launch activates it, and only with its own token.
      const conditions = [`${u.name('status')} = ${u.value('LAUNCHING')}`];
      if (!proof.open && proof.tokenHash !== undefined) conditions.push(`bootstrapTokenHash = ${u.value(proof.tokenHash)}`);
      // The instance the launch recorded, not merely an item of that name: a signed document
      // admits only the EC2 instance Berth started, and only while it is LAUNCHING (no replay).
      if (!proof.open && proof.instanceId !== undefined) conditions.push(`instanceId = ${u.value(proof.instanceId)}`);
      try {
        const r = await this.db.send(new UpdateCommand({
          TableName: this.table, Key: { hostId: host.hostId }, UpdateExpression: u.toString(),
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values, ReturnValues: 'ALL_NEW',
        }));
        return withPortList(r.Attributes as HostRecord);
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
      }
    }
    const existing = await this.get(host.hostId);
    if (existing || !proof.open) throw new HostNotLaunchedException(host.hostId, existing?.status === 'LAUNCHING' ? undefined : existing?.status);
    const record: HostRecord = {
      ...host, status: 'ACTIVE', reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      reservations: {}, registeredAt: now, lastHeartbeatAt: now, lastTaskAt: now, version: 1,
    };
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: record, ConditionExpression: 'attribute_not_exists(hostId)',
      }));
      return record;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return (await this.get(host.hostId))!;
    }
  }

  async get(hostId: string): Promise<HostRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { hostId }, ConsistentRead: true }));
    return r.Item && withPortList(r.Item as HostRecord);
  }

  async list(): Promise<HostRecord[]> {
    return (await scanAll<HostRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }))).map(withPortList);
  }

  /** What the scheduler needs of every host, without the reservation maps that grow with tasks. */
  async views(): Promise<HostView[]> {
    const views = await scanAll<HostView>(this.db, new ScanCommand({
      TableName: this.table,
      ProjectionExpression: 'hostId, #s, cpu, #m, reservedCpu, reservedMemory, taskCount, reservedPorts',
      ExpressionAttributeNames: { '#s': 'status', '#m': 'memory' },
      ConsistentRead: true,
    }));
    return views.map(withPortList);
  }

  /** Hosts holding a reservation for the task: normally one, more only after a crash mid-placement. */
  async holding(taskId: string): Promise<HostRecord[]> {
    return (await scanAll<HostRecord>(this.db, new ScanCommand({
      TableName: this.table,
      FilterExpression: 'attribute_exists(reservations.#t)',
      ExpressionAttributeNames: { '#t': taskId },
      ConsistentRead: true,
    }))).map(withPortList);
  }

  /**
   * Commits a plan: reserves the task's cpu, memory and fixed host ports on the host in one
   * conditional write.
   * Returns the host's sums after the write (everyone's commits, not only ours), or undefined
   * when the host no longer has room (or left ACTIVE): the caller re-plans.
   */
  async reserve(plan: Plan, cluster: string, now = Date.now()): Promise<Reserved | undefined> {
    const u = new UpdateExpression();
    const t = u.name(plan.taskId);
    const ports = plan.ports ?? [];
    const reservation: Reservation = { cpu: plan.cpu, memory: plan.memory, cluster };
    if (ports.length > 0) reservation.ports = [...ports];
    u.raw(`reservations.${t} = ${u.value(reservation)}`)
      .set({ lastTaskAt: now })
      .add('reservedCpu', plan.cpu)
      .add('reservedMemory', plan.memory)
      .add('taskCount', 1)
      .add('version', 1);
    if (ports.length > 0) u.addToSet('reservedPorts', new Set(ports));
    // The fit is re-checked here, against the host's current sums rather than the planner's
    // snapshot: two placers racing for the last room cannot both get it, nor for one host port.
    const condition =
      `${u.name('status')} = ${u.value('ACTIVE')} AND attribute_not_exists(reservations.${t}) AND ` +
      `reservedCpu <= ${u.value(plan.maxReservedCpu)} AND reservedMemory <= ${u.value(plan.maxReservedMemory)}` +
      ports.map((p) => ` AND NOT contains(reservedPorts, ${u.value(p)})`).join('');
    try {
      const r = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: { hostId: plan.hostId },
        UpdateExpression: u.toString(),
        ConditionExpression: condition,
        ExpressionAttributeNames: u.names,
        ExpressionAttributeValues: u.values,
        ReturnValues: 'UPDATED_NEW',
      }));
      const a = r.Attributes!;
      const reserved: Reserved = { reservedCpu: a.reservedCpu, reservedMemory: a.reservedMemory, taskCount: a.taskCount };
      // Returned only when this write took ports; otherwise the host's ports are as they were.
      return a.reservedPorts === undefined ? reserved : { ...reserved, reservedPorts: portList(a.reservedPorts) };
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  /** Releases the task's reservation; releasing one that is gone is a no-op. */
  async release(hostId: string, taskId: string, amount: { cpu: number; memory: number; ports?: readonly string[] }, now = Date.now()): Promise<boolean> {
    const u = new UpdateExpression();
    const t = u.name(taskId);
    u.remove(`reservations.${t}`)
      .set({ lastTaskAt: now })
      .add('reservedCpu', -amount.cpu)
      .add('reservedMemory', -amount.memory)
      .add('taskCount', -1)
      .add('version', 1);
    if (amount.ports?.length) u.deleteFromSet('reservedPorts', new Set(amount.ports));
    // The reservation must still be there, and be this size: a release never subtracts twice.
    const condition =
      `reservations.${t}.cpu = ${u.value(amount.cpu)} AND reservations.${t}.memory = ${u.value(amount.memory)}`;
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: { hostId },
        UpdateExpression: u.toString(),
        ConditionExpression: condition,
        ExpressionAttributeNames: u.names,
        ExpressionAttributeValues: u.values,
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async heartbeat(hostId: string, now: number): Promise<void> {
    const u = new UpdateExpression().set({ lastHeartbeatAt: now });
    await this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId }, UpdateExpression: u.toString(),
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
      ConditionExpression: 'attribute_exists(hostId)',
    }));
  }

  /**
   * Moves a host to `status` if it is in one of `from` (and, with `empty`, holds no task).
   * Returns whether it moved: a host that got a task meanwhile is not terminated.
   */
  async transition(hostId: string, status: HostStatus, from: HostStatus[], options: { empty?: boolean; heartbeatAt?: number } = {}): Promise<boolean> {
    const u = new UpdateExpression().set({ status }).add('version', 1);
    const s = u.name('status');
    const conditions = [`${s} IN (${from.map((f) => u.value(f)).join(', ')})`];
    if (options.empty) conditions.push(`taskCount = ${u.value(0)}`);
    // A heartbeat that arrived after the check saves the host from being written off.
    if (options.heartbeatAt !== undefined) conditions.push(`lastHeartbeatAt = ${u.value(options.heartbeatAt)}`);
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: { hostId }, UpdateExpression: u.toString(),
        ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
        ConditionExpression: conditions.join(' AND '),
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  async setStatus(hostId: string, status: HostStatus): Promise<void> {
    const u = new UpdateExpression().set({ status }).add('version', 1);
    await this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId }, UpdateExpression: u.toString(),
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
      ConditionExpression: 'attribute_exists(hostId)',
    }));
  }
}
