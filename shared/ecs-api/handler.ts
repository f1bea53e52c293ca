import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Berth } from '../context';
import { type EcsEvent, ecsErrors, ecsProtocol, ecsResponse, requestLog } from './middleware';
import { OPERATIONS } from './operations';

export interface ApiHandlerOptions {
  log?: (line: object) => void;
  maxBodyBytes?: number;
}

/**
 * The ECS API as a Lambda handler for an API Gateway HTTP API (payload v2). The local server
 * and the tests call this very handler.
 */
export function createApiHandler(berth: () => Berth | Promise<Berth>, options: ApiHandlerOptions = {}) {
  const log = options.log ?? ((line: object) => console.log(JSON.stringify(line)));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    // middy runs `after`/`onError` in reverse order: the log sees the error already shaped.
    .use(requestLog(log))
    .use(ecsErrors(log))
    .use(ecsProtocol({ maxBodyBytes: options.maxBodyBytes }))
    .handler(async (event: EcsEvent) => {
      const { operation, body, requestId } = event.ecs!;
      const result = await OPERATIONS[operation](await berth(), body);
      return ecsResponse(200, result, requestId);
    });
}
