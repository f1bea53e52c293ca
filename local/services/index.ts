import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiHandlerOptions, BerthFor } from '../../shared/aws-protocol/handler';
import type { Berth } from '../../shared/context';
import type { LocalBerth } from '../berth';
import { secretSlices } from './secret-slices';
import { createLogsHandler } from './logs/handler';
import { LOGS_TARGET_PREFIX } from './logs/operations';
import { createStepFunctionsHandler } from './stepfunctions/handler';
import { STATES_TARGET_PREFIX } from './stepfunctions/operations';

type Handler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalServicesOptions extends ApiHandlerOptions {
  /** Where the slices keep what is not in DynamoDB (e.g. the key that seals secret values). */
  dataDir: string;
  /** dynalite, where the slices keep their own tables. */
  dynamoEndpoint: string;
  /** Which region's slices answer a call: the local mode's regions, by the signature's scope, as for ECS. */
  berthFor: BerthFor;
  /** Every region's Berth started so far (the Logs slice's host policy reads their hosts' tasks). */
  berths?: () => Promise<Berth[]>;
}

/**
 * The small slices of AWS services that the local mode serves beside ECS, by X-Amz-Target
 * prefix, each per region. On AWS the real services answer these calls; locally the same SDK
 * clients and CLI commands reach these handlers. `inRegion` readies a region's slices as the
 * region starts (its tables, and its Step Functions' callbacks and recovery); `close` stops the
 * work the slices run beside their requests.
 */
export async function localServiceHandlers(berth: LocalBerth, o: LocalServicesOptions): Promise<{ handlers: Record<string, Handler>; inRegion(b: Berth): Promise<unknown>; close(): Promise<void> }> {
  const states = await createStepFunctionsHandler(berth, { dynamoEndpoint: o.dynamoEndpoint, log: o.log, berthFor: o.berthFor });
  const secrets = await secretSlices(berth, o);
  return {
    handlers: {
      ...secrets.handlers,
      [LOGS_TARGET_PREFIX]: await createLogsHandler(berth, { dynamoEndpoint: o.dynamoEndpoint, log: o.log, berthFor: o.berthFor, berths: o.berths }),
      [STATES_TARGET_PREFIX]: states.handler,
    },
    inRegion: (b) => Promise.all([states.inRegion(b), secrets.inRegion(b)]),
    // Only Step Functions runs work of its own, beside the requests it answers.
    close: states.close,
  };
}
