import type { AwsClientConfig } from '../aws';
import { LazyClient } from '../lazy-client';
import { type SecretSource, SecretSourceError } from './secret-source';

/** GetParameters takes at most this many names per call. */
const PARAMETERS_PER_CALL = 10;

const described = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/**
 * The AWS SDK clients as the secret source: on AWS they call Secrets Manager and SSM with the
 * instance's role; locally the local endpoint's slices, signed with the host's key.
 */
export class AwsSecretSource implements SecretSource {
  private readonly secretsManager;
  private readonly ssm;

  /** Each client is loaded when a task first asks for a secret of its kind (lazy-client.ts). */
  constructor(config: AwsClientConfig) {
    const options = { region: config.region, endpoint: config.endpoint, credentials: config.credentials };
    this.secretsManager = new LazyClient(() => import('@aws-sdk/client-secrets-manager'), (sdk) => new sdk.SecretsManagerClient(options));
    this.ssm = new LazyClient(() => import('@aws-sdk/client-ssm'), (sdk) => new sdk.SSMClient(options));
  }

  async secretString(ref: { secretId: string; versionStage?: string; versionId?: string }): Promise<string> {
    let r;
    try {
      const { sdk, client } = await this.secretsManager.get();
      r = await client.send(new sdk.GetSecretValueCommand({ SecretId: ref.secretId, VersionStage: ref.versionStage, VersionId: ref.versionId }));
    } catch (e) {
      throw new SecretSourceError(`failed to fetch secret ${ref.secretId} from secrets manager: ${described(e)}`, { cause: e });
    }
    if (r.SecretString === undefined) throw new SecretSourceError(`secret ${ref.secretId} has no SecretString; ECS injects only string secrets`);
    return r.SecretString;
  }

  async parameters(refs: readonly string[]): Promise<{ found: Map<string, string>; invalid: string[] }> {
    const found = new Map<string, string>();
    const invalid: string[] = [];
    for (let i = 0; i < refs.length; i += PARAMETERS_PER_CALL) {
      const batch = refs.slice(i, i + PARAMETERS_PER_CALL);
      let r;
      try {
        const { sdk, client } = await this.ssm.get();
        r = await client.send(new sdk.GetParametersCommand({ Names: batch, WithDecryption: true }));
      } catch (e) {
        throw new SecretSourceError(`failed to fetch parameters from ssm: ${described(e)}`, { cause: e });
      }
      for (const ref of batch) {
        const p = r.Parameters?.find((x) => x.Name === ref || x.ARN === ref);
        if (p?.Value !== undefined) found.set(ref, p.Value);
        else invalid.push(ref);
      }
    }
    return { found, invalid };
  }

  close(): void {
    this.secretsManager.destroy();
    this.ssm.destroy();
  }
}
