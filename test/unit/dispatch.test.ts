import { describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { byTarget } from '../../shared/aws-protocol/dispatch';

const answer = (name: string) => async () => ({ statusCode: 200, body: name });
const form = (service: string | undefined, headers: Record<string, string> = {}) => ({
  headers: {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    ...(service ? { authorization: `AWS4-HMAC-SHA256 Credential=AKID/20300101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00` } : {}),
    ...headers,
  },
  body: 'Action=ListQueues',
}) as unknown as APIGatewayProxyEventV2;

describe('byTarget', () => {
  const route = byTarget({ 'AWSStepFunctions.': answer('states') }, answer('ecs'), { elasticloadbalancing: answer('elbv2'), sqs: answer('sqs') });

  it.each([
    ['sqs', 'sqs'],
    ['elasticloadbalancing', 'elbv2'],
    // An unknown or missing signature goes to the first query API, which refuses it in its own words.
    ['iam', 'elbv2'],
    [undefined, 'elbv2'],
  ])('sends a query-protocol request signed for %s to %s', async (service, expected) => {
    expect((await route(form(service), {})).body).toBe(expected);
  });

  it('sends a JSON request by its X-Amz-Target, whatever its signature', async () => {
    const json = form('sqs', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.ListStateMachines' });
    expect((await route(json, {})).body).toBe('states');
  });
});
