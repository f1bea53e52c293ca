import { ExpiringCache } from '../expiring-cache';
import type { AssumeRole, RoleCredentials } from './sts-assume-role';

/** An execution role session's length: STS's default hour. */
export const EXECUTION_ROLE_SESSION_SECONDS = 3600;

/** Credentials this close to their expiry are fetched again, so no pull or log batch starts with some about to lapse. */
export const EXECUTION_ROLE_REFRESH_MARGIN_MS = 10 * 60_000;

/** STS session names: 2 to 64 of these characters. */
const NOT_IN_SESSION_NAME = /[^\w+=,.@-]/g;

/**
 * Task execution roles' credentials on AWS, assumed from the host's own role (STS AssumeRole) and
 * kept per role until shortly before they expire: every task naming one role shares one
 * session. The session is named after the host, so CloudTrail shows which host acted for the
 * role. A failure is not kept: the next task asks again.
 */
export class ExecutionRoles {
  private readonly cache: ExpiringCache<RoleCredentials>;
  private readonly sessionName: string;

  constructor(private readonly o: { assumeRole: AssumeRole; hostId: string; now: () => number }) {
    this.sessionName = `berth-${o.hostId}`.replace(NOT_IN_SESSION_NAME, '-').slice(0, 64);
    this.cache = new ExpiringCache({ expiresAtMs: (c) => c.expiration, marginMs: EXECUTION_ROLE_REFRESH_MARGIN_MS, now: o.now });
  }

  credentials(roleArn: string): Promise<RoleCredentials> {
    return this.cache.get(roleArn, () => this.o.assumeRole({ roleArn, sessionName: this.sessionName, durationSeconds: EXECUTION_ROLE_SESSION_SECONDS })
      .catch((e: unknown) => {
        throw new Error(`unable to assume the task execution role ${roleArn}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
      }));
  }
}
