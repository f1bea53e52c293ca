import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import { type ContainerView, type TaskView, containerMetadata, taskMetadata, taskStats } from './metadata';

/**
 * What a task's containers reach on their own loopback (the relay in the pause container, see
 * relay.ts, forwards it to this agent): the task metadata endpoint, the task role's credentials,
 * and, locally, the local mode's AWS endpoint. Each task is served on its own network's gateway
 * address, which only the host holds; the address is reachable from any task (it is the host's),
 * so a request is answered only when it comes from the task's own address and names the task's
 * unguessable id, and credentials only with the task's own token.
 */

/** The port the relay listens on in each task's namespace, and this server on each gateway. ECS reserves it too. */
export const TASK_ENDPOINT_PORT = 51679;
/** Where a task's containers find it: their own loopback. AWS SDKs take container credentials over http only from loopback. */
export const TASK_ENDPOINT_HOST = '127.0.0.1';

export interface TaskRoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch ms. */
  expiration: number;
  roleArn: string;
}

export interface EndpointTask {
  /** Unguessable: every path of the task's carries it. */
  id: string;
  /** What AWS_CONTAINER_AUTHORIZATION_TOKEN holds; only a task with a role has one. */
  token?: string;
  /** The task's own address: requests from any other are refused. */
  address: string;
  /** Its network's gateway: the host's address on that network, where it is served. */
  gateway: string;
  view(): Promise<TaskView>;
  /** The engine's stats of one container, as Docker answers them. */
  stats(runtimeId: string): Promise<object | undefined>;
  credentials?(): Promise<TaskRoleCredentials>;
}

/** A new task's id and token: 128 random bits each. */
export const newEndpointSecrets = () => ({ id: randomBytes(16).toString('hex'), token: randomBytes(24).toString('base64url') });

/** The variables a task's container gets, as ECS sets them (and AWS_ENDPOINT_URL when the AWS endpoint is local). */
export function endpointEnvironment(
  task: { id: string; token?: string }, container: string, o: { region?: string; localAwsEndpoint: boolean },
): Record<string, string> {
  const base = `http://${TASK_ENDPOINT_HOST}:${TASK_ENDPOINT_PORT}`;
  const env: Record<string, string> = {
    ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/${task.id}/${container}`,
    ECS_CONTAINER_METADATA_URI: `${base}/v3/${task.id}/${container}`,
  };
  if (o.region) Object.assign(env, { AWS_REGION: o.region, AWS_DEFAULT_REGION: o.region });
  if (task.token) {
    Object.assign(env, { AWS_CONTAINER_CREDENTIALS_FULL_URI: `${base}/v1/credentials/${task.id}`, AWS_CONTAINER_AUTHORIZATION_TOKEN: task.token });
  }
  if (o.localAwsEndpoint) env.AWS_ENDPOINT_URL = base;
  return env;
}

export interface TaskEndpointsOptions {
  /** Default TASK_ENDPOINT_PORT; tests pass their own. */
  port?: number;
  /** The local mode's AWS endpoint, proxied for the tasks' AWS SDKs; unset on AWS. */
  awsEndpoint?: string;
  log?: (message: string) => void;
}

type Route = { kind: 'container' | 'task' | 'stats' | 'taskStats'; container: string } | { kind: 'credentials' } | { kind: 'aws' };

/**
 * `/v4/ID/CONTAINER[/task][/stats]`, `/v3/...` alike, `/v1/credentials/ID`; `/` goes to the AWS
 * endpoint (where the AWS JSON services answer); nothing else is served, so a task reaches none
 * of the local endpoint's other paths (the agent API, the operator API).
 */
export function route(path: string, id: string): Route | undefined {
  const [pathname] = path.split('?');
  const parts = pathname.split('/').slice(1);
  if (parts[0] === 'v1' && parts[1] === 'credentials') return parts[2] === id && parts.length === 3 ? { kind: 'credentials' } : undefined;
  if (parts[0] === 'v4' || parts[0] === 'v3') {
    if (parts[1] !== id || !parts[2]) return undefined;
    const rest = parts.slice(3).join('/');
    const kind = ({ '': 'container', task: 'task', stats: 'stats', 'task/stats': 'taskStats' } as const)[rest];
    return kind && { kind, container: parts[2] };
  }
  return pathname === '/' ? { kind: 'aws' } : undefined;
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The source address as the socket gives it, without an IPv4-mapped IPv6 prefix. */
const sourceOf = (req: IncomingMessage) => (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? JSON.stringify({ message: body }) : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' }).end(text);
}

export class TaskEndpoints {
  private readonly servers = new Map<string, { server: Server; task: EndpointTask }>();

  constructor(private readonly o: TaskEndpointsOptions = {}) {}

  get port(): number {
    return this.o.port ?? TASK_ENDPOINT_PORT;
  }

  /** Whether tasks' AWS SDKs are pointed at the agent's local AWS endpoint. */
  get proxiesAws(): boolean {
    return this.o.awsEndpoint !== undefined;
  }

  /** Serves the task on its gateway; a task served already is served anew. Resolves with the port (tests listen on any). */
  async open(task: EndpointTask): Promise<number> {
    await this.close(task.id);
    const server = createServer((req, res) => {
      this.handle(task, req, res).catch((e) => {
        this.o.log?.(`task endpoint: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) send(res, 500, 'The task endpoint failed');
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: this.port, host: task.gateway }, () => resolve());
    });
    this.servers.set(task.id, { server, task });
    return (server.address() as { port: number }).port;
  }

  async close(id: string): Promise<void> {
    const s = this.servers.get(id);
    if (!s) return;
    this.servers.delete(id);
    s.server.closeAllConnections();
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((id) => this.close(id)));
  }

  private async handle(task: EndpointTask, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (sourceOf(req) !== task.address) return send(res, 403, 'Only the task itself may ask');
    const r = route(req.url ?? '/', task.id);
    if (!r) return send(res, 404, 'No such task or container');
    if (r.kind === 'aws') return req.method === 'POST' ? this.proxy(req, res) : send(res, 405, 'Method not allowed');
    if (req.method !== 'GET') return send(res, 405, 'Method not allowed');
    if (r.kind === 'credentials') {
      const given = req.headers.authorization;
      if (!task.token || !task.credentials) return send(res, 404, 'The task has no role');
      if (!given) return send(res, 401, 'Authorization token missing');
      if (!sameSecret(given, task.token)) return send(res, 403, 'Authorization token not accepted');
      const c = await task.credentials();
      return send(res, 200, {
        AccessKeyId: c.accessKeyId, SecretAccessKey: c.secretAccessKey, Token: c.sessionToken,
        Expiration: new Date(c.expiration).toISOString(), RoleArn: c.roleArn,
      });
    }
    const view = await task.view();
    const container = view.containers.find((c) => c.name === r.container);
    if (!container) return send(res, 404, 'No such task or container');
    switch (r.kind) {
      case 'container': return send(res, 200, containerMetadata(view, container));
      case 'task': return send(res, 200, taskMetadata(view));
      case 'stats': return send(res, 200, container.runtimeId ? (await task.stats(container.runtimeId)) ?? {} : {});
      case 'taskStats': {
        const created = view.containers.filter((c): c is ContainerView & { runtimeId: string } => c.runtimeId !== undefined);
        return send(res, 200, taskStats(await Promise.all(created.map(async (c) => ({ runtimeId: c.runtimeId, stats: await task.stats(c.runtimeId) })))));
      }
    }
  }

  /**
   * Forwards a task's AWS call to the local endpoint as it came: the Host header the SDK signed
   * goes along, so the signature still verifies there.
   */
  private proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.o.awsEndpoint;
    if (!target) {
      send(res, 404, 'No such path');
      return Promise.resolve();
    }
    const url = new URL(req.url ?? '/', target);
    return new Promise((resolve, reject) => {
      const out = httpRequest(url, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res).on('finish', () => resolve()).on('error', reject);
      });
      out.on('error', reject);
      req.pipe(out);
    });
  }
}
