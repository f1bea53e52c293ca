import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Tag } from '../domain/fields';
import { type ContainerState, type StopOutcome, type Task, type TaskStatus, type TaskTimestamp, statusRank } from '../domain/task';
import type { TaskNetwork } from '../domain/task-network';
import { conditionHeld, updateIf } from './client';
import { dayOf, daysBetween } from './days';
import { STOPPED_TASK_RETENTION_SECONDS, ttlAt } from './tables';
import { batchGetAll, scanAll } from './scan';
import { UpdateExpression } from './update-expression';

/** The stored item: the task, its status rank for forward-only conditions, and workflow tokens. */
export interface TaskRecord extends Task {
  statusRank: number;
  /** The highest agent report sequence applied at the current status. */
  reportSeq?: number;
  /** Moves with every write of `containers`; absent until the first (see StatusChangeExpectation). */
  containersVersion?: number;
  launchToken?: string;
  stopToken?: string;
  /** A user's state machine waits on this token until the task stops (shared/batch/task-callbacks.ts). */
  callbackToken?: string;
  /** The partition of the byCreatedDay index (store/days.ts). */
  createdDay?: string;
  /** Present while callbackToken is: the key of the sparse `awaited` index. */
  awaiting?: typeof AWAITING;
  /** Epoch seconds: DynamoDB's TTL deletes the STOPPED task after this (tables.ts). */
  ttl?: number;
  /**
   * Every host a placement reserved room on for the task, noted before the reservation: where
   * its release looks (with hostId), so a crash between a reservation and the binding leaves
   * room the task's stop finds without a scan of the hosts. A string set (read as a Set).
   */
  reservedOn?: Iterable<string>;
}

const AWAITING = 'callback';

/** A STOPPED task's TTL (on AWS DynamoDB deletes it after ECS's retention); none before. */
const expiryOf = (rank: number, stoppedAt: number | undefined): { ttl?: number } =>
  rank === STOPPED_RANK && stoppedAt !== undefined ? { ttl: ttlAt(stoppedAt) + STOPPED_TASK_RETENTION_SECONDS } : {};

const STOPPED_RANK = statusRank('STOPPED');
const RUNNING_RANK = statusRank('RUNNING');
const PENDING_RANK = statusRank('PENDING');

export interface StatusChange {
  lastStatus: TaskStatus;
  containers?: ContainerState[];
  timestamps?: Partial<Record<TaskTimestamp, number>>;
  stop?: StopOutcome;
  /** Orders reports at one status; a report with a lower or equal seq is stale. */
  seq?: number;
  /** The task's own address, once its agent knows it. */
  network?: TaskNetwork;
}

/**
 * What a report applied without a read first expects of the task: that it is still on this host,
 * and that its containers are still the ones the report was merged with (their version: 0 for a
 * task whose containers were never written since its creation).
 */
export interface StatusChangeExpectation {
  hostId: string;
  containersVersion: number;
}

export type TaskKey = { cluster: string; taskId: string };

/** Callers may pass a whole task; DynamoDB wants exactly the key. */
const keyOf = (k: TaskKey): TaskKey => ({ cluster: k.cluster, taskId: k.taskId });

export class TaskStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table: string) {}

  /** Creates the task unless it exists: re-running a RunTask after a crash writes nothing twice. */
  async create(task: Task): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({
      TableName: this.table,
      Item: { ...task, statusRank: statusRank(task.lastStatus), createdDay: dayOf(task.createdAt) } satisfies TaskRecord,
      ConditionExpression: 'attribute_not_exists(taskId)',
    })));
  }

  async get(key: TaskKey): Promise<TaskRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true }));
    return r.Item as TaskRecord | undefined;
  }

  /**
   * Tasks by key, read consistently in BatchGetItem calls of up to 100 keys (DescribeTasks asks
   * for up to 100 at once) instead of one GetItem each. Missing tasks are left out.
   */
  async getMany(keys: readonly TaskKey[]): Promise<TaskRecord[]> {
    // BatchGetItem refuses a request that names one key twice.
    const unique = [...new Map(keys.map((k) => [`${k.cluster}/${k.taskId}`, keyOf(k)])).values()];
    return batchGetAll<TaskRecord>(this.db, this.table, unique);
  }

  async list(cluster: string): Promise<TaskRecord[]> {
    return scanAll<TaskRecord>(this.db, new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: '#c = :c',
      ExpressionAttributeNames: { '#c': 'cluster' },
      ExpressionAttributeValues: { ':c': cluster },
      ConsistentRead: true,
    }));
  }

  /**
   * The definitions (family and revision) of tasks created from `since` to `until`, in every
   * cluster: what warm hosts pre-pull. One Query of the byCreatedDay index per day spanned, which
   * reads only those tasks' index entries (a scan read every task ever kept).
   */
  async definitionsRunSince(since: number, until: number): Promise<{ family: string; revision: number }[]> {
    const days = await Promise.all(daysBetween(since, until).map((day) => scanAll<{ family: string; revision: number }>(this.db, new QueryCommand({
      TableName: this.table,
      IndexName: 'byCreatedDay',
      KeyConditionExpression: '#d = :d AND #t >= :since',
      ProjectionExpression: '#f, #r',
      ExpressionAttributeNames: { '#d': 'createdDay', '#t': 'createdAt', '#f': 'family', '#r': 'revision' },
      ExpressionAttributeValues: { ':d': day, ':since': since },
    }))));
    return days.flat();
  }

  /** The tasks of one group in a cluster (a service's: `service:NAME`), read consistently. */
  async listByGroup(cluster: string, group: string): Promise<TaskRecord[]> {
    return scanAll<TaskRecord>(this.db, new QueryCommand({
      TableName: this.table,
      IndexName: 'byGroup',
      KeyConditionExpression: '#c = :c AND #g = :g',
      ExpressionAttributeNames: { '#c': 'cluster', '#g': 'group' },
      ExpressionAttributeValues: { ':c': cluster, ':g': group },
      ConsistentRead: true,
    }));
  }

  /** Applies `update` (plus a version bump) when `condition` holds; undefined when it did not. */
  private async apply(key: TaskKey, update: UpdateExpression, condition: string): Promise<TaskRecord | undefined> {
    update.add('version', 1);
    return updateIf<TaskRecord>(this.db, {
      TableName: this.table,
      Key: keyOf(key),
      UpdateExpression: update.toString(),
      ConditionExpression: `attribute_exists(taskId) AND (${condition})`,
      ExpressionAttributeNames: update.names,
      ExpressionAttributeValues: update.values,
    });
  }

  /**
   * Moves the task forward. A report for an earlier status, or a repeat at the same status with
   * no newer seq, is stale and changes nothing: a late agent report never moves a task back.
   */
  async advance(key: TaskKey, change: StatusChange, expect?: StatusChangeExpectation): Promise<TaskRecord | undefined> {
    const rank = statusRank(change.lastStatus);
    const u = new UpdateExpression()
      .set({ lastStatus: change.lastStatus, statusRank: rank, containers: change.containers, reportSeq: change.seq ?? 0, network: change.network })
      // Timestamps and the stop's cause are set once: the first stop (often StopTask's) wins.
      .setOnce({ ...change.timestamps, ...change.stop, ...expiryOf(rank, change.timestamps?.stoppedAt) });
    if (rank >= statusRank('DEACTIVATING')) u.set({ desiredStatus: 'STOPPED' });
    if (change.containers) {
      const v = u.name('containersVersion');
      u.raw(`${v} = if_not_exists(${v}, ${u.value(0)}) + ${u.value(1)}`);
    }
    const r = u.value(rank);
    const stopped = u.value(STOPPED_RANK);
    const seq = u.value(change.seq ?? 0);
    const forward = `statusRank < ${r} OR (statusRank = ${r} AND statusRank < ${stopped} AND ` +
      `(attribute_not_exists(reportSeq) OR reportSeq < ${seq}))`;
    if (!expect) return this.apply(key, u, forward);
    // Merged without a read: only onto the containers it was merged with, and only on its host.
    const v = u.name('containersVersion');
    const version = expect.containersVersion === 0
      ? `(attribute_not_exists(${v}) OR ${v} = ${u.value(0)})`
      : `${v} = ${u.value(expect.containersVersion)}`;
    return this.apply(key, u, `(${forward}) AND ${u.name('hostId')} = ${u.value(expect.hostId)} AND ${version}`);
  }

  /**
   * StopTask. A task with no host yet goes straight to STOPPED; one on a host keeps its
   * lastStatus for the agent to drive, and stoppingAt is set now only if it is RUNNING. The
   * first stop's code and reason stick. `clock` is read as each write is made, not once for
   * all: the RUNNING that refused the second write may have landed after the call began.
   */
  async requestStop(key: TaskKey, stop: StopOutcome, clock: () => number): Promise<TaskRecord | undefined> {
    const now = clock();
    const straight = new UpdateExpression().set({
      desiredStatus: 'STOPPED', lastStatus: 'STOPPED', statusRank: STOPPED_RANK,
      ...stop, stoppingAt: now, stoppedAt: now, executionStoppedAt: now, ...expiryOf(STOPPED_RANK, now),
    });
    // Only while no placement has bound it to a host: then no container can exist.
    const unplaced = await this.apply(key, straight,
      `attribute_not_exists(hostId) AND statusRank < ${straight.value(STOPPED_RANK)}`);
    if (unplaced) return unplaced;
    // A task still launching has not started stopping, and its containers may yet start before
    // its agent hears of the stop: the agent sets stoppingAt when it begins to stop, so that
    // stoppingAt never comes before pullStartedAt or startedAt. Status only moves forward, so
    // a task that reaches RUNNING between these two writes is caught by the second.
    const launching = new UpdateExpression().set({ desiredStatus: 'STOPPED', ...stop });
    const stopping = await this.apply(key, launching,
      `desiredStatus = ${launching.value('RUNNING')} AND statusRank < ${launching.value(RUNNING_RANK)}`);
    if (stopping) return stopping;
    // Read after that refusal, so never before the startedAt of the RUNNING that caused it.
    const running = new UpdateExpression().set({ desiredStatus: 'STOPPED', ...stop, stoppingAt: clock() });
    return this.apply(key, running,
      `desiredStatus = ${running.value('RUNNING')} AND statusRank < ${running.value(STOPPED_RANK)}`);
  }

  /** Records the placement; refused once the task is bound elsewhere or no longer wanted. */
  /** Notes a host the task is about to get room on (see `reservedOn`); before the reservation, never after. */
  async noteReservation(key: TaskKey, hostId: string): Promise<void> {
    const u = new UpdateExpression().addToSet('reservedOn', new Set([hostId]));
    await conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: keyOf(key), UpdateExpression: u.toString(),
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
      // Never creates an item for a task that is gone.
      ConditionExpression: 'attribute_exists(taskId)',
    })));
  }

  async bindHost(key: TaskKey, hostId: string, now?: number): Promise<TaskRecord | undefined> {
    // The binding is the placement on a host, which is what PENDING means in ECS; written with it,
    // the launch's Start step need not write the task while its agent reads it to begin.
    const u = new UpdateExpression().set({ hostId, placedAt: now, lastStatus: 'PENDING', statusRank: PENDING_RANK });
    // Unbound and still wanted: nothing but PROVISIONING, so the status only moves forward.
    return this.apply(key, u, `attribute_not_exists(hostId) AND desiredStatus = ${u.value('RUNNING')} AND statusRank < ${u.value(PENDING_RANK)}`);
  }

  /**
   * Stores a workflow's task token while the task is still short of `untilStatus`. Undefined
   * means the task already got there, so the caller completes the wait itself.
   */
  async setToken(key: TaskKey, field: 'launchToken' | 'stopToken' | 'callbackToken', token: string, untilStatus: TaskStatus): Promise<TaskRecord | undefined> {
    const u = new UpdateExpression().set({ [field]: token, ...(field === 'callbackToken' ? { awaiting: AWAITING } : {}) });
    return this.apply(key, u, `statusRank < ${u.value(statusRank(untilStatus))}`);
  }

  /**
   * Removes the STOPPED task's callback token, once: of two processes that see the task stop
   * (an agent's report and a stop workflow's sweep), only the one whose removal lands answers it.
   */
  async takeCallbackToken(key: TaskKey, token: string): Promise<boolean> {
    const u = new UpdateExpression().remove('callbackToken').remove('awaiting');
    return (await this.apply(key, u, `callbackToken = ${u.value(token)} AND statusRank = ${u.value(STOPPED_RANK)}`)) !== undefined;
  }

  /**
   * Tasks a state machine still waits on (not yet STOPPED, holding a callback token): to
   * heartbeat them. A Query of the sparse `awaited` index, which holds only those tasks.
   */
  async listAwaited(): Promise<(TaskKey & { callbackToken: string })[]> {
    return scanAll<TaskKey & { callbackToken: string }>(this.db, new QueryCommand({
      TableName: this.table,
      IndexName: 'awaited',
      KeyConditionExpression: 'awaiting = :a',
      FilterExpression: 'statusRank < :stopped',
      ExpressionAttributeValues: { ':a': AWAITING, ':stopped': STOPPED_RANK },
    }));
  }

  async setTags(key: TaskKey, tags: Tag[]): Promise<boolean> {
    return (await this.apply(key, new UpdateExpression().set({ tags }), 'attribute_exists(cluster)')) !== undefined;
  }
}
