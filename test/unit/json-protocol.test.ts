import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type JsonEvent, type JsonVersion, JSON_1_0, JSON_1_1, awsErrors, jsonProtocol, jsonResponse } from '../../shared/aws-protocol/json';

/** The framing alone, as a handler that echoes the operation it was given. */
function framed(contentType: JsonVersion) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(awsErrors(() => {}, contentType))
    .use(jsonProtocol({ targetPrefix: 'Svc.', operations: { Echo: async () => ({}) }, contentType }))
    .handler(async (event: JsonEvent) => jsonResponse(200, { operation: event.call!.operation, body: event.call!.body }, event.call!.requestId, contentType));
}

const event = (contentType: string, body = '{"a":1}'): APIGatewayProxyEventV2 => ({
  headers: { 'X-Amz-Target': 'Svc.Echo', 'Content-Type': contentType }, body, isBase64Encoded: false,
} as unknown as APIGatewayProxyEventV2);

describe('jsonProtocol', () => {
  it.each([[JSON_1_0], [JSON_1_1]] as const)('speaks %s and answers in it', async (version) => {
    const r = await framed(version)(event(version), {} as any);
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['content-type']).toBe(version);
    expect(JSON.parse(r.body!)).toEqual({ operation: 'Echo', body: { a: 1 } });
  });

  it.each([[JSON_1_0, JSON_1_1], [JSON_1_1, JSON_1_0]] as const)('a %s API refuses %s, in its own media type', async (version, other) => {
    const r = await framed(version)(event(other), {} as any);
    expect(r.statusCode).toBe(400);
    expect(r.headers?.['content-type']).toBe(version);
    expect(JSON.parse(r.body!).__type).toBe('UnknownOperationException');
  });

  it('shapes a bad body as SerializationException under JSON 1.0 too', async () => {
    const r = await framed(JSON_1_0)(event(JSON_1_0, '{oops'), {} as any);
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body!).__type).toBe('SerializationException');
  });
});
