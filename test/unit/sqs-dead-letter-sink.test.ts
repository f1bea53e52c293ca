import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from '@jest/globals';
import { SqsDeadLetterSink } from '../../shared/cloud/aws/sqs-dead-letter-sink';
import { deadLetterOf } from '../../shared/schedules/dead-letter';

/** An SQSClient that records what it is sent. */
function fakeClient() {
  const sent: object[] = [];
  const client = { send: async (command: object) => { sent.push(command); return { MessageId: 'm-1' }; } } as unknown as SQSClient;
  return { client, sent };
}

const letter = deadLetterOf({
  scheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/reports/nightly',
  targetArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/default',
  scheduledTime: Date.UTC(2030, 0, 1, 2, 30, 0, 250),
  executionId: '0123456789abcdef',
  retryAttempts: 3,
  condition: 'MaximumRetryAttempts',
  errorCode: 'ClientException',
  errorMessage: 'TaskDefinition is inactive',
  request: '{"cluster":"default","taskDefinition":"gone:1"}',
});

describe('SqsDeadLetterSink', () => {
  it('sends the dead letter to the queue its ARN names, every attribute a String', async () => {
    const { client, sent } = fakeClient();
    await new SqsDeadLetterSink(client).send('arn:aws:sqs:eu-west-1:123456789012:schedules-dlq', letter);

    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(SendMessageCommand);
    const input = (sent[0] as SendMessageCommand).input;
    expect(input.QueueUrl).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/schedules-dlq');
    expect(input.MessageBody).toBe('{"cluster":"default","taskDefinition":"gone:1"}');
    expect(input.MessageAttributes).toEqual({
      ERROR_CODE: { DataType: 'String', StringValue: 'ClientException' },
      ERROR_MESSAGE: { DataType: 'String', StringValue: 'TaskDefinition is inactive' },
      EXECUTION_ID: { DataType: 'String', StringValue: '0123456789abcdef' },
      EXHAUSTED_RETRY_CONDITION: { DataType: 'String', StringValue: 'MaximumRetryAttempts' },
      IS_PAYLOAD_TRUNCATED: { DataType: 'String', StringValue: 'false' },
      RETRY_ATTEMPTS: { DataType: 'String', StringValue: '3' },
      SCHEDULED_TIME: { DataType: 'String', StringValue: '2030-01-01T02:30:00Z' },
      SCHEDULE_ARN: { DataType: 'String', StringValue: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/reports/nightly' },
      TARGET_ARN: { DataType: 'String', StringValue: 'arn:aws:ecs:eu-west-1:123456789012:cluster/default' },
    });
  });

  it('addresses a China region queue under its own domain', async () => {
    const { client, sent } = fakeClient();
    await new SqsDeadLetterSink(client).send('arn:aws-cn:sqs:cn-north-1:123456789012:dlq', letter);
    expect((sent[0] as SendMessageCommand).input.QueueUrl).toBe('https://sqs.cn-north-1.amazonaws.com.cn/123456789012/dlq');
  });

  it('refuses what is not a queue ARN and sends nothing', async () => {
    const { client, sent } = fakeClient();
    await expect(new SqsDeadLetterSink(client).send('arn:aws:sns:us-east-1:123456789012:topic/x', letter)).rejects.toThrow('not an SQS queue ARN');
    expect(sent).toEqual([]);
  });
});

describe('deadLetterOf', () => {
  it('cuts a body past SQS\'s limit and says so', () => {
    const big = deadLetterOf({ ...{ scheduleArn: 'a', targetArn: 't', scheduledTime: 0, executionId: 'e', retryAttempts: 0, condition: 'MaximumEventAgeInSeconds', errorCode: 'C', errorMessage: '' }, request: 'x'.repeat(300_000) });
    expect(big.attributes).toMatchObject({ IS_PAYLOAD_TRUNCATED: 'true', EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds', ERROR_MESSAGE: 'C', SCHEDULED_TIME: '1970-01-01T00:00:00Z' });
    expect(Buffer.byteLength(big.body)).toBeLessThan(256 * 1024);
  });
});
