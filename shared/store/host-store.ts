import {
  GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { type CpuArchitecture, type HostStatus, type HostView, type Plan, isLiveHost } from '../scheduler/placement';
import { hostAttributes } from '../scheduler/host-attributes';
import type { Market } from '../capacity/types';
import { ClientException } from '../domain/errors';
import { conditionHeld, isConditionFailure } from './client';
import { batchGetAll, scanAll } from './scan';
import { UpdateExpression } from './update-expression';

export interface Reservation {
  cpu: number;
  memory: number;
  cluster: string;
  /** The task's group, counted in the host's groupTasks while the reservation stands. */
  group?: string;
  /** The fixed host ports it holds (hostPortKey keys), when it holds any. */
  ports?: string[];
}

/** A host's item: its capacity and, by task id, everything reserved on it. */
export interface HostRecord extends HostView {
  reservations: Record<string, Reservation>;
  /** Reservations by task group: what distinctInstance's condition and spread read. Absent on items older than it. */
  groupTasks?: Record<string, number>;
  /** The zone the host runs in, when its launch knew it: the ecs.availability-zone attribute. */
  availabilityZone?: string;
  /** The instance type and market it was launched as; absent for hosts that joined on their own. */
  instanceType?: string;
  /** The EC2 instance it runs on, recorded at launch. */
  instanceId?: string;
  /** Its own address, as its agent last registered it: where other hosts' proxies reach its published ports. */
  address?: string;
  /** The architecture its agent reported at registration: the ecs.cpu-architecture attribute. */
  cpuArchitecture?: CpuArchitecture;
  market?: Market;
  /** The custom capacity provider (pool) it was launched for: only that provider's tasks run on it. */
  capacityProvider?: string;
  launchedAt?: number;
  registeredAt?: number;
  /** When it was terminated or written off: the end of its bill. */
  endedAt?: number;
  lastHeartbeatAt: number;
  /** When a task last arrived or left: an empty host has been idle since then. */
  lastTaskAt?: number;
  /** The access keys issued to its agent: revoked when the host is written off or terminated. */
  accessKeyIds?: string[];
  version: number;
}

/** A host the capacity manager launched, before its agent registers. */
export interface LaunchRecord {
  hostId: string;
  instanceType: string;
  market: Market;
  capacityProvider?: string;
  cpu: number;
  memory: number;
  /** SHA-256 of the one-time token the launch gave the host's agent; consumed at registration. */
  bootstrapTokenHash?: string;
  /** The EC2 instance the launch started: its agent may register with that instance's signed identity document. */
  instanceId?: string;
  availabilityZone?: string;
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

/**
 * A host's sums right after a reservation (groupTasks: at least the groups the write counted;
 * reservedPorts: all the host's ports, present only when the write took some).
 */
export type Reserved = Pick<HostView, 'reservedCpu' | 'reservedMemory' | 'taskCount' | 'groupTasks' | 'reservedPorts'>;

/**
 * Most reservations one UpdateItem carries: each adds a SET clause and a condition, and DynamoDB
 * caps each expression at 4 KB. A host seldom takes more from one batch anyway.
 */
export const MAX_RESERVATIONS_PER_WRITE = 32;

const isMissingGroupMap = (e: unknown): boolean =>
  e instanceof Error && e.name === 'ValidationException' && /document path/i.test(e.message);

/**
 * DynamoDB keeps the host's taken ports as a string set, which the document client reads as a
 * Set; not always of this realm's Set (the local item cache's structuredClone makes its copies in
 * the realm it runs in, which under jest is another), so any iterable, not `instanceof Set`.
 */
const portList = (v: unknown): string[] | undefined =>
  (Array.isArray(v) ? v : v !== null && typeof v === 'object' && Symbol.iterator in v ? [...(v as Iterable<string>)] : undefined);
const withPortList = <T extends HostView>(h: T): T => (h.reservedPorts === undefined ? h : { ...h, reservedPorts: portList(h.reservedPorts) });
const NO_PORTS: readonly string[] = [];

export interface HostRegistration {
  hostId: string;
  cpu: number;
  memory: number;
  /** Where other hosts reach the ports it publishes (Service Connect's proxies). */
  address?: string;
  /** What its agent reported: the machine's architecture, whatever its instance type says. */
  cpuArchitecture?: CpuArchitecture;
}

const VIEW_PROJECTION = 'hostId, #s, cpu, #m, reservedCpu, reservedMemory, taskCount, reservedPorts, groupTasks, instanceType, availabilityZone, market, capacityProvider, cpuArchitecture';
const VIEW_NAMES = { '#s': 'status', '#m': 'memory' };

/** Field by field, so every view has one shape (the scheduler's hot loop runs faster on one). */
const toView = (h: HostRecord): HostView => ({
  hostId: h.hostId,
  status: h.status,
  cpu: h.cpu,
  memory: h.memory,
  reservedCpu: h.reservedCpu,
  reservedMemory: h.reservedMemory,
  taskCount: h.taskCount,
  reservedPorts: portList(h.reservedPorts) ?? NO_PORTS,
  attributes: hostAttributes(h),
  groupTasks: h.groupTasks ?? {},
});

/**
 * The hosts table's one item that is not a host: the ids of every host not yet ended
 * (LAUNCHING, ACTIVE, DRAINING), so the placer reads the fleet by key (fleetViews) instead of
 * scanning a table that keeps every host ever launched. Hosts join it before their item is
 * written and leave it after they end, so it always holds at least every live host: without
 * transactions (dynalite has none) a crash in between leaves an extra id, never a missing one.
 */
export const FLEET_ITEM = '~fleet';
const notFleetItem = (h: { hostId: string }): boolean => h.hostId !== FLEET_ITEM;

export class HostStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** Adds hosts to the fleet item (before their items exist: see FLEET_ITEM). */
  private async join(hostIds: readonly string[], seeded = false): Promise<void> {
    if (hostIds.length === 0 && !seeded) return;
    const u = new UpdateExpression();
    if (hostIds.length > 0) u.addToSet('members', new Set(hostIds));
    if (seeded) u.set({ seeded: true });
    await this.updateFleet(u);
  }

  /** Takes ended hosts out of the fleet item (a repeat changes nothing). */
  private async leave(hostIds: readonly string[]): Promise<void> {
    if (hostIds.length === 0) return;
    await this.updateFleet(new UpdateExpression().deleteFromSet('members', new Set(hostIds)));
  }

  private async updateFleet(u: UpdateExpression): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId: FLEET_ITEM }, UpdateExpression: u.toString(), ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
    }));
  }

  /** Records a host the capacity manager launched: LAUNCHING until its agent registers. */
  async launching(host: LaunchRecord, now: number): Promise<void> {
    const record: HostRecord = {
      ...host, status: 'LAUNCHING', reservedCpu: 0, reservedMemory: 0, taskCount: 0,
      reservations: {}, groupTasks: {}, launchedAt: now, lastHeartbeatAt: now, lastTaskAt: now, version: 1,
    };
    await this.join([host.hostId]);
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
    if (host.hostId === FLEET_ITEM) throw new HostNotLaunchedException(host.hostId);
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
      const u = new UpdateExpression()
        .set({ status: 'ACTIVE', registeredAt: now, lastHeartbeatAt: now, ...(host.cpuArchitecture ? { cpuArchitecture: host.cpuArchitecture } : {}) })
        .add('version', 1).remove('bootstrapTokenHash');
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
      reservations: {}, groupTasks: {}, registeredAt: now, lastHeartbeatAt: now, lastTaskAt: now, version: 1,
    };
    await this.join([host.hostId]);
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
    return (await scanAll<HostRecord>(this.db, new ScanCommand({ TableName: this.table, ConsistentRead: true }))).filter(notFleetItem).map(withPortList);
  }

  /** What the scheduler needs of every host, without the reservation maps that grow with tasks: by a Scan, for metrics. */
  async views(): Promise<HostView[]> {
    const items = await scanAll<HostRecord>(this.db, new ScanCommand({
      TableName: this.table, ProjectionExpression: VIEW_PROJECTION, ExpressionAttributeNames: VIEW_NAMES, ConsistentRead: true,
    }));
    return items.filter(notFleetItem).map(toView);
  }

  /**
   * Every host not yet ended, as the scheduler sees it, read now and by key: the fleet item,
   * then its hosts in BatchGetItem calls of up to 100 (strongly consistent both, so "no room"
   * is never concluded on a stale view). No Scan, so the read grows with the live fleet, not
   * with every host the table keeps. Ended hosts it still names are taken out of it.
   */
  async fleetViews(): Promise<HostView[]> {
    const fleet = (await this.db.send(new GetCommand({
      TableName: this.table, Key: { hostId: FLEET_ITEM }, ProjectionExpression: 'members, seeded', ConsistentRead: true,
    }))).Item;
    let members = portList(fleet?.members) ?? [];
    if (fleet?.seeded !== true) members = await this.seedFleet(members);
    const items = await batchGetAll<HostRecord>(this.db, this.table, members.map((hostId) => ({ hostId })), {
      ProjectionExpression: VIEW_PROJECTION, ExpressionAttributeNames: VIEW_NAMES,
    });
    await this.leave(items.filter((h) => !isLiveHost(h.status)).map((h) => h.hostId));
    return items.filter((h) => isLiveHost(h.status)).map(toView);
  }

  /**
   * Hosts a Berth older than the fleet item recorded are not in it: the first read scans the
   * table once for them, and marks the item so no read scans again.
   */
  private async seedFleet(members: readonly string[]): Promise<string[]> {
    const items = await scanAll<HostRecord>(this.db, new ScanCommand({
      TableName: this.table, ProjectionExpression: 'hostId, #s', ExpressionAttributeNames: { '#s': 'status' }, ConsistentRead: true,
    }));
    const live = items.filter((h) => notFleetItem(h) && isLiveHost(h.status)).map((h) => h.hostId);
    await this.join(live, true);
    return [...new Set([...members, ...live])];
  }

  /** One host as the scheduler sees it, read now: what a placer re-reads after losing a race for it. */
  async view(hostId: string): Promise<HostView | undefined> {
    const r = await this.db.send(new GetCommand({
      TableName: this.table, Key: { hostId }, ProjectionExpression: VIEW_PROJECTION, ExpressionAttributeNames: VIEW_NAMES, ConsistentRead: true,
    }));
    return r.Item && toView(r.Item as HostRecord);
  }

  /**
   * The host's version: it moves with every change its agent must see (a reservation made or
   * released, a status change, `touch`), never with a heartbeat. What a long poll re-reads
   * between full reads of the host's work (lifecycle/assignments.ts). Undefined: no such host.
   */
  async versionOf(hostId: string): Promise<number | undefined> {
    const r = await this.db.send(new GetCommand({
      TableName: this.table, Key: { hostId }, ProjectionExpression: '#v', ExpressionAttributeNames: { '#v': 'version' }, ConsistentRead: true,
    }));
    return r.Item?.version as number | undefined;
  }

  /** Moves the host's version: one of its tasks changed in a way its agent must act on. */
  async touch(hostId: string): Promise<void> {
    await conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId }, UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 },
      // Never creates an item for a host that is gone.
      ConditionExpression: 'attribute_exists(hostId)',
      // The item as the host's woken poll reads it next: a client that keeps items (the local
      // mode's cache) answers that read from this.
      ReturnValues: 'ALL_NEW',
    })));
  }

  /** The task's reservation on the host, read alone (the host's map grows with its tasks); undefined when none. */
  async reservationOf(hostId: string, taskId: string): Promise<Reservation | undefined> {
    const r = await this.db.send(new GetCommand({
      TableName: this.table, Key: { hostId }, ProjectionExpression: 'reservations.#t',
      ExpressionAttributeNames: { '#t': taskId }, ConsistentRead: true,
    }));
    return (r.Item?.reservations as Record<string, Reservation> | undefined)?.[taskId];
  }

  /** Hosts holding a reservation for the task, by a Scan of every host: for checks and tests, never a task's own path. */
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
    return this.reserveAll(plan.hostId, [plan], cluster, now);
  }

  /**
   * Commits several plans on one host in one conditional write: all of them or none. The write
   * requires the host to be ACTIVE, to hold none of the tasks yet, to have room for all of
   * them together, and to hold none of their fixed host ports (no two of the plans may name the
   * same port); for a distinctInstance group, to hold no task of it. Returns the host's sums
   * after the write, or undefined when the condition failed: the caller re-plans those tasks.
   */
  async reserveAll(hostId: string, plans: readonly Plan[], cluster: string, now = Date.now()): Promise<Reserved | undefined> {
    if (plans.length === 0 || plans.length > MAX_RESERVATIONS_PER_WRITE || plans.some((p) => p.hostId !== hostId)) {
      throw new RangeError(`reserveAll takes 1..${MAX_RESERVATIONS_PER_WRITE} plans for host ${hostId}`);
    }
    const u = new UpdateExpression();
    const conditions = [`${u.name('status')} = ${u.value('ACTIVE')}`];
    const byGroup = new Map<string, { count: number; distinct: boolean }>();
    let cpu = 0;
    let memory = 0;
    // The host's capacity, as each plan states it; the least of them, to be safe with any mix.
    let capacityCpu = Infinity;
    let capacityMemory = Infinity;
    const ports = new Set<string>();
    for (const p of plans) {
      const t = u.name(p.taskId);
      const reservation: Reservation = { cpu: p.cpu, memory: p.memory, cluster };
      if (p.group !== undefined) reservation.group = p.group;
      if (p.ports?.length) reservation.ports = [...p.ports];
      u.raw(`reservations.${t} = ${u.value(reservation)}`);
      conditions.push(`attribute_not_exists(reservations.${t})`);
      for (const port of p.ports ?? []) {
        if (ports.has(port)) throw new RangeError(`host port ${port} planned twice on one host ${hostId}`);
        ports.add(port);
      }
      cpu += p.cpu;
      memory += p.memory;
      capacityCpu = Math.min(capacityCpu, p.maxReservedCpu + p.cpu);
      capacityMemory = Math.min(capacityMemory, p.maxReservedMemory + p.memory);
      if (p.group !== undefined) {
        const g = byGroup.get(p.group) ?? { count: 0, distinct: false };
        byGroup.set(p.group, { count: g.count + 1, distinct: g.distinct || p.distinctInstance === true });
      }
    }
    u.set({ lastTaskAt: now })
      .add('reservedCpu', cpu)
      .add('reservedMemory', memory)
      .add('taskCount', plans.length)
      .add('version', 1);
    if (ports.size > 0) u.addToSet('reservedPorts', ports);
    // Two placers racing for one host port: the second write finds it taken.
    for (const port of ports) conditions.push(`NOT contains(reservedPorts, ${u.value(port)})`);
    for (const [group, { count, distinct }] of byGroup) {
      if (distinct && count > 1) throw new RangeError(`distinctInstance: ${count} tasks of ${group} planned on one host ${hostId}`);
      const g = `groupTasks.${u.name(group)}`;
      const zero = u.value(0);
      u.raw(`${g} = if_not_exists(${g}, ${zero}) + ${u.value(count)}`);
      // Two placers racing to put a task of one distinctInstance group on the same host: one wins.
      if (distinct) conditions.push(`(attribute_not_exists(${g}) OR ${g} = ${zero})`);
    }
    // The fit is re-checked here, against the host's current sums rather than the planner's
    // snapshot: placers racing for the last room cannot both get it.
    conditions.push(`reservedCpu <= ${u.value(capacityCpu - cpu)}`, `reservedMemory <= ${u.value(capacityMemory - memory)}`);
    const command = this.conditionalUpdate(hostId, u, conditions, 'UPDATED_NEW');
    try {
      const r = await this.db.send(command).catch(async (e: unknown) => {
        if (!isMissingGroupMap(e)) throw e;
        // An item from before groupTasks: give it the map (only if it still lacks one), then write again.
        await this.db.send(new UpdateCommand({
          TableName: this.table, Key: { hostId }, UpdateExpression: 'SET groupTasks = :empty',
          ConditionExpression: 'attribute_exists(hostId) AND attribute_not_exists(groupTasks)',
          ExpressionAttributeValues: { ':empty': {} },
        })).catch((e2: unknown) => { if (!isConditionFailure(e2)) throw e2; });
        return this.db.send(command);
      });
      const a = r.Attributes!;
      const reserved: Reserved = { reservedCpu: a.reservedCpu, reservedMemory: a.reservedMemory, taskCount: a.taskCount, groupTasks: a.groupTasks };
      // Returned only when this write took ports; otherwise the host's ports are as they were.
      return a.reservedPorts === undefined ? reserved : { ...reserved, reservedPorts: portList(a.reservedPorts) };
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      throw e;
    }
  }

  private conditionalUpdate(hostId: string, u: UpdateExpression, conditions: string[], returnValues?: 'UPDATED_NEW'): UpdateCommand {
    return new UpdateCommand({
      TableName: this.table,
      Key: { hostId },
      UpdateExpression: u.toString(),
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: u.names,
      ExpressionAttributeValues: u.values,
      ReturnValues: returnValues,
    });
  }

  /** Releases the task's reservation; releasing one that is gone is a no-op. */
  async release(
    hostId: string, taskId: string, amount: { cpu: number; memory: number; group?: string; ports?: readonly string[] }, now = Date.now(),
  ): Promise<boolean> {
    const u = new UpdateExpression();
    const t = u.name(taskId);
    u.remove(`reservations.${t}`)
      .set({ lastTaskAt: now })
      .add('reservedCpu', -amount.cpu)
      .add('reservedMemory', -amount.memory)
      .add('taskCount', -1)
      .add('version', 1);
    if (amount.ports?.length) u.deleteFromSet('reservedPorts', new Set(amount.ports));
    // The reservation must still be there, and be this size and group: a release never subtracts twice.
    const conditions = [`reservations.${t}.cpu = ${u.value(amount.cpu)}`, `reservations.${t}.memory = ${u.value(amount.memory)}`];
    const groupField = `reservations.${t}.${u.name('group')}`;
    if (amount.group === undefined) {
      conditions.push(`attribute_not_exists(${groupField})`);
    } else {
      const g = `groupTasks.${u.name(amount.group)}`;
      u.raw(`${g} = ${g} - ${u.value(1)}`);
      conditions.push(`${groupField} = ${u.value(amount.group)}`);
    }
    return conditionHeld(this.db.send(this.conditionalUpdate(hostId, u, conditions)));
  }

  /**
   * Records a host's heartbeat; returns false, changing nothing, when the host is not live. A
   * host written off (LOST) or TERMINATED stays so: a late heartbeat does not bring it back.
   */
  async heartbeat(hostId: string, now: number): Promise<boolean> {
    const u = new UpdateExpression().set({ lastHeartbeatAt: now });
    return this.updateIfLive(hostId, u);
  }

  /**
   * Records a key issued to a host's agent, so that writing the host off can revoke it. Only
   * while the host is live: a key issued as the host was written off is refused (false), and
   * whoever issued it revokes it; one recorded before is found by the write-off.
   */
  async setAddress(hostId: string, address: string): Promise<boolean> {
    return this.updateIfLive(hostId, new UpdateExpression().set({ address }));
  }

  async recordKey(hostId: string, accessKeyId: string): Promise<boolean> {
    const u = new UpdateExpression();
    const ids = u.name('accessKeyIds');
    u.raw(`${ids} = list_append(if_not_exists(${ids}, ${u.value([])}), ${u.value([accessKeyId])})`);
    return this.updateIfLive(hostId, u);
  }

  private async updateIfLive(hostId: string, u: UpdateExpression): Promise<boolean> {
    return conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId }, UpdateExpression: u.toString(),
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
      ConditionExpression: `${u.name('status')} IN (${u.value('ACTIVE')}, ${u.value('DRAINING')})`,
    })));
  }

  /**
   * Moves a host to `status` if it is in one of `from` (and, with `empty`, holds no task).
   * Returns whether it moved: a host that got a task meanwhile is not terminated. A move to
   * TERMINATED or LOST carries `endedAt`, in the same write, so the meter never sees a host
   * gone without the end of its bill.
   */
  async transition(
    hostId: string, status: HostStatus, from: HostStatus[], options: { empty?: boolean; heartbeatAt?: number; endedAt?: number } = {},
  ): Promise<boolean> {
    const u = new UpdateExpression().set({ status, endedAt: options.endedAt }).add('version', 1);
    const s = u.name('status');
    const conditions = [`${s} IN (${from.map((f) => u.value(f)).join(', ')})`];
    if (options.empty) conditions.push(`taskCount = ${u.value(0)}`);
    // A heartbeat that arrived after the check saves the host from being written off.
    if (options.heartbeatAt !== undefined) conditions.push(`lastHeartbeatAt = ${u.value(options.heartbeatAt)}`);
    const moved = await conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { hostId }, UpdateExpression: u.toString(),
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
      ConditionExpression: conditions.join(' AND '),
    })));
    if (moved && !isLiveHost(status)) await this.leave([hostId]);
    return moved;
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
