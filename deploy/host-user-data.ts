import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgent } from '../local/agent-bundle';
import { agentUserData } from '../shared/cloud/aws/user-data';

/** Where the shipped agent bundle goes: beside, not inside, the folders packaging writes and deletes. */
export const AGENT_BUNDLE_FILE = join(__dirname, '..', '.deploy', 'agent.js');

/** The bundle's key in the stack's artifact bucket: named by its hash, so a launch template never points at another file. */
export const agentBundleKey = (sha256: string) => `agent/${sha256}.js`;

/** Stand-ins that agentUserData accepts, swapped for CloudFormation references afterwards. */
const ENDPOINT_MARK = 'https://berth-endpoint.invalid';
const BUCKET_MARK = 'berth-artifacts-bucket';
/** Shaped as a region, as agentUserData checks; it matches no real one. */
const REGION_MARK = 'zz-berthmark-9';

/**
 * The hosts' user data as the launch template's `UserData`: the agent bundled now, its SHA-256
 * checked on the host, fetched from the stack's artifact bucket, and the endpoint the stack's
 * HTTP API. `Fn::Sub` fills in the references; every `${` of the script itself is escaped for it.
 */
export async function hostUserData(): Promise<{ sha256: string; userData: object }> {
  await buildAgent(AGENT_BUNDLE_FILE);
  const sha256 = createHash('sha256').update(readFileSync(AGENT_BUNDLE_FILE)).digest('hex');
  const script = agentUserData({ endpoint: ENDPOINT_MARK, region: REGION_MARK, bundleUrl: `s3://${BUCKET_MARK}/${agentBundleKey(sha256)}`, bundleSha256: sha256 })
    .replaceAll('${', '${!')
    .replaceAll(ENDPOINT_MARK, 'https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}')
    .replaceAll(BUCKET_MARK, '${AgentArtifactsBucket}')
    .replaceAll(REGION_MARK, '${AWS::Region}');
  return { sha256, userData: { 'Fn::Base64': { 'Fn::Sub': script } } };
}
