import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { type LocalBerth, localBerth } from '../../local/berth';
import { type Dynalite, createTables, startDynalite } from '../../local/dynalite';
import type { Task } from '../../shared/domain/task';
import { PRE_PULL_CACHE_MS, PRE_PULL_RECENT_MS, prePullImages } from '../../shared/lifecycle/pre-pull';

/** The list warm hosts pre-pull, worked out from the tables on dynalite. */
describe('prePullImages', () => {
  let dynamo: Dynalite;
  let berth: LocalBerth;
  const clock = { now: Date.UTC(2030, 0, 1) };

  const aTask = (family: string, revision: number, createdAt: number): Task => ({
    cluster: 'default', taskId: randomBytes(16).toString('hex'), taskDefinitionArn: `arn:aws:ecs:us-east-1:000000000000:task-definition/${family}:${revision}`,
    family, revision, containers: [], overrides: { containerOverrides: [] }, cpu: 256, memory: 512,
    lastStatus: 'STOPPED', desiredStatus: 'STOPPED', version: 1, createdAt, launchType: 'FARGATE', placementStrategy: 'spread', tags: [],
  });

  beforeAll(async () => {
    dynamo = await startDynalite();
    await createTables(dynamo.endpoint);
    berth = localBerth({ dynamoEndpoint: dynamo.endpoint, now: () => clock.now });
  });

  afterAll(async () => {
    berth.workflows.close();
    await dynamo.close();
  });

  it('lists the images of definitions run in the last hour, each once, with their logins; then caches the list', async () => {
    // Prepare: one definition run recently (two containers, one image twice), one run long ago
    const login = { credentialsParameter: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:registry-AbCdEf' };
    await berth.store.taskDefinitions.register({
      family: 'recent', executionRoleArn: 'arn:aws:iam::000000000000:role/exec',
      containerDefinitions: [
        { name: 'app', image: 'registry.example/app:1', essential: true, repositoryCredentials: login },
        { name: 'side', image: 'registry.example/side:1', essential: false },
        { name: 'again', image: 'registry.example/app:1', essential: false },
      ],
    }, [], clock.now);
    await berth.store.taskDefinitions.register({ family: 'old', containerDefinitions: [{ name: 'app', image: 'registry.example/old:1', essential: true }] }, [], clock.now);
    await berth.store.tasks.create(aTask('recent', 1, clock.now - 60_000));
    await berth.store.tasks.create(aTask('old', 1, clock.now - PRE_PULL_RECENT_MS - 1));

    // Act
    const first = await prePullImages(berth);
    await berth.store.taskDefinitions.register({ family: 'later', containerDefinitions: [{ name: 'app', image: 'registry.example/later:1', essential: true }] }, [], clock.now);
    await berth.store.tasks.create(aTask('later', 1, clock.now));
    const cached = await prePullImages(berth);
    clock.now += PRE_PULL_CACHE_MS;
    const fresh = await prePullImages(berth);

    // Assess
    expect(first).toEqual([
      { image: 'registry.example/app:1', repositoryCredentials: login, executionRoleArn: 'arn:aws:iam::000000000000:role/exec' },
      { image: 'registry.example/side:1', executionRoleArn: 'arn:aws:iam::000000000000:role/exec' },
    ]);
    expect(cached).toEqual(first);
    expect(fresh.map((i) => i.image).sort()).toEqual(['registry.example/app:1', 'registry.example/later:1', 'registry.example/side:1']);
  });
});
