import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type AuthenticatedEvent, type SigV4Options, sigv4Auth } from '../auth/middleware';
import type { Berth } from '../context';
import { type JsonEvent, type JsonVersion, JSON_1_1, awsErrors, jsonProtocol, jsonResponse, requestLog } from './json';
import type { Operation } from './operation';

/**
 * The Berth that serves a call. `region` is the one the call's signature is scoped to: one
 * deployed stack serves its own region and refuses the others; the local mode serves each
 * region it is asked for from a stack of its own (local/regions.ts). Absent for unsigned calls.
 */
export type BerthFor = (scope?: { region?: string }) => Berth | Promise<Berth>;

export interface ApiHandlerOptions {
  log?: (line: object) => void;
  maxBodyBytes?: number;
  /**
   * `required` (the default): every call is signed. `optional`: a signed call is verified, an
   * unsigned one goes on without a principal (the agent API's first registration).
   */
  authenticate?: 'required' | 'optional';
}

/**
 * A JSON 1.1 (or, with `contentType`, 1.0) API as a Lambda handler for an API Gateway HTTP API (payload v2). The local server
 * and the tests call these very handlers.
 */
export function createJsonApiHandler(
  berth: BerthFor,
  api: { targetPrefix: string; operations: Readonly<Record<string, Operation>>; auth: Omit<SigV4Options, 'berth'>; contentType?: JsonVersion },
  options: ApiHandlerOptions = {},
) {
  const log = options.log ?? ((line: object) => console.log(JSON.stringify(line)));
  const contentType = api.contentType ?? JSON_1_1;
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    // middy runs `after`/`onError` in reverse order: the log sees the error already shaped.
    .use(requestLog(log))
    .use(awsErrors(log, contentType));
  // Authentication comes before parsing: an unsigned request learns nothing of the body's rules.
  handler.use(sigv4Auth({ berth, ...api.auth, optional: options.authenticate === 'optional' }));
  return handler
    .use(jsonProtocol({ ...api, contentType, maxBodyBytes: options.maxBodyBytes }))
    .handler(async (event: JsonEvent) => {
      const { operation, body, requestId } = event.call!;
      const { principal, region } = event as AuthenticatedEvent;
      const result = await api.operations[operation](await berth({ region }), body, { principal });
      return jsonResponse(200, result, requestId, contentType);
    });
}
