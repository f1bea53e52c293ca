import { createHash, randomUUID } from 'node:crypto';
import type { Operation } from '../../../shared/aws-protocol/operation';
import type { Partition } from '../../../shared/domain/arns';
import type { Json } from '../../../shared/domain/fields';
import {
  invalidAttributeName, invalidAttributeValue, invalidMessageContents, invalidParameterValue, missingParameter, queueAlreadyExists,
  queueDoesNotExist, receiptHandleIsInvalid,
} from './errors';
import type { MessageAttributeValue, MessageRecord, QueueRecord, SqsStore } from './store';

export const SQS_VERSION = '2012-11-05';
export const SQS_XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** A queue's settable attributes, with SQS's defaults and bounds. */
const QUEUE_ATTRIBUTES: Readonly<Record<string, { fallback: string; min: number; max: number }>> = {
  DelaySeconds: { fallback: '0', min: 0, max: 900 },
  MaximumMessageSize: { fallback: '262144', min: 1024, max: 262_144 },
  MessageRetentionPeriod: { fallback: '345600', min: 60, max: 1_209_600 },
  ReceiveMessageWaitTimeSeconds: { fallback: '0', min: 0, max: 20 },
  VisibilityTimeout: { fallback: '30', min: 0, max: 43_200 },
};
const COUNTED_ATTRIBUTES = ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed', 'CreatedTimestamp', 'LastModifiedTimestamp'];
const MESSAGE_SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'];
const QUEUE_NAME = /^[a-zA-Z0-9_-]{1,80}$/;
/** How often a long poll looks again; SQS answers as soon as a message comes, this within a tenth of a second. */
const POLL_MS = 100;

/** A flattened query list or map (`Name.1`, `Name.2`...) as the parser leaves it, in index order. */
function indexed(v: unknown): unknown[] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null) throw invalidParameterValue('Expected a list of indexed parameters.');
  return Object.entries(v).sort(([a], [b]) => Number(a) - Number(b)).map(([, x]) => x);
}

function nameValueMap(v: unknown): Record<string, unknown> {
  return Object.fromEntries(indexed(v).map((e) => {
    const { Name, Value } = (e ?? {}) as { Name?: unknown; Value?: unknown };
    if (typeof Name !== 'string') throw invalidParameterValue('An attribute has no Name.');
    return [Name, Value];
  }));
}

function int(body: Json, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidParameterValue(`Value ${String(v)} for parameter ${key} is invalid. Reason: Must be between ${min} and ${max}.`);
  return n;
}

const required = (body: Json, key: string): string => (typeof body[key] === 'string' && body[key] !== '' ? body[key] as string : (() => { throw missingParameter(key); })());

/**
 * MD5OfMessageAttributes as SQS computes it: for each attribute by name, the name, the data
 * type, a transport byte (1 string, 2 binary) and the value, each length-prefixed (4 bytes, big endian).
 */
export function md5OfMessageAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string {
  const hash = createHash('md5');
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name];
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(a.DataType, 'utf8'));
    if (a.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      field(Buffer.from(a.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      field(Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

export const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** Message attributes as SendMessage takes them: at most 10, each String, Number or Binary (a custom `.label` allowed). */
export function readMessageAttributes(raw: Record<string, unknown>): Record<string, MessageAttributeValue> | undefined {
  const names = Object.keys(raw);
  if (names.length === 0) return undefined;
  if (names.length > 10) throw invalidParameterValue('Number of message attributes [' + names.length + '] exceeds the allowed maximum [10].');
  return Object.fromEntries(names.map((name) => {
    const v = (raw[name] ?? {}) as Record<string, unknown>;
    if (!/^[a-zA-Z0-9_.-]{1,256}$/.test(name) || /^(aws\.|amazon\.)/i.test(name) || name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
      throw invalidParameterValue(`Message attribute name '${name}' is invalid.`);
    }
    const type = v.DataType;
    if (typeof type !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(type)) throw invalidParameterValue(`The message attribute '${name}' has an invalid message attribute type.`);
    const binary = type.startsWith('Binary');
    const value = binary ? v.BinaryValue : v.StringValue;
    if (typeof value !== 'string' || value === '') throw invalidParameterValue(`The message attribute '${name}' must contain a non-empty message attribute value.`);
    return [name, binary ? { DataType: type, BinaryValue: value } : { DataType: type, StringValue: value }];
  }));
}

/** The wanted message attributes: `All` or `.*`, a `prefix.*`, or exact names. */
function pickAttributes(all: Record<string, MessageAttributeValue> | undefined, wanted: string[]): Record<string, MessageAttributeValue> | undefined {
  if (!all || wanted.length === 0) return undefined;
  const picked = Object.entries(all).filter(([name]) => wanted.some((w) => w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1)))));
  return picked.length === 0 ? undefined : Object.fromEntries(picked);
}

export interface SqsSlice {
  store: SqsStore;
  partition: Partition;
  now: () => number;
  /** The local endpoint's URL, which queue URLs start with (known once it listens). */
  endpoint: () => string;
  /** Aborted as the local mode stops: a long poll answers with what it has instead of waiting on. */
  stopping?: AbortSignal;
}

export const queueArnOf = (p: Partition, name: string) => `arn:aws:sqs:${p.region}:${p.accountId}:${name}`;
export const queueUrlOf = (s: SqsSlice, name: string) => `${s.endpoint()}/${s.partition.accountId}/${name}`;

/** The queue a QueueUrl names (its last path segment, under this account), which must exist. */
async function queueOf(s: SqsSlice, body: Json): Promise<QueueRecord> {
  const url = required(body, 'QueueUrl');
  const [account, name] = url.replace(/^[a-z]+:\/\/[^/]+/i, '').split('/').filter(Boolean).slice(-2);
  const q = account === s.partition.accountId && name ? await s.store.getQueue(name) : undefined;
  if (!q) throw queueDoesNotExist();
  return q;
}

/** Adds one message, as SendMessage does: what SendMessage answers. */
export async function enqueue(s: SqsSlice, q: QueueRecord, body: string, attributes: Record<string, MessageAttributeValue> | undefined, delaySeconds?: number) {
  const max = Number(q.attributes.MaximumMessageSize ?? QUEUE_ATTRIBUTES.MaximumMessageSize.fallback);
  if (Buffer.byteLength(body, 'utf8') > max) throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
  // SQS takes XML's characters only: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
  if (/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) throw invalidMessageContents('Invalid characters found.');
  const now = s.now();
  const messageId = randomUUID();
  const m: MessageRecord = {
    queueName: q.queueName, entry: `m#${String(now).padStart(15, '0')}#${messageId}`, messageId, body, md5OfBody: md5(body),
    ...(attributes ? { messageAttributes: attributes, md5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
    sentAt: now, visibleAt: now + 1000 * (delaySeconds ?? Number(q.attributes.DelaySeconds ?? 0)), receiveCount: 0,
  };
  await s.store.putMessage(m);
  return { MD5OfMessageBody: m.md5OfBody, MD5OfMessageAttributes: m.md5OfMessageAttributes, MessageId: messageId };
}

const receiptOf = (m: MessageRecord, receipt: string) => Buffer.from(JSON.stringify([m.entry, receipt])).toString('base64');

function readReceipt(handle: string): { entry: string; receipt: string } {
  try {
    const [entry, receipt] = JSON.parse(Buffer.from(handle, 'base64').toString('utf8')) as unknown[];
    if (typeof entry === 'string' && typeof receipt === 'string') return { entry, receipt };
  } catch {
    // reported below
  }
  throw receiptHandleIsInvalid(handle);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The local SQS slice: standard queues (no FIFO), their messages in DynamoDB with visibility
 * timeouts, delays and long polls up to 20 s. Members arrive as the query protocol sends them
 * (strings; lists and maps flattened and indexed); answers follow the service model.
 */
export function sqsOperations(s: SqsSlice): Record<string, Operation> {
  return {
    CreateQueue: async (_b, body) => {
      const name = required(body, 'QueueName');
      if (name.endsWith('.fifo')) throw invalidParameterValue('FIFO queues are not supported by the local SQS slice.');
      if (!QUEUE_NAME.test(name)) throw invalidParameterValue('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(nameValueMap(body.Attribute))) {
        const spec = QUEUE_ATTRIBUTES[k];
        if (!spec) throw invalidAttributeName(k);
        const n = Number(v);
        if (typeof v !== 'string' || !Number.isSafeInteger(n) || n < spec.min || n > spec.max) throw invalidAttributeValue(`Invalid value for the parameter ${k}.`);
        attributes[k] = String(n);
      }
      const now = s.now();
      if (!(await s.store.createQueue({ queueName: name, entry: '#', createdAt: now, modifiedAt: now, attributes }))) {
        // The same name with the same attributes is the same queue, as on AWS.
        const existing = (await s.store.getQueue(name))!;
        const same = Object.keys(QUEUE_ATTRIBUTES).every((k) => (existing.attributes[k] ?? QUEUE_ATTRIBUTES[k].fallback) === (attributes[k] ?? QUEUE_ATTRIBUTES[k].fallback));
        if (!same) throw queueAlreadyExists(name);
      }
      return { QueueUrl: queueUrlOf(s, name) };
    },

    GetQueueUrl: async (_b, body) => {
      const name = required(body, 'QueueName');
      if (body.QueueOwnerAWSAccountId !== undefined && body.QueueOwnerAWSAccountId !== s.partition.accountId) throw queueDoesNotExist();
      if (!(await s.store.getQueue(name))) throw queueDoesNotExist();
      return { QueueUrl: queueUrlOf(s, name) };
    },

    ListQueues: async (_b, body) => {
      const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
      const max = int(body, 'MaxResults', 1, 1000);
      const after = typeof body.NextToken === 'string' ? Buffer.from(body.NextToken, 'base64url').toString('utf8') : '';
      const names = (await s.store.listQueues()).map((q) => q.queueName).filter((n) => n.startsWith(prefix) && n > after);
      const page = names.slice(0, max ?? 1000);
      const more = max !== undefined && names.length > page.length;
      return {
        QueueUrls: page.length > 0 ? page.map((n) => queueUrlOf(s, n)) : undefined,
        NextToken: more ? Buffer.from(page[page.length - 1]).toString('base64url') : undefined,
      };
    },

    GetQueueAttributes: async (_b, body) => {
      const q = await queueOf(s, body);
      const wanted = indexed(body.AttributeName) as string[];
      const known = [...Object.keys(QUEUE_ATTRIBUTES), ...COUNTED_ATTRIBUTES];
      for (const w of wanted) if (w !== 'All' && !known.includes(w)) throw invalidAttributeName(w);
      const names = wanted.includes('All') ? known : wanted;
      if (names.length === 0) return {};
      const now = s.now();
      const messages = await s.store.messages(q.queueName);
      const value = (k: string): string => {
        switch (k) {
          case 'QueueArn': return queueArnOf(s.partition, q.queueName);
          case 'ApproximateNumberOfMessages': return String(messages.filter((m) => m.visibleAt <= now).length);
          case 'ApproximateNumberOfMessagesNotVisible': return String(messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length);
          case 'ApproximateNumberOfMessagesDelayed': return String(messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length);
          case 'CreatedTimestamp': return String(Math.floor(q.createdAt / 1000));
          case 'LastModifiedTimestamp': return String(Math.floor(q.modifiedAt / 1000));
          default: return q.attributes[k] ?? QUEUE_ATTRIBUTES[k].fallback;
        }
      };
      return { Attributes: Object.fromEntries(names.map((k) => [k, value(k)])) };
    },

    SendMessage: async (_b, body) => {
      const q = await queueOf(s, body);
      if (typeof body.MessageBody !== 'string' || body.MessageBody === '') throw missingParameter('MessageBody');
      return enqueue(s, q, body.MessageBody, readMessageAttributes(nameValueMap(body.MessageAttribute)), int(body, 'DelaySeconds', 0, 900));
    },

    ReceiveMessage: async (_b, body) => {
      const q = await queueOf(s, body);
      const max = int(body, 'MaxNumberOfMessages', 1, 10) ?? 1;
      const visibility = int(body, 'VisibilityTimeout', 0, 43_200) ?? Number(q.attributes.VisibilityTimeout ?? QUEUE_ATTRIBUTES.VisibilityTimeout.fallback);
      const waitSeconds = int(body, 'WaitTimeSeconds', 0, 20) ?? Number(q.attributes.ReceiveMessageWaitTimeSeconds ?? 0);
      const systemNames = indexed(body.AttributeName) as string[];
      const attributeNames = indexed(body.MessageAttributeName) as string[];
      const until = Date.now() + waitSeconds * 1000;
      for (;;) {
        const now = s.now();
        const got: { m: MessageRecord; receipt: string }[] = [];
        for (const m of (await s.store.messages(q.queueName)).filter((x) => x.visibleAt <= now)) {
          if (got.length >= max) break;
          const receipt = randomUUID();
          if (await s.store.receive(m, now, now + visibility * 1000, receipt)) {
            got.push({ m: { ...m, receiveCount: m.receiveCount + 1, firstReceivedAt: m.firstReceivedAt ?? now }, receipt });
          }
        }
        if (got.length > 0 || Date.now() >= until || s.stopping?.aborted) {
          return {
            Messages: got.length === 0 ? undefined : got.map(({ m, receipt }) => {
              const system: Record<string, string> = {
                SenderId: s.partition.accountId, SentTimestamp: String(m.sentAt), ApproximateReceiveCount: String(m.receiveCount),
                ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
              };
              const wantedSystem = systemNames.includes('All') ? MESSAGE_SYSTEM_ATTRIBUTES : systemNames.filter((n) => MESSAGE_SYSTEM_ATTRIBUTES.includes(n));
              const attributes = pickAttributes(m.messageAttributes, attributeNames);
              return {
                MessageId: m.messageId,
                ReceiptHandle: receiptOf(m, receipt),
                MD5OfBody: m.md5OfBody,
                Body: m.body,
                Attributes: wantedSystem.length === 0 ? undefined : Object.fromEntries(wantedSystem.map((n) => [n, system[n]])),
                MD5OfMessageAttributes: attributes && md5OfMessageAttributes(attributes),
                MessageAttributes: attributes,
              };
            }),
          };
        }
        await sleep(POLL_MS);
      }
    },

    DeleteMessage: async (_b, body) => {
      const q = await queueOf(s, body);
      const { entry, receipt } = readReceipt(required(body, 'ReceiptHandle'));
      // An outdated handle (the message was received again since) deletes nothing, and is no error, as on AWS.
      await s.store.deleteMessage(q.queueName, entry, receipt);
      return {};
    },

    PurgeQueue: async (_b, body) => {
      await s.store.purge((await queueOf(s, body)).queueName);
      return {};
    },

    DeleteQueue: async (_b, body) => {
      await s.store.deleteQueue((await queueOf(s, body)).queueName);
      return {};
    },
  };
}
