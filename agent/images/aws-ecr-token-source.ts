import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { AwsClientConfig } from '../aws';
import type { EcrTokenSource } from './ecr-logins';

/** GetAuthorizationToken through the AWS SDK, with the agent's AWS credentials, one client per Region. */
export class AwsEcrTokenSource implements EcrTokenSource {
  private readonly clients = new Map<string, ECRClient>();

  constructor(private readonly config: Pick<AwsClientConfig, 'credentials'>, private readonly newClient = (region: string) => new ECRClient({ region, credentials: config.credentials })) {}

  async authorizationToken(registry: { registryId: string; region: string }): Promise<{ authorizationToken: string; expiresAtMs: number }> {
    let client = this.clients.get(registry.region);
    if (!client) {
      client = this.newClient(registry.region);
      this.clients.set(registry.region, client);
    }
    const r = await client.send(new GetAuthorizationTokenCommand({ registryIds: [registry.registryId] }));
    const data = r.authorizationData?.[0];
    if (!data?.authorizationToken || !data.expiresAt) throw new Error(`ECR returned no authorization data for registry ${registry.registryId}`);
    return { authorizationToken: data.authorizationToken, expiresAtMs: data.expiresAt.getTime() };
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
  }
}
