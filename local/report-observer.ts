import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AGENT_TARGET_PREFIX } from '../shared/agent-wire/constants';

type Handler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

/** One ReportTaskState call as it crossed the agent API, with the control plane's answer. */
export interface ObservedReport {
  /** Epoch ms when the request reached the API, and when its answer was ready. */
  invokedAt: number;
  completedAt: number;
  /** The request body as the agent sent it (hostId, task, lastStatus, timestamps, stop, seq). */
  request: unknown;
  status: number;
  /** `{ applied, lastStatus, desiredStatus }`, or an error's `{ __type, message }`. */
  response: unknown;
}

const REPORT_TARGET = `${AGENT_TARGET_PREFIX}ReportTaskState`;

function parse(text: string | undefined, base64: boolean | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(base64 ? Buffer.from(text, 'base64').toString('utf8') : text);
  } catch {
    return text;
  }
}

/**
 * Lets a test see every agent report and what became of it (applied or ignored), so it can
 * check the history of a run. Without an observer the handler is returned as it is; with
 * one, the observer only reads, and its failures never reach the agent.
 */
export function observeReports(handler: Handler, onReport?: (report: ObservedReport) => void): Handler {
  if (!onReport) return handler;
  return async (event, context) => {
    const target = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'x-amz-target')?.[1];
    if (target !== REPORT_TARGET) return handler(event, context);
    const invokedAt = Date.now();
    const result = await handler(event, context);
    try {
      onReport({
        invokedAt,
        completedAt: Date.now(),
        request: parse(event.body, event.isBase64Encoded),
        status: result.statusCode ?? 200,
        response: parse(result.body, result.isBase64Encoded),
      });
    } catch {
      // An observer's bug is the test's to find, never the agent's to suffer.
    }
    return result;
  };
}
