import { ECSClient } from '@aws-sdk/client-ecs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_CREDENTIALS } from '../support/harness';
import { containerLog, describe1, runContainers, untilStatus } from '../support/local-mode';
import { type LocalProcess, freePort, killHard, spawnLocalMode, stopGently } from '../support/local-process';

/**
 * `npm start` killed with SIGKILL mid-flight and started again: the in-process workflow engine
 * lost everything, so the new process must drive every task on from DynamoDB alone.
 */
describe('Local mode restart', () => {
  let proc: LocalProcess | undefined;
  afterAll(async () => {
    if (proc) await stopGently(proc);
  });

  it('loses no task and starts none twice after a kill -9', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-restart-'));
    const port = await freePort();
    const env = {
      BERTH_DATA_DIR: dataDir, BERTH_PORT: String(port), BERTH_LOCAL_HOSTS: '2',
      BERTH_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, BERTH_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    };
    proc = await spawnLocalMode(env);
    const ecs = new ECSClient({
      endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 3,
      credentials: TEST_CREDENTIALS,
    });
    const [long] = await runContainers(ecs, [{ name: 'long', command: ['sh', '-c', 'echo started; sleep 6; echo done; exit 5'] }]);
    const running = await untilStatus(ecs, long, 'RUNNING');
    const quick = await runContainers(ecs, [{ name: 'quick', command: ['sh', '-c', 'echo hello; sleep 1'] }], { count: 4 });

    // Act: kill it hard while tasks are launching and running, then start it again.
    await killHard(proc);
    proc = await spawnLocalMode(env);
    const finalLong = await untilStatus(ecs, long, 'STOPPED', 60_000);
    const finalQuick = await Promise.all(quick.map((a) => untilStatus(ecs, a, 'STOPPED', 60_000)));

    // Assess: the running task was adopted, not restarted.
    expect(finalLong.stopCode).toBe('EssentialContainerExited');
    expect(finalLong.containers![0].exitCode).toBe(5);
    expect(finalLong.containers![0].runtimeId).toBe(running.containers![0].runtimeId);
    expect(containerLog(dataDir, long, 'long').filter((l) => l === 'started')).toHaveLength(1);
    // Every task launched around the kill ran exactly once.
    for (const [i, t] of finalQuick.entries()) {
      expect(t.stopCode).toBe('EssentialContainerExited');
      expect(t.containers![0].exitCode).toBe(0);
      expect(containerLog(dataDir, quick[i], 'quick').filter((l) => l === 'hello')).toHaveLength(1);
    }
    expect((await describe1(ecs, long)).lastStatus).toBe('STOPPED');
    ecs.destroy();
  }, 240_000);
});
