import type { AgentClient } from './client';

/**
 * How the agent's AWS SDK clients (Secrets Manager, SSM, CloudWatch Logs, ECR) are configured. On
 * AWS they take the instance profile's credentials from the SDK's default chain, or a task
 * execution role's (execution-access.ts). Locally they call
 * the local mode's endpoint, which serves small slices of those services, signed with this
 * host's own key: the same code runs in both places.
 */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  /** A host key locally; a task execution role's session on AWS (execution-access.ts); the SDK's default chain unless given. */
  credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>;
}

/** `endpoint` set (BERTH_AWS_ENDPOINT): the local slices, signed with the host key; unset: AWS itself. */
export function agentAwsConfig(client: AgentClient, { region, endpoint }: { region: string; endpoint?: string }): AwsClientConfig {
  if (!endpoint) return { region };
  return { region, endpoint, credentials: async () => client.hostCredentials() };
}
