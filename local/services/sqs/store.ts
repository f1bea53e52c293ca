import { BatchWriteCommand, DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from '../../../shared/store/client';
import { scanAll } from '../../../shared/store/scan';
import type { TableSpec } from '../../dynalite';

/** The local SQS slice's one table: each queue's entry (`#`) and its messages (`m#SENT#ID`, in send order), by queue name. */
export const SQS_TABLE: TableSpec = { name: 'berth-local-sqs', hashKey: 'queueName', rangeKey: 'entry' };

const QUEUE_ITEM = '#';

export interface QueueRecord {
  queueName: string;
  entry: typeof QUEUE_ITEM;
  createdAt: number;
  modifiedAt: number;
  /** The attributes CreateQueue set, as SQS keeps them (strings). */
  attributes: Record<string, string>;
}

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as the protocols carry it. */
  BinaryValue?: string;
}

export interface MessageRecord {
  queueName: string;
  entry: string;
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentAt: number;
  /** Hidden until then: its delay, or a receive's visibility timeout. */
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The last receive's handle; DeleteMessage needs it. */
  receipt?: string;
}

export class SqsStore {
  constructor(private readonly db: DynamoDBDocumentClient, private readonly table = SQS_TABLE.name) {}

  /** False when a queue of that name exists. */
  async createQueue(q: QueueRecord): Promise<boolean> {
    return conditionHeld(this.db.send(new PutCommand({ TableName: this.table, Item: q, ConditionExpression: 'attribute_not_exists(queueName)' })));
  }

  async getQueue(name: string): Promise<QueueRecord | undefined> {
    const r = await this.db.send(new GetCommand({ TableName: this.table, Key: { queueName: name, entry: QUEUE_ITEM }, ConsistentRead: true }));
    return r.Item as QueueRecord | undefined;
  }

  async listQueues(): Promise<QueueRecord[]> {
    const all = await scanAll<QueueRecord>(this.db, new ScanCommand({
      TableName: this.table, FilterExpression: '#e = :q', ExpressionAttributeNames: { '#e': 'entry' }, ExpressionAttributeValues: { ':q': QUEUE_ITEM }, ConsistentRead: true,
    }));
    return all.sort((a, b) => a.queueName.localeCompare(b.queueName));
  }

  /** Removes the queue and every message in it. */
  async deleteQueue(name: string): Promise<void> {
    await this.purge(name);
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { queueName: name, entry: QUEUE_ITEM } }));
  }

  async putMessage(m: MessageRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: m }));
  }

  /** The queue's messages, oldest first. */
  async messages(name: string): Promise<MessageRecord[]> {
    return scanAll<MessageRecord>(this.db, new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'queueName = :q AND begins_with(#e, :m)', ExpressionAttributeNames: { '#e': 'entry' },
      ExpressionAttributeValues: { ':q': name, ':m': 'm#' }, ConsistentRead: true,
    }));
  }

  /**
   * Hands the message to one receiver: hidden until `visibleAt`, with a new receipt. Conditional
   * on the receive count read, so of two receivers that saw it visible only one gets it.
   */
  async receive(m: MessageRecord, now: number, visibleAt: number, receipt: string): Promise<boolean> {
    return conditionHeld(this.db.send(new UpdateCommand({
      TableName: this.table, Key: { queueName: m.queueName, entry: m.entry },
      UpdateExpression: 'SET visibleAt = :v, receipt = :r, receiveCount = :n, firstReceivedAt = if_not_exists(firstReceivedAt, :now)',
      ConditionExpression: 'receiveCount = :seen',
      ExpressionAttributeValues: { ':v': visibleAt, ':r': receipt, ':n': m.receiveCount + 1, ':now': now, ':seen': m.receiveCount },
    })));
  }

  /** Deletes the message if `receipt` is its latest; false otherwise (gone, or received again since). */
  async deleteMessage(name: string, entry: string, receipt: string): Promise<boolean> {
    return conditionHeld(this.db.send(new DeleteCommand({
      TableName: this.table, Key: { queueName: name, entry }, ConditionExpression: 'receipt = :r', ExpressionAttributeValues: { ':r': receipt },
    })));
  }

  async purge(name: string): Promise<void> {
    const items = await this.messages(name);
    for (let i = 0; i < items.length; i += 25) {
      await this.db.send(new BatchWriteCommand({
        RequestItems: { [SQS_TABLE.name]: items.slice(i, i + 25).map((m) => ({ DeleteRequest: { Key: { queueName: m.queueName, entry: m.entry } } })) },
      }));
    }
  }
}
