import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../../../shared/aws-protocol/handler';
import { JSON_1_0 } from '../../../shared/aws-protocol/json';
import { createQueryApiHandler } from '../../../shared/aws-protocol/query';
import type { Berth } from '../../../shared/context';
import { type DeadLetter, type DeadLetterSink, parseQueueArn } from '../../../shared/schedules/dead-letter';
import { documentClientFor, ensureTables } from '../../dynalite';
import { regionalOperations, regionalTable } from '../regional';
import { queueDoesNotExist } from './errors';
import { SQS_VERSION, SQS_XMLNS, type SqsSlice, enqueue, readMessageAttributes, sqsOperations } from './operations';
import { SQS_TABLE, SqsStore } from './store';
import { SQS_TARGET_PREFIX, sqsJsonOperations } from './json';
import { sqsXml } from './xml';

export interface LocalSqsOptions extends ApiHandlerOptions {
  dynamoEndpoint: string;
  /** The local endpoint's URL, which queue URLs start with. */
  endpoint: () => string;
  /** Which region's Berth answers a call, by its signature's scope (the home region's when absent). */
  berthFor?: BerthFor;
}

/**
 * The local SQS slice, per region (local/services/regional.ts): its tables in dynalite and its
 * query-protocol handler (SigV4 service `sqs`, what `aws sqs` speaks) for the local endpoint's
 * `POST /`, and the same operations in SQS's JSON protocol (`jsonHandler`, `X-Amz-Target:
 * AmazonSQS.*`, what the AWS SDK speaks). `deadLettersOf(b)` is the dead-letter sink of region b's schedules, writing into that
 * region's queues.
 */
export async function startLocalSqs(home: Berth, o: LocalSqsOptions) {
  const db = documentClientFor(o.dynamoEndpoint);
  const slices = new Map<string, SqsSlice>();
  const stopping = new AbortController();
  const regional = await regionalOperations(home, async (b, tablePrefix) => {
    const table = regionalTable(SQS_TABLE, tablePrefix);
    await ensureTables(o.dynamoEndpoint, [table]);
    const slice: SqsSlice = { store: new SqsStore(db, table.name), partition: b.partition, now: () => b.now(), endpoint: o.endpoint, stopping: stopping.signal };
    slices.set(b.partition.region, slice);
    return sqsOperations(slice);
  });
  const handler = createQueryApiHandler(o.berthFor ?? (() => home), {
    version: SQS_VERSION,
    xmlns: SQS_XMLNS,
    operations: regional.operations,
    resultXml: (_action, result) => sqsXml(result),
    services: ['sqs'],
    principal: ['user', 'operator'],
  }, o);
  // The AWS SDK's clients speak SQS's JSON protocol; a host's key only for its own wake queue.
  const jsonHandler = createJsonApiHandler(o.berthFor ?? (() => home), {
    targetPrefix: SQS_TARGET_PREFIX, operations: sqsJsonOperations(regional.operations), contentType: JSON_1_0,
    auth: { services: ['sqs'], principal: ['user', 'operator', 'host'] },
  }, o);
  const deadLettersOf = (b: Berth): DeadLetterSink => ({
    async send(queueArn: string, letter: DeadLetter) {
      await regional.inRegion(b);
      const slice = slices.get(b.partition.region)!;
      // A schedule's dead-letter queue is of its own account and region, as on AWS.
      const q = parseQueueArn(queueArn);
      const queue = q && q.accountId === b.partition.accountId && q.region === b.partition.region ? await slice.store.getQueue(q.name) : undefined;
      if (!queue) throw queueDoesNotExist();
      const attributes = Object.fromEntries(Object.entries(letter.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]));
      await enqueue(slice, queue, letter.body, readMessageAttributes(attributes));
    },
  });
  /** Ends the long polls waiting now and to come: the local mode is stopping. */
  const stop = () => stopping.abort();
  return { handler, jsonHandler, deadLettersOf, stop };
}
