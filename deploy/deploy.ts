import { CloudFormationClient, DescribeStackResourceCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AGENT_BUNDLE_FILE, agentBundleKey } from './host-user-data';

/** What a deploy needs from the account that the stack cannot make by itself. */
const REQUIRED = {
  BERTH_VPC_ID: 'the VPC the hosts run in (vpc-...)',
  BERTH_SUBNET_IDS: 'comma-separated subnets of that VPC the hosts launch into (subnet-...)',
} as const;

/** The stack's side of a deploy, behind the two clients (mocked in tests). */
export interface StackPort {
  endpoint(stackName: string): Promise<string>;
  artifactsBucket(stackName: string): Promise<string>;
  upload(bucket: string, key: string, body: Buffer): Promise<void>;
}

export const awsStack = (region: string): StackPort => {
  const cfn = new CloudFormationClient({ region });
  // Against LocalStack (AWS_ENDPOINT_URL), buckets are addressed by path: no bucket.localhost names.
  const s3 = new S3Client({ region, forcePathStyle: process.env.AWS_ENDPOINT_URL !== undefined });
  return {
    async endpoint(stackName) {
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
      const url = stack?.Outputs?.find((o) => o.OutputKey === 'HttpApiUrl')?.OutputValue;
      if (!url) throw new Error(`stack ${stackName} has no HttpApiUrl output`);
      return url;
    },
    async artifactsBucket(stackName) {
      const r = await cfn.send(new DescribeStackResourceCommand({ StackName: stackName, LogicalResourceId: 'AgentArtifactsBucket' }));
      const bucket = r.StackResourceDetail?.PhysicalResourceId;
      if (!bucket) throw new Error(`stack ${stackName} has no AgentArtifactsBucket`);
      return bucket;
    },
    async upload(bucket, key, body) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/javascript' }));
    },
  };
};

/**
 * After `osls deploy`: puts the agent bundle the launch template names (agent/<sha256>.js, the
 * file packaging built) into the stack's bucket, and says where the stack is and what to run next.
 */
export async function publishAgent(
  stack: StackPort, stage: string, log: (line: string) => void, bundleFile = AGENT_BUNDLE_FILE,
): Promise<{ endpoint: string; key: string }> {
  const stackName = `berth-${stage}`;
  const body = readFileSync(bundleFile);
  const key = agentBundleKey(createHash('sha256').update(body).digest('hex'));
  const bucket = await stack.artifactsBucket(stackName);
  log(`deploy: uploading the agent bundle (${(body.length / 1024).toFixed(0)} KiB) to s3://${bucket}/${key}`);
  await stack.upload(bucket, key, body);
  const endpoint = await stack.endpoint(stackName);
  log(`deploy: done. The ECS API is at ${endpoint}`);
  log('  next: make the stack\'s first operator key, then a user\'s:');
  log(`    npm run keys -- bootstrap --stage ${stage}`);
  log(`    BERTH_ENDPOINT=${endpoint} AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... npm run keys -- create`);
  return { endpoint, key };
}

const osls = (args: string[]) => new Promise<void>((resolve, reject) => {
  const child = spawn(join(__dirname, '..', 'node_modules', '.bin', 'osls'), args, { stdio: 'inherit' });
  child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`osls ${args.join(' ')} exited with ${code}`))));
});

/** `npm run deploy -- [--stage dev] [--region us-east-1]`. */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { stage: { type: 'string', default: 'dev' }, region: { type: 'string', default: 'us-east-1' } } });
  const missing = Object.entries(REQUIRED).filter(([name]) => !process.env[name]);
  if (missing.length > 0) {
    console.error(`deploy: set ${missing.map(([name, what]) => `${name} (${what})`).join(' and ')}`);
    process.exit(2);
  }
  console.log(`deploy: packaging and deploying stage ${values.stage} to ${values.region} with osls (bundles the functions and the agent)`);
  await osls(['deploy', '--stage', values.stage!, '--region', values.region!]);
  await publishAgent(awsStack(values.region!), values.stage!, console.log);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`deploy: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  });
}
