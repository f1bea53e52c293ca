import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isQueryRequest } from '../shared/aws-protocol/query';

type Handler = (event: APIGatewayProxyEventV2, context: any) => Promise<APIGatewayProxyStructuredResultV2>;

/** How long an idle kept-alive connection stays open. */
const KEEP_ALIVE_MS = 60_000;

/** Past this the local server stops reading, as API Gateway does at its payload limit. */
const MAX_READ_BYTES = 10 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_READ_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What API Gateway's HTTP API hands a Lambda (payload format 2.0), built from a local request. */
function toEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return {
    version: '2.0',
    routeKey: `${req.method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    // API Gateway joins a repeated parameter's values with commas.
    ...(url.search ? { queryStringParameters: Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')])) } : {}),
    headers,
    requestContext: {
      accountId: '000000000000', apiId: 'local', domainName: 'localhost', domainPrefix: 'localhost',
      http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '', userAgent: headers['user-agent'] ?? '' },
      requestId: '', routeKey: `${req.method} ${url.pathname}`, stage: '$default', time: new Date().toISOString(), timeEpoch: Date.now(),
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

export type Routes = Record<string, Handler>;

// One route for several JSON APIs, by X-Amz-Target prefix: the protocol layer's, as functions/api.ts uses it on AWS.
export { byTarget } from '../shared/aws-protocol/dispatch';

/**
 * Serves Lambda handlers over HTTP as API Gateway would: `POST /` goes to the ECS API, other
 * routes (the agent API) to theirs.
 */
export async function serve(routes: Routes, port = 0, host = '127.0.0.1'): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  // Requests being handled: close() waits for them, so none still uses the store after it.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handled = handle(req, res);
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req);
      if (body === 'too-large') {
        // Shaped as the APIs shape their errors, so clients parse it like any other refusal.
        res.writeHead(413, { 'content-type': 'application/x-amz-json-1.1', connection: 'close' });
        res.end(JSON.stringify({ __type: 'ClientException', message: `Request body exceeds ${MAX_READ_BYTES} bytes.` }));
        return;
      }
      const event = toEvent(req, body);
      // `ANY /first/*` serves every deeper path under /first, as a REST API's `{proxy+}` route.
      const handler = routes[event.routeKey] ?? routes[`ANY ${event.rawPath}`] ?? routes[`ANY /${event.rawPath.split('/')[1]}/*`];
      if (!handler) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Not Found' }));
        return;
      }
      const result = await handler(event, {});
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  };
  // A client's agent keeps idle sockets and drops one a little before the server's advertised
  // idle timeout; a client held busy past that moment (a loaded machine) can still send on a
  // socket the server is closing, and one without retries (the tests') reports ECONNRESET or
  // "socket hang up": seen twice in one loaded full run. Node's 5 s default closed sockets
  // between most calls of a test file; a minute, a load balancer's usual idle timeout, closes
  // few while clients are active. Headers must still be allowed to take longer.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${bound}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await closed;
    },
  };
}
