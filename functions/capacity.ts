import { runCapacityCycle } from '../shared/capacity/manager';
import { capacityOptionsFromEnvironment } from '../shared/capacity/environment';
import { berthFromEnvironment } from '../shared/environment';

/**
 * One capacity cycle: on an EventBridge schedule (every minute) and invoked asynchronously when
 * placement finds no room. Reserved concurrency 1 keeps cycles from overlapping.
 */
export const handler = async () => {
  const s = await runCapacityCycle(berthFromEnvironment(), capacityOptionsFromEnvironment());
  const summary = { lost: s.lost, launched: s.launched, terminated: s.terminated, failed: s.failed };
  console.log(JSON.stringify({ level: 'info', message: 'capacity cycle', ...summary }));
  return summary;
};
