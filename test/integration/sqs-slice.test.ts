import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { startLocalSqs } from '../../local/services/sqs';
import { md5OfMessageAttributes, sqsOperations } from '../../local/services/sqs/operations';
import { SqsStore } from '../../local/services/sqs/store';
import { adoptAccessKey } from '../../shared/auth/access-keys';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { createDocumentClient } from '../../shared/store/client';
import { awsCli } from '../support/aws-cli';
import { loadServiceModel, validateOutput } from '../support/ecs-model';
import { TEST_CREDENTIALS } from '../support/harness';

const model = loadServiceModel('sqs/2012-11-05');

/** The local SQS slice (query protocol, what `aws sqs` speaks), driven by the AWS CLI v2; its answers checked against the CLI's SQS model. */
describe('Local SQS slice', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let sqs: Awaited<ReturnType<typeof startLocalSqs>>;
  let server: Awaited<ReturnType<typeof serve>>;
  let url = '';
  const cli = (args: string[]) => awsCli(server.url, 'sqs', args, TEST_CREDENTIALS);

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    sqs = await startLocalSqs(berth, { dynamoEndpoint: dynamo.endpoint, log: () => {}, endpoint: () => url });
    server = await serve({ 'POST /': byTarget({}, createApiHandler(() => berth, { log: () => {} }), { sqs: sqs.handler }) });
    url = server.url;
  }, 60_000);
  afterAll(async () => {
    berth?.workflows.close();
    await server?.close();
    await dynamo?.close();
  });

  it('creates, finds and lists queues, sends and receives a message with attributes, hides it while received, deletes, purges', async () => {
    // Prepare: a queue (AWS CLI)
    const created = await cli(['create-queue', '--queue-name', 'dlq', '--attributes', 'VisibilityTimeout=60']);
    expect(created.json).toEqual({ QueueUrl: `${server.url}/000000000000/dlq` });
    const queueUrl = created.json.QueueUrl as string;
    const [again, , url1, listed, attrs] = await Promise.all([
      cli(['create-queue', '--queue-name', 'dlq', '--attributes', 'VisibilityTimeout=60']),
      cli(['create-queue', '--queue-name', 'other']),
      cli(['get-queue-url', '--queue-name', 'dlq']),
      cli(['list-queues', '--queue-name-prefix', 'dl']),
      cli(['get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'QueueArn', 'ApproximateNumberOfMessages']),
    ]);

    // Assess: the same again is the same queue; found by name, listed by prefix, its ARN
    expect(again.json).toEqual(created.json);
    expect(url1.json).toEqual({ QueueUrl: queueUrl });
    expect(listed.json).toEqual({ QueueUrls: [queueUrl] });
    expect(attrs.json).toEqual({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:dlq', ApproximateNumberOfMessages: '0' } });

    // Act: a message with two attributes, then a receive of everything
    const sent = await cli(['send-message', '--queue-url', queueUrl, '--message-body', '{"a":"<b>&"}',
      '--message-attributes', '{"ERROR_CODE":{"DataType":"String","StringValue":"ClientException"},"N":{"DataType":"Number","StringValue":"3"}}']);
    expect(sent.code).toBe(0);
    const received = await cli(['receive-message', '--queue-url', queueUrl, '--attribute-names', 'All', '--message-attribute-names', 'All',
      '--max-number-of-messages', '10', '--wait-time-seconds', '1']);

    // Assess: the body and attributes as sent, digests that match them, the receive counted
    expect(received.json.Messages).toHaveLength(1);
    const m = received.json.Messages[0];
    expect(m).toMatchObject({
      MessageId: sent.json.MessageId, Body: '{"a":"<b>&"}', MD5OfBody: sent.json.MD5OfMessageBody,
      MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'ClientException' }, N: { DataType: 'Number', StringValue: '3' } },
      Attributes: { ApproximateReceiveCount: '1', SenderId: '000000000000' },
    });
    expect(m.MD5OfMessageAttributes).toBe(sent.json.MD5OfMessageAttributes);
    expect(m.MD5OfBody).toBe(createHash('md5').update('{"a":"<b>&"}').digest('hex'));
    // Hidden while its visibility timeout runs: a second receive (no wait) gets nothing, and the count says so.
    expect((await cli(['receive-message', '--queue-url', queueUrl])).json).toBeUndefined();
    const counts = await cli(['get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'All']);
    expect(counts.json.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1', VisibilityTimeout: '60' });
    expect((await cli(['delete-message', '--queue-url', queueUrl, '--receipt-handle', m.ReceiptHandle])).code).toBe(0);
    expect((await cli(['get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'ApproximateNumberOfMessagesNotVisible'])).json.Attributes)
      .toEqual({ ApproximateNumberOfMessagesNotVisible: '0' });

    // A purge empties the queue; a deleted queue is gone.
    await cli(['send-message', '--queue-url', queueUrl, '--message-body', 'x']);
    expect((await cli(['purge-queue', '--queue-url', queueUrl])).code).toBe(0);
    expect((await cli(['receive-message', '--queue-url', queueUrl, '--visibility-timeout', '0'])).json).toBeUndefined();
    expect((await cli(['delete-queue', '--queue-url', queueUrl])).code).toBe(0);
    const gone = await cli(['get-queue-url', '--queue-name', 'dlq']);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
  }, 90_000);

  it('refuses bad input as SQS does and changes nothing', async () => {
    // Prepare
    await cli(['create-queue', '--queue-name', 'q2']);

    // Act
    const [bad, attr, conflict, handle] = await Promise.all([
      cli(['create-queue', '--queue-name', 'no spaces']),
      cli(['create-queue', '--queue-name', 'q1', '--attributes', 'Colour=blue']),
      cli(['create-queue', '--queue-name', 'q2', '--attributes', 'VisibilityTimeout=5']),
      cli(['delete-message', '--queue-url', `${server.url}/000000000000/q2`, '--receipt-handle', 'nonsense']),
    ]);

    // Assess
    expect(bad.stderr).toContain('InvalidParameterValue');
    expect(attr.stderr).toContain('InvalidAttributeName');
    expect(conflict.stderr).toContain('QueueAlreadyExists');
    expect(handle.stderr).toContain('ReceiptHandleIsInvalid');
    const [listed, attrs] = await Promise.all([
      cli(['list-queues', '--queue-name-prefix', 'q']),
      cli(['get-queue-attributes', '--queue-url', `${server.url}/000000000000/q2`, '--attribute-names', 'VisibilityTimeout']),
    ]);
    expect(listed.json).toEqual({ QueueUrls: [`${server.url}/000000000000/q2`] });
    expect(attrs.json).toEqual({ Attributes: { VisibilityTimeout: '30' } });
  }, 60_000);

  it('answers every operation with what the CLI\'s SQS model describes', async () => {
    // Prepare: the operations themselves, on the slice's store, and a dead letter through its sink
    const ops = sqsOperations({ store: new SqsStore(createDocumentClient({ endpoint: dynamo.endpoint })), partition: berth.partition, now: Date.now, endpoint: () => url });
    const call = async (op: string, body: Record<string, unknown>) => {
      const out = await ops[op](berth, body, {});
      return { op, out };
    };
    const { out: q } = await call('CreateQueue', { QueueName: 'model' });
    const QueueUrl = (q as { QueueUrl: string }).QueueUrl;
    await sqs.deadLettersOf(berth).send('arn:aws:sqs:us-east-1:000000000000:model', { body: '{}', attributes: { ERROR_CODE: 'ClientException', ERROR_MESSAGE: 'gone' } });

    // Act
    const results = [
      await call('GetQueueUrl', { QueueName: 'model' }),
      await call('ListQueues', { MaxResults: '1' }),
      await call('GetQueueAttributes', { QueueUrl, AttributeName: { 1: 'All' } }),
      await call('SendMessage', { QueueUrl, MessageBody: 'b', MessageAttribute: { 1: { Name: 'K', Value: { DataType: 'Binary', BinaryValue: 'AAE=' } } } }),
      await call('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: '10', AttributeName: { 1: 'All' }, MessageAttributeName: { 1: 'All' } }),
    ];

    // Assess: each validates; the dead letter came through with its attributes and digest
    for (const r of results) expect([r.op, validateOutput(r.op, r.out, model)]).toEqual([r.op, []]);
    const messages = (results[4].out as { Messages: { Body: string; MessageAttributes: Record<string, unknown>; MD5OfMessageAttributes: string }[] }).Messages;
    expect(messages.map((x) => x.Body)).toEqual(['{}', 'b']);
    expect(messages[0].MessageAttributes).toEqual({ ERROR_CODE: { DataType: 'String', StringValue: 'ClientException' }, ERROR_MESSAGE: { DataType: 'String', StringValue: 'gone' } });
    expect(messages[1].MD5OfMessageAttributes).toBe(md5OfMessageAttributes({ K: { DataType: 'Binary', BinaryValue: 'AAE=' } }));
    await expect(sqs.deadLettersOf(berth).send('arn:aws:sqs:us-east-1:000000000000:missing', { body: '{}', attributes: {} })).rejects.toThrow('The specified queue does not exist.');
  });
});
