import fc from 'fast-check';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../shared/auth/sigv4';
import { signRequest } from '../../shared/agent-wire/sign-request';
import { AgentApiError, signedCall } from '../../shared/agent-wire/signed-call';

const KEY = { accessKeyId: 'AKIDHOST', secretAccessKey: 'host-secret' };
const SIGNED_AT = Date.UTC(2026, 11, 6, 21, 0, 0);

/** What verifySignature takes: the request as a server reads it. */
function incoming(url: URL, headers: Record<string, string>, body: Buffer) {
  return {
    method: 'POST', path: url.pathname, query: Object.fromEntries(url.searchParams), body,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

const secretOf = (secrets: Record<string, string>) => async (id: string) => secrets[id];

describe('signRequest', () => {
  it('signs as the SDKs sign: the server\'s verifier (@smithy/signature-v4) accepts every request it signs', async () => {
    const segment = fc.stringMatching(/^[\w.~!*'()@:$&+,;= -]{1,12}$/);
    await fc.assert(fc.asyncProperty(
      fc.array(segment, { maxLength: 3 }),
      fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom('us-east-1', 'eu-west-3'),
      fc.option(fc.stringMatching(/^[A-Za-z0-9]{8,20}$/), { nil: undefined }),
      fc.stringMatching(/^[A-Za-z]{1,20}$/),
      async (segments, query, bytes, region, sessionToken, operation) => {
        // Prepare
        const url = new URL(`https://api.example:8443/${segments.map(encodeURIComponent).join('/')}`);
        for (const [k, v] of Object.entries(query)) url.searchParams.append(k, v);
        const body = Buffer.from(bytes);
        const credentials = { ...KEY, sessionToken };

        // Act
        const headers = signRequest({
          method: 'POST', url, body, service: 'ecs', region, credentials, signedAt: new Date(SIGNED_AT),
          headers: { host: url.host, 'Content-Type': 'application/x-amz-json-1.1', 'x-amz-target': `BerthAgent.${operation}` },
        });

        // Assess
        const verified = await verifySignature(incoming(url, headers, body), secretOf({ [KEY.accessKeyId]: KEY.secretAccessKey }), { now: SIGNED_AT, services: ['ecs'] });
        expect(verified).toEqual({ accessKeyId: KEY.accessKeyId, region, service: 'ecs' });
      },
    ), { numRuns: 60 });
  });

  it.each([
    ['another secret', { secrets: { [KEY.accessKeyId]: 'not-the-secret' }, tamper: (b: Buffer) => b }],
    ['a changed body', { secrets: { [KEY.accessKeyId]: KEY.secretAccessKey }, tamper: (b: Buffer) => Buffer.concat([b, Buffer.from(' ')]) }],
  ])('signs nothing the verifier would take with %s', async (_, { secrets, tamper }) => {
    // Prepare
    const url = new URL('http://127.0.0.1:4566/agent');
    const body = Buffer.from('{"hostId":"h-1"}');
    const headers = signRequest({
      method: 'POST', url, body, service: 'ecs', region: 'us-east-1', credentials: KEY, signedAt: new Date(SIGNED_AT),
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'BerthAgent.Heartbeat' },
    });

    // Act
    const verifying = verifySignature(incoming(url, headers, tamper(body)), secretOf(secrets), { now: SIGNED_AT, services: ['ecs'] });

    // Assess
    await expect(verifying).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });
});

describe('signedCall', () => {
  let server: Server;
  let url: string;
  let connections: number;
  /** How the server answers the next request: status, body, or never. */
  let answer: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

  beforeEach(async () => {
    connections = 0;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => answer(req, Buffer.concat(chunks), res));
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/agent`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const json = (status: number, body: object) => (_: IncomingMessage, __: Buffer, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  };

  it('sends a signed JSON 1.1 call the server verifies, and keeps its connection for the next', async () => {
    // Prepare
    const seen: { target?: string; body: unknown; accessKeyId: string }[] = [];
    answer = (req, body, res) => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      void verifySignature({ method: req.method!, path: req.url!, query: {}, headers, body }, secretOf({ [KEY.accessKeyId]: KEY.secretAccessKey }), { now: Date.now(), services: ['ecs'] })
        .then((v) => {
          seen.push({ target: req.headers['x-amz-target'] as string, body: JSON.parse(body.toString()), accessKeyId: v.accessKeyId });
          json(200, { applied: true })(req, body, res);
        }, (e: Error) => json(403, { __type: e.name, message: e.message })(req, body, res));
    };

    // Act
    const first = await signedCall<{ applied: boolean }>({ url, target: 'BerthAgent.Heartbeat', body: { hostId: 'h-1' }, credentials: KEY, region: 'us-east-1' });
    const second = await signedCall<{ applied: boolean }>({ url, target: 'BerthAgent.ReportTaskState', body: { hostId: 'h-1', taskId: 't-1' }, credentials: KEY, region: 'us-east-1' });

    // Assess
    expect([first, second]).toEqual([{ applied: true }, { applied: true }]);
    expect(seen).toEqual([
      { target: 'BerthAgent.Heartbeat', body: { hostId: 'h-1' }, accessKeyId: KEY.accessKeyId },
      { target: 'BerthAgent.ReportTaskState', body: { hostId: 'h-1', taskId: 't-1' }, accessKeyId: KEY.accessKeyId },
    ]);
    expect(connections).toBe(1);
  });

  it('sends an unsigned call without an Authorization header (a first registration)', async () => {
    // Prepare
    let authorization: string | undefined = 'unset';
    answer = (req, body, res) => {
      authorization = req.headers.authorization;
      json(200, { hostId: 'h-1' })(req, body, res);
    };

    // Act
    const r = await signedCall({ url, target: 'BerthAgent.RegisterHost', body: { bootstrapToken: 'tok' }, region: 'us-east-1' });

    // Assess
    expect(r).toEqual({ hostId: 'h-1' });
    expect(authorization).toBeUndefined();
  });

  it.each([
    ['an API error', json(400, { __type: 'InvalidParameterException', message: 'bad host' }), { type: 'InvalidParameterException', message: 'InvalidParameterException: bad host', status: 400 }],
    ['an error without a body it can read', (_: IncomingMessage, __: Buffer, res: ServerResponse) => res.writeHead(502, 'Bad Gateway').end('<html>oops</html>'), { type: 'Error', message: 'Error: Bad Gateway', status: 502 }],
  ])('throws AgentApiError for %s', async (_, respond, expected) => {
    // Prepare
    answer = respond;

    // Act
    const calling = signedCall({ url, target: 'BerthAgent.Heartbeat', body: {}, credentials: KEY, region: 'us-east-1' });

    // Assess
    await expect(calling).rejects.toBeInstanceOf(AgentApiError);
    await expect(calling).rejects.toMatchObject(expected);
  });

  it('gives up once its timeout passes without an answer', async () => {
    // Prepare: the server reads the call and never answers.
    answer = () => {};

    // Act
    const calling = signedCall({ url, target: 'BerthAgent.PollAssignments', body: {}, credentials: KEY, region: 'us-east-1', timeoutMs: 100 });

    // Assess
    await expect(calling).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('rejects when nothing listens', async () => {
    // Prepare
    const closed = url;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    server = createServer();
    server.listen(0);

    // Act and assess
    await expect(signedCall({ url: closed, target: 'BerthAgent.Heartbeat', body: {}, region: 'us-east-1' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
