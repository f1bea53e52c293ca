import {
  CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsHostNotifier } from '../../shared/cloud/aws/sqs-host-notifier';

type Send = (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;

/** An SQS client whose `send` is the given function: SQS has no local stand-in here. */
function sqsWith(send: jest.Mock<ReturnType<Send>, Parameters<Send>>): SQSClient {
  const sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  sqs.send = send as unknown as SQSClient['send'];
  return sqs;
}

const sqsError = (name: string) => Object.assign(new Error(name), { name });
const URL = 'https://sqs.us-east-1.amazonaws.com/000000000000/berth-dev-host-i-0abc';
const notifierWith = (send: jest.Mock<ReturnType<Send>, Parameters<Send>>) =>
  new SqsHostNotifier({ region: 'us-east-1', accountId: '000000000000', queuePrefix: 'berth-dev-host-', sqs: sqsWith(send) });
const commands = (send: jest.Mock) => send.mock.calls.map(([c]) => c.constructor.name);

describe('SqsHostNotifier', () => {
  beforeEach(() => jest.spyOn(console, 'error').mockImplementation(() => {}));
  afterEach(() => jest.restoreAllMocks());

  it("wakes a host by sending to its own queue, named under the stack's prefix", async () => {
    // Prepare
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({});

    // Act
    notifierWith(send).notify('i-0abc');
    await Promise.resolve();

    // Assess
    expect(send.mock.calls[0][0]).toBeInstanceOf(SendMessageCommand);
    expect((send.mock.calls[0][0] as SendMessageCommand).input.QueueUrl).toBe(URL);
  });

  it('waits with one long-poll receive of at most 20 s, and deletes the wake it took', async () => {
    // Prepare
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>()
      .mockResolvedValueOnce({ Messages: [{ ReceiptHandle: 'r1' }, { ReceiptHandle: 'r2' }] })
      .mockResolvedValue({});

    // Act
    await notifierWith(send).wait('i-0abc', 60_000);

    // Assess
    expect(commands(send)).toEqual(['ReceiveMessageCommand', 'DeleteMessageBatchCommand']);
    const receive = (send.mock.calls[0][0] as ReceiveMessageCommand).input;
    expect(receive).toMatchObject({ QueueUrl: URL, WaitTimeSeconds: 20 });
    expect((send.mock.calls[1][0] as DeleteMessageBatchCommand).input.Entries!.map((e) => e.ReceiptHandle)).toEqual(['r1', 'r2']);
  });

  it("names the host's queue to its agent, and makes it when the host registers", async () => {
    // Prepare
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockResolvedValue({});
    const notifier = notifierWith(send);

    // Act
    await notifier.prepare('i-0abc');

    // Assess
    expect(notifier.wakeQueueUrl('i-0abc')).toBe(URL);
    expect(commands(send)).toEqual(['CreateQueueCommand']);
    expect((send.mock.calls[0][0] as CreateQueueCommand).input).toEqual({ QueueName: 'berth-dev-host-i-0abc', Attributes: { MessageRetentionPeriod: '60' } });
  });

  it("makes the host's queue the first time a poll waits on it, with SQS's shortest retention", async () => {
    // Prepare
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>()
      .mockRejectedValueOnce(sqsError('QueueDoesNotExist'))
      .mockResolvedValue({});

    // Act
    await notifierWith(send).wait('i-0abc', 5_000);

    // Assess
    expect(commands(send)).toEqual(['ReceiveMessageCommand', 'CreateQueueCommand', 'ReceiveMessageCommand']);
    expect((send.mock.calls[1][0] as CreateQueueCommand).input).toEqual({
      QueueName: 'berth-dev-host-i-0abc', Attributes: { MessageRetentionPeriod: '60' },
    });
    expect((send.mock.calls[2][0] as ReceiveMessageCommand).input.WaitTimeSeconds).toBe(5);
  });

  it('hands its abort signal to the receive, so a poll that answered leaves no receive behind', async () => {
    // Prepare: a receive that ends only when aborted.
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockImplementation((_c, options) => new Promise((_r, reject) => {
      options?.abortSignal?.addEventListener('abort', () => reject(sqsError('AbortError')));
    }));
    const answered = new AbortController();

    // Act
    const waiting = notifierWith(send).wait('i-0abc', 20_000, answered.signal);
    answered.abort();
    await waiting;

    // Assess: it ended without falling back to a timer, and warned of nothing.
    expect(commands(send)).toEqual(['ReceiveMessageCommand']);
    expect(console.error).not.toHaveBeenCalled();
  });

  it('sends no request for a window under a second', async () => {
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>();
    await notifierWith(send).wait('i-0abc', 300);
    expect(send).not.toHaveBeenCalled();
  });

  it('keeps a wake for a host with no queue yet quiet: its next poll reads the version first', async () => {
    const send = jest.fn<ReturnType<Send>, Parameters<Send>>().mockRejectedValue(sqsError('QueueDoesNotExist'));
    notifierWith(send).notify('i-0abc');
    await new Promise((r) => setImmediate(r));
    expect(console.error).not.toHaveBeenCalled();
  });
});
