import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { parseArgs } from 'node:util';
import { OPERATOR_TARGET_PREFIX } from '../shared/agent-wire/constants';
import { AgentApiError, signedCall } from '../shared/agent-wire/signed-call';
import { clientSettings } from './client-settings';

const USAGE = `usage: npm run keys -- create [--operator] | list | revoke ACCESS_KEY_ID   [--json]
       npm run keys -- bootstrap [--stage dev] [--region us-east-1]

Issues, lists and revokes people's access keys through the operator API, signed with an
operator's key: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the key npm start saved in
BERTH_DATA_DIR. BERTH_ENDPOINT names a deployed stack (default: the local mode on BERTH_PORT).
bootstrap makes a deployed stack's first operator key with your own AWS credentials (it invokes
the stack's berth-STAGE-operator-key function).`;

interface KeyView {
  accessKeyId: string;
  secretAccessKey?: string;
  principal: string;
  status: string;
  createdAt?: number;
}

/** `npm run keys`: the people's access keys of a local mode or a deployed stack. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { operator: { type: 'boolean' }, json: { type: 'boolean' }, stage: { type: 'string', default: 'dev' }, region: { type: 'string' } },
  });
  const [verb, keyId, ...rest] = positionals;
  if (verb === 'bootstrap' && keyId === undefined) return bootstrap(values.stage!, values.region);
  const body = verb === 'create' ? { principal: values.operator ? 'operator' : 'user' }
    : verb === 'list' ? {}
      : verb === 'revoke' && keyId ? { accessKeyId: keyId } : undefined;
  if (!body || rest.length > 0 || (verb !== 'revoke' && keyId !== undefined)) {
    console.error(USAGE);
    process.exit(2);
  }
  const { endpoint, region, credentials } = clientSettings('keys');
  if (!credentials) {
    console.error('keys: no operator key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or start Berth once (npm start) to make one');
    process.exit(2);
  }
  const operation = { create: 'CreateAccessKey', list: 'ListAccessKeys', revoke: 'RevokeAccessKey' }[verb as 'create' | 'list' | 'revoke'];
  console.error(`keys: ${operation} at ${endpoint}/operator`);
  const answer = await signedCall<{ accessKey?: KeyView; accessKeys?: KeyView[] }>({
    url: `${endpoint}/operator`, target: `${OPERATOR_TARGET_PREFIX}${operation}`, body, credentials, region,
  });
  if (values.json) {
    console.log(JSON.stringify(answer, null, 2));
    return;
  }
  const keys = answer.accessKeys ?? [answer.accessKey!];
  for (const k of keys) {
    const created = k.createdAt === undefined ? '' : `  created ${new Date(k.createdAt).toISOString()}`;
    console.log(`${k.accessKeyId}  ${k.principal.padEnd(8)}  ${k.status}${created}`);
  }
  if (answer.accessKey?.secretAccessKey) {
    console.log(`\nThe secret is shown this once:\n  export AWS_ACCESS_KEY_ID=${answer.accessKey.accessKeyId} AWS_SECRET_ACCESS_KEY=${answer.accessKey.secretAccessKey}`);
  }
}

/** The stack's first operator key, through the function only the account's own principals may invoke. */
async function bootstrap(stage: string, region: string | undefined): Promise<void> {
  const functionName = `berth-${stage}-operator-key`;
  console.error(`keys: invoking ${functionName} with your AWS credentials`);
  const lambda = new LambdaClient({ region });
  const r = await lambda.send(new InvokeCommand({ FunctionName: functionName }));
  const answer = JSON.parse(Buffer.from(r.Payload ?? []).toString('utf8') || '{}');
  if (r.FunctionError || !answer.accessKeyId) throw new Error(`${functionName} failed: ${answer.errorMessage ?? r.FunctionError ?? 'no key in its answer'}`);
  console.log(`An operator key for the stack (shown this once); with BERTH_ENDPOINT set to the stack's URL:
  export AWS_ACCESS_KEY_ID=${answer.accessKeyId} AWS_SECRET_ACCESS_KEY=${answer.secretAccessKey}
  npm run keys -- create`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  const why = e instanceof AgentApiError || (e instanceof Error && e.name !== 'TypeError')
    ? (e as Error).message
    : `cannot reach Berth (${e instanceof Error ? e.message : e}); is it running (npm start)?`;
  console.error(`keys: ${why}`);
  process.exit(1);
});
