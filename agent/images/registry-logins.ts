import { ecrRegistry, parseImageReference } from '../../shared/domain/image';
import type { ContainerDefinition } from '../../shared/domain/task-definition';
import type { RegistryAuth } from '../runtime/container-runtime';
import { SecretsUnavailableError } from '../secrets/resolve-secrets';
import { type SecretSource, SecretSourceError } from '../secrets/secret-source';
import type { EcrLogins } from './ecr-logins';

/** Docker's name for Docker Hub's registry in a login. */
const DOCKER_HUB = 'https://index.docker.io/v1/';

/**
 * The login a container's pull needs: its `repositoryCredentials` secret (JSON with `username`
 * and `password`, read as its other secrets are), else an ECR token for an ECR image, else
 * none. Errors carry ECS's stoppedReason and never a credential.
 */
export class RegistryLogins {
  constructor(private readonly o: { secrets?: SecretSource; ecr?: EcrLogins }) {}

  async loginFor(container: Pick<ContainerDefinition, 'image' | 'repositoryCredentials'>): Promise<RegistryAuth | undefined> {
    const registry = parseImageReference(container.image).registry;
    const serverAddress = registry ?? DOCKER_HUB;
    const secretId = container.repositoryCredentials?.credentialsParameter;
    if (secretId !== undefined) return { ...(await this.fromSecret(secretId)), serverAddress };
    const ecr = ecrRegistry(registry);
    if (ecr && this.o.ecr) return this.o.ecr.login(ecr, serverAddress);
    return undefined;
  }

  private async fromSecret(secretId: string): Promise<Omit<RegistryAuth, 'serverAddress'>> {
    const what = `unable to retrieve private registry credentials from asm: secret ${secretId}`;
    if (!this.o.secrets) throw new SecretsUnavailableError(`${what}: this host has no secret source configured`);
    let text: string;
    try {
      text = await this.o.secrets.secretString({ secretId });
    } catch (e) {
      const detail = e instanceof SecretSourceError || e instanceof Error ? e.message : String(e);
      throw new SecretsUnavailableError(`${what}: ${detail}`, { cause: e });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new SecretsUnavailableError(`${what} is not JSON with "username" and "password"`);
    }
    const { username, password } = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof password !== 'string' || username === '') {
      throw new SecretsUnavailableError(`${what} has no string "username" and "password"`);
    }
    return { username, password };
  }
}
