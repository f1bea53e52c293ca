import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The IAM service prefix of each AWS SDK v3 client package the code uses. */
const SERVICE_OF: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-scheduler': 'scheduler',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-ecr': 'ecr',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-sqs': 'sqs',
};

/** lib-dynamodb's document commands and the DynamoDB actions they call. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', Scan: 'Scan',
  BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem', TransactGet: 'TransactGetItems', TransactWrite: 'TransactWriteItems',
};

/** Commands whose IAM action is not their name. */
const ACTION_OF_COMMAND: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

/**
 * The AWS actions the code bundled from `entry` can call: every `new XCommand(` in the repo's own
 * modules esbuild keeps in the bundle (tree-shaken as serverless-esbuild bundles it), named by
 * the package it is imported from. Derived from the code, so a grant cannot drift from it.
 */
export async function sdkActionsOf(repo: string, entry: string): Promise<string[]> {
  const r = await build({
    entryPoints: [resolve(repo, entry)], bundle: true, write: false, metafile: true, platform: 'node', format: 'cjs', logLevel: 'silent',
    outfile: 'out.js', treeShaking: true,
  });
  const output = Object.values(r.metafile.outputs)[0];
  const own = Object.keys(output.inputs).filter((f) => !f.includes('node_modules') && f.endsWith('.ts'));
  const actions = new Set<string>();
  for (const file of own) {
    const text = readFileSync(resolve(repo, file), 'utf8');
    const packageOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/[\w-]+)'/g)) {
      for (const name of m[1].split(',').map((n) => n.replace(/^\s*type\s+/, '').trim().split(/\s+as\s+/).pop()!)) packageOf.set(name, m[2]);
    }
    for (const m of text.matchAll(/new\s+(\w+)Command\s*\(/g)) {
      const pkg = packageOf.get(`${m[1]}Command`);
      if (pkg === '@aws-sdk/lib-dynamodb') actions.add(`dynamodb:${DOCUMENT_COMMANDS[m[1]] ?? m[1]}`);
      else if (pkg && SERVICE_OF[pkg]) {
        const action = `${SERVICE_OF[pkg]}:${m[1]}`;
        actions.add(ACTION_OF_COMMAND[action] ?? action);
      }
    }
  }
  return [...actions].sort();
}
