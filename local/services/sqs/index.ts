import type { ApiHandlerOptions } from '../../../shared/aws-protocol/handler';
import { createQueryApiHandler } from '../../../shared/aws-protocol/query';
import type { Berth } from '../../../shared/context';
import { type DeadLetter, type DeadLetterSink, parseQueueArn } from '../../../shared/schedules/dead-letter';
import { createDocumentClient } from '../../../shared/store/client';
import { ensureTables } from '../../dynalite';
import { queueDoesNotExist } from './errors';
import { SQS_VERSION, SQS_XMLNS, type SqsSlice, enqueue, readMessageAttributes, sqsOperations } from './operations';
import { SQS_TABLE, SqsStore } from './store';
import { sqsXml } from './xml';

export interface LocalSqsOptions extends ApiHandlerOptions {
  dynamoEndpoint: string;
  /** The local endpoint's URL, which queue URLs start with. */
  endpoint: () => string;
}

/**
 * The local SQS slice: its table in dynalite and its query-protocol handler (SigV4 service
 * `sqs`, what `aws sqs` speaks) for the local endpoint's `POST /`. `deadLetters` is the
 * schedules' dead-letter sink, writing into the same queues.
 */
export async function startLocalSqs(berth: Berth, o: LocalSqsOptions) {
  await ensureTables(o.dynamoEndpoint, [SQS_TABLE]);
  const slice: SqsSlice = { store: new SqsStore(createDocumentClient({ endpoint: o.dynamoEndpoint })), partition: berth.partition, now: () => berth.now(), endpoint: o.endpoint };
  const handler = createQueryApiHandler(() => berth, {
    version: SQS_VERSION,
    xmlns: SQS_XMLNS,
    operations: sqsOperations(slice),
    resultXml: (_action, result) => sqsXml(result),
    services: ['sqs'],
    principal: ['user', 'operator'],
  }, o);
  const deadLetters: DeadLetterSink = {
    async send(queueArn: string, letter: DeadLetter) {
      const q = parseQueueArn(queueArn);
      const queue = q && q.accountId === berth.partition.accountId && q.region === berth.partition.region ? await slice.store.getQueue(q.name) : undefined;
      if (!queue) throw queueDoesNotExist();
      const attributes = Object.fromEntries(Object.entries(letter.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
      await enqueue(slice, queue, letter.body, readMessageAttributes(attributes));
    },
  };
  return { handler, deadLetters };
}
