import { Agent as HttpAgent, type IncomingMessage, type RequestOptions, request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

/** An HTTP answer read whole: its status and its body. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  body: Buffer;
  ok: boolean;
}

export interface HttpCall {
  method: 'GET' | 'PUT' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer;
  /** The call fails when its answer is not read whole by then. */
  timeoutMs: number;
}

/**
 * Connections kept open between calls, as fetch keeps them: an agent calls its control plane
 * every few seconds (polls, heartbeats, reports), and a new connection per call would cost a
 * handshake each time (a TLS one on AWS). Idle ones hold no process open.
 */
const agents: { http?: HttpAgent; https?: HttpsAgent } = {};

/**
 * One HTTP call over node:http (node:https for an https URL, loaded only then), its answer read
 * whole. The agent's calls go through here rather than fetch: Node's fetch (undici, its HTTP
 * parser compiled from WebAssembly) cost an agent 8 MiB of memory from its first call, and
 * doubled what it took while starting (measured on an idle agent: 64 → 56 MiB, peak 92 → 56).
 * Rejects when the connection fails or the timeout passes (an AbortError).
 */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  const secure = call.url.protocol === 'https:';
  const https = secure ? await import('node:https') : undefined;
  const options: RequestOptions = {
    method: call.method,
    headers: call.body ? { ...call.headers, 'content-length': String(call.body.length) } : call.headers,
    agent: https ? (agents.https ??= new https.Agent({ keepAlive: true })) : (agents.http ??= new HttpAgent({ keepAlive: true })),
    signal: AbortSignal.timeout(call.timeoutMs),
  };
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = (https?.request ?? httpRequest)(call.url, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks), ok: status >= 200 && status < 300 });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(call.body);
  });
}
