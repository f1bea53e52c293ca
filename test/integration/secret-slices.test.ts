import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { SEALING_KEY_FILE } from '../../shared/cloud/local/sealer';
import { secretSlices } from '../../local/services/secret-slices';
import { SECRETS_TABLE } from '../../local/services/secrets-manager/secret-store';
import { PARAMETERS_TABLE } from '../../local/services/ssm/parameter-store';
import { byTarget, serve } from '../../local/server';
import { type Credentials, adoptAccessKey, issueAccessKey } from '../../shared/auth/access-keys';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { createDocumentClient } from '../../shared/store/client';
import { awsCli } from '../support/aws-cli';
import { TEST_CREDENTIALS } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

// Each AWS CLI call starts a Python process: seconds apiece on a loaded machine.
jest.setTimeout(300_000);

const ACCOUNT_REGION = 'arn:aws:secretsmanager:us-east-1:000000000000';
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

describe('the local Secrets Manager and Parameter Store slices', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let server: { url: string; close(): Promise<void> };
  let hostKey: Credentials;
  let dataDir: string;
  let sm: SecretsManagerClient;
  let ssm: SSMClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-slices-'));
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    hostKey = await issueAccessKey(berth, 'host', 'local-test-host');
    const slices = (await secretSlices(berth, { dataDir, dynamoEndpoint: dynamo.endpoint, log: () => {} })).handlers;
    server = await serve({ 'POST /': byTarget(slices, createApiHandler(() => berth, { log: () => {} })) });
    const client = { endpoint: server.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 };
    sm = new SecretsManagerClient(client);
    ssm = new SSMClient(client);
  });

  afterAll(async () => {
    sm.destroy();
    ssm.destroy();
    berth.workflows.close();
    await server.close();
    await dynamo.close();
  });

  const cli = (service: string, args: string[], credentials?: Credentials) => awsCli(server.url, service, args, credentials);

  /** A raw signed call, for bodies no SDK or CLI would send. */
  const raw = async (service: 'secretsmanager' | 'ssm', operation: string, body: object, credentials = TEST_CREDENTIALS) => {
    const target = service === 'ssm' ? `AmazonSSM.${operation}` : `secretsmanager.${operation}`;
    const res = await signedFetch(server.url, { target, body: JSON.stringify(body), service, credentials });
    return { status: res.status, body: (await res.json()) as { __type?: string; message?: string } };
  };

  const tables = async () => {
    const db = createDocumentClient({ endpoint: dynamo.endpoint });
    const scan = async (t: string) => ((await db.send(new ScanCommand({ TableName: t, ConsistentRead: true }))).Items ?? [])
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    const out = { secrets: await scan(SECRETS_TABLE.name), parameters: await scan(PARAMETERS_TABLE.name) };
    db.destroy();
    return out;
  };

  describe('Secrets Manager', () => {
    it("creates a secret through the AWS CLI, with an ARN of Secrets Manager's form", async () => {
      // prepare
      const name = unique('app/db');
      // act
      const created = await cli('secretsmanager', ['create-secret', '--name', name, '--secret-string', 'first']);
      const got = await cli('secretsmanager', ['get-secret-value', '--secret-id', created.json.ARN]);
      // assess
      expect(created.code).toBe(0);
      expect(created.json.ARN).toMatch(new RegExp(`^${ACCOUNT_REGION}:secret:${name}-[A-Za-z0-9]{6}$`));
      expect(got.json).toMatchObject({ Name: name, SecretString: 'first', VersionStages: ['AWSCURRENT'], VersionId: created.json.VersionId });
    });

    it('finds a secret by name, full ARN and partial ARN', async () => {
      const name = unique('by-ref');
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
      const partial = ARN!.slice(0, -7);
      for (const SecretId of [name, ARN!, partial]) {
        expect((await sm.send(new GetSecretValueCommand({ SecretId }))).SecretString).toBe('v');
      }
    });

    it('moves AWSCURRENT to the new version and AWSPREVIOUS to the old one on a put', async () => {
      // prepare
      const name = unique('rotating');
      const v1 = await cli('secretsmanager', ['create-secret', '--name', name, '--secret-string', 'one']);
      // act
      const v2 = await cli('secretsmanager', ['put-secret-value', '--secret-id', name, '--secret-string', 'two']);
      const v3 = await cli('secretsmanager', ['put-secret-value', '--secret-id', name, '--secret-string', 'three']);
      const current = await cli('secretsmanager', ['get-secret-value', '--secret-id', name]);
      const previous = await cli('secretsmanager', ['get-secret-value', '--secret-id', name, '--version-stage', 'AWSPREVIOUS']);
      const byId = await cli('secretsmanager', ['get-secret-value', '--secret-id', name, '--version-id', v2.json.VersionId]);
      const described = await cli('secretsmanager', ['describe-secret', '--secret-id', name]);
      const gone = await cli('secretsmanager', ['get-secret-value', '--secret-id', name, '--version-id', v1.json.VersionId]);
      // assess
      expect(v3.json.VersionStages).toEqual(['AWSCURRENT']);
      expect(current.json).toMatchObject({ SecretString: 'three', VersionId: v3.json.VersionId });
      expect(previous.json).toMatchObject({ SecretString: 'two', VersionId: v2.json.VersionId, VersionStages: ['AWSPREVIOUS'] });
      expect(byId.json.SecretString).toBe('two');
      expect(described.json.VersionIdsToStages).toEqual({ [v2.json.VersionId]: ['AWSPREVIOUS'], [v3.json.VersionId]: ['AWSCURRENT'] });
      expect(JSON.stringify(described.json)).not.toMatch(/one|two|three/);
      expect(gone.errorType).toBe('ResourceNotFoundException');
    });

    it('is idempotent on ClientRequestToken, and refuses a new value under a used token', async () => {
      const name = unique('idem');
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'a' }));
      const token = randomUUID();
      const first = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }));
      const again = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }));
      const other = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'c', ClientRequestToken: token })).catch((e) => e);
      const previous = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }));
      expect(again.VersionId).toBe(first.VersionId);
      expect(other.name).toBe('ResourceExistsException');
      expect(previous.SecretString).toBe('a');
    });

    it('lists secrets page by page, without their values', async () => {
      const prefix = unique('listed');
      for (let i = 0; i < 3; i++) await sm.send(new CreateSecretCommand({ Name: `${prefix}-${i}`, SecretString: `hidden-${prefix}-${i}` }));
      const listed = await cli('secretsmanager', ['list-secrets', '--filters', `Key=name,Values=${prefix}`, '--max-items', '2']);
      const rest = await cli('secretsmanager', ['list-secrets', '--filters', `Key=name,Values=${prefix}`, '--starting-token', listed.json.NextToken]);
      expect(listed.json.SecretList.map((s: { Name: string }) => s.Name)).toEqual([`${prefix}-0`, `${prefix}-1`]);
      expect(rest.json.SecretList.map((s: { Name: string }) => s.Name)).toEqual([`${prefix}-2`]);
      expect(JSON.stringify([listed.json, rest.json])).not.toContain('hidden-');
    });

    it('schedules a deletion: the value is refused, the name stays taken, a forced delete frees it', async () => {
      const name = unique('deleted');
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
      const deleted = await cli('secretsmanager', ['delete-secret', '--secret-id', name, '--recovery-window-in-days', '7']);
      const get = await cli('secretsmanager', ['get-secret-value', '--secret-id', name]);
      const recreate = await cli('secretsmanager', ['create-secret', '--name', name, '--secret-string', 'y']);
      const described = await cli('secretsmanager', ['describe-secret', '--secret-id', name]);
      const forced = await cli('secretsmanager', ['delete-secret', '--secret-id', name, '--force-delete-without-recovery']);
      const after = await cli('secretsmanager', ['create-secret', '--name', name, '--secret-string', 'z']);
      expect(deleted.code).toBe(0);
      expect(Date.parse(deleted.json.DeletionDate) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
      expect(get.errorType).toBe('InvalidRequestException');
      expect(recreate.errorType).toBe('InvalidRequestException');
      expect(described.json.DeletedDate).toBeDefined();
      expect(forced.code).toBe(0);
      expect(after.code).toBe(0);
    });

    // What a host holding a task may read is tested in task-credentials.test.ts.
    it('refuses a host key a secret no task it holds names, and any write', async () => {
      const name = unique('host-read');
      await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'for-hosts' }));
      const read = await raw('secretsmanager', 'GetSecretValue', { SecretId: name }, hostKey);
      const write = await raw('secretsmanager', 'CreateSecret', { Name: unique('by-host'), SecretString: 'x' }, hostKey);
      const list = await cli('secretsmanager', ['list-secrets'], hostKey);
      expect(read).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
      expect(write).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
      expect(list.errorType).toBe('AccessDeniedException');
    });

    describe('refuses bad input with its error type and a 4xx, changing nothing', () => {
      let existing: string;
      let deleted: string;
      beforeAll(async () => {
        existing = unique('exists');
        deleted = unique('gone');
        await sm.send(new CreateSecretCommand({ Name: existing, SecretString: 'e' }));
        await sm.send(new CreateSecretCommand({ Name: deleted, SecretString: 'd' }));
        await raw('secretsmanager', 'DeleteSecret', { SecretId: deleted });
      });

      it.each([
        ['a missing SecretId', 'GetSecretValue', () => ({}), 'ValidationException'],
        ['an empty SecretId', 'GetSecretValue', () => ({ SecretId: '' }), 'ValidationException'],
        ['a SecretId of the wrong type', 'GetSecretValue', () => ({ SecretId: 42 }), 'SerializationException'],
        ['a malformed ARN', 'GetSecretValue', () => ({ SecretId: 'arn:aws:secretsmanager:us-east-1:000000000000:nosuch' }), 'ValidationException'],
        ['an ARN of another service', 'DescribeSecret', () => ({ SecretId: 'arn:aws:ecs:us-east-1:000000000000:secret:x-abcdef' }), 'ValidationException'],
        ['an ARN of another account', 'GetSecretValue', () => ({ SecretId: `arn:aws:secretsmanager:us-east-1:111111111111:secret:${existing}` }), 'ResourceNotFoundException'],
        ['an unknown secret', 'GetSecretValue', () => ({ SecretId: 'no-such-secret' }), 'ResourceNotFoundException'],
        ['an unknown staging label', 'GetSecretValue', () => ({ SecretId: existing, VersionStage: 'AWSPREVIOUS' }), 'ResourceNotFoundException'],
        ['an unknown version id', 'GetSecretValue', () => ({ SecretId: existing, VersionId: randomUUID() }), 'ResourceNotFoundException'],
        ['a duplicate name', 'CreateSecret', () => ({ Name: existing, SecretString: 'dup', ClientRequestToken: randomUUID() }), 'ResourceExistsException'],
        ['a name with a space', 'CreateSecret', () => ({ Name: 'bad name', SecretString: 'x' }), 'ValidationException'],
        ['both a string and a binary value', 'CreateSecret', () => ({ Name: unique('both'), SecretString: 'x', SecretBinary: 'eA==' }), 'InvalidParameterException'],
        ['a put without a value', 'PutSecretValue', () => ({ SecretId: existing, ClientRequestToken: randomUUID() }), 'InvalidRequestException'],
        ['a put to a deleted secret', 'PutSecretValue', () => ({ SecretId: deleted, SecretString: 'x' }), 'InvalidRequestException'],
        ['a read of a deleted secret', 'GetSecretValue', () => ({ SecretId: deleted }), 'InvalidRequestException'],
        ['a second delete', 'DeleteSecret', () => ({ SecretId: deleted }), 'InvalidRequestException'],
        ['a recovery window of 3 days', 'DeleteSecret', () => ({ SecretId: existing, RecoveryWindowInDays: 3 }), 'InvalidParameterException'],
        ['a recovery window and a forced delete', 'DeleteSecret', () => ({ SecretId: existing, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true }), 'InvalidParameterException'],
        ['a MaxResults of 0', 'ListSecrets', () => ({ MaxResults: 0 }), 'ValidationException'],
        ['a forged NextToken', 'ListSecrets', () => ({ NextToken: 'bm90IGEgdG9rZW4' }), 'InvalidNextTokenException'],
        ['an unknown operation', 'RotateSecret', () => ({ SecretId: existing }), 'UnknownOperationException'],
      ])('%s', async (_what, operation, body, type) => {
        // prepare
        const before = await tables();
        // act
        const r = await raw('secretsmanager', operation, body());
        // assess
        expect(r.body.__type).toBe(type);
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(typeof r.body.message).toBe('string');
        expect(await tables()).toEqual(before);
      });

      it('a duplicate create through the AWS CLI', async () => {
        const r = await cli('secretsmanager', ['create-secret', '--name', existing, '--secret-string', 'again']);
        expect(r.code).not.toBe(0);
        expect(r.errorType).toBe('ResourceExistsException');
        expect(r.stderr).toContain(`The operation failed because the secret ${existing} already exists.`);
      });
    });
  });

  describe('Parameter Store', () => {
    it('keeps a SecureString encrypted unless decryption is asked for, by name or ARN', async () => {
      // prepare
      const name = `/${unique('app')}/token`;
      const value = `sv-${randomBytes(8).toString('hex')}`;
      // act
      const put = await cli('ssm', ['put-parameter', '--name', name, '--type', 'SecureString', '--value', value]);
      const sealed = await cli('ssm', ['get-parameter', '--name', name]);
      const opened = await cli('ssm', ['get-parameter', '--name', name, '--with-decryption']);
      const byArn = await ssm.send(new GetParameterCommand({ Name: opened.json.Parameter.ARN, WithDecryption: true }));
      // assess
      expect(put.json).toEqual({ Version: 1, Tier: 'Standard' });
      expect(sealed.json.Parameter.Value).not.toContain(value);
      expect(opened.json.Parameter).toMatchObject({ Name: name, Type: 'SecureString', Value: value, Version: 1, ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}` });
      expect(byArn.Parameter?.Value).toBe(value);
    });

    it('overwrites only when asked, counting versions', async () => {
      const name = unique('plain');
      await cli('ssm', ['put-parameter', '--name', name, '--type', 'String', '--value', 'one']);
      const refused = await cli('ssm', ['put-parameter', '--name', name, '--type', 'String', '--value', 'two']);
      const overwritten = await cli('ssm', ['put-parameter', '--name', name, '--value', 'two', '--overwrite']);
      const got = await cli('ssm', ['get-parameter', '--name', name]);
      const oldVersion = await cli('ssm', ['get-parameter', '--name', `${name}:1`]);
      expect(refused.errorType).toBe('ParameterAlreadyExists');
      expect(overwritten.json.Version).toBe(2);
      expect(got.json.Parameter).toMatchObject({ Value: 'two', Version: 2, Type: 'String' });
      expect(oldVersion.errorType).toBe('ParameterVersionNotFound');
    });

    it('lists what it cannot find in InvalidParameters', async () => {
      const name = unique('some');
      await cli('ssm', ['put-parameter', '--name', name, '--type', 'SecureString', '--value', 'v']);
      const r = await cli('ssm', ['get-parameters', '--names', name, 'missing-one', '--with-decryption']);
      const asHost = await raw('ssm', 'GetParameters', { Names: [name], WithDecryption: true }, hostKey);
      expect(r.json.Parameters.map((p: { Name: string; Value: string }) => [p.Name, p.Value])).toEqual([[name, 'v']]);
      expect(r.json.InvalidParameters).toEqual(['missing-one']);
      // A host holds no task naming it.
      expect(asHost).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
    });

    it.each([
      ['a missing parameter', 'GetParameter', () => ({ Name: 'nowhere' }), 'ParameterNotFound'],
      ['a missing Name', 'GetParameter', () => ({}), 'ValidationException'],
      ['a new parameter without a type', 'PutParameter', () => ({ Name: unique('untyped'), Value: 'x' }), 'ValidationException'],
      ['an unknown type', 'PutParameter', () => ({ Name: unique('typed'), Value: 'x', Type: 'Secret' }), 'ValidationException'],
      ['a name under aws', 'PutParameter', () => ({ Name: 'aws-thing', Value: 'x', Type: 'String' }), 'ValidationException'],
      ['a path without a leading slash', 'PutParameter', () => ({ Name: 'a/b', Value: 'x', Type: 'String' }), 'ValidationException'],
      ['an empty value', 'PutParameter', () => ({ Name: unique('empty'), Value: '', Type: 'String' }), 'ValidationException'],
      ['a value over 4096 characters', 'PutParameter', () => ({ Name: unique('long'), Value: 'x'.repeat(4097), Type: 'String' }), 'ValidationException'],
      ['eleven names', 'GetParameters', () => ({ Names: Array.from({ length: 11 }, (_, i) => `n${i}`) }), 'ValidationException'],
      ['a write with a host key', 'PutParameter', () => ({ Name: unique('host'), Value: 'x', Type: 'String' }), 'AccessDeniedException'],
    ])('refuses %s with its error type and a 4xx, changing nothing', async (what, operation, body, type) => {
      const before = await tables();
      const r = await raw('ssm', operation, body(), what.includes('host key') ? hostKey : TEST_CREDENTIALS);
      expect(r.body.__type).toBe(type);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(await tables()).toEqual(before);
    });
  });

  describe('at rest', () => {
    it('keeps no value readable in the tables, under a key file of mode 0600', async () => {
      // prepare
      const secret = `at-rest-${randomBytes(12).toString('hex')}`;
      const parameter = `at-rest-${randomBytes(12).toString('hex')}`;
      const [secretName, parameterName] = [unique('rest'), unique('rest')];
      // act
      await sm.send(new CreateSecretCommand({ Name: secretName, SecretString: secret }));
      await ssm.send(new PutParameterCommand({ Name: parameterName, Value: parameter, Type: 'String' }));
      const dump = JSON.stringify(await tables());
      // assess: the names are there in the clear, the values are not
      expect(dump).toContain(secretName);
      expect(dump).toContain(parameterName);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(parameter);
      expect(statSync(join(dataDir, SEALING_KEY_FILE)).mode & 0o777).toBe(0o600);
    });
  });
});
