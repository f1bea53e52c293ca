import {
  CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import type { HostNotifier } from '../../context';

/** SQS's longest wait for one ReceiveMessage; a longer wait asks again. */
const MAX_RECEIVE_WAIT_SECONDS = 20;
/** SQS's shortest retention: a wake nobody was waiting for is gone within a minute. */
const RETENTION_SECONDS = 60;

const warn = (message: string, e: unknown) => console.error(JSON.stringify({ level: 'warn', message, error: String(e) }));
const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, Math.max(0, ms));
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * On AWS an agent's long poll runs in one Lambda and the change that should wake it in another,
 * so the wake goes through a small SQS queue per host: `notify` sends to it, a waiting poll
 * receives from it with SQS's long poll, which answers as soon as a message arrives. A waiting
 * poll costs one SQS request per 20 s and no DynamoDB read; the poll itself reads the host's
 * version once per wake (lifecycle/assignments.ts).
 *
 * A queue is made the first time a poll of its host waits. A wake that fails, or that no poll
 * was waiting for, is not lost work: the next poll reads the host's version first.
 */
export class SqsHostNotifier implements HostNotifier {
  constructor(
    private readonly o: { region: string; accountId: string; queuePrefix: string; sqs?: SQSClient },
    private readonly sqs = o.sqs ?? new SQSClient({}),
  ) {}

  /** SQS names: letters, digits, dashes and underscores, at most 80. */
  queueName(hostId: string): string {
    return `${this.o.queuePrefix}${hostId.replace(/[^\w-]/g, '_')}`.slice(0, 80);
  }

  private queueUrl(hostId: string): string {
    return `https://sqs.${this.o.region}.amazonaws.com/${this.o.accountId}/${this.queueName(hostId)}`;
  }

  /** The host's agent waits on this queue itself (agent/host-wake.ts), with the host role's ReceiveMessage and DeleteMessage. */
  wakeQueueUrl(hostId: string): string {
    return this.queueUrl(hostId);
  }

  async prepare(hostId: string): Promise<void> {
    // Same name, same attributes: CreateQueue answers with the existing queue.
    await this.sqs.send(new CreateQueueCommand({
      QueueName: this.queueName(hostId), Attributes: { MessageRetentionPeriod: String(RETENTION_SECONDS) },
    }));
  }

  async forget(hostId: string): Promise<void> {
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: this.queueUrl(hostId) })).catch((e: unknown) => {
      if ((e as Error).name !== 'QueueDoesNotExist') throw e;
    });
  }

  notify(hostId: string): void {
    this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl(hostId), MessageBody: 'changed' })).catch((e: unknown) => {
      // No queue yet: no poll of this host has waited, and its next one reads the version first.
      if ((e as Error).name !== 'QueueDoesNotExist') warn('host wake failed', e);
    });
  }

  async wait(hostId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const seconds = Math.min(MAX_RECEIVE_WAIT_SECONDS, Math.floor(timeoutMs / 1000));
    // Too short to be worth a request: the poll's window is all but over.
    if (seconds < 1) return sleep(timeoutMs, signal);
    // Aborted when its poll has answered: a receive left running into a later invocation of a
    // thawed Lambda would take, and delete, a wake meant for that invocation's poll.
    const receive = () => this.sqs.send(new ReceiveMessageCommand({
      QueueUrl: this.queueUrl(hostId), WaitTimeSeconds: seconds, MaxNumberOfMessages: 10,
    }), { abortSignal: signal });
    try {
      const r = await receive().catch(async (e: unknown) => {
        if ((e as Error).name !== 'QueueDoesNotExist') throw e;
        await this.prepare(hostId);
        return receive();
      });
      const messages = r.Messages ?? [];
      if (messages.length > 0) {
        await this.sqs.send(new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl(hostId),
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        })).catch((e: unknown) => warn('host wake delete failed', e));
      }
    } catch (e) {
      if (signal?.aborted) return;
      // Without the queue, the poll waits out its window and the next one reads the version.
      warn('host wake receive failed', e);
      await sleep(timeoutMs, signal);
    }
  }
}
