import { type HttpAnswer, httpCall } from '../../shared/agent-wire/http-call';

/** EC2's instance metadata service, where every instance finds it. */
export const DEFAULT_IMDS_ENDPOINT = 'http://169.254.169.254';

/** The session token lives only as long as one registration needs it. */
const TOKEN_TTL_SECONDS = 60;
const REQUEST_TIMEOUT_MS = 2_000;

export class ImdsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImdsError';
  }
}

/** The signed instance identity document, as IMDS serves it: the bytes the signature covers. */
export interface InstanceIdentity {
  document: string;
  signature: string;
}

/**
 * A thin client of IMDSv2: a session token first (PUT), then the identity document and its
 * base64 RSA-SHA256 signature. IMDSv1 is never used, so a launch template may require tokens.
 * The base URL is injectable so a test can serve a fake IMDS over local HTTP.
 */
export class ImdsClient {
  constructor(private readonly endpoint = DEFAULT_IMDS_ENDPOINT) {}

  private async request(method: 'PUT' | 'GET', path: string, headers: Record<string, string>): Promise<string> {
    const url = `${this.endpoint.replace(/\/+$/, '')}${path}`;
    let res: HttpAnswer;
    try {
      res = await httpCall({ method, url: new URL(url), headers, timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (e) {
      throw new ImdsError(`IMDS is unreachable at ${url}: ${e instanceof Error ? e.message : e}`, { cause: e });
    }
    if (!res.ok) throw new ImdsError(`IMDS answered ${res.status} to ${method} ${path}`);
    return res.body.toString('utf8');
  }

  private token(): Promise<string> {
    return this.request('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) });
  }

  async instanceIdentity(): Promise<InstanceIdentity> {
    const headers = { 'x-aws-ec2-metadata-token': await this.token() };
    const document = await this.request('GET', '/latest/dynamic/instance-identity/document', headers);
    const signature = await this.request('GET', '/latest/dynamic/instance-identity/signature', headers);
    return { document, signature: signature.replace(/\s+/g, '') };
  }
}
