import { CreateServiceCommand, DeleteServiceCommand, ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGISTRY_CERTS_DIR } from '../../local/podman';
import { awsCli, awsEcs } from '../support/aws-cli';
import { expectConforms } from '../support/ecs-model';
import { eventually } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';
import { BUSYBOX, EXECUTION_ROLE, type LocalMode, containerLog, startLocalMode, untilStatus } from '../support/local-mode';
import { type TestRegistry, run, startTestRegistry } from '../support/registry';

/**
 * Images from a real registry: Debian's docker-registry with TLS from a CA of the test's own and
 * htpasswd logins, images pushed with podman. A file and a local mode of its own: the local
 * mode's podman trusts the CA from its data directory only when it starts, and one of its two
 * hosts runs its agent with another pull behaviour (`always`; the other keeps `default`).
 */
describe('Images from a registry', () => {
  let registry: TestRegistry;
  let m: LocalMode;
  let podmanEnv: NodeJS.ProcessEnv;
  const suffix = Math.random().toString(36).slice(2, 8);
  /** Local images made for this run, removed once pushed (so a task must pull them) and at the end. */
  const localImages: string[] = [];
  let goodLogin: string;
  let badLogin: string;
  /** What each push left in the registry under app:v1. */
  const pushed: { v1?: string; v2?: string } = {};
  /** The image pushed second under app:v1, made ahead. */
  let v2: string;

  /** busybox with /version saying `text`: a new image (and digest) per call. */
  const buildImage = async (text: string) => {
    const name = `localhost/berth-registry-test-${suffix}:${text}`;
    const container = `berth-registry-test-${suffix}-${text}`;
    await run('podman', ['run', '--name', container, BUSYBOX, 'sh', '-c', `echo ${text} > /version`], podmanEnv);
    await run('podman', ['commit', '--quiet', container, name], podmanEnv);
    await run('podman', ['rm', container], podmanEnv);
    localImages.push(name);
    return name;
  };

  /** Pushes a local image under `reference` (a new one unless given), and leaves none of it on the host. */
  const pushNew = async (text: string, reference: string, built?: string) => {
    const local = built ?? await buildImage(text);
    const digest = await registry.push(local, reference, podmanEnv);
    await run('podman', ['rmi', local], podmanEnv);
    return digest;
  };

  let families = 0;
  /** The host with pull behaviour default, and the one with always. */
  let defaultHost: string;
  let alwaysHost: string;
  const runImage = async (image: string, credentialsParameter?: string, on = defaultHost) => {
    const family = `registry-${suffix}-${++families}`;
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      executionRoleArn: credentialsParameter ? EXECUTION_ROLE : undefined,
      containerDefinitions: [{
        name: 'app', image, essential: true, command: ['cat', '/version'],
        repositoryCredentials: credentialsParameter ? { credentialsParameter } : undefined,
      }],
    }));
    const r = await m.ecs.send(new RunTaskCommand({
      taskDefinition: family, placementConstraints: [{ type: 'memberOf', expression: `ec2InstanceId == ${on}` }],
    }));
    return r.tasks![0].taskArn!;
  };

  /** The stopped task as DescribeTasks answers, checked against ECS's model. */
  const stopped = async (taskArn: string) => {
    await untilStatus(m.ecs, taskArn, 'STOPPED', 60_000);
    const r = await signedFetch(m.local.url, {
      target: 'AmazonEC2ContainerServiceV20141113.DescribeTasks', body: JSON.stringify({ tasks: [taskArn] }), credentials: m.local.credentials,
    });
    expect(r.status).toBe(200);
    const body = await r.json() as { tasks: any[] };
    expectConforms('DescribeTasks', body);
    return body.tasks[0];
  };

  const image = (reference: string) => `${registry.host}/${reference}`;

  beforeAll(async () => {
    registry = await startTestRegistry();
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-e2e-registry-'));
    mkdirSync(join(dataDir, REGISTRY_CERTS_DIR), { recursive: true });
    copyFileSync(registry.caFile, join(dataDir, REGISTRY_CERTS_DIR, 'test-registry-ca.pem'));
    m = await startLocalMode({ dataDir, hosts: 2, maxHosts: 2, config: { placementTimeoutSeconds: 60 } });
    podmanEnv = m.local.podmanEnv;
    const [a, b] = await m.local.berth.store.hosts.list();
    defaultHost = a.hostId;
    alwaysHost = b.hostId;
    // The second host's agent again, with BERTH_IMAGE_PULL_BEHAVIOR=always, while the images are made.
    const restarted = (async () => {
      // Not before it has saved the key it registered with: without it, it could not come back.
      await eventually(async () => existsSync(join(dataDir, 'hosts', `${alwaysHost}.json`)), 60_000, 'the agent to save its key');
      await m.local.fleet.stop(alwaysHost);
      const restartedAt = m.local.berth.now();
      m.local.fleet.start({ hostId: alwaysHost, cpu: b.cpu, memory: b.memory }, { BERTH_IMAGE_PULL_BEHAVIOR: 'always' });
      // Its first heartbeat follows its registration (a host already registered keeps registeredAt).
      await eventually(async () => ((await m.local.berth.store.hosts.get(alwaysHost))?.lastHeartbeatAt ?? 0) > restartedAt, 90_000, 'the agent back, heartbeating');
    })();
    [pushed.v1, , v2] = await Promise.all([pushNew('v1', 'app:v1'), pushNew('other', 'other:v1'), buildImage('v2'), restarted]);
    const secret = async (name: string, value: object) =>
      (await awsCli(m.local.url, 'secretsmanager', ['create-secret', '--name', name, '--secret-string', JSON.stringify(value)])).json.ARN as string;
    goodLogin = await secret(`registry/${suffix}/good`, { username: registry.username, password: registry.password });
    badLogin = await secret(`registry/${suffix}/bad`, { username: registry.username, password: 'not-the-password' });
  }, 240_000);

  afterAll(async () => {
    await m?.close();
    await registry?.close();
    const left = [...localImages];
    if (podmanEnv) {
      // app:v1's first image lost its tag to the second, and is named by its digest only.
      for (const ref of ['app:v1', 'other:v1', 'warm:v1', `app@${pushed.v1}`]) left.push(`${registry.host}/${ref}`);
      await run('podman', ['rmi', '--force', '--ignore', ...left], podmanEnv).catch(() => {});
    }
  }, 120_000);

  it('runs a pushed image with repositoryCredentials and reports the digest the registry serves', async () => {
    // Act
    const taskArn = await runImage(image('app:v1'), goodLogin);
    const task = await stopped(taskArn);

    // Assess
    expect(task.stopCode).toBe('EssentialContainerExited');
    expect(task.containers[0].exitCode).toBe(0);
    expect(containerLog(m.dataDir, taskArn, 'app')).toEqual(['v1']);
    expect(task.containers[0].imageDigest).toBe(pushed.v1);
    expect(task.containers[0].imageDigest).toBe(await registry.manifestDigest('app:v1'));
    expect(task.pullStartedAt).toBeDefined();
    expect(m.logs.some((l) => l.includes(`pulled ${image('app:v1')} in`))).toBe(true);
    const cli = await awsEcs(m.local.url, ['describe-tasks', '--tasks', taskArn]);
    expect(cli.json.tasks[0].containers[0].imageDigest).toBe(pushed.v1);
  });

  it.each([
    ['wrong credentials', () => image('other:v1'), () => badLogin, /unauthorized: authentication required/],
    ['no credentials', () => image('other:v1'), () => undefined, /unauthorized: authentication required/],
    ['a missing tag', () => image('app:no-such-tag'), () => goodLogin, /manifest unknown/],
  ])('ends a task whose image cannot be pulled (%s) TaskFailedToStart, in the registry\'s words', async (_, ref, login, reason) => {
    const task = await stopped(await runImage(ref(), login()));
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toMatch(/^CannotPullContainerError: /);
    expect(task.stoppedReason).toMatch(reason);
    expect(task.containers[0].reason).toMatch(reason);
    expect(task.stoppedReason).not.toContain(registry.password);
  });

  it('ends a task whose repositoryCredentials secret does not exist TaskFailedToStart, before any pull', async () => {
    const missing = goodLogin.replace(/good-[A-Za-z0-9]+$/, 'gone-AbCdEf');
    const task = await stopped(await runImage(image('other:v1'), missing));
    expect(task.stopCode).toBe('TaskFailedToStart');
    expect(task.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: .*private registry credentials.*gone-AbCdEf/);
  });

  it('runs a new push under the same tag (pull behaviour default)', async () => {
    // Prepare
    pushed.v2 = await pushNew('v2', 'app:v1', v2);
    expect(pushed.v2).not.toBe(pushed.v1);

    // Act
    const taskArn = await runImage(image('app:v1'), goodLogin);
    const task = await stopped(taskArn);

    // Assess
    expect(containerLog(m.dataDir, taskArn, 'app')).toEqual(['v2']);
    expect(task.containers[0].imageDigest).toBe(pushed.v2);
  });

  it("pre-pulls an ACTIVE service's image on the warm hosts before any task asks for it", async () => {
    // Prepare: an image in the registry, not on the machine; a service that runs no task
    await pushNew('warm', 'warm:v1');
    const exists = (ref: string) => run('podman', ['image', 'exists', ref], podmanEnv).then(() => true, () => false);
    expect(await exists(image('warm:v1'))).toBe(false);
    const family = `registry-${suffix}-warm`;
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', executionRoleArn: EXECUTION_ROLE,
      containerDefinitions: [{ name: 'app', image: image('warm:v1'), essential: true, repositoryCredentials: { credentialsParameter: goodLogin } }],
    }));

    // Act
    await m.ecs.send(new CreateServiceCommand({ serviceName: `warm-${suffix}`, taskDefinition: family, desiredCount: 0 }));

    // Assess: pulled with the service's login, announced in the agent's log, and no task ever ran
    await eventually(() => exists(image('warm:v1')), 90_000, 'the service image on the host');
    await eventually(async () => m.logs.some((l) => l.includes(`pre-pulled ${image('warm:v1')} in`)), 10_000, 'the pre-pull in the log');
    expect((await m.ecs.send(new ListTasksCommand({ family }))).taskArns).toEqual([]);
    await m.ecs.send(new DeleteServiceCommand({ service: `warm-${suffix}`, force: true }));
  }, 120_000);

  describe('with the registry stopped', () => {
    beforeAll(() => registry.stop(), 30_000);

    it('runs the cached image under default', async () => {
      const taskArn = await runImage(image('app:v1'), goodLogin);
      const task = await stopped(taskArn);
      expect(task.stopCode).toBe('EssentialContainerExited');
      expect(containerLog(m.dataDir, taskArn, 'app')).toEqual(['v2']);
      expect(task.containers[0].imageDigest).toBe(pushed.v2);
      expect(m.logs.some((l) => /connection refused; running the cached image/.test(l))).toBe(true);
    });

    it('fails the task under always, though the image is cached', async () => {
      const task = await stopped(await runImage(image('app:v1'), goodLogin, alwaysHost));

      // Assess
      expect(task.stopCode).toBe('TaskFailedToStart');
      expect(task.stoppedReason).toMatch(/^CannotPullContainerError: .*connection refused/);
    });
  });

  it("never writes the registry's password to the local mode's log", () => {
    expect(m.logs.join('\n')).not.toContain(registry.password);
  });
});
