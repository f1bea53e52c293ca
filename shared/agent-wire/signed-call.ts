import { signRequest } from './sign-request';
import { httpCall } from './http-call';

/** An API's refusal, as its JSON error body names it (`__type`, `message`) with the HTTP status. */
export class AgentApiError extends Error {
  constructor(readonly type: string, message: string, readonly status: number) {
    super(`${type}: ${message}`);
    this.name = 'AgentApiError';
  }
}

export interface SignedCall {
  /** The route's URL, e.g. `https://api.example/agent`. */
  url: string;
  /** The whole `X-Amz-Target`. */
  target: string;
  body: object;
  /** Signs with SigV4 (service `ecs`) when given; unsigned otherwise (an agent's first registration). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The region the signature is scoped to: the control plane's own, which refuses calls signed for another. */
  region: string;
  timeoutMs?: number;
}

/**
 * One JSON 1.1 call to Berth's own APIs (the agent and operator APIs), signed as the AWS SDKs
 * sign. It resolves to the answer's body and throws AgentApiError for a refusal.
 */
export async function signedCall<T>(call: SignedCall): Promise<T> {
  const url = new URL(call.url);
  const payload = Buffer.from(JSON.stringify(call.body));
  let headers: Record<string, string> = { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': call.target };
  if (call.credentials) {
    headers = signRequest({
      method: 'POST', url, headers, body: payload, service: 'ecs', region: call.region, credentials: call.credentials, signedAt: new Date(),
    });
  }
  const res = await httpCall({ method: 'POST', url, headers, body: payload, timeoutMs: call.timeoutMs ?? 30_000 });
  let json: { __type?: string; message?: string };
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch (e) {
    // A proxy's error page, say: the status says more than the body.
    if (!res.ok) throw new AgentApiError('Error', res.statusText, res.status);
    throw e;
  }
  if (!res.ok) throw new AgentApiError(json.__type ?? 'Error', json.message ?? res.statusText, res.status);
  return json as T;
}
