import { DescribeServicesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, type Service, type Task } from '@aws-sdk/client-ecs';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsEcs } from '../support/aws-cli';
import { expectRecordedCallsConform } from '../support/ecs-model';
import { TEST_CREDENTIALS, eventually } from '../support/harness';
import { BUSYBOX, type LocalMode, startLocalMode } from '../support/local-mode';
import { type RecordingProxy, startRecordingProxy } from '../support/recording-proxy';

/**
 * ECS services end to end with the AWS CLI v2 and real containers: a 3-task HTTP service side by
 * side on one host, healed after a container is killed from outside and after its host's agent is
 * killed, a rolling deployment that never leaves zero healthy tasks, a failing deployment that
 * the circuit breaker rolls back, scaling, a DAEMON service on every host, and deletion.
 */

const run = promisify(execFile);
/** Serves its TASK_NAME (the revision) on 8080; httpd as PID 1 goes on SIGTERM. */
const serve = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && trap "exit 0" TERM && httpd -f -p 8080 -h /www & wait`];
/**
 * One GET; undefined when it fails. The timeout only ends a hung request: the rolling deployment's
 * poller asks every task at once, and a stall of this process longer than it fails them all.
 */
const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => (r.ok ? r.text() : undefined)).catch(() => undefined);
const ipOf = (t: Task) => t.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
const idOf = (arn: string) => arn.split('/').pop()!;

describe('Services', () => {
  let m: LocalMode;
  let proxy: RecordingProxy;
  let ecs: ECSClient;
  const cli = (args: string[]) => awsEcs(proxy.url, args);

  const service = async (name: string): Promise<Service> =>
    (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0];
  const tasksOf = async (name: string, desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> => {
    const arns = (await ecs.send(new ListTasksCommand({ serviceName: name, desiredStatus }))).taskArns!;
    return arns.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks!;
  };
  /** As `aws ecs wait services-stable` judges it: one deployment, runningCount = desiredCount. */
  const stable = (name: string, count: number, timeoutMs = 120_000) => eventually(async () => {
    const s = await service(name);
    return s.deployments!.length === 1 && s.runningCount === count && s.desiredCount === count && s.pendingCount === 0 ? s : undefined;
  }, timeoutMs, `${name} to be stable at ${count}`);
  const register = async (family: string, text: string, image = BUSYBOX) => {
    const file = join(m.dataDir, `${family}-${text}.json`);
    writeFileSync(file, JSON.stringify({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'web', image, command: serve(text), stopTimeout: 2, portMappings: [{ containerPort: 8080 }] }],
    }));
    const r = await cli(['register-task-definition', '--cli-input-json', `file://${file}`]);
    expect(r.code).toBe(0);
    return r.json.taskDefinition.taskDefinitionArn as string;
  };

  beforeAll(async () => {
    // Room for the hosts the earlier cases leave behind (idle ones go only after 300 s) and for the
    // larger host the DAEMON case brings in.
    m = await startLocalMode({
      hosts: 1, maxHosts: 8, heartbeatIntervalMs: 1000, heartbeatTimeoutSeconds: 5, serviceIntervalMs: 2000,
      config: { placementTimeoutSeconds: 60 },
    });
    proxy = await startRecordingProxy(m.local.url);
    ecs = new ECSClient({ endpoint: proxy.url, region: 'us-east-1', maxAttempts: 1, credentials: TEST_CREDENTIALS });
  }, 180_000);
  afterAll(async () => {
    ecs?.destroy();
    await proxy?.close();
    await m?.close();
  }, 180_000);
  afterEach(() => expectRecordedCallsConform(proxy.calls));

  describe('a REPLICA HTTP service', () => {
    let v1: string;
    let v2: string;

    it('runs 3 tasks side by side on one host, each answering at its own address; wait services-stable returns', async () => {
      // Prepare
      v1 = await register('svc-web', 'v1');

      // Act
      const created = await cli(['create-service', '--service-name', 'web', '--task-definition', 'svc-web:1', '--desired-count', '3']);
      // The CLI's waiter looks every 15 s; once the service is stable its first look must say so.
      await stable('web', 3);
      const waited = await cli(['wait', 'services-stable', '--services', 'web']);

      // Assess
      expect(created.code).toBe(0);
      expect(waited.code).toBe(0);
      const tasks = await tasksOf('web');
      expect(tasks.map((t) => t.lastStatus)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
      expect(new Set(tasks.map((t) => t.containerInstanceArn)).size).toBe(1);
      expect(new Set(tasks.map(ipOf)).size).toBe(3);
      expect(tasks.every((t) => t.group === 'service:web' && t.startedBy === created.json.service.deployments[0].id)).toBe(true);
      const pages = await Promise.all(tasks.map((t) => eventually(() => get(`http://${ipOf(t)}:8080/`), 20_000, `${t.taskArn} to answer`)));
      expect(pages).toEqual(['v1\n', 'v1\n', 'v1\n']);
      const s = await service('web');
      expect(s.events!.some((e) => e.message === '(service web) has reached a steady state.')).toBe(true);
      expect(s.deployments![0].rolloutState).toBe('COMPLETED');
    }, 300_000);

    it('replaces a task whose container is killed from outside, and says so in its events', async () => {
      // Prepare
      const [victim] = await tasksOf('web');

      // Act
      await run('podman', ['--remote', '--url', `unix://${m.local.dockerSocket}`, 'kill', `berth-${idOf(victim.taskArn!)}-web`]);

      // Assess
      const s = await eventually(async () => {
        const now = await service('web');
        const ids = (await tasksOf('web')).filter((t) => t.lastStatus === 'RUNNING').map((t) => idOf(t.taskArn!));
        return now.runningCount === 3 && ids.length === 3 && !ids.includes(idOf(victim.taskArn!)) ? now : undefined;
      }, 120_000, 'the killed task to be replaced');
      expect(s.events!.some((e) => /^\(service web\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/.test(e.message!))).toBe(true);
      const stopped = (await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn!] }))).tasks![0];
      expect(stopped.lastStatus).toBe('STOPPED');
    }, 180_000);

    it('replaces the tasks of a host whose agent is killed with SIGKILL', async () => {
      // Prepare
      const before = await tasksOf('web');
      const hostId = idOf(before[0].containerInstanceArn!);

      // Act
      await m.local.fleet.kill(hostId);

      // Assess: the host is written off, its tasks STOPPED, and three new ones run elsewhere.
      const s = await eventually(async () => {
        const now = await service('web');
        const running = (await tasksOf('web')).filter((t) => t.lastStatus === 'RUNNING');
        return now.runningCount === 3 && running.length === 3 && running.every((t) => idOf(t.containerInstanceArn!) !== hostId) ? now : undefined;
      }, 180_000, 'the lost host\'s tasks to be replaced');
      // The warm pool may have brought a second host meanwhile, and spread put a replacement there.
      const onKilled = before.filter((t) => idOf(t.containerInstanceArn!) === hostId).map((t) => t.taskArn!);
      const old = (await ecs.send(new DescribeTasksCommand({ tasks: onKilled }))).tasks!;
      expect(old.length).toBeGreaterThanOrEqual(1);
      expect(old.map((t) => t.lastStatus)).toEqual(old.map(() => 'STOPPED'));
      expect(old.every((t) => t.stopCode === 'TerminationNotice')).toBe(true);
      const started = s.events!.filter((e) => /has started \d+ tasks/.test(e.message!)).flatMap((e) => [...e.message!.matchAll(/\(task ([0-9a-f]{32})\)/g)].map((x) => x[1]));
      for (const t of (await tasksOf('web'))) expect(started).toContain(idOf(t.taskArn!));
    }, 240_000);

    it('rolls out a new revision without ever leaving zero healthy tasks', async () => {
      // Prepare: an HTTP client polls every task of the service throughout.
      v2 = await register('svc-web', 'v2');
      await stable('web', 3);
      let polling = true;
      const samples: { answered: number; pages: string[] }[] = [];
      const poller = (async () => {
        while (polling) {
          const listed = await tasksOf('web').catch(() => undefined);
          // A listing that failed says nothing of the tasks' health: no sample, not an empty one.
          if (!listed) {
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          const running = listed.filter((t) => t.lastStatus === 'RUNNING' && ipOf(t));
          const pages = (await Promise.all(running.map((t) => get(`http://${ipOf(t)}:8080/`)))).filter((p): p is string => p !== undefined);
          samples.push({ answered: pages.length, pages });
        }
      })();

      // Act
      const updated = await cli(['update-service', '--service', 'web', '--task-definition', v2]);
      const done = await eventually(async () => {
        const s = await service('web');
        return s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.taskDefinition === v2 && s.runningCount === 3 ? s : undefined;
      }, 240_000, 'the rolling deployment to complete');
      polling = false;
      await poller;

      // Assess
      expect(updated.code).toBe(0);
      expect(samples.length).toBeGreaterThan(5);
      expect(samples.filter((x) => x.answered === 0)).toEqual([]);
      expect(samples.some((x) => x.pages.includes('v2\n'))).toBe(true);
      expect(done.events!.some((e) => e.message === `(service web) (deployment ${done.deployments![0].id}) deployment completed.`)).toBe(true);
      const pages = await Promise.all((await tasksOf('web')).map((t) => get(`http://${ipOf(t)}:8080/`)));
      expect(pages).toEqual(['v2\n', 'v2\n', 'v2\n']);
    }, 360_000);

    it('fails a deployment of an image that cannot be pulled and rolls back by itself', async () => {
      // Prepare
      const broken = await register('svc-web', 'broken', 'localhost/no-such-image:latest');

      // Act
      const updated = await cli(['update-service', '--service', 'web', '--task-definition', broken,
        '--deployment-configuration', 'deploymentCircuitBreaker={enable=true,rollback=true},maximumPercent=200,minimumHealthyPercent=100']);
      const rolledBack = await eventually(async () => {
        const s = await service('web');
        return s.taskDefinition === v2 && s.deployments!.length === 1 && s.deployments![0].rolloutState === 'COMPLETED' && s.runningCount === 3 ? s : undefined;
      }, 300_000, 'the circuit breaker to roll back');

      // Assess
      expect(updated.code).toBe(0);
      const failed = rolledBack.events!.find((e) => /deployment failed: tasks failed to start\.$/.test(e.message!));
      expect(failed).toBeDefined();
      // The old revision served throughout: its tasks still answer.
      const pages = await Promise.all((await tasksOf('web')).map((t) => get(`http://${ipOf(t)}:8080/`)));
      expect(pages).toEqual(['v2\n', 'v2\n', 'v2\n']);
    }, 360_000);

    it('scales 3 → 0 → 5', async () => {
      expect((await cli(['update-service', '--service', 'web', '--desired-count', '0'])).code).toBe(0);
      await stable('web', 0);
      expect(await tasksOf('web')).toEqual([]);
      expect((await cli(['update-service', '--service', 'web', '--desired-count', '5'])).code).toBe(0);
      await stable('web', 5);
      expect((await cli(['wait', 'services-stable', '--services', 'web'])).code).toBe(0);
      const tasks = await tasksOf('web');
      expect(tasks.filter((t) => t.lastStatus === 'RUNNING')).toHaveLength(5);
      expect(v1).not.toBe(v2);
    }, 300_000);

    it('refuses to delete a scaled service without force; with force it drains to INACTIVE', async () => {
      // Act
      const refused = await cli(['delete-service', '--service', 'web']);
      const deleted = await cli(['delete-service', '--service', 'web', '--force']);
      const inactive = await eventually(async () => {
        const s = await service('web');
        return s.status === 'INACTIVE' ? s : undefined;
      }, 120_000, 'web to be INACTIVE');

      // Assess
      expect(refused.errorType).toBe('InvalidParameterException');
      expect(deleted.json.service.status).toBe('DRAINING');
      expect(inactive.status).toBe('INACTIVE');
      expect(await tasksOf('web')).toEqual([]);
      const stopped = await tasksOf('web', 'STOPPED');
      expect(stopped.length).toBeGreaterThanOrEqual(5);
      expect(stopped.filter((t) => t.stopCode === 'ServiceSchedulerInitiated').length).toBeGreaterThanOrEqual(5);
      const listed = await cli(['list-services']);
      expect(listed.json.serviceArns).not.toContain(deleted.json.service.serviceArn);
    }, 180_000);
  });

  describe('a DAEMON service', () => {
    it('runs one task on every host, one that joins later included; deleted without force', async () => {
      // Prepare
      await register('svc-daemon', 'daemon');
      const active = async () => (await m.local.berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE').map((h) => h.hostId);

      // Act: a service on today's hosts, then one more host.
      expect((await cli(['create-service', '--service-name', 'daemon', '--task-definition', 'svc-daemon', '--scheduling-strategy', 'DAEMON'])).code).toBe(0);
      const before = await eventually(async () => {
        const hosts = await active();
        const running = (await tasksOf('daemon')).filter((t) => t.lastStatus === 'RUNNING');
        return running.length === hosts.length ? hosts : undefined;
      }, 120_000, 'a daemon task per host');
      // A host joins: a task too big for any host today makes the capacity manager launch a
      // larger one, with room left beside it for the daemon's task. Earlier cases may have left
      // hosts larger than the warm pool's (which holds 3840 MiB): the task outgrows them all.
      const largest = Math.max(...(await m.local.berth.store.hosts.list()).filter((h) => h.status === 'ACTIVE').map((h) => h.memory));
      const memory = Math.ceil((largest + 1) / 1024) * 1024;
      // The least cpu Fargate allows with that memory: the rest of the new host's cpu is the daemon's.
      const leastFargateCpu = (mib: number) => (mib <= 8192 ? '1024' : mib <= 16384 ? '2048' : '4096');
      const big = join(m.dataDir, 'big.json');
      writeFileSync(big, JSON.stringify({
        family: 'svc-big', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: leastFargateCpu(memory), memory: String(memory),
        containerDefinitions: [{ name: 'big', image: BUSYBOX, command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], stopTimeout: 2 }],
      }));
      expect((await cli(['register-task-definition', '--cli-input-json', `file://${big}`])).code).toBe(0);
      expect((await cli(['run-task', '--task-definition', 'svc-big'])).code).toBe(0);
      // Hosts keep coming and going with the warm pool, so each look takes hosts, tasks and the
      // service together and must agree: one running task on every ACTIVE host, the count theirs.
      let last = '';
      const seen = await eventually(async () => {
        const hosts = await active();
        const running = (await tasksOf('daemon')).filter((t) => t.lastStatus === 'RUNNING');
        const s = await service('daemon');
        const onHosts = new Set(running.map((t) => idOf(t.containerInstanceArn!)));
        // A joined host, not a count: an idle host of an earlier case may leave meanwhile.
        const agree = hosts.some((h) => !before.includes(h)) && running.length === hosts.length
          && hosts.every((h) => onHosts.has(h)) && s.desiredCount === hosts.length;
        last = `ACTIVE hosts ${hosts.join(', ')} (before: ${before.join(', ')}); daemon tasks RUNNING on ${[...onHosts].join(', ')}; ` +
          `desiredCount ${s.desiredCount}; last events: ${s.events?.slice(0, 5).map((e) => e.message).join(' | ')}`;
        return agree ? { hosts, running, s } : undefined;
      }, 180_000, 'a daemon task on every host, the new one included').catch((e: Error) => {
        throw new Error(`${e.message}; last seen: ${last}`);
      });

      // Assess
      expect(seen.hosts.filter((h) => !before.includes(h))).not.toEqual([]);
      expect(seen.s.desiredCount).toBe(seen.hosts.length);

      // A DAEMON service is deleted without force.
      const deleted = await cli(['delete-service', '--service', 'daemon']);
      expect(deleted.code).toBe(0);
      await eventually(async () => (await service('daemon')).status === 'INACTIVE', 120_000, 'daemon to be INACTIVE');
      expect(await tasksOf('daemon')).toEqual([]);
    }, 400_000);
  });
});
