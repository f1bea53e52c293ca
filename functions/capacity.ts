import { runCapacityCycle } from '../shared/capacity/manager';
import { capacityOptionsFromEnvironment } from '../shared/capacity/environment';
import { berthFromEnvironment } from '../shared/environment';
import { publishControlPlaneMetrics } from '../shared/metrics/environment';

/**
 * One capacity cycle: on an EventBridge schedule (every minute) and invoked asynchronously when
 * placement finds no room. Reserved concurrency 1 keeps cycles from overlapping. Each run also
 * publishes the control plane's metrics; a failure there never fails the cycle.
 */
export const handler = async () => {
  const berth = berthFromEnvironment();
  const s = await runCapacityCycle(berth, capacityOptionsFromEnvironment());
  const summary = { lost: s.lost, launched: s.launched, terminated: s.terminated, orphans: s.orphans, failed: s.failed };
  console.log(JSON.stringify({ level: 'info', message: 'capacity cycle', ...summary }));
  await publishControlPlaneMetrics(berth).catch((e) => console.log(JSON.stringify({ level: 'warn', message: 'metrics not published', error: String(e) })));
  return summary;
};
