import { ExpiringCache } from '../expiring-cache';
import type { RegistryAuth } from '../runtime/container-runtime';

/**
 * The port to ECR's GetAuthorizationToken: a token for one registry (an account in one Region),
 * and when it expires. The AWS adapter is aws-ecr-token-source.ts.
 */
export interface EcrTokenSource {
  authorizationToken(registry: { registryId: string; region: string }): Promise<{ authorizationToken: string; expiresAtMs: number }>;
}

/** A token this close to its expiry is fetched again, so no pull starts with one about to lapse. */
export const ECR_REFRESH_MARGIN_MS = 5 * 60_000;

/** ECR could not give a login; the message is ECS's stoppedReason. */
export class EcrLoginError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`CannotPullContainerError: unable to get an ECR authorization token: ${detail}`, options);
    this.name = 'EcrLoginError';
  }
}

/**
 * ECR logins, one per registry, each kept until shortly before it expires (ECR's last 12 hours),
 * as the ECS agent caches them: launches that pull from one registry share one token.
 */
export class EcrLogins {
  private readonly cache: ExpiringCache<{ auth: Omit<RegistryAuth, 'serverAddress'>; expiresAtMs: number }>;

  constructor(private readonly source: EcrTokenSource, now: () => number) {
    this.cache = new ExpiringCache({ expiresAtMs: (e) => e.expiresAtMs, marginMs: ECR_REFRESH_MARGIN_MS, now });
  }

  async login(registry: { registryId: string; region: string }, serverAddress: string): Promise<RegistryAuth> {
    const entry = await this.cache.get(`${registry.region}/${registry.registryId}`, () => this.fetch(registry));
    return { ...entry.auth, serverAddress };
  }

  private async fetch(registry: { registryId: string; region: string }) {
    let token;
    try {
      token = await this.source.authorizationToken(registry);
    } catch (e) {
      throw new EcrLoginError(e instanceof Error ? `${e.name}: ${e.message}` : String(e), { cause: e });
    }
    // The token is base64 of `AWS:password`.
    const decoded = Buffer.from(token.authorizationToken, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new EcrLoginError('the authorization token is not base64 of username:password');
    return { auth: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, expiresAtMs: token.expiresAtMs };
  }
}
