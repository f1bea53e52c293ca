import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isQueryRequest } from './query';

type Handler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * One route for several APIs, dispatched on the `X-Amz-Target` prefix as AWS's own endpoints
 * are: `POST /` serves ECS and Application Auto Scaling (on AWS and locally) and, locally, the
 * slices of Secrets Manager, SSM, Logs and Step Functions. A target no prefix claims goes to
 * `fallback`, which answers in its API's words. A form body with no target is the query
 * protocol (ELBv2): it goes to `query`, when there is one.
 */
export function byTarget(handlers: Readonly<Record<string, Handler>>, fallback: Handler, query?: Handler): Handler {
  const prefixes = Object.keys(handlers);
  return (event, context) => {
    if (query && isQueryRequest(event)) return query(event, context);
    const target = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1] ?? '';
    const prefix = prefixes.find((p) => target.startsWith(p));
    return (prefix ? handlers[prefix] : fallback)(event, context);
  };
}
