import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call as it crossed the proxy: its X-Amz-Target, status and raw response body. */
export interface RecordedCall {
  target: string;
  status: number;
  body: string;
  /** For REST APIs (Scheduler): the method, the path and the error type header. */
  method?: string;
  path?: string;
  errorType?: string;
}

export interface RecordingProxy {
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

/**
 * A pass-through HTTP proxy in front of an endpoint that keeps every response body, so a test
 * can search what clients were told. Headers go through untouched: the Host a client signed
 * (SigV4) is the proxy's, and the endpoint checks the signature against that same header.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: RecordedCall[] = [];
  const server = createServer((req, res) => {
    const forward = request({
      hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers,
    }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        calls.push({
          target: String(req.headers['x-amz-target'] ?? ''), status: up.statusCode ?? 0, body: body.toString('utf8'),
          method: req.method, path: req.url, errorType: up.headers['x-amzn-errortype'] as string | undefined,
        });
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.end(body);
      });
    });
    forward.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(forward);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
