import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type DeadLetter, type DeadLetterSink, parseQueueArn } from '../../schedules/dead-letter';

/**
 * On AWS, a schedule's dead letters go to its SQS queue with SendMessage (the only SQS action
 * the schedules function is granted). The queue's URL is made from its ARN, so no GetQueueUrl.
 */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(private readonly client = new SQSClient({})) {}

  async send(queueArn: string, letter: DeadLetter): Promise<void> {
    const q = parseQueueArn(queueArn);
    if (!q) throw new Error(`not an SQS queue ARN: ${queueArn}`);
    const domain = q.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    await this.client.send(new SendMessageCommand({
      QueueUrl: `https://sqs.${q.region}.${domain}/${q.accountId}/${q.name}`,
      MessageBody: letter.body,
      MessageAttributes: Object.fromEntries(Object.entries(letter.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
    }));
  }
}
