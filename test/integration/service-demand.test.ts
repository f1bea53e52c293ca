import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { runCapacityCycle } from '../../shared/capacity/manager';
import type { FleetProvider, LaunchRequest } from '../../shared/cloud/fleet-provider';
import { registerHost } from '../../shared/lifecycle/reports';
import { type Harness, eventually, startHarness } from '../support/harness';
import { signedFetch } from '../support/signed-fetch';

/** Launches nothing real: records what the cycle asked for. */
function recordingProvider(): FleetProvider & { launched: LaunchRequest[] } {
  const launched: LaunchRequest[] = [];
  return {
    launched,
    launch: async (r) => {
      launched.push(r);
      return Array.from({ length: r.count }, (_, i) => ({ hostId: `svc-demand-${launched.length}-${i}`, instanceType: r.instanceType, market: r.market }));
    },
    terminate: async () => {},
    listHosts: async () => [],
  };
}

describe('Capacity', () => {
  describe('service demand', () => {
    let h: Harness;
    const call = async (operation: string, body: object) => {
      const r = await signedFetch(h.url, { target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: h.credentials });
      return { status: r.status, body: await r.json() };
    };
    const options = (provider: FleetProvider) => ({
      provider,
      catalog: DEFAULT_CATALOG,
      policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 100, idleTimeoutSeconds: 600, market: 'on-demand' as const },
      heartbeatTimeoutSeconds: 30,
      bootTimeoutSeconds: 600,
    });

    beforeAll(async () => {
      h = await startHarness();
      // One host that holds two of the service's tasks (1 vCPU, 2 GB each), no more.
      await registerHost(h.berth, { hostId: 'demand-1', cpu: 2048, memory: 4096 });
      await call('RegisterTaskDefinition', {
        family: 'big', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '1024', memory: '2048',
        containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest' }],
      });
    });
    afterAll(() => h.close());

    it("launches hosts for a service's desired tasks before any of them exists", async () => {
      // Prepare: no reconciler runs in this harness, so the service has no task at all.
      expect((await call('CreateService', { serviceName: 'fifty', taskDefinition: 'big', desiredCount: 50 })).status).toBe(200);
      const provider = recordingProvider();

      // Act
      const summary = await runCapacityCycle(h.berth, options(provider));

      // Assess: room for 48 more tasks of 1024/2048 beyond the 2 the registered host holds.
      const launchedCpu = summary.plan.launches.reduce((n, l) => {
        const type = DEFAULT_CATALOG.find((t) => t.name === l.instanceType)!;
        return n + l.count * type.vcpu * 1024;
      }, 0);
      expect(launchedCpu).toBeGreaterThanOrEqual(48 * 1024);
      expect(summary.failed).toEqual([]);
      expect(provider.launched.length).toBeGreaterThan(0);
    });

    it("counts a host that runs only DAEMON services' tasks as idle: no warm-pool launch for it", async () => {
      // Prepare: a fresh harness whose one host holds a task of a DAEMON service.
      const d = await startHarness();
      try {
        await registerHost(d.berth, { hostId: 'daemon-only', cpu: 2048, memory: 4096 });
        const send = async (operation: string, body: object) => (await signedFetch(d.url, {
          target: `AmazonEC2ContainerServiceV20141113.${operation}`, body: JSON.stringify(body), credentials: d.credentials,
        })).json();
        await send('RegisterTaskDefinition', {
          family: 'small', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
          containerDefinitions: [{ name: 'app', image: 'localhost/busybox:latest' }],
        });
        await send('CreateService', { serviceName: 'agent', taskDefinition: 'small', schedulingStrategy: 'DAEMON' });
        await send('RunTask', { taskDefinition: 'small', group: 'service:agent' });
        await eventually(async () => ((await d.berth.store.hosts.get('daemon-only'))!.taskCount === 1), 15_000, 'the daemon task to be placed');
        const warmPoolOfOne = { ...options(recordingProvider()), policy: { ...options(recordingProvider()).policy, warmPoolHosts: 1 } };

        // Act
        const summary = await runCapacityCycle(d.berth, warmPoolOfOne);

        // Assess: the host already is the warm pool's idle host.
        expect(summary.plan.launches).toEqual([]);
      } finally {
        await d.close();
      }
    });

    it('asks for nothing once the service is scaled to 0', async () => {
      // Prepare
      await call('UpdateService', { service: 'fifty', desiredCount: 0 });
      await call('CreateService', { serviceName: 'small', taskDefinition: 'big', desiredCount: 2 });

      // Act: the new hosts from before are LAUNCHING; nothing more is needed.
      const summary = await runCapacityCycle(h.berth, options(recordingProvider()));

      // Assess
      expect(summary.plan.launches).toEqual([]);
    });
  });
});
