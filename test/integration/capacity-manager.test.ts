import { DEFAULT_CATALOG } from '../../shared/capacity/catalog';
import { CapacityManager, MIN_TRIGGERED_CYCLE_GAP_MS } from '../../shared/capacity/manager';
import type { FleetProvider } from '../../shared/cloud/fleet-provider';
import { type Harness, startHarness } from '../support/harness';

const NO_MACHINES: FleetProvider = { launch: async () => [], terminate: async () => {} };

describe('CapacityManager', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  describe('trigger', () => {
    it('paces cycles asked for while one runs, however often tasks ask', async () => {
      // Prepare: count cycles by their read of the recorded demand, which every cycle makes once.
      const demand = h.berth.store.demand;
      const list = demand.list.bind(demand);
      const cycleStarts: number[] = [];
      demand.list = async (...args) => {
        cycleStarts.push(Date.now());
        return list(...args);
      };
      const manager = new CapacityManager(h.berth, {
        provider: NO_MACHINES,
        catalog: DEFAULT_CATALOG,
        policy: { warmPoolHosts: 0, warmPoolType: 'c6i.large', maxHosts: 0, idleTimeoutSeconds: 600, market: 'on-demand' },
        heartbeatTimeoutSeconds: 30,
        bootTimeoutSeconds: 600,
      });

      try {
        // Act: 40 asks over about 2 s, as waiting tasks retrying placement make them.
        const askedFrom = Date.now();
        for (let i = 0; i < 40; i++) {
          manager.trigger();
          await new Promise((r) => setTimeout(r, 50));
        }
        await manager.idle();
        const spanMs = Date.now() - askedFrom;

        // Assess: at most one cycle per gap (plus the first), each about a gap after the last (the
        // probe sits behind the cycle's first read, whose time varies).
        expect(cycleStarts.length).toBeGreaterThanOrEqual(2);
        expect(cycleStarts.length).toBeLessThanOrEqual(Math.ceil(spanMs / MIN_TRIGGERED_CYCLE_GAP_MS) + 1);
        for (let i = 1; i < cycleStarts.length; i++) {
          expect(cycleStarts[i] - cycleStarts[i - 1]).toBeGreaterThanOrEqual(MIN_TRIGGERED_CYCLE_GAP_MS - 100);
        }
      } finally {
        await manager.stop();
        demand.list = list;
      }
    });
  });
});
