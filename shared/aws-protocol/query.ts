import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { type AuthenticatedEvent, sigv4Auth } from '../auth/middleware';
import { EcsError, RequestTooLargeException, ServerException } from '../domain/errors';
import type { Json } from '../domain/fields';
import type { ApiHandlerOptions, BerthFor } from './handler';
import { type JsonEvent, requestLog } from './json';
import type { Operation } from './operation';

/**
 * AWS's query protocol, as ELBv2 (and EC2, IAM, STS...) speak it: `POST /` with a form-encoded
 * body `Action=NAME&Version=DATE&...`, lists as `Name.member.N`, structures as `Name.Member`;
 * the answer is XML, `<NAMEResponse><NAMEResult>...</NAMEResult><ResponseMetadata>`, and an error
 * is `<ErrorResponse><Error><Type>Sender</Type><Code>...</Code><Message>`.
 */

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export interface QueryApi {
  /** The API's `Version`, e.g. 2015-12-01. */
  version: string;
  /** The XML namespace of its responses. */
  xmlns: string;
  operations: Readonly<Record<string, Operation>>;
  /**
   * The result's XML, when the API's model does not take the plain rules of toXml (SQS's
   * flattened lists and maps); toXml otherwise.
   */
  resultXml?: (action: string, result: object) => string;
}

/** The query protocol's own refusal of an action the API does not have. */
export class InvalidAction extends EcsError {
  constructor(action: string) {
    super(`The action ${action || '(none)'} is not valid for this web service.`);
    this.name = 'InvalidAction';
  }
}

export class MissingAction extends EcsError {
  constructor() {
    super('The request must contain the parameter Action.');
    this.name = 'MissingAction';
  }
}

export class InvalidParameterValue extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParameterValue';
  }
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A form body as the structure it encodes: `Targets.member.1.Id=a` becomes
 * `{Targets: [{Id: 'a'}]}`, `Matcher.HttpCode=200` becomes `{Matcher: {HttpCode: '200'}}`. Every
 * leaf stays a string, as the protocol sends it; the operations read them with the model's types.
 */
export function parseQueryParams(form: URLSearchParams): { action: string; version: string; params: Json } {
  const params: Json = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const path = key.split('.');
    if (path.some((p) => p === '' || UNSAFE_KEYS.has(p))) throw new InvalidParameterValue(`Invalid parameter name ${key}.`);
    let node: any = params;
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1;
      if (path[i] === 'member' && Array.isArray(node)) continue;
      const isIndex = Array.isArray(node);
      const at = isIndex ? Number(path[i]) - 1 : path[i];
      if (isIndex && !(Number.isSafeInteger(at) && (at as number) >= 0 && (at as number) < 1000)) {
        throw new InvalidParameterValue(`Invalid list index in parameter ${key}.`);
      }
      if (last) {
        node[at] = value;
        break;
      }
      if (node[at] === undefined) node[at] = path[i + 1] === 'member' ? [] : {};
      node = node[at];
      if (typeof node !== 'object') throw new InvalidParameterValue(`Parameter ${key} conflicts with another.`);
    }
  }
  // Sparse lists (member.1 and member.3) keep only what was sent.
  const compact = (v: any): any => (Array.isArray(v) ? v.filter((x) => x !== undefined).map(compact)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)])) : v);
  return { action: form.get('Action') ?? '', version: form.get('Version') ?? '', params: compact(params) };
}

export const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** A value as query-protocol XML: lists as `<member>`s, timestamps in ISO 8601, absent members left out. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    return Object.entries(value).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `<${k}>${toXml(v)}</${k}>`).join('');
  }
  return escapeXml(String(value));
}

const xmlHeaders = (requestId: string) => ({ 'content-type': 'text/xml', 'x-amzn-requestid': requestId });

export function queryResponse(api: Pick<QueryApi, 'xmlns' | 'resultXml'>, action: string, result: object, requestId: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 200,
    headers: xmlHeaders(requestId),
    body: `<${action}Response xmlns="${api.xmlns}"><${action}Result>${api.resultXml ? api.resultXml(action, result) : toXml(result)}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

export function queryErrorResponse(api: Pick<QueryApi, 'xmlns'>, error: EcsError, requestId: string): APIGatewayProxyStructuredResultV2 {
  const type = error.statusCode >= 500 ? 'Receiver' : 'Sender';
  return {
    statusCode: error.statusCode,
    headers: xmlHeaders(requestId),
    body: `<ErrorResponse xmlns="${api.xmlns}"><Error><Type>${type}</Type><Code>${escapeXml(error.name)}</Code>` +
      `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

type QueryRequest = Request<JsonEvent, APIGatewayProxyStructuredResultV2>;

const header = (event: APIGatewayProxyEventV2, name: string) =>
  Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];

/** Whether a request speaks the query protocol: a form body and no X-Amz-Target. */
export const isQueryRequest = (event: APIGatewayProxyEventV2): boolean =>
  header(event, 'x-amz-target') === undefined &&
  (header(event, 'content-type') ?? '').split(';')[0].trim().toLowerCase() === FORM_CONTENT_TYPE;

/** Parses the form into `event.call` (the JSON protocol's shape, so the request log reads both). */
export function queryProtocol(api: QueryApi, maxBodyBytes = 1024 * 1024): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const before = (request: QueryRequest) => {
    const { event } = request;
    const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.length > maxBodyBytes) throw new RequestTooLargeException(maxBodyBytes);
    const form = new URLSearchParams(raw.toString('utf8'));
    for (const [k, v] of new URLSearchParams(event.rawQueryString ?? '')) if (!form.has(k)) form.append(k, v);
    const { action, params } = parseQueryParams(form);
    const requestId = randomUUID();
    event.call = { operation: action, body: params, requestId };
    if (!action) throw new MissingAction();
    if (!Object.hasOwn(api.operations, action)) throw new InvalidAction(action);
  };
  return { before, name: 'queryProtocol' };
}

/** The one place a query API's errors become HTTP: AWS's XML error with the error's status. */
export function queryErrors(api: Pick<QueryApi, 'xmlns'>, log: (line: object) => void): MiddlewareObj<JsonEvent, APIGatewayProxyStructuredResultV2> {
  const onError = (request: QueryRequest) => {
    const known = request.error instanceof EcsError && !(request.error instanceof ServerException);
    const error = known ? (request.error as EcsError) : new ServerException({ cause: request.error });
    if (!known) log({ level: 'error', message: 'unhandled error', error: String(request.error), stack: (request.error as Error)?.stack });
    request.response = queryErrorResponse(api, error, request.event.call?.requestId ?? randomUUID());
  };
  return { onError, name: 'queryErrors' };
}

/** A query-protocol API as a Lambda handler (API Gateway payload v2), signed with SigV4. */
export function createQueryApiHandler(
  berth: BerthFor,
  api: QueryApi & { services: readonly string[]; principal: Parameters<typeof sigv4Auth>[0]['principal'] },
  options: ApiHandlerOptions = {},
) {
  const log = options.log ?? ((line: object) => console.log(JSON.stringify(line)));
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(requestLog(log))
    .use(queryErrors(api, log))
    .use(sigv4Auth({ berth, services: api.services, principal: api.principal }))
    .use(queryProtocol(api, options.maxBodyBytes))
    .handler(async (event: JsonEvent) => {
      const { operation, body, requestId } = event.call!;
      const { principal, region } = event as AuthenticatedEvent;
      const result = await api.operations[operation](await berth({ region }), body, { principal });
      return queryResponse(api, operation, result, requestId);
    });
}
