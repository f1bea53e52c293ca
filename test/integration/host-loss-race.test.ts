import { RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { type CapacityOptions, runCapacityCycle } from '../../shared/capacity/manager';
import type { FleetProvider } from '../../shared/cloud/fleet-provider';
import { registerHost } from '../../shared/lifecycle/reports';
import { type Harness, eventually, startHarness } from '../support/harness';

/**
 * A race met while building the history check's agent kills (test/e2e/history.test.ts): a host
 * written off as LOST between a placement's reservation on it and the task's binding to it. The write-off sees the task not
 * yet bound, so it only frees the room; the placement then binds the task to the dead host,
 * and the task waited out its launch timeout (10 minutes) in PENDING before failing.
 */
const idOf = (arn: string) => arn.split('/').pop()!;

/** No machines to start or stop here: the write-off's bookkeeping is what is under test. */
const NO_MACHINES: FleetProvider = { launch: async () => [], terminate: async () => {}, listHosts: async () => [] };

const writeOffEverySilentHost: CapacityOptions = {
  provider: NO_MACHINES,
  catalog: DEFAULT_CATALOG,
  policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 0, idleTimeoutSeconds: 600, market: 'on-demand' },
  heartbeatTimeoutSeconds: 0,
  bootTimeoutSeconds: 600,
};

describe('Host loss', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  describe('during placement', () => {
    it('ends a task bound to a host written off between its reservation and its binding: STOPPED, TerminationNotice, no room held', async () => {
      // Prepare: the capacity cycle writes the host off just before the placement binds the task.
      await registerHost(h.berth, { hostId: 'race-1', cpu: 1024, memory: 2048 });
      await h.ecs.send(new RegisterTaskDefinitionCommand({
        family: 'race', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
        containerDefinitions: [{ name: 'app', image: 'busybox' }],
      }));
      const tasks = h.berth.store.tasks;
      const bind = tasks.bindHost.bind(tasks);
      let lost: string[] = [];
      tasks.bindHost = async (ref, hostId) => {
        await new Promise((r) => setTimeout(r, 5));
        lost = (await runCapacityCycle(h.berth, writeOffEverySilentHost)).lost;
        return bind(ref, hostId);
      };

      try {
        // Act
        const run = await h.ecs.send(new RunTaskCommand({ taskDefinition: 'race' }));
        const id = idOf(run.tasks![0].taskArn!);
        const ended = await eventually(async () => {
          const t = await tasks.get({ cluster: 'default', taskId: id });
          return t?.lastStatus === 'STOPPED' ? t : undefined;
        }, 10_000, 'the task STOPPED');
        await h.berth.workflows.idle();

        // Assess
        expect(lost).toEqual(['race-1']);
        expect(ended).toMatchObject({ hostId: 'race-1', desiredStatus: 'STOPPED', stopCode: 'TerminationNotice' });
        expect(ended.stoppedReason).toMatch(/Host race-1 was lost/);
        expect(await h.berth.store.hosts.holding(id)).toEqual([]);
        expect(h.workflowErrors).toEqual([]);
      } finally {
        tasks.bindHost = bind;
      }
    });
  });
});
