import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import { byTarget, serve } from '../../local/server';
import { secretSlices } from '../../local/services/secret-slices';
import { adoptAccessKey, issueAccessKey } from '../../shared/auth/access-keys';
import { TASK_KEY_LIFETIME_MS, issueTaskCredentials } from '../../shared/auth/task-credentials';
import type { Task } from '../../shared/domain/task';
import { createApiHandler } from '../../shared/ecs-api/handler';
import { TEST_CREDENTIALS } from '../support/harness';

const ROLE = 'arn:aws:iam::000000000000:role/app';
let n = 0;
const aTask = (over: Partial<Task>): Task => ({
  cluster: 'default', taskId: randomBytes(16).toString('hex'), taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1',
  family: 'web', revision: 1, containers: [], overrides: { containerOverrides: [] }, cpu: 256, memory: 512,
  lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 1, createdAt: ++n, launchType: 'FARGATE', placementStrategy: 'spread', tags: [],
  hostId: 'host-1', ...over,
});

/**
 * A task role's credentials on the local slices: issued only to the host that runs the task,
 * short-lived, and good only for reading what the task's definition names.
 */
describe('Task role credentials', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  let server: { url: string; close(): Promise<void> };
  let dataDir: string;
  /** The clock the control plane reads: the test moves it back to issue keys that are already stale. */
  let skewMs = 0;
  const named: Record<string, string> = {};
  const clients = ({ accessKeyId, secretAccessKey, sessionToken }: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => {
    const o = { endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey, sessionToken }, maxAttempts: 1 };
    return { sm: new SecretsManagerClient(o), ssm: new SSMClient(o), ecs: new ECSClient(o) };
  };
  const errorOf = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.name);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-task-creds-'));
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint, now: () => Date.now() - skewMs });
    await adoptAccessKey(berth, TEST_CREDENTIALS);
    const slices = (await secretSlices(berth, { dataDir, dynamoEndpoint: dynamo.endpoint, log: () => {} })).handlers;
    server = await serve({ 'POST /': byTarget(slices, createApiHandler(() => berth, { log: () => {} })) });
    const user = clients(TEST_CREDENTIALS);
    const suffix = randomBytes(3).toString('hex');
    for (const which of ['mine', 'other']) {
      named[`secret-${which}`] = (await user.sm.send(new CreateSecretCommand({ Name: `app/${which}-${suffix}`, SecretString: `value-${which}` }))).ARN!;
      named[`param-${which}`] = `/app/${suffix}/${which}`;
      await user.ssm.send(new PutParameterCommand({ Name: named[`param-${which}`], Value: `param-${which}`, Type: 'SecureString' }));
    }
    await berth.store.taskDefinitions.register({
      family: 'web', taskRoleArn: ROLE,
      containerDefinitions: [{
        name: 'app', image: 'busybox', essential: true,
        secrets: [{ name: 'S', valueFrom: named['secret-mine'] }, { name: 'P', valueFrom: named['param-mine'] }],
      }],
    }, [], Date.now());
    await berth.store.taskDefinitions.register({ family: 'roleless', containerDefinitions: [{ name: 'app', image: 'busybox', essential: true }] }, [], Date.now());
    named['secret-registry'] = (await user.sm.send(new CreateSecretCommand({ Name: `app/registry-${suffix}`, SecretString: '{"username":"u","password":"p"}' }))).ARN!;
    named['secret-absent'] = `arn:aws:secretsmanager:us-east-1:000000000000:secret:app/absent-${suffix}-AbCdEf`;
    await berth.store.taskDefinitions.register({
      family: 'pulled', executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      containerDefinitions: [{
        name: 'app', image: 'registry.example:5000/app', essential: true,
        repositoryCredentials: { credentialsParameter: named['secret-registry'] },
        secrets: [{ name: 'S', valueFrom: named['secret-mine'] }, { name: 'A', valueFrom: named['secret-absent'] }, { name: 'P', valueFrom: named['param-mine'] }],
      }],
    }, [], Date.now());
  });

  afterAll(async () => {
    berth.workflows.close();
    await server.close();
    await dynamo.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads exactly the secrets and parameters its definition names, and calls nothing else', async () => {
    // Prepare
    const task = aTask({});
    await berth.store.tasks.create(task);
    const creds = await issueTaskCredentials(berth, 'host-1', task);
    const { sm, ssm, ecs } = clients(creds);

    // Act + assess
    expect(creds).toMatchObject({ accessKeyId: expect.stringMatching(/^BT[A-Z2-7]{18}$/), roleArn: ROLE });
    expect(creds.expiration - Date.now()).toBeGreaterThan(TASK_KEY_LIFETIME_MS - 60_000);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: named['secret-mine'] }))).SecretString).toBe('value-mine');
    expect((await ssm.send(new GetParameterCommand({ Name: named['param-mine'], WithDecryption: true }))).Parameter?.Value).toBe('param-mine');
    expect(await errorOf(sm.send(new GetSecretValueCommand({ SecretId: named['secret-other'] })))).toBe('AccessDeniedException');
    expect(await errorOf(sm.send(new GetSecretValueCommand({ SecretId: 'app/never-created' })))).toBe('AccessDeniedException');
    expect(await errorOf(ssm.send(new GetParameterCommand({ Name: named['param-other'] })))).toBe('AccessDeniedException');
    expect(await errorOf(ssm.send(new GetParametersCommand({ Names: [named['param-mine'], named['param-other']] })))).toBe('AccessDeniedException');
    expect(await errorOf(sm.send(new CreateSecretCommand({ Name: `x-${randomBytes(3).toString('hex')}`, SecretString: 'x' })))).toBe('AccessDeniedException');
    expect(await errorOf(ecs.send(new ListClustersCommand({})))).toBe('UnrecognizedClientException');
  });

  it('is issued only to the task\'s own host, for a task that has a role and has not stopped', async () => {
    // Prepare
    const running = aTask({});
    const stopped = aTask({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    const roleless = aTask({ family: 'roleless' });
    for (const t of [running, stopped, roleless]) await berth.store.tasks.create(t);

    // Act + assess
    expect(await errorOf(issueTaskCredentials(berth, 'host-2', running))).toBe('AccessDeniedException');
    expect(await errorOf(issueTaskCredentials(berth, 'host-1', stopped))).toBe('AccessDeniedException');
    expect(await errorOf(issueTaskCredentials(berth, 'host-1', roleless))).toBe('AccessDeniedException');
    expect(await errorOf(issueTaskCredentials(berth, 'host-1', { cluster: 'default', taskId: 'f'.repeat(32) }))).toBe('AccessDeniedException');
  });

  it('signs nothing once expired', async () => {
    // Prepare: a key issued as if an hour and a minute ago
    const task = aTask({});
    await berth.store.tasks.create(task);
    skewMs = TASK_KEY_LIFETIME_MS + 60_000;
    const creds = await issueTaskCredentials(berth, 'host-1', task);
    skewMs = 0;

    // Act
    const error = await errorOf(clients(creds).sm.send(new GetSecretValueCommand({ SecretId: named['secret-mine'] })));

    // Assess
    expect(error).toBe('ExpiredTokenException');
  });

  describe("a host's own key", () => {
    /** A host holding one task of `family`, as placement leaves it: reserved on the host's item and bound to it. */
    const holding = async (hostId: string, family: string) => {
      await berth.store.hosts.register({ hostId, cpu: 1024, memory: 2048 }, Date.now(), { open: true });
      const task = aTask({ family, hostId });
      await berth.store.tasks.create(task);
      await berth.store.hosts.reserve({ hostId, taskId: task.taskId, cpu: 256, memory: 512, maxReservedCpu: 768, maxReservedMemory: 1536 }, 'default');
      return { task, ...clients(await issueAccessKey(berth, 'host', hostId)) };
    };

    it('reads only what the definitions of the tasks it holds name, and only while they run', async () => {
      // Prepare
      const mine = await holding(`host-holds-${randomBytes(3).toString('hex')}`, 'pulled');
      const idle = await holding(`host-idle-${randomBytes(3).toString('hex')}`, 'roleless');

      // Act + assess: the secrets, repositoryCredentials and parameters its task names
      expect((await mine.sm.send(new GetSecretValueCommand({ SecretId: named['secret-mine'] }))).SecretString).toBe('value-mine');
      expect((await mine.sm.send(new GetSecretValueCommand({ SecretId: named['secret-registry'] }))).SecretString).toContain('username');
      expect((await mine.ssm.send(new GetParametersCommand({ Names: [named['param-mine']], WithDecryption: true }))).Parameters?.[0]?.Value).toBe('param-mine');
      // A secret it names that does not exist is reported as missing, as the execution role's policy would let it learn
      expect(await errorOf(mine.sm.send(new GetSecretValueCommand({ SecretId: named['secret-absent'] })))).toBe('ResourceNotFoundException');
      // Nothing any of its tasks does not name; nothing for a host that holds no task naming it
      expect(await errorOf(mine.sm.send(new GetSecretValueCommand({ SecretId: named['secret-other'] })))).toBe('AccessDeniedException');
      expect(await errorOf(mine.sm.send(new GetSecretValueCommand({ SecretId: 'app/never-created' })))).toBe('AccessDeniedException');
      expect(await errorOf(mine.ssm.send(new GetParametersCommand({ Names: [named['param-mine'], named['param-other']] })))).toBe('AccessDeniedException');
      expect(await errorOf(idle.sm.send(new GetSecretValueCommand({ SecretId: named['secret-mine'] })))).toBe('AccessDeniedException');
      expect(await errorOf(idle.ssm.send(new GetParameterCommand({ Name: named['param-mine'] })))).toBe('AccessDeniedException');

      // Act: its task stops
      await berth.store.tasks.advance(mine.task, { lastStatus: 'STOPPED', stop: { stopCode: 'EssentialContainerExited', stoppedReason: 'done' } });
      const stopped = await berth.store.tasks.get(mine.task);

      // Assess
      expect(stopped?.lastStatus).toBe('STOPPED');
      expect(await errorOf(mine.sm.send(new GetSecretValueCommand({ SecretId: named['secret-mine'] })))).toBe('AccessDeniedException');
    });
  });
});
