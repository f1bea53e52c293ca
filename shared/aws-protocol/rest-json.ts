import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { type AuthenticatedEvent, type SigV4Options, sigv4Auth } from '../auth/middleware';
import { EcsError, RequestTooLargeException, SerializationException, ServerException, UnknownOperationException } from '../domain/errors';
import { isObject } from '../domain/fields';
import type { ApiHandlerOptions, BerthFor } from './handler';
import { type JsonEvent, requestLog } from './json';
import type { Operation } from './operation';

/**
 * One operation of a REST-JSON API (as Scheduler speaks it): its method and URI template, and
 * which query parameters carry which input members. `{Label}` segments of the path become
 * members of the same name.
 */
export interface RestRoute {
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Query parameter → input member; `:int` after the member reads the value as an integer. */
  query?: Readonly<Record<string, string>>;
}

type RestRequest = Request<JsonEvent, APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 256 * 1024;

function match(route: RestRoute, method: string, path: string): Record<string, string> | undefined {
  if (route.method !== method) return undefined;
  const want = route.path.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const labels: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const label = /^\{(\w+)\}$/.exec(want[i]);
    if (label) {
      if (got[i] === '') return undefined;
      labels[label[1]] = decodeURIComponent(got[i]);
    } else if (want[i] !== got[i]) return undefined;
  }
  return labels;
}

/**
 * Parses AWS's REST-JSON protocol: the method and path name the operation, path labels and
 * query parameters are input members beside the JSON body's. The handler sees one input object,
 * as with the JSON protocols.
 */
export function restJsonProtocol(routes: readonly RestRoute[], maxBodyBytes = MAX_BODY_BYTES): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const before = (request: RestRequest) => {
    const { event } = request;
    const requestId = randomUUID();
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = event.rawPath ?? '/';
    let found: { route: RestRoute; labels: Record<string, string> } | undefined;
    for (const route of routes) {
      const labels = match(route, method, path);
      if (labels) {
        found = { route, labels };
        break;
      }
    }
    if (!found) throw new UnknownOperationException(`${method} ${path}`);
    const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.length > maxBodyBytes) throw new RequestTooLargeException(maxBodyBytes);
    let body: unknown = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'), (key, value) => {
          if (key === '__proto__') throw new SerializationException('A member named __proto__ is not accepted.');
          return value;
        });
      } catch (e) {
        if (e instanceof SerializationException) throw e;
        throw new SerializationException('The request body is not valid JSON.');
      }
    }
    if (!isObject(body)) throw new SerializationException('The request body must be a JSON object.');
    const members: Record<string, unknown> = { ...body };
    for (const [param, value] of new URLSearchParams(event.rawQueryString ?? '')) {
      const spec = found.route.query?.[param];
      if (spec === undefined) continue;
      const [member, type] = spec.split(':');
      members[member] = type === 'int' && /^-?\d+$/.test(value) ? Number(value) : value;
    }
    event.call = { operation: found.route.operation, body: { ...members, ...found.labels }, requestId };
  };
  return { before, name: 'restJsonProtocol' };
}

export const restJsonResponse = (status: number, body: object, requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
  body: JSON.stringify(body),
});

/**
 * The one place a REST-JSON API's errors become HTTP: the type in `x-amzn-errortype`, where
 * the SDKs and botocore look first, and `{"Message": ...}` in the body, with the type's status.
 */
export function restJsonErrors(log: (line: object) => void = console.error): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const onError = (request: RestRequest) => {
    const known = request.error instanceof EcsError && !(request.error instanceof ServerException);
    const error = known ? (request.error as EcsError) : new ServerException({ cause: request.error });
    if (!known) log({ level: 'error', message: 'unhandled error', error: String(request.error), stack: (request.error as Error)?.stack });
    const type = known ? error.name : 'InternalServerException';
    const requestId = request.event.call?.requestId ?? randomUUID();
    request.response = {
      statusCode: error.statusCode,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': requestId },
      body: JSON.stringify({ Message: error.message }),
    };
  };
  return { onError, name: 'restJsonErrors' };
}

/** A REST-JSON API as a Lambda handler for an API Gateway HTTP API (payload v2); the local server calls the same one. */
export function createRestJsonApiHandler(
  berth: BerthFor,
  api: { routes: readonly RestRoute[]; operations: Readonly<Record<string, Operation>>; auth: Omit<SigV4Options, 'berth'> },
  options: Omit<ApiHandlerOptions, 'authenticate'> = {},
) {
  const log = options.log ?? ((line: object) => console.log(JSON.stringify(line)));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(requestLog(log))
    .use(restJsonErrors(log))
    .use(sigv4Auth({ berth, ...api.auth }))
    .use(restJsonProtocol(api.routes, options.maxBodyBytes))
    .handler(async (event: JsonEvent) => {
      const { operation, body, requestId } = event.call!;
      const { principal, region } = event as AuthenticatedEvent;
      const result = await api.operations[operation](await berth({ region }), body, { principal });
      return restJsonResponse(200, result, requestId);
    });
}
