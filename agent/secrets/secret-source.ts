/** Where the agent reads container secrets from: Secrets Manager and SSM Parameter Store. */
export interface SecretSource {
  /** A secret's SecretString (AWSCURRENT unless a stage or version id is given). */
  secretString(ref: { secretId: string; versionStage?: string; versionId?: string }): Promise<string>;
  /** Parameters by name or ARN, decrypted; what is not found is listed in `invalid`. */
  parameters(refs: readonly string[]): Promise<{ found: Map<string, string>; invalid: string[] }>;
}

/** A source call that failed, in the service's words (`ResourceNotFoundException: ...`). */
export class SecretSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretSourceError';
  }
}
