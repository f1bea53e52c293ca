import { randomBytes, randomInt } from 'node:crypto';
import type { Berth } from '../context';
import type { AccessKeyRecord } from '../store';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Ids in AWS's shape (20 upper-case characters); Berth's start with `BK` for a user, `BH` for a host. */
function newAccessKeyId(prefix: 'BK' | 'BH'): string {
  let id = prefix;
  while (id.length < 20) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Issues a new access key: for a user of the ECS API, or for one host's agent. */
export async function issueAccessKey(b: Berth, principal: AccessKeyRecord['principal'], hostId?: string): Promise<Credentials> {
  for (;;) {
    const key: AccessKeyRecord = {
      accessKeyId: newAccessKeyId(principal === 'host' ? 'BH' : 'BK'),
      secretAccessKey: randomBytes(30).toString('base64'),
      principal, hostId, status: 'Active', createdAt: b.now(),
    };
    // An id collision is vanishingly rare, and a conditional put makes it harmless.
    if (await b.store.accessKeys.put(key)) return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }
}

/** Makes a key given from outside (BERTH_ACCESS_KEY_ID / BERTH_SECRET_ACCESS_KEY) a user's key. */
export async function adoptAccessKey(b: Berth, credentials: Credentials): Promise<void> {
  const existing = await b.store.accessKeys.get(credentials.accessKeyId);
  if (existing && existing.secretAccessKey === credentials.secretAccessKey) return;
  if (existing) throw new Error(`Access key ${credentials.accessKeyId} exists with another secret`);
  await b.store.accessKeys.put({ ...credentials, principal: 'user', status: 'Active', createdAt: b.now() });
}
