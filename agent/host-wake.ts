import type { AwsClientConfig } from './aws';
import { LazyClient } from './lazy-client';

/**
 * The host's wake queue on SQS: the control plane sends to it whenever something this host must
 * act on changes (shared/cloud/aws/sqs-host-notifier.ts). On AWS the agent waits there itself,
 * with the host role's credentials (ReceiveMessage and DeleteMessage on the hosts' queues, no
 * more), instead of in a long poll held open in a Lambda: an idle host then costs an SQS request
 * per 20 s, not 20 s of Lambda time. SQS keeps a wake sent while nobody waited, so a change
 * between the agent's poll and its next wait is not missed.
 */
export class SqsHostWake {
  /** Loaded at the first wait, so an agent that never waits on SQS (the local mode) never loads it (lazy-client.ts). */
  private readonly sqs;

  constructor(config: AwsClientConfig) {
    this.sqs = new LazyClient(
      () => import('@aws-sdk/client-sqs'),
      (sdk) => new sdk.SQSClient({ region: config.region, endpoint: config.endpoint, credentials: config.credentials, maxAttempts: 2 }),
    );
  }

  /** Waits up to `seconds` (SQS's longest is 20) for a wake; true when one came (and is deleted). */
  async wait(queueUrl: string, seconds: number, signal?: AbortSignal): Promise<boolean> {
    const { sdk, client } = await this.sqs.get();
    const r = await client.send(new sdk.ReceiveMessageCommand({
      QueueUrl: queueUrl, WaitTimeSeconds: Math.max(0, Math.min(20, Math.floor(seconds))), MaxNumberOfMessages: 10,
    }), { abortSignal: signal });
    const messages = r.Messages ?? [];
    // A wake left undeleted comes back after its visibility timeout: one spare poll, no harm.
    await Promise.all(messages.map((m) => client.send(new sdk.DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }))
      .catch(() => undefined)));
    return messages.length > 0;
  }

  destroy(): void {
    this.sqs.destroy();
  }
}

/** What the agent needs of its wake (a test may stand in for SQS's failures with it). */
export type HostWake = Pick<SqsHostWake, 'wait' | 'destroy'>;
