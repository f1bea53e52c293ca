import type { STSClient } from '@aws-sdk/client-sts';
import { LazyClient } from '../lazy-client';

/** The SDK's STS module, loaded when a role is first assumed (see lazy-client.ts). */
const stsSdk = () => import('@aws-sdk/client-sts');

/** A role's temporary credentials; `expiration` in epoch ms. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: number;
}

/** The port to STS AssumeRole, from the host's own (instance profile) credentials. */
export type AssumeRole = (request: { roleArn: string; sessionName: string; durationSeconds: number }) => Promise<RoleCredentials>;

/** The thin adapter over @aws-sdk/client-sts: one AssumeRole call, its answer checked. */
export function stsAssumeRole(sts: Pick<STSClient, 'send'>): AssumeRole {
  return async ({ roleArn, sessionName, durationSeconds }) => {
    const r = await sts.send(new (await stsSdk()).AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: durationSeconds }));
    const c = r.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`STS AssumeRole of ${roleArn} answered without credentials`);
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration.getTime() };
  };
}

/** STS's client for the region, made when it is first asked (see lazy-client.ts). */
export function lazySts(region: string): Pick<STSClient, 'send'> {
  return new LazyClient(stsSdk, (sdk) => new sdk.STSClient({ region }));
}
