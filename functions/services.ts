import { berthFromEnvironment } from '../shared/environment';
import { reconcileAllServices, reconcileService } from '../shared/services/apply';

/**
 * The service scheduler: one service's pass when woken with its key (an API call, a task state
 * change), every live service's on the schedule (every minute).
 */
export const handler = async (event: { cluster?: unknown; serviceName?: unknown }) => {
  const berth = berthFromEnvironment();
  if (typeof event?.cluster === 'string' && typeof event.serviceName === 'string') {
    const r = await reconcileService(berth, { cluster: event.cluster, serviceName: event.serviceName });
    console.log(JSON.stringify({ level: 'info', message: 'service pass', cluster: event.cluster, serviceName: event.serviceName, started: r.started.length, stopped: r.stopped.length }));
    return { started: r.started.length, stopped: r.stopped.length };
  }
  const r = await reconcileAllServices(berth);
  console.log(JSON.stringify({ level: 'info', message: 'service passes', passes: r.passes }));
  return { passes: r.passes };
};
