import type { AgentClient } from './client';

/**
 * How the agent's AWS SDK clients (Secrets Manager, SSM, CloudWatch Logs) are configured. On AWS
 * they take the instance profile's credentials from the SDK's default chain. Locally they call
 * the local mode's endpoint, which serves small slices of those services, signed with this
 * host's own key: the same code runs in both places.
 */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string }>;
}

/** `servicesEndpoint` set: the local slices, signed with the host key; unset: AWS itself. */
export function agentAwsConfig(client: AgentClient, env: NodeJS.ProcessEnv = process.env): AwsClientConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = env.BERTH_AWS_ENDPOINT;
  if (!endpoint) return { region };
  return { region, endpoint, credentials: async () => client.hostCredentials() };
}
