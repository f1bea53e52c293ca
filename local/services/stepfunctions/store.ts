import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, updateIf } from '../../../shared/store/client';
import { scanAll } from '../../../shared/store/scan';
import { UpdateExpression } from '../../../shared/store/update-expression';
import type { StatesTableNames } from './tables';

export interface StateMachineRecord {
  scope: typeof MACHINES_SCOPE;
  name: string;
  stateMachineArn: string;
  definition: string;
  roleArn: string;
  type: 'STANDARD';
  /** Epoch ms. */
  creationDate: number;
  updateDate?: number;
}

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface ExecutionRecord {
  stateMachineName: string;
  name: string;
  executionArn: string;
  stateMachineArn: string;
  /** The definition it runs: an update of its machine applies to later executions only. */
  definition: string;
  status: ExecutionStatus;
  input: string;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Every task it ran (ARNs), so StopExecution and a restart can stop those still running. */
  taskArns?: Set<string>;
}

/** One history event as GetExecutionHistory returns it, with the execution it belongs to. */
export interface HistoryItem {
  executionArn: string;
  id: number;
  previousEventId: number;
  type: string;
  timestamp: number;
  [details: string]: unknown;
}

const MACHINES_SCOPE = 'machines';
const BATCH_WRITE_ITEMS = 25;

/** The local Step Functions slice's repository, in dynalite. */
export class StatesStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly tables: StatesTableNames) {}

  /** Creates the machine unless one of that name exists; the existing one otherwise. */
  async createMachine(m: Omit<StateMachineRecord, 'scope'>): Promise<{ created: boolean; machine: StateMachineRecord }> {
    const machine: StateMachineRecord = { scope: MACHINES_SCOPE, ...m };
    try {
      // Two creators racing for one name: one creates it, the other is compared with it.
      await this.db.send(new PutCommand({ TableName: this.tables.machines, Item: machine, ConditionExpression: 'attribute_not_exists(#n)', ExpressionAttributeNames: { '#n': 'name' } }));
      return { created: true, machine };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return { created: false, machine: (await this.getMachine(m.name))! };
    }
  }

  async getMachine(name: string): Promise<StateMachineRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.tables.machines, Key: { scope: MACHINES_SCOPE, name }, ConsistentRead: true }));
    return r.Item as StateMachineRecord | undefined;
  }

  async listMachines(): Promise<StateMachineRecord[]> {
    return scanAll<StateMachineRecord>(this.db, new QueryCommand({
      TableName: this.tables.machines, KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'scope' }, ExpressionAttributeValues: { ':s': MACHINES_SCOPE }, ConsistentRead: true,
    }));
  }

  async updateMachine(name: string, change: Partial<Pick<StateMachineRecord, 'definition' | 'roleArn'>>, now: number): Promise<StateMachineRecord | undefined> {
    const u = new UpdateExpression().set({ ...change, updateDate: now });
    return updateIf<StateMachineRecord>(this.db, {
      TableName: this.tables.machines, Key: { scope: MACHINES_SCOPE, name },
      UpdateExpression: u.toString(), ConditionExpression: 'attribute_exists(scope)',
      ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
    });
  }

  async deleteMachine(name: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tables.machines, Key: { scope: MACHINES_SCOPE, name } }));
  }

  /** Creates the execution unless one of that name exists for its machine; the existing one otherwise. */
  async createExecution(e: ExecutionRecord): Promise<{ created: boolean; execution: ExecutionRecord }> {
    try {
      await this.db.send(new PutCommand({ TableName: this.tables.executions, Item: e, ConditionExpression: 'attribute_not_exists(#n)', ExpressionAttributeNames: { '#n': 'name' } }));
      return { created: true, execution: e };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return { created: false, execution: (await this.getExecution(e.stateMachineName, e.name))! };
    }
  }

  async getExecution(stateMachineName: string, name: string): Promise<ExecutionRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.tables.executions, Key: { stateMachineName, name }, ConsistentRead: true }));
    return r.Item as ExecutionRecord | undefined;
  }

  async listExecutions(stateMachineName: string): Promise<ExecutionRecord[]> {
    return scanAll<ExecutionRecord>(this.db, new QueryCommand({
      TableName: this.tables.executions, KeyConditionExpression: 'stateMachineName = :m',
      ExpressionAttributeValues: { ':m': stateMachineName }, ConsistentRead: true,
    }));
  }

  /** Every execution still RUNNING, of every machine: what a restart finds left over. */
  async listRunning(): Promise<ExecutionRecord[]> {
    const machines = await this.listMachines();
    const all = await Promise.all(machines.map((m) => this.listExecutions(m.name)));
    return all.flat().filter((e) => e.status === 'RUNNING');
  }

  /** Ends a RUNNING execution; undefined when it had ended already (the first ending wins). */
  async closeExecution(
    e: Pick<ExecutionRecord, 'stateMachineName' | 'name'>,
    end: Pick<ExecutionRecord, 'status' | 'stopDate' | 'output' | 'error' | 'cause'>,
  ): Promise<ExecutionRecord | undefined> {
    const u = new UpdateExpression().set(end);
    return updateIf<ExecutionRecord>(this.db, {
      TableName: this.tables.executions, Key: { stateMachineName: e.stateMachineName, name: e.name },
      UpdateExpression: u.toString(), ConditionExpression: `#st = ${u.value('RUNNING')}`,
      ExpressionAttributeNames: { ...u.names, '#st': 'status' }, ExpressionAttributeValues: u.values,
    });
  }

  async addTask(e: Pick<ExecutionRecord, 'stateMachineName' | 'name'>, taskArn: string): Promise<void> {
    const u = new UpdateExpression().addToSet('taskArns', new Set([taskArn]));
    await this.db.send(new UpdateCommand({
      TableName: this.tables.executions, Key: { stateMachineName: e.stateMachineName, name: e.name },
      UpdateExpression: u.toString(), ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
    }));
  }

  async appendHistory(events: readonly HistoryItem[]): Promise<void> {
    for (let i = 0; i < events.length; i += BATCH_WRITE_ITEMS) {
      let pending: Record<string, any[]> | undefined = {
        [this.tables.history]: events.slice(i, i + BATCH_WRITE_ITEMS).map((Item) => ({ PutRequest: { Item } })),
      };
      while (pending && Object.keys(pending).length > 0) {
        const r = await this.db.send(new BatchWriteCommand({ RequestItems: pending }));
        pending = r.UnprocessedItems as Record<string, any[]> | undefined;
      }
    }
  }

  async history(executionArn: string): Promise<HistoryItem[]> {
    return scanAll<HistoryItem>(this.db, new QueryCommand({
      TableName: this.tables.history, KeyConditionExpression: 'executionArn = :e',
      ExpressionAttributeValues: { ':e': executionArn }, ConsistentRead: true,
    }));
  }
}
