import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isQueryRequest } from './query';

type Handler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * One route for several APIs, dispatched on the `X-Amz-Target` prefix as AWS's own endpoints
 * are: `POST /` serves ECS and Application Auto Scaling (on AWS and locally) and, locally, the
 * slices of Secrets Manager, SSM, Logs and Step Functions. A target no prefix claims goes to
 * `fallback`, which answers in its API's words. A form body with no target is the query
 * protocol (ELBv2, SQS): it goes to `query`, or to the one of `query` its signature is scoped
 * to (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`), the first when none matches.
 */
export function byTarget(handlers: Readonly<Record<string, Handler>>, fallback: Handler, query?: Handler | Readonly<Record<string, Handler>>): Handler {
  const prefixes = Object.keys(handlers);
  const queryFor = (event: APIGatewayProxyEventV2): Handler => {
    if (typeof query === 'function') return query;
    const auth = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1] ?? '';
    const service = /Credential=[^/,]+\/[^/,]+\/[^/,]+\/([^/,]+)\//.exec(auth)?.[1];
    return (service !== undefined ? query![service] : undefined) ?? Object.values(query!)[0];
  };
  return (event, context) => {
    if (query && isQueryRequest(event)) return queryFor(event)(event, context);
    const target = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1] ?? '';
    const prefix = prefixes.find((p) => target.startsWith(p));
    return (prefix ? handlers[prefix] : fallback)(event, context);
  };
}
