import type { ECRClient } from '@aws-sdk/client-ecr';
import type { AwsClientConfig } from '../aws';
import type { EcrTokenSource } from './ecr-logins';

/** The SDK's ECR module, loaded when an image from ECR is first pulled (see lazy-client.ts). */
const ecrSdk = () => import('@aws-sdk/client-ecr');

type EcrSend = Pick<ECRClient, 'send' | 'destroy'>;

/** GetAuthorizationToken through the AWS SDK, with the agent's AWS credentials, one client per Region. */
export class AwsEcrTokenSource implements EcrTokenSource {
  private readonly clients = new Map<string, Promise<EcrSend>>();

  constructor(
    private readonly config: Pick<AwsClientConfig, 'credentials'>,
    private readonly newClient: (region: string) => EcrSend | Promise<EcrSend> =
      async (region) => new (await ecrSdk()).ECRClient({ region, credentials: config.credentials }),
  ) {}

  async authorizationToken(registry: { registryId: string; region: string }): Promise<{ authorizationToken: string; expiresAtMs: number }> {
    let client = this.clients.get(registry.region);
    if (!client) {
      client = Promise.resolve(this.newClient(registry.region));
      this.clients.set(registry.region, client);
    }
    const r = await (await client).send(new (await ecrSdk()).GetAuthorizationTokenCommand({ registryIds: [registry.registryId] }));
    const data = r.authorizationData?.[0];
    if (!data?.authorizationToken || !data.expiresAt) throw new Error(`ECR returned no authorization data for registry ${registry.registryId}`);
    return { authorizationToken: data.authorizationToken, expiresAtMs: data.expiresAt.getTime() };
  }

  close(): void {
    for (const c of this.clients.values()) void c.then((client) => client.destroy(), () => {});
  }
}
