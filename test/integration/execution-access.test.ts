import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsClientConfig } from '../../agent/aws';
import { ExecutionAccesses } from '../../agent/execution-access';
import { EXECUTION_ROLE_REFRESH_MARGIN_MS, EXECUTION_ROLE_SESSION_SECONDS, ExecutionRoles } from '../../agent/identity/execution-roles';
import { stsAssumeRole } from '../../agent/identity/sts-assume-role';
import type { EcrTokenSource } from '../../agent/images/ecr-logins';

const ROLE = 'arn:aws:iam::123456789012:role/exec';
const OTHER_ROLE = 'arn:aws:iam::123456789012:role/other-exec';
const HOST = { accessKeyId: 'AKIAHOSTKEY000000000', secretAccessKey: 'host-secret' };
const ECR_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1';

/** STS's client mocked (the adapter is real): each AssumeRole answers fresh keys named after the role, valid an hour from `clock`. */
function mockedSts(clock: { now: number }) {
  let n = 0;
  const send = jest.fn(async (command: unknown) => {
    const { RoleArn } = (command as AssumeRoleCommand).input;
    return {
      Credentials: {
        AccessKeyId: `ASIA${RoleArn!.split('/').pop()!.toUpperCase()}${++n}`, SecretAccessKey: 'role-secret', SessionToken: `token-${n}`,
        Expiration: new Date(clock.now + 3600_000),
      },
    };
  });
  return send;
}

describe('Task execution roles', () => {
  describe('ExecutionRoles (STS mocked around the thin adapter)', () => {
    it('assumes a role once, named after the host, and again only near its expiry', async () => {
      // Prepare
      const clock = { now: Date.UTC(2030, 0, 1) };
      const send = mockedSts(clock);
      const roles = new ExecutionRoles({ assumeRole: stsAssumeRole({ send } as never), hostId: 'i-0abc:weird/id', now: () => clock.now });

      // Act
      const [a, b] = await Promise.all([roles.credentials(ROLE), roles.credentials(ROLE)]);
      clock.now += 3600_000 - EXECUTION_ROLE_REFRESH_MARGIN_MS - 1;
      const c = await roles.credentials(ROLE);
      clock.now += 2;
      const d = await roles.credentials(ROLE);
      const other = await roles.credentials(OTHER_ROLE);

      // Assess
      expect(send).toHaveBeenCalledTimes(3);
      expect((send.mock.calls[0][0] as AssumeRoleCommand).input).toEqual({
        RoleArn: ROLE, RoleSessionName: 'berth-i-0abc-weird-id', DurationSeconds: EXECUTION_ROLE_SESSION_SECONDS,
      });
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(d.accessKeyId).not.toBe(a.accessKeyId);
      expect(other.accessKeyId).toMatch(/^ASIAOTHER-EXEC/);
    });

    it("passes STS's refusal on, naming the role, and asks again next time", async () => {
      // Prepare
      const send = jest.fn(async () => {
        throw Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
      });
      const roles = new ExecutionRoles({ assumeRole: stsAssumeRole({ send } as never), hostId: 'h', now: () => 0 });

      // Act
      const first = await roles.credentials(ROLE).catch((e: Error) => e.message);
      await roles.credentials(ROLE).catch(() => undefined);

      // Assess
      expect(first).toBe(`unable to assume the task execution role ${ROLE}: AccessDenied: User is not authorized to perform: sts:AssumeRole`);
      expect(send).toHaveBeenCalledTimes(2);
    });
  });

  /**
   * The real AWS SDK clients of Secrets Manager, SSM and CloudWatch Logs, pointed at a loopback
   * server that records which key signed each call: a task's secrets and logs go out signed by
   * its execution role's session, never by the host's key. ECR's token source is the mocked adapter.
   */
  describe('ExecutionAccesses', () => {
    let server: Server;
    let aws: AwsClientConfig;
    const signedBy: { target: string; accessKeyId: string; sessionToken?: string }[] = [];
    const ecrCalls: { registryId: string; accessKeyId: string }[] = [];
    const clock = { now: Date.now() };
    let accesses: ExecutionAccesses;

    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume().on('end', () => {
          const target = String(req.headers['x-amz-target']);
          signedBy.push({
            target,
            accessKeyId: /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? '',
            sessionToken: req.headers['x-amz-security-token'] as string | undefined,
          });
          const answers: Record<string, object> = {
            'secretsmanager.GetSecretValue': { ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', Name: 'db', SecretString: 'value' },
            'AmazonSSM.GetParameters': { Parameters: [{ Name: '/p', Value: 'param' }], InvalidParameters: [] },
            'Logs_20140328.CreateLogStream': {},
            'Logs_20140328.PutLogEvents': {},
          };
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answers[target] ?? {}));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      aws = { region: 'us-east-1', endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: async () => HOST };
      const ecrTokens = (config: AwsClientConfig): EcrTokenSource => ({
        authorizationToken: async ({ registryId }) => {
          ecrCalls.push({ registryId, accessKeyId: (await config.credentials!()).accessKeyId });
          return { authorizationToken: Buffer.from('AWS:ecr-password').toString('base64'), expiresAtMs: clock.now + 12 * 3600_000 };
        },
      });
      const roles = new ExecutionRoles({ assumeRole: stsAssumeRole({ send: mockedSts(clock) } as never), hostId: 'h', now: () => clock.now });
      accesses = new ExecutionAccesses({ aws, roles, ecrTokens, now: () => clock.now });
    });

    afterAll(async () => {
      await new Promise((r) => server.close(r));
    });

    const use = async (task: { executionRoleArn?: string }) => {
      signedBy.length = 0;
      ecrCalls.length = 0;
      const access = accesses.for(task);
      await access.secrets!.secretString({ secretId: 'db' });
      await access.secrets!.parameters(['/p']);
      await access.logSinks!('us-east-1').createStream('g', 's');
      await access.logSinks!('us-east-1').putEvents('g', 's', [{ timestamp: clock.now, message: 'line' }]);
      const login = await access.logins.loginFor({ image: ECR_IMAGE });
      return { signedBy: [...signedBy], ecrCalls: [...ecrCalls], login };
    };

    it("signs a task's secrets, parameters, logs and ECR login with its execution role's session", async () => {
      // Act
      const r = await use({ executionRoleArn: ROLE });

      // Assess
      expect(r.signedBy.map((s) => s.target)).toEqual([
        'secretsmanager.GetSecretValue', 'AmazonSSM.GetParameters', 'Logs_20140328.CreateLogStream', 'Logs_20140328.PutLogEvents',
      ]);
      for (const s of r.signedBy) expect(s).toMatchObject({ accessKeyId: expect.stringMatching(/^ASIAEXEC\d+$/), sessionToken: expect.stringMatching(/^token-/) });
      expect(r.ecrCalls).toEqual([{ registryId: '123456789012', accessKeyId: expect.stringMatching(/^ASIAEXEC\d+$/) }]);
      expect(r.login).toMatchObject({ username: 'AWS', password: 'ecr-password' });
    });

    it("keeps two roles' sessions apart, and uses the host's key only for a task that names no role", async () => {
      // Act
      const other = await use({ executionRoleArn: OTHER_ROLE });
      const roleless = await use({});

      // Assess
      expect(new Set(other.signedBy.map((s) => s.accessKeyId)).size).toBe(1);
      expect(other.signedBy[0].accessKeyId).toMatch(/^ASIAOTHER-EXEC\d+$/);
      expect(other.ecrCalls[0].accessKeyId).toBe(other.signedBy[0].accessKeyId);
      for (const s of roleless.signedBy) expect(s).toMatchObject({ accessKeyId: HOST.accessKeyId, sessionToken: undefined });
      expect(roleless.ecrCalls[0].accessKeyId).toBe(HOST.accessKeyId);
    });
  });
});
