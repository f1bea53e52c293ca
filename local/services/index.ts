import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ApiHandlerOptions } from '../../shared/aws-protocol/handler';
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
}

/**
 * The small slices of AWS services that the local mode serves beside ECS, by X-Amz-Target
 * prefix. On AWS the real services answer these calls; locally the same SDK clients and CLI
 * commands reach these handlers.
 */
export async function localServiceHandlers(berth: LocalBerth, o: LocalServicesOptions): Promise<Record<string, Handler>> {
  const states = await createStepFunctionsHandler(berth, { dynamoEndpoint: o.dynamoEndpoint, log: o.log });
  return {
    ...(await secretSlices(berth, o)),
    [LOGS_TARGET_PREFIX]: await createLogsHandler(berth, { dynamoEndpoint: o.dynamoEndpoint, log: o.log }),
    [STATES_TARGET_PREFIX]: states.handler,
  };
}
