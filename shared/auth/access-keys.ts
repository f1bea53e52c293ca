import { randomBytes, randomInt } from 'node:crypto';
import type { Berth } from '../context';
import type { AccessKeyRecord } from '../store';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

type Principal = AccessKeyRecord['principal'];

/** Who may call the user-facing APIs (ECS and the local AWS slices): users, and operators. */
export const USER_PRINCIPALS: readonly Principal[] = ['user', 'operator'];
export const isUserKey = (key: AccessKeyRecord | undefined): boolean => key !== undefined && USER_PRINCIPALS.includes(key.principal);

const ID_PREFIX: Record<Principal, string> = { user: 'BK', operator: 'BO', host: 'BH', task: 'BT' };

/** Ids in AWS's shape (20 upper-case characters); Berth's start with `BK` for a user, `BO` for an operator, `BH` for a host, `BT` for a task. */
function newAccessKeyId(prefix: string): string {
  let id = prefix;
  while (id.length < 20) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Issues a new access key: for a user of the ECS API, an operator, one host's agent, or one task. */
export async function issueAccessKey(
  b: Berth, principal: Principal, hostId?: string, task?: Pick<AccessKeyRecord, 'cluster' | 'taskId' | 'expiresAt'>,
): Promise<Credentials> {
  for (;;) {
    const key: AccessKeyRecord = {
      accessKeyId: newAccessKeyId(ID_PREFIX[principal]),
      secretAccessKey: randomBytes(30).toString('base64'),
      principal, hostId, ...task, status: 'Active', createdAt: b.now(),
    };
    // An id collision is vanishingly rare, and a conditional put makes it harmless.
    if (await b.store.accessKeys.put(key)) return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }
}

/**
 * Revokes every key a host's agent was issued, once the host is written off (LOST) or
 * TERMINATED: whatever still holds them can no longer act as that host. Called after the
 * host's status left ACTIVE and DRAINING, so no key can be recorded on it after this read.
 */
export async function revokeHostKeys(b: Berth, hostId: string): Promise<void> {
  const host = await b.store.hosts.get(hostId);
  for (const accessKeyId of host?.accessKeyIds ?? []) await b.store.accessKeys.revoke(accessKeyId);
}

/** Makes a key given from outside (BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY) a user's or an operator's key. */
export async function adoptAccessKey(b: Berth, credentials: Credentials, principal: 'user' | 'operator' = 'user'): Promise<void> {
  const existing = await b.store.accessKeys.get(credentials.accessKeyId);
  if (existing && existing.secretAccessKey !== credentials.secretAccessKey) throw new Error(`Access key ${credentials.accessKeyId} exists with another secret`);
  if (existing?.principal === 'host') throw new Error(`Access key ${credentials.accessKeyId} is a host's key`);
  if (existing && existing.principal !== principal) await b.store.accessKeys.setPrincipal(credentials.accessKeyId, principal);
  if (!existing) await b.store.accessKeys.put({ ...credentials, principal, status: 'Active', createdAt: b.now() });
}
