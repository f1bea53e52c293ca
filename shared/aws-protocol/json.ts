import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { EcsError, RequestTooLargeException, SerializationException, ServerException, UnknownOperationException } from '../domain/errors';
import { type Json, isObject } from '../domain/fields';
import { dropUndefined } from '../domain/task-definition';
import type { Operation } from './operation';

/** The two versions of AWS's JSON protocol differ on the wire only in their media type. */
export const JSON_1_1 = 'application/x-amz-json-1.1';
export const JSON_1_0 = 'application/x-amz-json-1.0';
export type JsonVersion = typeof JSON_1_0 | typeof JSON_1_1;
export const CONTENT_TYPE = JSON_1_1;

/** What the protocol middleware hands the handler. */
export interface JsonCall {
  operation: string;
  body: Json;
  requestId: string;
}

export type JsonEvent = APIGatewayProxyEventV2 & { call?: JsonCall };
type JsonRequest = Request<JsonEvent, APIGatewayProxyStructuredResultV2>;

export interface JsonProtocolOptions {
  /** `X-Amz-Target` is this prefix followed by the operation's name. */
  targetPrefix: string;
  operations: Readonly<Record<string, Operation>>;
  /** ECS refuses bodies larger than this; API Gateway itself stops at 10 MB. */
  maxBodyBytes: number;
  /** JSON 1.1 (ECS, Logs, SSM...) or JSON 1.0 (Step Functions, DynamoDB). */
  contentType: JsonVersion;
}

const protocolDefaults = { maxBodyBytes: 256 * 1024, contentType: JSON_1_1 as JsonVersion };

const header = (event: APIGatewayProxyEventV2, name: string) => {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/**
 * Parses AWS's JSON 1.0/1.1 protocol, as ECS speaks it (and the agent API and the local slices after it): `X-Amz-Target`
 * names the operation, the body is a JSON object.
 */
export function jsonProtocol(
  opts: Pick<JsonProtocolOptions, 'targetPrefix' | 'operations'> & Partial<JsonProtocolOptions>,
): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const options = { ...protocolDefaults, ...dropUndefined(opts) };
  const before = (request: JsonRequest) => {
    const { event } = request;
    const requestId = randomUUID();
    const target = header(event, 'x-amz-target') ?? '';
    const operation = target.startsWith(options.targetPrefix) ? target.slice(options.targetPrefix.length) : '';
    if (!operation || !Object.hasOwn(options.operations, operation)) throw new UnknownOperationException(target);
    // The protocol is only spoken as such: other media types (the other JSON version too) are not this API.
    const contentType = (header(event, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (contentType !== options.contentType && contentType !== 'application/json') {
      throw new UnknownOperationException(`${target} with Content-Type '${contentType || '(none)'}'`);
    }
    const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.length > options.maxBodyBytes) throw new RequestTooLargeException(options.maxBodyBytes);
    let body: unknown = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'), refuseProtoKeys);
      } catch (e) {
        if (e instanceof SerializationException) throw e;
        throw new SerializationException('Start of structure or map found where not expected, or the body is not valid JSON.');
      }
    }
    if (!isObject(body)) throw new SerializationException('The request body must be a JSON object.');
    event.call = { operation, body, requestId };
  };
  return { before, name: 'jsonProtocol' };
}

/**
 * A member named `__proto__` cannot be kept: JavaScript objects and the DynamoDB marshaller both
 * drop it on copy, so a map such as logConfiguration.options would lose it in silence (or reach
 * the store as an empty value). Refused, like any body Berth cannot take as it is.
 */
function refuseProtoKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') throw new SerializationException('A member named __proto__ is not accepted.');
  return value;
}

export const jsonResponse = (status: number, body: object, requestId: string, contentType: JsonVersion = JSON_1_1): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
  body: JSON.stringify(body),
});

/** The one place errors become HTTP: AWS's JSON `{__type, message}` with the error's status. */
export function awsErrors(
  log: (line: object) => void = console.error,
  contentType: JsonVersion = JSON_1_1,
): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const onError = (request: JsonRequest) => {
    const known = request.error instanceof EcsError && !(request.error instanceof ServerException);
    const error = known ? (request.error as EcsError) : new ServerException({ cause: request.error });
    if (!known) log({ level: 'error', message: 'unhandled error', error: String(request.error), stack: (request.error as Error)?.stack });
    request.response = jsonResponse(error.statusCode, { __type: error.name, message: error.message }, request.event.call?.requestId ?? randomUUID(), contentType);
  };
  return { onError, name: 'awsErrors' };
}

/**
 * The error type a response carries: REST-JSON's `x-amzn-errortype` header, else `<Code>` of a
 * query protocol's XML body, else JSON's `__type`.
 */
function errorTypeOf(response: APIGatewayProxyStructuredResultV2): string | undefined {
  const header = response.headers?.['x-amzn-errortype'] as string | undefined;
  if (header !== undefined) return header;
  const body = String(response.body);
  return body.startsWith('<') ? /<Code>([^<]*)<\/Code>/.exec(body)?.[1] : JSON.parse(body).__type;
}

/** One structured line per call: operation, status and duration; never the body (it may hold secrets). */
export function requestLog(log: (line: object) => void): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const started = new WeakMap<object, number>();
  const write = (request: JsonRequest) => {
    log({
      level: 'info',
      operation: request.event.call?.operation ?? 'unknown',
      status: request.response?.statusCode,
      error: request.response && request.response.statusCode !== 200 ? errorTypeOf(request.response) : undefined,
      durationMs: Date.now() - (started.get(request) ?? Date.now()),
    });
  };
  return {
    before: (request) => void started.set(request, Date.now()),
    after: write,
    onError: write,
    name: 'requestLog',
  };
}
